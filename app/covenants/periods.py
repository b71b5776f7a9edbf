"""A cluster-year's reporting period (kỳ báo cáo): the days its figures are judged on.

Seam shared by the evaluation, the sheet and the pledges. Today: the calendar year (to be replaced
by the statistical year, 15 December of the year before to 14 December, as data, and a
covenant's own period when it states one)."""

from dataclasses import dataclass
from datetime import date

from sqlalchemy.ext.asyncio import AsyncSession

from app.core.periods import year_bounds


@dataclass(frozen=True, slots=True)
class ReportingPeriod:
    start: date
    end: date


async def reporting_period(session: AsyncSession, cluster_id: int, year: int) -> ReportingPeriod:
    """The period a cluster-year's figures are judged on."""
    start, end = year_bounds(year)
    return ReportingPeriod(start, end)
