"""The reference units' common aliases (`data/reference/unit_aliases.csv`), loaded by
`app.reference`; an alias already there is left as it is, so an admin's correction stays."""

import csv
from pathlib import Path

from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from app.aliases.models import UnitAlias
from app.aliases.service import RESOURCE, alias_out
from app.core.database import table
from app.core.identity import REFERENCE
from app.core.revisions import record_revision
from app.core.text import search_key
from app.units.reference import reference_key


async def load_aliases(session: AsyncSession, path: Path, ids: dict[str, int]) -> int:
    """Aliases of reference units (rows: unit code, unit valid_from, alias, note), each recorded
    as version 1 of its revisions; `ids` maps the units' reference keys to their ids. An alias
    row is keyed `<unit reference key>/<search key>`."""
    rows = []
    with path.open(encoding="utf-8", newline="") as f:
        for r in csv.DictReader(f):
            unit = reference_key(r["code"], r["valid_from"])
            if unit not in ids:
                raise ValueError(f"{path.name}: no reference unit {unit} for the alias {r['alias']!r}")
            key = search_key(r["alias"])
            rows.append(
                {
                    "reference_key": f"{unit}/{key}",
                    "unit_id": ids[unit],
                    "name": r["alias"],
                    "search_key": key,
                    "note": r["note"] or None,
                    "recorded_by": REFERENCE.recorded_by,
                }
            )
    if not rows:
        return 0
    aliases = table(UnitAlias)
    # Any unique conflict means the alias is there already: loaded before (same reference key),
    # or added by an admin (same unit and search key).
    added = await session.execute(insert(aliases).values(rows).on_conflict_do_nothing().returning(*aliases.c))
    loaded = [alias_out(row) for row in added]
    for out in loaded:
        await record_revision(session, RESOURCE, out.id, out.version, out, REFERENCE)
    return len(loaded)
