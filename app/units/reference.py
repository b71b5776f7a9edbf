"""Load the provincial units and the 2025 successions from `data/reference/`; safe to run twice.

Rows already present (same code over an overlapping period, same predecessor → successor
link) are left as they are, so corrections made through the API are not undone.
"""

import csv
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from app.core.database import table
from app.core.text import fold
from app.units.models import Succession, Unit

ACTOR = "reference-data"


@dataclass
class ReferenceReport:
    units_added: int
    successions_added: int


def _day(value: str) -> date | None:
    return date.fromisoformat(value) if value else None


async def load_reference(session: AsyncSession, directory: Path) -> ReferenceReport:
    units = table(Unit)
    with (directory / "provinces.csv").open(encoding="utf-8", newline="") as f:
        rows = [
            {
                "code": r["code"],
                "name": r["name"],
                "name_folded": fold(r["name"]),
                "kind": r["kind"],
                "valid_from": _day(r["valid_from"]),
                "valid_to": _day(r["valid_to"]),
            }
            for r in csv.DictReader(f)
        ]
    result = await session.execute(insert(units).values(rows).on_conflict_do_nothing().returning(units.c.id))
    units_added = len(result.all())

    by_code: dict[tuple[str, date | None, date | None], int] = {
        (r.code, r.valid_from, r.valid_to): r.id
        for r in await session.execute(
            select(col(Unit.id), col(Unit.code), col(Unit.valid_from), col(Unit.valid_to))
        )
    }

    def ended(code: str, last_day: date) -> int:
        return next(i for (c, _, to), i in by_code.items() if c == code and to == last_day)

    def started(code: str, first_day: date) -> int:
        return next(i for (c, since, _), i in by_code.items() if c == code and since == first_day)

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
                    "recorded_by": ACTOR,
                }
            )
    links_table = table(Succession)
    result = await session.execute(
        insert(links_table).values(links).on_conflict_do_nothing().returning(links_table.c.id)
    )
    return ReferenceReport(units_added=units_added, successions_added=len(result.all()))
