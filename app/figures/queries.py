"""The SQL of figures: one JSON shape for a set (reads, revisions, ETags) and set-based writes.

A write is a fixed number of statements whatever the number of sets and values: lock the sets
that exist, upsert the sets, delete their old values, insert the new ones, and record one
revision per set (its representation built by the same SQL expression a read uses)."""

import asyncio
import json
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.cache import invalidate
from app.core.identity import Actor
from app.units.tags import unit_tag

RESOURCE = "figure_set"

_UNIT_JSON = (
    "(SELECT json_build_object('id', u.id, 'code', u.code, 'name', u.name, "
    "'valid_from', u.valid_from, 'valid_to', u.valid_to) FROM units u WHERE u.id = {column})"
)
SET_JSON = f"""json_build_object(
    'unit', {_UNIT_JSON.format(column="fs.unit_id")},
    'year', fs.year,
    'period_start', fs.period_start,
    'period_end', fs.period_end,
    'values', coalesce((
        SELECT json_agg(json_build_object(
            'metric', m.key, 'value', fv.value, 'numerator', fv.numerator,
            'denominator', fv.denominator,
            're_aggregable', NOT (m.kind = 'rate' AND fv.numerator IS NULL)) ORDER BY m.id)
        FROM figure_values fv JOIN metrics m ON m.id = fv.metric_id
        WHERE fv.figure_set_id = fs.id), '[]'::json),
    'written_by', {_UNIT_JSON.format(column="fs.written_by_unit_id")},
    'source', fs.source,
    'note', fs.note,
    'version', fs.version,
    'recorded_by', fs.recorded_by,
    'recorded_at', fs.recorded_at)"""
"""A figure set `fs` as `FigureSetOut` reads it."""

Key = tuple[int, date, date]


@dataclass
class SetWrite:
    unit_id: int
    year: int
    period_start: date
    period_end: date
    written_by_unit_id: int | None
    source: str | None
    note: str | None
    values: list[tuple[int, Decimal | None, Decimal | None, Decimal | None]] = field(default_factory=list)
    """(metric id, value, numerator, denominator)"""

    @property
    def key(self) -> Key:
        return self.unit_id, self.period_start, self.period_end


async def existing_sets(session: AsyncSession, keys: list[Key], *, lock: bool) -> dict[Key, tuple[int, int]]:
    """(id, version) of the sets that exist among `keys`, locked for update (in id order) if `lock`."""
    if not keys:
        return {}
    rows = await session.execute(
        text(
            "SELECT fs.id, fs.unit_id, fs.period_start, fs.period_end, fs.version FROM figure_sets fs "
            "JOIN unnest(CAST(:u AS int[]), CAST(:s AS date[]), CAST(:e AS date[])) AS k(u, s, e) "
            "ON fs.unit_id = k.u AND fs.period_start = k.s AND fs.period_end = k.e ORDER BY fs.id"
            + (" FOR UPDATE OF fs" if lock else "")
        ),
        {"u": [k[0] for k in keys], "s": [k[1] for k in keys], "e": [k[2] for k in keys]},
    )
    return {(r.unit_id, r.period_start, r.period_end): (r.id, r.version) for r in rows}


_INLINE_VALUES = 500
"""Up to this many values, their arrays are written on the event loop; beyond, in a thread."""


def _value_arrays(sets: list[SetWrite], set_ids: dict[Key, int]) -> dict[str, str]:
    """The values as PostgreSQL array literals (`{1,2.5,NULL}`), one per column. Built as text
    off the event loop: asyncpg would encode 10,000 Decimals per column on it (25 ms in which no
    read is served); the server parses the literals instead. Exact: a Decimal's text is its value."""
    columns: list[list[str]] = [[], [], [], [], []]
    f, m, v, n, d = columns
    for s in sets:
        set_id = str(set_ids[s.key])
        for metric_id, value, numerator, denominator in s.values:
            f.append(set_id)
            m.append(str(metric_id))
            v.append("NULL" if value is None else str(value))
            n.append("NULL" if numerator is None else str(numerator))
            d.append("NULL" if denominator is None else str(denominator))
    return {name: "{" + ",".join(column) + "}" for name, column in zip("fmvnd", columns, strict=True)}


