"""Name search: which units a name query matches, and how well, in one statement.

A unit matches the query keys (`app.core.text.query_keys`) by, best first:
0 `exact`   its search key is one of the keys;
1 `alias`   an active alias's key is one of them;
2 `partial` a key is part of its search key (score: the share of the name it covers);
3 `similar` pg_trgm similarity of its key, or of an active alias's, to a key ≥ the threshold.
Each unit keeps its best match: by kind, then score, then the reading of the query that matched
(the whole query before a reading with its prefixes stripped: "TP.HCM" names the alias `TP.HCM`
rather than `HCM`), then its own name before an alias.
"""

from typing import Any

from sqlalchemy import (
    Float,
    Integer,
    String,
    Subquery,
    case,
    cast,
    func,
    literal,
    null,
    or_,
    select,
    union_all,
)
from sqlalchemy.dialects.postgresql import distinct_on
from sqlalchemy.sql.elements import ColumnElement

from app.core.database import table
from app.units.models import Unit, UnitAlias
from app.units.schemas import MatchKind

KINDS = (MatchKind.exact, MatchKind.alias, MatchKind.partial, MatchKind.similar)
"""Match kinds by rank: the `rank` column of `best_matches` indexes this tuple."""


def _similarity(column: Any, keys: list[str]) -> ColumnElement[float]:
    return cast(func.greatest(*(func.similarity(column, k) for k in keys)), Float)


def _coverage(column: Any, keys: list[str]) -> ColumnElement[float]:
    """The largest share of `column` that a key contained in it covers (0 when none is)."""
    share = [
        case((column.contains(k, autoescape=True), literal(float(len(k))) / func.length(column)), else_=0.0)
        for k in keys
    ]
    return func.greatest(*share)


def _reading(column: Any, keys: list[str]) -> ColumnElement[int]:
    """Which of `keys` (0: the whole query, then with fewer words kept) `column` equals."""
    return case(*((column == k, i) for i, k in enumerate(keys)), else_=len(keys))


def _row(unit_id: Any, rank: int, score: Any, alias: Any, reading: Any = 0) -> list[Any]:
    return [
        unit_id.label("unit_id"),
        literal(rank, Integer).label("rank"),
        cast(score, Float).label("score"),
        cast(alias, String).label("alias"),
        cast(reading, Integer).label("reading"),
    ]


def best_matches(keys: list[str], threshold: float) -> Subquery:
    """One row per matching unit: `unit_id`, `rank` (see `KINDS`), `score`, `alias`."""
    units, aliases = table(Unit), table(UnitAlias)
    active = aliases.c.active.is_(True)
    unit_similarity = _similarity(units.c.search_key, keys)
    alias_similarity = _similarity(aliases.c.search_key, keys)
    matches = union_all(
        select(*_row(units.c.id, 0, 1.0, null(), _reading(units.c.search_key, keys))).where(
            units.c.search_key.in_(keys)
        ),
        select(*_row(aliases.c.unit_id, 1, 1.0, aliases.c.name, _reading(aliases.c.search_key, keys))).where(
            active, aliases.c.search_key.in_(keys)
        ),
        select(*_row(units.c.id, 2, _coverage(units.c.search_key, keys), null())).where(
            or_(*(units.c.search_key.contains(k, autoescape=True) for k in keys))
        ),
        select(*_row(units.c.id, 3, unit_similarity, null())).where(unit_similarity >= threshold),
        select(*_row(aliases.c.unit_id, 3, alias_similarity, aliases.c.name)).where(
            active, alias_similarity >= threshold
        ),
    ).subquery("matches")
    return (
        select(matches)
        .ext(distinct_on(matches.c.unit_id))
        .order_by(
            matches.c.unit_id,
            matches.c.rank,
            matches.c.score.desc(),
            matches.c.reading,
            matches.c.alias.asc().nulls_first(),
        )
        .subquery("best")
    )
