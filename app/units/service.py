from datetime import date
from typing import Any, Literal, TypeVar

from sqlalchemy import ColumnElement, Row, Select, and_, func, literal, literal_column, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased
from sqlmodel import col

from app.core.database import session_settings, table
from app.core.errors import Conflict, NotFound, Unprocessable, sqlstate
from app.core.etag import record_etag, require_match
from app.core.i18n import _
from app.core.identity import Actor
from app.core.pagination import Page, page_at, page_of
from app.core.periods import valid_on
from app.core.text import fold, query_keys, search_key
from app.core.versioned import patch_version
from app.units.models import Succession, Unit, UnitKind
from app.units.schemas import (
    KIND_LABELS,
    LineageLink,
    LineageOut,
    MatchKind,
    NameMatch,
    UnitListItem,
    UnitOut,
    UnitRef,
    UnitUpdate,
)
from app.units.search import KINDS, best_matches
from app.units.tags import UNITS, unit_tag

RESOURCE = "unit"
S = TypeVar("S", bound=Select[*tuple[Any, ...]])

_UNIT_COLUMNS = (
    col(Unit.id),
    col(Unit.code),
    col(Unit.name),
    col(Unit.kind),
    col(Unit.valid_from),
    col(Unit.valid_to),
    col(Unit.version),
)
_MAX_LINEAGE_DEPTH = 32


def unit_out(row: Any) -> UnitOut:
    kind = UnitKind(row.kind)
    return UnitOut(
        id=row.id,
        code=row.code,
        name=row.name,
        kind=kind,
        kind_label=KIND_LABELS[kind],
        valid_from=row.valid_from,
        valid_to=row.valid_to,
        version=row.version,
    )


def unit_etag(unit: UnitOut) -> str:
    return record_etag(RESOURCE, unit.id, unit.version, unit)


def unit_ref(row: Any) -> UnitRef:
    return UnitRef.from_row(row, prefix="")


def unit_columns(unit: Any, prefix: str = "unit_") -> list[Any]:
    """The columns `UnitRef.from_row(row, prefix)` reads, from `Unit` or an alias of it."""
    return [
        getattr(unit, name).label(f"{prefix}{name}")
        for name in ("id", "code", "name", "valid_from", "valid_to")
    ]


def _filtered(query: S, as_of: date | None, code: str | None) -> S:
    """`query` (over units) restricted to the units existing on `as_of` and holding `code`."""
    if as_of is not None:
        query = query.where(valid_on(col(Unit.valid_from), col(Unit.valid_to), as_of))
    if code is not None:
        query = query.where(col(Unit.code) == code)
    return query


def similarity_threshold(session: AsyncSession) -> float:
    """`NAME_SIMILARITY_THRESHOLD` of the database's settings (`session_settings`)."""
    return session_settings(session).name_similarity_threshold


async def list_units(
    session: AsyncSession,
    *,
    as_of: date | None,
    q: str | None,
    code: str | None,
    limit: int,
    after: int | None,
) -> Page[UnitListItem]:
    """Units by id (`after`: the last id of the previous page); with `q`, ranked by how they
    match the name (`after`: the offset of the page in the ranking)."""
    if q is not None:
        return await _search(session, query_keys(q), as_of=as_of, code=code, limit=limit, offset=after or 0)
    query = _filtered(select(*_UNIT_COLUMNS), as_of, code).order_by(col(Unit.id)).limit(limit + 1)
    if after is not None:
        query = query.where(col(Unit.id) > after)
    rows = [UnitListItem(**unit_out(r).model_dump(), match=None) for r in await session.execute(query)]
    return page_of(rows, limit, lambda u: u.id)


