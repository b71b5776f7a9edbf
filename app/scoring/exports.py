"""The standings as a table people read (CSV, XLSX)."""

from app.core.exports import Heading, Table
from app.core.i18n import _
from app.scoring.schemas import Standings


def standings_filename(standings: Standings) -> str:
    return _(
        "Standings cluster {number} {year} v{version}",
        number=standings.cluster,
        year=standings.year,
        version=standings.version,
    )


def standings_tables(standings: Standings) -> list[Table]:
    """One row per member: rank, unit, combined total, class, each scorer's total, what is missing."""
    headers = [
        _("Rank"),
        _("Unit code"),
        _("Unit"),
        _("Combined total"),
        _("Class"),
        *(_("Points: {scorer}", scorer=s.name) for s in standings.scorers),
        _("Missing scores"),
    ]
    rows = [
        [
            row.rank,
            row.unit_code,
            row.unit_name,
            row.combined_total,
            row.class_name,
            *(t.total for t in row.scorer_totals),
            "; ".join(f"{m.scorer}/{m.criterion}" for m in row.missing) or None,
        ]
        for row in standings.rows
    ]
    heading = Heading(
        _("Emulation cluster {number}, year {year}", number=standings.cluster, year=standings.year),
        version=str(standings.version),
    )
    return [Table(_("Standings"), headers, rows, heading)]
