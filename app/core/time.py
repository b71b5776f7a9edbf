"""Clock and calendar. "Today" is the date in Vietnam (`TIMEZONE`), wherever the server runs:
on 2025-07-01 at 00:30 in Hà Nội a UTC server still says 2025-06-30, and the reform took
effect that day."""

from datetime import UTC, date, datetime
from functools import lru_cache
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Column, DateTime, func
from sqlmodel import Field


def utcnow() -> datetime:
    return datetime.now(UTC)


@lru_cache
def _zone(name: str) -> ZoneInfo:
    return ZoneInfo(name)


def today(timezone: str) -> date:
    """The calendar date now in `timezone` (`TIMEZONE`: Asia/Ho_Chi_Minh by default)."""
    return utcnow().astimezone(_zone(timezone)).date()


def timestamp_field() -> Any:
    """`timestamptz NOT NULL DEFAULT now()`; Python sets it too, so a new record has it at once."""
    return Field(
        default_factory=utcnow,
        sa_column=Column(DateTime(timezone=True), nullable=False, server_default=func.now()),
    )
