"""The cluster-year sheet as tables people read: the members (the CSV), then the conferences,
the covenant's targets, its pledges with their checks, the reported figures, the standings, the
votes' results, the awards and the notes (more worksheets of the XLSX). Every table names the
cluster and the year (its printed title row); enum values are shown as labels in the request's
language, never as the codes of the JSON."""

from dataclasses import replace
from decimal import Decimal

from app.awards.models import AwardStatus
from app.conferences.models import ConferenceKind, DatePrecision
from app.core.exports import Cell, Heading, Table
from app.core.i18n import N_, _
from app.covenants.models import Basis, Comparator, Scope
from app.metrics.models import MeasureUnit
from app.pledges.models import PledgeKind
from app.pledges.schemas import PledgeOutcome
from app.reported.models import FigureKind, Qualifier
from app.sheets.schemas import ClusterYearSheet


def sheet_filename(sheet: ClusterYearSheet) -> str:
    return _("Cluster {number} year {year}", number=sheet.cluster.number, year=sheet.year)


def _roles(sheet: ClusterYearSheet) -> dict[int, str]:
    roles: dict[int, str] = {}
    if sheet.leadership is not None:
        roles[sheet.leadership.leader.unit.id] = _("Leader")
        if sheet.leadership.deputy is not None:
            roles[sheet.leadership.deputy.unit.id] = _("Deputy")
    return roles


def _members(sheet: ClusterYearSheet) -> Table:
    roles = _roles(sheet)
    return Table(
        _("Members"),
        [
            _("No."),
            _("Unit code"),
            _("Unit"),
            _("From"),
            _("To"),
            _("Role in {year}", year=sheet.year),
            _("Ceased on"),
            _("Successors"),
            _("Note"),
        ],
        [
            [
                i,
                m.unit.code,
                m.unit.name,
                m.valid_from,
                m.valid_to,
                roles.get(m.unit.id),
                m.ceased_on,
                ", ".join(s.name for s in m.successors) or None,
                m.note,
            ]
            for i, m in enumerate(sheet.members, start=1)
        ],
    )


CONFERENCE_KIND_LABELS = {
    ConferenceKind.signing: N_("Covenant signing"),
    ConferenceKind.mid_year_review: N_("Mid-year review"),
    ConferenceKind.nine_month_review: N_("Nine-month review"),
    ConferenceKind.year_end_summary: N_("Year-end summary"),
    ConferenceKind.other: N_("Other conference"),
}


def _conferences(sheet: ClusterYearSheet) -> Table:
    """The year's timeline: a day as a date, a date known only to its month as that month."""
    rows: list[list[Cell]] = []
    for i, c in enumerate(sheet.conferences, start=1):
        held: Cell = c.held_on
        if c.held_on_precision is DatePrecision.month:
            held = _("{month}/{year}", month=c.held_on.month, year=c.held_on.year)
        rows.append(
            [
                i,
                held,
                _(CONFERENCE_KIND_LABELS[c.kind]),
                c.host.name if c.host is not None else _("Not stated"),
                ", ".join(u.name for u in c.chairs) or _("Not stated"),
                c.guests,
                c.source.title if c.source is not None else None,
                c.source.url if c.source is not None else None,
                c.note,
            ]
        )
    return Table(
        _("Conferences"),
        [
            _("No."),
            _("Held on"),
            _("Conference"),
            _("Host"),
            _("Chaired by"),
            _("Guests"),
            _("Source"),
            _("Address"),
            _("Note"),
        ],
        rows,
    )


COMPARATOR_SYMBOLS = {
    Comparator.lt: "<",
    Comparator.le: "≤",
    Comparator.eq: "=",
    Comparator.ge: "≥",
    Comparator.gt: ">",
}
"""As the evaluation's sentences write them: read alike in either language."""
BASIS_LABELS = {
    Basis.absolute: N_("The figure itself"),
    Basis.change_vs_previous_period: N_("Change on the same period last year"),
}
SCOPE_LABELS = {
    Scope.each_member: N_("Each member"),
    Scope.cluster_total: N_("The members together"),
}


def _targets(sheet: ClusterYearSheet) -> Table:
    targets = sheet.covenant.targets if sheet.covenant is not None else []
    return Table(
        _("Covenant targets"),
        [_("No."), _("Metric"), _("Comparator"), _("Threshold"), _("Basis"), _("Scope"), _("Wording")],
        [
            [
                t.position,
                t.metric_name,
                COMPARATOR_SYMBOLS[t.comparator],
                t.threshold,
                _(BASIS_LABELS[t.basis]),
                _(SCOPE_LABELS[t.scope]),
                t.label,
            ]
            for t in targets
        ],
    )


PLEDGE_KIND_LABELS = {
    PledgeKind.amount: N_("Amount"),
    PledgeKind.counted: N_("Count"),
    PledgeKind.task: N_("Task"),
}
PLEDGE_OUTCOME_LABELS = {
    PledgeOutcome.met: N_("Met"),
    PledgeOutcome.not_met: N_("Not met"),
    PledgeOutcome.done: N_("Done"),
    PledgeOutcome.not_done: N_("Not done"),
    PledgeOutcome.unknown: N_("Unknown"),
}


