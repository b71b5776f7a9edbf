"""A cluster's years: every year it had members or any record of its own."""

from datetime import date

from sqlalchemy import bindparam, text
from sqlalchemy.ext.asyncio import AsyncSession

_YEARS = text(
    """
    SELECT DISTINCT y FROM (
        SELECT generate_series(
            extract(year FROM m.valid_from)::int,
            extract(year FROM least(coalesce(m.valid_to, :today), :today))::int
        ) AS y
        FROM memberships m WHERE m.cluster_id = :cluster_id AND m.valid_from <= :today
        UNION ALL SELECT year FROM covenants WHERE cluster_id = :cluster_id
        UNION ALL SELECT year FROM leaderships WHERE cluster_id = :cluster_id
        UNION ALL SELECT year FROM conferences WHERE cluster_id = :cluster_id
        UNION ALL SELECT year FROM reported_figure_sets WHERE cluster_id = :cluster_id
        UNION ALL SELECT year FROM scoring_frameworks WHERE cluster_id = :cluster_id
        UNION ALL SELECT emulation_year FROM votes WHERE cluster_id = :cluster_id
        UNION ALL SELECT emulation_year FROM awards WHERE cluster_id = :cluster_id
    ) AS years
    ORDER BY y DESC
    """
).bindparams(bindparam("today"), bindparam("cluster_id"))
"""Memberships give the years they overlap, up to today's (a membership with no end is not a
year sheet for every future year); the records, their own years (the leadership for next year,
chosen at this year's summary, is one)."""


async def years_of(session: AsyncSession, cluster_id: int, today: date) -> list[int]:
    """The cluster's years, the latest first."""
    rows = await session.execute(_YEARS, {"cluster_id": cluster_id, "today": today})
    return [r.y for r in rows]
