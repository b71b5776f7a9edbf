"""A cluster-year's reporting period (kỳ báo cáo): the days its figures are judged on.

One place, shared by the evaluation, the sheet, the figures' template and the pledges: the
covenant's own period when it states one (`period_start`, `period_end`), else the default for
that year from the data (`data/reference/reporting_periods.yaml`: the statistical year, 15
December of the year before to 14 December, Decree 09/2019/NĐ-CP art. 12), else, for a year no
rule covers (before 2019), the calendar year. Each answer says which (`basis`) and, for the
default, the rule with its citation and confidence."""

from dataclasses import dataclass
from datetime import date
from enum import StrEnum
from typing import Any

from sqlalchemy import Integer, bindparam, literal, or_, select, true
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from app.core.periods import year_bounds
from app.core.plans import Id, Plan, Read, one, run
from app.covenants.models import Covenant
from app.rules.models import ReportingPeriodRule
from app.rules.reporting_periods import PeriodRule, YearStart, period_of
from app.rules.schemas import Citation, Confidence


class PeriodBasis(StrEnum):
    """Why a reporting period is what it is."""

    covenant = "covenant"
    """The cluster-year's covenant states it."""
    default = "default"
    """The default for the year, from the data (`rule` names it, with its basis)."""
    calendar_year = "calendar_year"
    """No rule covers the year (before 2019): 1 January to 31 December."""
    requested = "requested"
    """Given in the request (an evaluation's `period_start`, `period_end`); never a cluster-year's."""


@dataclass(frozen=True, slots=True)
class ReportingPeriod:
    start: date
    end: date
    basis: PeriodBasis = PeriodBasis.calendar_year
    rule: PeriodRule | None = None
    """The rule of a `default` period; None otherwise."""


_YEAR = bindparam("year", type_=Integer)
_ONE = select(literal(1).label("one")).subquery("one")
_COVENANT = (
    select(col(Covenant.period_start), col(Covenant.period_end))
    .where(col(Covenant.cluster_id) == bindparam("cluster_id"), col(Covenant.year) == _YEAR)
    .subquery("covenant")
)
_RULE = (
    select(ReportingPeriodRule)
    .where(
        col(ReportingPeriodRule.first_year) <= _YEAR,
        or_(col(ReportingPeriodRule.last_year).is_(None), col(ReportingPeriodRule.last_year) >= _YEAR),
    )
    .subquery("rule")
)
_PERIOD = select(
    _COVENANT.c.period_start, _COVENANT.c.period_end, *(c.label(f"r_{c.name}") for c in _RULE.c)
).select_from(_ONE.outerjoin(_COVENANT, true()).outerjoin(_RULE, true()))
"""The covenant's stated period and the rule for the year, in one query (one row, either part
null when there is none)."""
_DEFAULT = select(_ONE.c.one, *(c.label(f"r_{c.name}") for c in _RULE.c)).select_from(
    _ONE.outerjoin(_RULE, true())
)
"""The rule for the year alone (one row, null when there is none)."""
_RULES = select(ReportingPeriodRule).order_by(col(ReportingPeriodRule.first_year))


async def reporting_period(session: AsyncSession, cluster_id: int, year: int) -> ReportingPeriod:
    """The period a cluster-year's figures are judged on: its covenant's own, else the default
    for the year (one query)."""
    return await run(session, reporting_period_plan(cluster_id, year))


def reporting_period_plan(cluster_id: Id, year: int) -> Plan[ReportingPeriod]:
    """`reporting_period` as a plan (the evaluation and the pledges read it, and the year sheet
    reads it once for both)."""
    (row,) = yield from one(Read(_PERIOD, {"cluster_id": cluster_id, "year": year}))
    if row.period_start is not None and row.period_end is not None:
        return ReportingPeriod(row.period_start, row.period_end, PeriodBasis.covenant)
    return _default(row, year)


async def default_period(session: AsyncSession, year: int) -> ReportingPeriod:
    """The default period of `year`, whatever a covenant states (one query)."""
    return _default((await session.execute(_DEFAULT, {"year": year})).one(), year)


async def year_containing(session: AsyncSession, day: date) -> int:
    """The reporting year whose default period contains `day`: from 15 December, the next
    year's under the statistical year (one query)."""
    rules = [_rule(r, "") for r in (await session.execute(_RULES)).scalars()]
    for year in (day.year - 1, day.year, day.year + 1):
        start, end = _period_under(rules, year)
        if start <= day <= end:
            return year
    return day.year  # unreachable while periods tile the calendar; the calendar year otherwise


def _default(row: Any, year: int) -> ReportingPeriod:
    if row.r_id is None:
        start, end = year_bounds(year)
        return ReportingPeriod(start, end, PeriodBasis.calendar_year)
    rule = _rule(row, "r_")
    start, end = period_of(rule.starts, year)
    return ReportingPeriod(start, end, PeriodBasis.default, rule.out)


@dataclass(frozen=True, slots=True)
class _Rule:
    first_year: int
    last_year: int | None
    starts: YearStart
    out: PeriodRule


def _rule(row: Any, prefix: str) -> _Rule:
    def get(name: str) -> Any:
        return getattr(row, prefix + name)

    return _Rule(
        first_year=get("first_year"),
        last_year=get("last_year"),
        starts=YearStart(month=get("first_month"), day=get("first_day"), years_before=get("years_before")),
        out=PeriodRule(
            code=get("code"),
            name=get("name"),
            confidence=Confidence(get("confidence")),
            basis=[Citation.model_validate(c) for c in get("basis")],
        ),
    )


def _period_under(rules: list[_Rule], year: int) -> tuple[date, date]:
    for rule in rules:
        if rule.first_year <= year and (rule.last_year is None or year <= rule.last_year):
            return period_of(rule.starts, year)
    return year_bounds(year)