async def _search(
    session: AsyncSession,
    keys: list[str],
    *,
    as_of: date | None,
    code: str | None,
    limit: int,
    offset: int,
) -> Page[UnitListItem]:
    """The units matching any of `keys`, best match first (see `app.units.search`)."""
    if not keys:
        return Page[UnitListItem](items=[], next_cursor=None)
    best = best_matches(keys, similarity_threshold(session))
    query = (
        _filtered(select(*_UNIT_COLUMNS, best.c.rank, best.c.score, best.c.alias), as_of, code)
        .join(best, best.c.unit_id == col(Unit.id))
        .order_by(best.c.rank, best.c.score.desc(), col(Unit.id))
        .offset(offset)
        .limit(limit + 1)
    )
    rows = [_matched(r) for r in await session.execute(query)]
    return page_at(rows, limit, offset)


def _matched(row: Any) -> UnitListItem:
    match = NameMatch(kind=KINDS[row.rank], score=round(row.score, 3), alias=row.alias)
    return UnitListItem(**unit_out(row).model_dump(), match=match)


_CANDIDATES = 5


async def resolve_name(session: AsyncSession, name: str, *, on: date, code: str | None = None) -> Unit:
    """The unit `name` means on `on` (and with `code`, if given): by its name, prefixes aside, or
    by an active alias; never by similarity. No such unit, or more than one, is 422 listing the
    `candidates` (the units named so, or the nearest names)."""
    found = (await _search(session, query_keys(name), as_of=on, code=code, limit=_CANDIDATES, offset=0)).items
    named = [u for u in found if u.match is not None and u.match.kind in (MatchKind.exact, MatchKind.alias)]
    exact = [u for u in named if u.match is not None and u.match.kind is MatchKind.exact]
    if len(exact) == 1:
        named = exact  # a unit's own name wins over another unit's alias that reads the same
    if len(named) == 1:
        unit = await session.get(Unit, named[0].id)
        assert unit is not None
        return unit
    # Translators: {where} of the messages below: when (and with which code) a name is looked up.
    where = _("on {day} with code {code}", day=on, code=code) if code else _("on {day}", day=on)
    candidates = [u.model_dump(mode="json") for u in (named or found)]
    if named:
        raise Unprocessable(
            _(
                "{count} units answer to {name!r} {where}: {units}; give the code to choose.",
                count=len(named),
                name=name,
                where=where,
                units=_listing(named),
            ),
            candidates=candidates,
        )
    if found:
        detail = _(
            "No unit is named {name!r} {where}, exactly or by an alias; candidates: {units}.",
            name=name,
            where=where,
            units=_listing(found),
        )
    else:
        detail = _(
            "No unit is named {name!r} {where}, exactly or by an alias; no similar name either.",
            name=name,
            where=where,
        )
    raise Unprocessable(detail, candidates=candidates)


def _listing(units: list[UnitListItem]) -> str:
    """`Hà Nội (code 01, id 1, alias 'HN'), …`: each unit, and the alias it answered by."""
    return ", ".join(_described(u) for u in units)


def _described(unit: UnitListItem) -> str:
    if unit.match and unit.match.alias:
        return _(
            "{name} (code {code}, id {id}, alias {alias!r})",
            name=unit.name,
            code=unit.code,
            id=unit.id,
            alias=unit.match.alias,
        )
    return _("{name} (code {code}, id {id})", name=unit.name, code=unit.code, id=unit.id)


async def get_unit(session: AsyncSession, unit_id: int) -> UnitOut:
    row = (await session.execute(select(*_UNIT_COLUMNS).where(col(Unit.id) == unit_id))).first()
    if row is None:
        raise NotFound(_("No unit with id {unit_id}.", unit_id=unit_id))
    return unit_out(row)


