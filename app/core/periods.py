"""Inclusive date periods `[valid_from, valid_to]`, NULL meaning unbounded, as PostgreSQL ranges."""

from datetime import date
from typing import Any

from sqlalchemy import ColumnElement, func, literal
from sqlalchemy.dialects.postgresql import DATERANGE

from app.core.i18n import _

MAX_PERIOD_DAYS = 366
"""A reporting period (a figure set's, a covenant's) spans at most this many days."""


def period(valid_from: Any, valid_to: Any) -> ColumnElement[Any]:
    return func.daterange(valid_from, valid_to, literal("[]"), type_=DATERANGE)


def valid_on(valid_from: Any, valid_to: Any, day: date) -> ColumnElement[bool]:
    return period(valid_from, valid_to).op("@>")(literal(day))


def overlaps(valid_from: Any, valid_to: Any, start: date | None, end: date | None) -> ColumnElement[bool]:
    return period(valid_from, valid_to).op("&&")(period(literal(start), literal(end)))


def year_bounds(year: int) -> tuple[date, date]:
    return date(year, 1, 1), date(year, 12, 31)


def year_problem(year: int, start: date, end: date) -> str | None:
    """Why `[start, end]` is no period of the reporting year `year` (None: it is one): a period
    belongs to the reporting year of its first or last day and spans at most 366 days, so a
    statistical year (15 December to 14 December) belongs to the year of its last day."""
    if (end - start).days >= MAX_PERIOD_DAYS:
        return _("A period spans at most {days} days.", days=MAX_PERIOD_DAYS)
    if year not in (start.year, end.year):
        return _(
            "The reporting year {year} is neither the year of the period's first day nor of its last.",
            year=year,
        )
    return None
