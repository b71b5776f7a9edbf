"""Rule sets: which one judges an emulation year, read-only access, and the loader of the data file.

The rule set that judges an emulation year is the one in force on the year's last day, 31
December: 2024 → Decree 98/2023 (in force to 2025-06-30), 2025 → Decree 152/2025, whatever the
day the vote or decision is taken (a 2024 award decided in September 2025 is judged by 2024's).
"""

from datetime import date
from pathlib import Path
from typing import Any

import yaml
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from app.core.cache import invalidate
from app.core.errors import Conflict, NotFound
from app.core.etag import record_etag
from app.core.i18n import _
from app.core.identity import REFERENCE
from app.core.pagination import Page, page_of
from app.core.versioned import load_by_code
from app.rules.models import RuleSet as RuleSetRow
from app.rules.schemas import RuleSet, RuleSetData, RuleSetFile
from app.rules.tags import RULES

RESOURCE = "rule_set"


class NoRuleSet(Conflict):
    """No rule set covers the emulation year (nothing is invented for years the law does not)."""

    slug = "no-rule-set"

    def __init__(self, emulation_year: int) -> None:
        super().__init__(
            _(
                "No rule set covers the emulation year {year}: the rules are recorded from 2024 "
                "(Law 06/2022/QH15) on.",
                year=emulation_year,
            ),
            emulation_year=emulation_year,
        )
        self.emulation_year = emulation_year


def judging_day(emulation_year: int) -> date:
    """The day whose rule set judges `emulation_year`: its last day."""
    return date(emulation_year, 12, 31)


def rule_set_out(row: Any) -> RuleSet:
    return RuleSet.model_validate(row, from_attributes=True)


def rule_set_etag(out: RuleSet) -> str:
    return record_etag(RESOURCE, out.code, out.version, out)


async def rule_set_for_year(session: AsyncSession, emulation_year: int) -> RuleSet:
    """The rule set judging `emulation_year` (in force on its 31 December); `NoRuleSet` (409) if none."""
    day = judging_day(emulation_year)
    row = (
        await session.execute(
            select(RuleSetRow).where(
                col(RuleSetRow.in_force_from) <= day,
                (col(RuleSetRow.in_force_to).is_(None)) | (col(RuleSetRow.in_force_to) >= day),
            )
        )
    ).scalar_one_or_none()
    if row is None:
        raise NoRuleSet(emulation_year)
    return rule_set_out(row)


async def get(session: AsyncSession, *, code: str) -> RuleSet:
    """The rule set `code`, or 404."""
    row = (await session.execute(select(RuleSetRow).where(col(RuleSetRow.code) == code))).scalar_one_or_none()
    if row is None:
        raise NotFound(_("No rule set with code {code}.", code=code))
    return rule_set_out(row)


async def get_for_year(session: AsyncSession, *, emulation_year: int) -> RuleSet:
    """`rule_set_for_year`, but 404 naming the year when none covers it (a read, not a conflict)."""
    try:
        return await rule_set_for_year(session, emulation_year)
    except NoRuleSet as exc:
        raise NotFound(exc.detail, emulation_year=emulation_year) from exc


async def list_rule_sets(session: AsyncSession, *, limit: int, after: int | None) -> Page[RuleSet]:
    """Every rule set, oldest period first (keyset on the id, loaded in that order)."""
    query = select(RuleSetRow).order_by(col(RuleSetRow.id))
    if after is not None:
        query = query.where(col(RuleSetRow.id) > after)
    rows = list((await session.execute(query.limit(limit + 1))).scalars())
    page = page_of(rows, limit, lambda r: r.id or 0)
    return Page[RuleSet](items=[rule_set_out(r) for r in page.items], next_cursor=page.next_cursor)


def read_file(path: Path) -> RuleSetFile:
    """The data file, validated (a broken file stops the loader with Pydantic's message)."""
    return RuleSetFile.model_validate(yaml.safe_load(path.read_text(encoding="utf-8")))


async def load_rule_sets(session: AsyncSession, path: Path) -> int:
    """Add the file's rule sets, and update (as a new version) those whose content changed;
    returns how many were added or changed. Overlapping periods are refused by the database."""
    rows = [_values(data) for data in sorted(read_file(path).rule_sets, key=lambda d: d.in_force_from)]
    changed = await load_by_code(
        session, RuleSetRow, rows, resource=RESOURCE, revision=rule_set_out, actor=REFERENCE
    )
    if changed:
        await invalidate(session, RULES)
    return changed


def _values(data: RuleSetData) -> dict[str, Any]:
    """The row's columns for `data`: dates as dates, JSON columns as JSON."""
    return {
        "code": data.code,
        "name": data.name,
        "in_force_from": data.in_force_from,
        "in_force_to": data.in_force_to,
        "basis": [c.model_dump(mode="json") for c in data.basis],
        "parameters": data.parameters.model_dump(mode="json"),
    }