async def update_unit(
    session: AsyncSession, unit_id: int, data: UnitUpdate, if_match: str | None, actor: Actor
) -> UnitOut:
    unit = await session.get(Unit, unit_id, with_for_update=True)
    if unit is None:
        raise NotFound(_("No unit with id {unit_id}.", unit_id=unit_id))
    before = unit_out(unit)
    require_match(if_match, unit_etag(before))
    changes = data.model_dump(include=data.model_fields_set, mode="json")
    if "name" in changes:
        changes["name_folded"] = fold(changes["name"])
        changes["search_key"] = search_key(changes["name"])

    async def write(row: Unit) -> UnitOut:
        try:
            async with session.begin_nested():
                for field, value in changes.items():
                    setattr(row, field, value)
                await session.flush()
        except IntegrityError as exc:
            if sqlstate(exc) != "23P01":
                raise
            raise Conflict(
                slug="unit-code-taken",
                detail=_("Code {code} already names another unit during this unit's period.", code=data.code),
            ) from exc
        return await get_unit(session, unit_id)

    return await patch_version(
        session,
        unit,
        before,
        write,
        resource=RESOURCE,
        actor=actor,
        tags=lambda _out: [UNITS, unit_tag(unit_id)],
    )


async def _walk(
    session: AsyncSession, unit_id: int, direction: Literal["predecessors", "successors"]
) -> list[LineageLink]:
    """Follow succession links transitively in one direction, nearest first."""
    s = table(Succession).alias("s")
    near, far = (
        (s.c.successor_id, s.c.predecessor_id)
        if direction == "predecessors"
        else (s.c.predecessor_id, s.c.successor_id)
    )
    start = select(
        far.label("walk_unit_id"),
        near.label("via"),
        literal(1).label("depth"),
        s.c.effective_date,
        s.c.kind,
        s.c.legal_basis,
    ).where(near == unit_id)
    walk = start.cte("walk", recursive=True)
    s2 = table(Succession).alias("s2")
    near2, far2 = (
        (s2.c.successor_id, s2.c.predecessor_id)
        if direction == "predecessors"
        else (s2.c.predecessor_id, s2.c.successor_id)
    )
    walk = walk.union(
        select(far2, near2, walk.c.depth + 1, s2.c.effective_date, s2.c.kind, s2.c.legal_basis)
        .join(walk, near2 == walk.c.walk_unit_id)
        .where(walk.c.depth < _MAX_LINEAGE_DEPTH)
    )
    rows = await session.execute(
        select(walk, *unit_columns(Unit))
        .join(Unit, and_(col(Unit.id) == walk.c.walk_unit_id))
        .order_by(walk.c.depth, col(Unit.code), col(Unit.id))
    )
    return [_link(r) for r in rows]


def _link(row: Row[Any]) -> LineageLink:
    return LineageLink(
        unit=UnitRef.from_row(row),
        effective_date=row.effective_date,
        kind=row.kind,
        legal_basis=row.legal_basis,
        depth=row.depth,
        via=row.via,
    )


async def lineage(session: AsyncSession, unit_id: int) -> LineageOut:
    unit = await get_unit(session, unit_id)
    return LineageOut(
        unit=unit,
        predecessors=await _walk(session, unit_id, "predecessors"),
        successors=await _walk(session, unit_id, "successors"),
    )


def linked_units(unit_id: ColumnElement[int] | Any, direction: Literal["predecessors", "successors"]) -> Any:
    """A correlated JSON array of the units one succession step from `unit_id`.

    Lets a list query carry each row's predecessors or successors without another query.
    """
    other = aliased(Unit)
    near, far = (
        (col(Succession.successor_id), col(Succession.predecessor_id))
        if direction == "predecessors"
        else (col(Succession.predecessor_id), col(Succession.successor_id))
    )
    obj = func.json_build_object(
        "id",
        other.id,
        "code",
        other.code,
        "name",
        other.name,
        "valid_from",
        other.valid_from,
        "valid_to",
        other.valid_to,
    )
    return (
        select(func.coalesce(func.json_agg(obj), literal_column("'[]'::json")))
        .select_from(Succession)
        .join(other, far == other.id)
        .where(near == unit_id)
        .scalar_subquery()
    )
