"""The default reporting period of a cluster-year (the statistical year) as dated data: its
typed form, the pure rule that turns it into a year's days, and the loader of
`data/reference/reporting_periods.yaml`.

Police statistics run from 15 December of the year before to 14 December (Decree 09/2019/NĐ-CP,
art. 12, for annual reports of the administrative bodies), not over the calendar year. The rule
is data, as the rule sets are, because a decree can change it: a year no rule covers has no
default of its own (`app.covenants.periods` then falls back to the calendar year and says so).
Where a cluster-year's period is decided (its covenant's own, else this default) is
`app.covenants.periods`.
"""

from datetime import date, timedelta
from pathlib import Path
from typing import Any, Literal, Self

import yaml
from pydantic import BaseModel, ConfigDict, Field, model_validator
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.cache import invalidate
from app.core.identity import REFERENCE
from app.core.versioned import load_by_code
from app.rules.models import ReportingPeriodRule
from app.rules.schemas import Citation, Confidence
from app.rules.tags import RULES

RESOURCE = "reporting_period_rule"

_DAYS_IN_MONTH = (31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31)
"""29 February is no year's first day (the same check is in the database)."""


class YearStart(BaseModel):
    """The first day of year Y's period: `month`/`day` of the year Y − `years_before`."""

    model_config = ConfigDict(
        extra="forbid",
        frozen=True,
        json_schema_extra={"example": {"month": 12, "day": 15, "years_before": 1}},
    )

    month: int = Field(ge=1, le=12)
    day: int = Field(ge=1, le=31)
    years_before: Literal[0, 1] = Field(description="1: the period starts in the year before.")

    @model_validator(mode="after")
    def _exists(self) -> Self:
        if self.day > _DAYS_IN_MONTH[self.month - 1]:
            raise ValueError("no such day in every year")
        return self


def period_of(starts: YearStart, year: int) -> tuple[date, date]:
    """Year `year`'s period under `starts`: from its first day to the day before the next
    year's (2025 under 15 December of the year before: 2024-12-15 to 2025-12-14)."""
    first = year - starts.years_before
    start = date(first, starts.month, starts.day)
    return start, date(first + 1, starts.month, starts.day) - timedelta(days=1)


class ReportingPeriodData(BaseModel):
    """A rule as the data file writes it."""

    model_config = ConfigDict(extra="forbid")

    code: str = Field(pattern=r"^[a-z0-9][a-z0-9-]{0,59}$")
    name: str = Field(min_length=1, max_length=300)
    first_year: int = Field(ge=2000, le=2100, description="The first reporting year it defines.")
    last_year: int | None = Field(le=2100, description="The last; null: still in force.")
    starts: YearStart
    confidence: Confidence
    basis: list[Citation] = Field(min_length=1)

    @model_validator(mode="after")
    def _ordered(self) -> Self:
        if self.last_year is not None and self.last_year < self.first_year:
            raise ValueError("last_year is before first_year")
        return self


class ReportingPeriodFile(BaseModel):
    model_config = ConfigDict(extra="forbid")

    format: Literal["thidua-reporting-periods/1"]
    reporting_periods: list[ReportingPeriodData]


class PeriodRule(BaseModel):
    """The rule a default reporting period comes from: its code and name, how sure we are of it
    and its basis (`data/reference/reporting_periods.yaml`)."""

    model_config = ConfigDict(
        frozen=True,
        json_schema_extra={
            "example": {
                "code": "statistical-year-decree-09-2019",
                "name": "Năm thống kê: từ 15/12 năm trước đến 14/12 (Nghị định 09/2019/NĐ-CP)",
                "confidence": "analogue",
                "basis": [
                    {
                        "document": "Nghị định 09/2019/NĐ-CP",
                        "article": "art. 12",
                        "note": "Annual reports: from 15 December of the year before to 14 December.",
                    }
                ],
            }
        },
    )

    code: str
    name: str
    confidence: Confidence = Field(description="`text`, `analogue`, `practice` or `unknown`.")
    basis: list[Citation]


def read_file(path: Path) -> ReportingPeriodFile:
    """The data file, validated (a broken file stops the loader with Pydantic's message)."""
    return ReportingPeriodFile.model_validate(yaml.safe_load(path.read_text(encoding="utf-8")))


def _values(data: ReportingPeriodData) -> dict[str, Any]:
    return {
        "code": data.code,
        "name": data.name,
        "first_year": data.first_year,
        "last_year": data.last_year,
        "first_month": data.starts.month,
        "first_day": data.starts.day,
        "years_before": data.starts.years_before,
        "confidence": data.confidence.value,
        "basis": [c.model_dump(mode="json") for c in data.basis],
    }


async def load_reporting_periods(session: AsyncSession, path: Path) -> int:
    """Add the file's rules, and update (as a new version) those whose content changed; returns
    how many were added or changed. Overlapping spans of years are refused by the database."""
    rows = [_values(data) for data in sorted(read_file(path).reporting_periods, key=lambda d: d.first_year)]
    changed = await load_by_code(
        session, ReportingPeriodRule, rows, resource=RESOURCE, revision=_revision, actor=REFERENCE
    )
    if changed:
        await invalidate(session, RULES)  # the evaluations and the year sheets read it
    return changed


def _revision(row: ReportingPeriodRule) -> BaseModel:
    return _Stored.model_validate(row, from_attributes=True)


class _Stored(BaseModel):
    """A rule as its revisions keep it."""

    code: str
    name: str
    first_year: int
    last_year: int | None
    first_month: int
    first_day: int
    years_before: int
    confidence: Confidence
    basis: list[Citation]
    version: int
