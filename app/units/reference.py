"""The provincial units and the 2025 successions (`data/reference/provinces.csv`,
`province_succession_2025.csv`), loaded by `app.reference`; safe to run twice.

Rows already present (same reference key, same predecessor → successor link) are left as they
are, so corrections made through the API are not undone: a unit keeps the reference key of the
row it was loaded from whatever an admin changes.
"""

import csv
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from types import SimpleNamespace
from typing import Any

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.database import table
from app.core.models import Revision
from app.core.text import fold, search_key
from app.units.models import REFERENCE_ACTOR, Succession, Unit
from app.units.service import RESOURCE as UNIT_RESOURCE
from app.units.service import unit_out


@dataclass
class UnitsLoaded:
    units_added: int
    successions_added: int
    ids: dict[str, int]
    """Every reference unit's id by its reference key (`reference_key`), loaded now or before."""


async def _record_first_versions(
    session: AsyncSession, rows: list[dict[str, Any]], ids: dict[str, int]
) -> None:
    """Version 1 of each reference unit is the row as loaded; keep it under `/revisions`, even
    for a unit corrected since (units loaded before revisions were kept lacked it)."""
    revisions = table(Revision)
    recorded = set(
        (
            await session.execute(
                select(revisions.c.resource_id).where(
                    revisions.c.resource == UNIT_RESOURCE, revisions.c.version == 1
                )
            )
        ).scalars()
    )
    first_versions = [
        {
            "resource": UNIT_RESOURCE,
            "resource_id": ids[row["reference_key"]],
            "version": 1,
            "data": unit_out(SimpleNamespace(**row, id=ids[row["reference_key"]], version=1)).model_dump(
                mode="json"
            ),
            "recorded_by": REFERENCE_ACTOR,
        }
        for row in rows
        if ids[row["reference_key"]] not in recorded
    ]
    if first_versions:
        await session.execute(insert(revisions).values(first_versions))


def _day(value: str) -> date | None:
    return date.fromisoformat(value) if value else None


def reference_key(code: str, valid_from: str) -> str:
    return f"{code}@{valid_from}"


async def load_units(session: AsyncSession, directory: Path) -> UnitsLoaded:
    units = table(Unit)
    with (directory / "provinces.csv").open(encoding="utf-8", newline="") as f:
        rows = [
            {
                "reference_key": reference_key(r["code"], r["valid_from"]),
                "code": r["code"],
                "name": r["name"],
                "name_folded": fold(r["name"]),
                "search_key": search_key(r["name"]),
                "kind": r["kind"],
                "valid_from": _day(r["valid_from"]),
                "valid_to": _day(r["valid_to"]),
            }
            for r in csv.DictReader(f)
        ]
    result = await session.execute(
        insert(units)
        .values(rows)
        .on_conflict_do_nothing(index_elements=["reference_key"])
        .returning(units.c.id)
    )
    units_added = len(result.all())

    loaded = await session.execute(
        select(units.c.reference_key, units.c.id).where(units.c.reference_key.is_not(None))
    )
    ids: dict[str, int] = {row.reference_key: row.id for row in loaded}
    await _record_first_versions(session, rows, ids)

    def ended(code: str, last_day: date) -> int:
        """The reference unit with `code` whose last day is `last_day` (as the file says)."""
        row = next(r for r in rows if r["code"] == code and r["valid_to"] == last_day)
        return ids[str(row["reference_key"])]

    def started(code: str, first_day: date) -> int:
        return ids[reference_key(code, first_day.isoformat())]

    links = []
    with (directory / "province_succession_2025.csv").open(encoding="utf-8", newline="") as f:
        for r in csv.DictReader(f):
            effective = date.fromisoformat(r["effective_date"])
            links.append(
                {
                    "predecessor_id": ended(r["predecessor_code"], effective - timedelta(days=1)),
                    "successor_id": started(r["successor_code"], effective),
                    "effective_date": effective,
                    "kind": r["kind"],
                    "legal_basis": r["legal_basis"],
                    "recorded_by": REFERENCE_ACTOR,
                }
            )
    links_table = table(Succession)
    result = await session.execute(
        insert(links_table).values(links).on_conflict_do_nothing().returning(links_table.c.id)
    )
    successions_added = len(result.all())
    return UnitsLoaded(units_added=units_added, successions_added=successions_added, ids=ids)