def _pledges(sheet: ClusterYearSheet) -> Table:
    """One row per pledge and member (or the members together): the pledge, then how it stands."""
    rows: list[list[Cell]] = []
    for p in sheet.pledges.pledges if sheet.pledges is not None else []:
        for check in p.checks:
            rows.append(
                [
                    p.position,
                    p.label,
                    _(PLEDGE_KIND_LABELS[p.kind]),
                    p.metric_name,
                    p.quantity,
                    check.unit.name if check.unit is not None else _("The members together"),
                    _(PLEDGE_OUTCOME_LABELS[check.outcome]),
                    Decimal(check.value) if check.value is not None else None,
                    check.why,
                ]
            )
    return Table(
        _("Pledges"),
        [
            _("No."),
            _("Pledge"),
            _("Kind"),
            _("Metric"),
            _("Quantity"),
            _("Unit"),
            _("Outcome"),
            _("Value"),
            _("Why"),
        ],
        rows,
    )


FIGURE_KIND_LABELS = {
    FigureKind.value: N_("Count or amount"),
    FigureKind.change: N_("Change"),
    FigureKind.rate: N_("Rate"),
}
QUALIFIER_LABELS = {
    Qualifier.exact: N_("Exactly"),
    Qualifier.approximately: N_("About"),
    Qualifier.at_least: N_("At least"),
    Qualifier.over: N_("Over"),
    Qualifier.under: N_("Under"),
    Qualifier.at_most: N_("At most"),
}
MEASURE_LABELS = {
    MeasureUnit.cases: N_("cases"),
    MeasureUnit.persons: N_("persons"),
    MeasureUnit.collectives: N_("collectives"),
    MeasureUnit.individuals: N_("individuals"),
    MeasureUnit.letters: N_("letters"),
    MeasureUnit.items: N_("items"),
    MeasureUnit.vnd: N_("VND"),
    MeasureUnit.percent: N_("percent"),
}
"""The words the evaluation's sentences put after a number (`app.evaluation.explain`), and
`percent`."""


def _reported(sheet: ClusterYearSheet) -> Table:
    figures = sheet.reported_figures.figures if sheet.reported_figures is not None else []
    return Table(
        _("Reported figures"),
        [
            _("No."),
            _("Label"),
            _("Kind"),
            _("Qualifier"),
            _("Value"),
            _("Unit of measure"),
            _("Compared with"),
        ],
        [
            [
                f.position,
                f.label,
                _(FIGURE_KIND_LABELS[f.kind]),
                _(QUALIFIER_LABELS[f.qualifier]),
                f.value,
                _(MEASURE_LABELS[f.unit_of_measure]) if f.unit_of_measure else None,
                f.compared_with,
            ]
            for f in figures
        ],
    )


def _standings(sheet: ClusterYearSheet) -> Table:
    rows = sheet.standings.rows if sheet.standings is not None else []
    return Table(
        _("Standings"),
        [_("Rank"), _("Unit"), _("Combined total"), _("Class")],
        [[r.rank, r.unit_name, r.combined_total, r.class_name] for r in rows],
    )


AWARD_STATUS_LABELS = {
    AwardStatus.nominated: N_("Nominated by the cluster"),
    AwardStatus.proposed: N_("Proposed"),
    AwardStatus.returned: N_("Returned for more documents"),
    AwardStatus.granted: N_("Granted"),
    AwardStatus.refused: N_("Refused"),
    AwardStatus.revoked: N_("Revoked"),
}


def _awards(sheet: ClusterYearSheet) -> Table:
    return Table(
        _("Awards"),
        [_("No."), _("Award"), _("Unit"), _("Status"), _("Recorded from a source")],
        [
            [
                i,
                a.award_type_name,
                a.unit.name,
                _(AWARD_STATUS_LABELS[a.status]),
                _("Yes") if a.attested else _("No"),
            ]
            for i, a in enumerate(sheet.awards, start=1)
        ],
    )


def _votes(sheet: ClusterYearSheet) -> Table:
    """One row per candidate of each counted round: the published result, never a ballot."""
    rows: list[list[Cell]] = []
    for vote in sheet.votes:
        names = {c.unit.id: c.unit.name for c in vote.candidates}
        for round_ in vote.rounds:
            result = round_.result
            if result is None:
                continue
            seats = {seat.unit_id: seat.reason for seat in result.seats}
            for tally in result.tallies:
                rows.append(
                    [
                        vote.id,
                        vote.award_type,
                        round_.round,
                        names.get(tally.unit_id, tally.unit_id),
                        tally.approvals,
                        result.approval_minimum,
                        f"{result.present}/{result.eligible}",
                        _("Yes") if tally.passed else _("No"),
                        _("Yes") if tally.unit_id in seats else _("No"),
                    ]
                )
    return Table(
        _("Votes"),
        [
            _("Vote"),
            _("Award"),
            _("Round"),
            _("Candidate"),
            _("Approvals"),
            _("Approvals needed"),
            _("Present / eligible"),
            _("Passed"),
            _("Takes a seat"),
        ],
        rows,
    )


def sheet_heading(sheet: ClusterYearSheet) -> Heading:
    """The cluster and the year; the version a title row names is the sheet's ETag digest."""
    return Heading(_("Emulation cluster {number}, year {year}", number=sheet.cluster.number, year=sheet.year))


def sheet_tables(sheet: ClusterYearSheet) -> list[Table]:
    """The members first (the CSV), then a worksheet each for the rest (those without rows are
    left out of the XLSX)."""
    notes = Table(_("Notes"), [_("Note")], [[n] for n in sheet.notes])
    heading = sheet_heading(sheet)
    tables = [
        _members(sheet),
        _conferences(sheet),
        _targets(sheet),
        _pledges(sheet),
        _reported(sheet),
        _standings(sheet),
        _votes(sheet),
        _awards(sheet),
        notes,
    ]
    return [replace(t, heading=heading) for t in tables]