async def write_sets(
    session: AsyncSession, sets: list[SetWrite], actor: Actor
) -> dict[Key, tuple[int, int, bool]]:
    """Create or replace every set (a new version each), replace its values, record revisions.
    Returns (id, version, created) by key."""
    sets = sorted(sets, key=lambda s: s.key)
    upserted = await session.execute(
        text(
            "INSERT INTO figure_sets (unit_id, year, period_start, period_end, written_by_unit_id, "
            "source, note, version, recorded_by) "
            "SELECT u, y, s, e, w, src, nt, 1, :actor FROM unnest(CAST(:u AS int[]), CAST(:y AS int[]), "
            "CAST(:s AS date[]), CAST(:e AS date[]), CAST(:w AS int[]), CAST(:src AS text[]), "
            "CAST(:nt AS text[])) AS t(u, y, s, e, w, src, nt) "
            "ON CONFLICT (unit_id, period_start, period_end) DO UPDATE SET year = EXCLUDED.year, "
            "written_by_unit_id = EXCLUDED.written_by_unit_id, source = EXCLUDED.source, "
            "note = EXCLUDED.note, version = figure_sets.version + 1, "
            "recorded_by = EXCLUDED.recorded_by, recorded_at = now() "
            "RETURNING id, unit_id, period_start, period_end, version, (xmax = 0) AS created"
        ),
        {
            "actor": actor.recorded_by,
            "u": [s.unit_id for s in sets],
            "y": [s.year for s in sets],
            "s": [s.period_start for s in sets],
            "e": [s.period_end for s in sets],
            "w": [s.written_by_unit_id for s in sets],
            "src": [s.source for s in sets],
            "nt": [s.note for s in sets],
        },
    )
    result = {(r.unit_id, r.period_start, r.period_end): (r.id, r.version, r.created) for r in upserted}
    ids = [v[0] for v in result.values()]
    await session.execute(
        text("DELETE FROM figure_values WHERE figure_set_id = ANY(CAST(:ids AS int[]))"), {"ids": ids}
    )
    set_ids = {key: written[0] for key, written in result.items()}
    arrays = (
        await asyncio.to_thread(_value_arrays, sets, set_ids)
        if sum(len(s.values) for s in sets) > _INLINE_VALUES
        else _value_arrays(sets, set_ids)
    )
    await session.execute(
        text(
            "INSERT INTO figure_values (figure_set_id, metric_id, value, numerator, denominator) "
            "SELECT * FROM unnest(CAST(CAST(:f AS text) AS int[]), CAST(CAST(:m AS text) AS int[]), "
            "CAST(CAST(:v AS text) AS numeric[]), CAST(CAST(:n AS text) AS numeric[]), "
            "CAST(CAST(:d AS text) AS numeric[]))"
        ),
        arrays,
    )
    await session.execute(
        text(
            "INSERT INTO revisions (resource, resource_id, version, data, recorded_by, recorded_at) "
            f"SELECT :resource, fs.id, fs.version, CAST({SET_JSON} AS jsonb), fs.recorded_by, fs.recorded_at "
            "FROM figure_sets fs WHERE fs.id = ANY(CAST(:ids AS int[]))"
        ),
        {"resource": RESOURCE, "ids": ids},
    )
    return result


async def read_set(session: AsyncSession, set_id: int) -> dict[str, Any]:
    row = (
        await session.execute(
            text(f"SELECT {SET_JSON} AS data FROM figure_sets fs WHERE fs.id = :id"), {"id": set_id}
        )
    ).one()
    data = row.data
    return data if isinstance(data, dict) else json.loads(data)


async def predecessors_of(session: AsyncSession, unit_id: int) -> set[int]:
    """Every unit `unit_id` succeeded, transitively (its predecessors, theirs, …)."""
    rows = await session.execute(
        text(
            "WITH RECURSIVE p(id, depth) AS ("
            " SELECT predecessor_id, 1 FROM successions WHERE successor_id = :u"
            " UNION SELECT s.predecessor_id, p.depth + 1 FROM successions s JOIN p ON s.successor_id = p.id"
            " WHERE p.depth < 32) SELECT DISTINCT id FROM p"
        ),
        {"u": unit_id},
    )
    return {r.id for r in rows}


async def successors_of(session: AsyncSession, unit_ids: set[int]) -> set[int]:
    """Every unit that succeeded one of `unit_ids`, transitively: whose values count their figures."""
    rows = await session.execute(
        text(
            "WITH RECURSIVE s(id, depth) AS ("
            " SELECT successor_id, 1 FROM successions WHERE predecessor_id = ANY(:units)"
            " UNION SELECT n.successor_id, s.depth + 1 FROM successions n JOIN s ON n.predecessor_id = s.id"
            " WHERE s.depth < 32) SELECT DISTINCT id FROM s"
        ),
        {"units": sorted(unit_ids)},
    )
    return {r.id for r in rows}


async def invalidate_figures(session: AsyncSession, unit_ids: set[int]) -> None:
    """Figures of `unit_ids` changed: drop what shows them, theirs and their successors' values."""
    if unit_ids:
        touched = unit_ids | await successors_of(session, unit_ids)
        await invalidate(session, *(unit_tag(u) for u in sorted(touched)))
