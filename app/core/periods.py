"""Inclusive date periods `[valid_from, valid_to]`, NULL meaning unbounded, as PostgreSQL ranges."""

from datetime import date
from typing import Any

from sqlalchemy import ColumnElement, func, literal
from sqlalchemy.dialects.postgresql import DATERANGE


def period(valid_from: Any, valid_to: Any) -> ColumnElement[Any]:
    return func.daterange(valid_from, valid_to, literal("[]"), type_=DATERANGE)


def valid_on(valid_from: Any, valid_to: Any, day: date) -> ColumnElement[bool]:
    return period(valid_from, valid_to).op("@>")(literal(day))


def overlaps(valid_from: Any, valid_to: Any, start: date | None, end: date | None) -> ColumnElement[bool]:
    return period(valid_from, valid_to).op("&&")(period(literal(start), literal(end)))


def year_bounds(year: int) -> tuple[date, date]:
    return date(year, 1, 1), date(year, 12, 31)
