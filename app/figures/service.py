"""Figure sets: rules and transactions (no HTTP)."""

import re
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from pydantic import BaseModel
from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from app.auth.principal import Principal
from app.auth.roles import Role
from app.core.errors import Conflict, Forbidden, NotFound, PreconditionFailed, Unprocessable
from app.core.etag import record_etag, require_replaceable
from app.core.i18n import _
from app.core.pagination import Page, page_at
from app.core.periods import year_problem
from app.core.revisions import unless_unchanged
from app.figures import values
from app.figures.queries import (
    RESOURCE,
    SetWrite,
    existing_sets,
    invalidate_figures,
    predecessors_of,
    read_set,
    write_sets,
)
from app.figures.schemas import FigureItem, FigureSetOut, FigureSetPut
from app.metrics.service import MetricRef
from app.metrics.service import by_key as metric_refs
from app.units.models import Unit
from app.units.service import linked_units

_PERIOD = re.compile(r"^(\d{4}-\d{2}-\d{2})\.\.(\d{4}-\d{2}-\d{2})$")


def set_etag(out: FigureSetOut) -> str:
    return record_etag(RESOURCE, f"{out.unit.id}-{out.period_start}-{out.period_end}", out.version, out)


def parse_period(period: str) -> tuple[date, date]:
    """`YYYY-MM-DD..YYYY-MM-DD`, first day not after the last (422 otherwise)."""
    match = _PERIOD.fullmatch(period)
    try:
        if match is None:
            raise ValueError
        start, end = date.fromisoformat(match[1]), date.fromisoformat(match[2])
    except ValueError:
        raise Unprocessable(
            _("A period is written YYYY-MM-DD..YYYY-MM-DD (its first and last day)."), field="period"
        ) from None
    if start > end:
        raise Unprocessable(_("A period's first day comes before its last."), field="period")
    return start, end


# --- Who may write ---------------------------------------------------------------------------


async def writable_units(session: AsyncSession, key: Principal) -> set[int] | None:
    """The units `key` may write figures for: None for any (admin); a unit key's own unit and
    every unit it succeeded, transitively (for their lifetime, which the period check enforces)."""
    if key.role is Role.admin:
        return None
    if key.role is Role.unit and key.unit_id is not None:
        return {key.unit_id} | await predecessors_of(session, key.unit_id)
    return set()


def forbidden() -> Forbidden:
    return Forbidden(_("A unit key writes its own unit's figures, and its predecessors' for their lifetime."))


async def ensure_writer(session: AsyncSession, key: Principal, unit_id: int) -> None:
    allowed = await writable_units(session, key)
    if allowed is not None and unit_id not in allowed:
        raise forbidden()


def written_by(key: Principal, unit_id: int) -> int | None:
    return key.unit_id if key.role is Role.unit and key.unit_id != unit_id else None


async def template_unit(session: AsyncSession, key: Principal, unit_id: int | None) -> int | None:
    """The unit a figures template is filled in for: the one named, which the caller must be
    allowed to write figures for (403 otherwise, whether it exists or not); else a unit key's
    (or a person's unit grant's) own; else none (an admin, or a key that writes no figures)."""
    if unit_id is not None:
        await ensure_writer(session, key, unit_id)
        return unit_id
    return key.unit_id if key.role is Role.unit else None


# --- Units and metrics -----------------------------------------------------------------------


@dataclass
class UnitInfo:
    id: int
    code: str
    name: str
    valid_from: date | None
    valid_to: date | None
    predecessors: list[dict[str, Any]]
    successors: list[dict[str, Any]]


async def units_by_id(session: AsyncSession, ids: set[int]) -> dict[int, UnitInfo]:
    rows = await session.execute(
        select(
            col(Unit.id),
            col(Unit.code),
            col(Unit.name),
            col(Unit.valid_from),
            col(Unit.valid_to),
            linked_units(col(Unit.id), "predecessors").label("predecessors"),
            linked_units(col(Unit.id), "successors").label("successors"),
        ).where(col(Unit.id).in_(ids))
    )
    return {
        r.id: UnitInfo(r.id, r.code, r.name, r.valid_from, r.valid_to, r.predecessors, r.successors)
        for r in rows
    }


async def units_by_code(session: AsyncSession, wanted: set[tuple[str, date]]) -> dict[tuple[str, date], int]:
    """The unit each code names on each day (a code names one unit on any day)."""
    if not wanted:
        return {}
    pairs = list(wanted)
    rows = await session.execute(
        text(
            "SELECT k.c, k.d, u.id FROM unnest(CAST(:c AS text[]), CAST(:d AS date[])) AS k(c, d) "
            "JOIN units u ON u.code = k.c AND daterange(u.valid_from, u.valid_to, '[]') @> k.d"
        ),
        {"c": [p[0] for p in pairs], "d": [p[1] for p in pairs]},
    )
    return {(r.c, r.d): r.id for r in rows}


def existence_problem(unit: UnitInfo, start: date, end: date) -> tuple[str, dict[str, Any]] | None:
    """A period outside the unit's existence: what to say and whom to name."""
    if unit.valid_from is not None and start < unit.valid_from:
        names = ", ".join(p["name"] for p in unit.predecessors) or _("none recorded")
        detail = _(
            "{name} exists from {day}; figures before that are its predecessors': {names}.",
            name=unit.name,
            day=unit.valid_from,
            names=names,
        )
        return detail, {"predecessors": unit.predecessors}
    if unit.valid_to is not None and end > unit.valid_to:
        names = ", ".join(p["name"] for p in unit.successors) or _("none recorded")
        detail = _(
            "{name} ceased to exist on {day}; figures after that are its successors': {names}.",
            name=unit.name,
            day=unit.valid_to,
            names=names,
        )
        return detail, {"successors": unit.successors}
    return None


def value_problem(
    key: str,
    metric: MetricRef | None,
    value: Decimal | None,
    numerator: Decimal | None,
    denominator: Decimal | None = None,
) -> str | None:
    """What is wrong with a figure for the metric `key`, given its kind: a count, an amount in
    đồng and a rate's parts are whole numbers (`1.250` there is a thousands separator misread)."""
    if metric is None:
        return _("No metric with key {key}.", key=key)
    wrong = values.figure_problem(key, metric.kind, value, numerator, denominator, str, from_csv=False)
    return wrong[2] if wrong else None


# --- One set -----------------------------------------------------------------------------------


async def _set_id(session: AsyncSession, unit_id: int, start: date, end: date) -> int | None:
    found = await existing_sets(session, [(unit_id, start, end)], lock=False)
    return found[(unit_id, start, end)][0] if found else None


async def get_set(session: AsyncSession, unit_id: int, period: str) -> tuple[FigureSetOut, str]:
    start, end = parse_period(period)
    set_id = await _set_id(session, unit_id, start, end)
    if set_id is None:
        raise NotFound(
            _("No figures of unit {unit_id} for {start}–{end}.", unit_id=unit_id, start=start, end=end)
        )
    out = FigureSetOut.model_validate(await read_set(session, set_id))
    return out, set_etag(out)


async def set_record_id(session: AsyncSession, unit_id: int, period: str) -> int:
    start, end = parse_period(period)
    set_id = await _set_id(session, unit_id, start, end)
    if set_id is None:
        raise NotFound(
            _("No figures of unit {unit_id} for {start}–{end}.", unit_id=unit_id, start=start, end=end)
        )
    return set_id


async def put_set(
    session: AsyncSession,
    unit_id: int,
    period: str,
    data: FigureSetPut,
    if_match: str | None,
    key: Principal,
    *,
    if_none_match: str | None = None,
) -> "PutSet":
    """Create (no `If-Match`) or replace (`If-Match`: 428 without, 412 stale) a unit's figures;
    `If-None-Match: *` creates only. Figures that say what is stored write nothing (200, the
    same version and ETag)."""
    start, end = parse_period(period)
    problem = year_problem(data.year, start, end)
    if problem:
        raise Unprocessable(problem, field="year")
    unit = (await units_by_id(session, {unit_id})).get(unit_id)
    if unit is None:
        raise NotFound(_("No unit with id {unit_id}.", unit_id=unit_id))
    outside = existence_problem(unit, start, end)
    if outside:
        raise Conflict(slug="unit-not-in-period", detail=outside[0], field="period", **outside[1])
    metrics = await metric_refs(session, {v.metric for v in data.values})
    seen: set[str] = set()
    values = []
    for i, figure in enumerate(data.values):
        if figure.metric in seen:
            raise Unprocessable(_("{key} is given twice.", key=figure.metric), field=f"values.{i}.metric")
        seen.add(figure.metric)
        wrong = value_problem(
            figure.metric, metrics.get(figure.metric), figure.value, figure.numerator, figure.denominator
        )
        if wrong:
            raise Unprocessable(wrong, field=f"values.{i}")
        values.append((metrics[figure.metric].id, figure.value, figure.numerator, figure.denominator))
    key_ = (unit_id, start, end)
    existing = (await existing_sets(session, [key_], lock=True)).get(key_)
    current: FigureSetOut | None = None
    if existing is not None:
        current = FigureSetOut.model_validate(await read_set(session, existing[0]))
        require_replaceable(if_match, if_none_match, set_etag(current))
    elif if_match is not None:
        raise PreconditionFailed(
            _("No figures of unit {unit_id} for {start}–{end} yet.", unit_id=unit_id, start=start, end=end)
        )

    async def write() -> FigureSetOut:
        written = await write_sets(
            session,
            [
                SetWrite(
                    unit_id, data.year, start, end, written_by(key, unit_id), data.source, data.note, values
                )
            ],
            key.actor,
        )
        set_id, _version, created = written[key_]
        if existing is None and not created:
            raise PreconditionFailed(
                _("These figures were recorded meanwhile; read them, then replace them.")
            )
        return FigureSetOut.model_validate(await read_set(session, set_id))

    out = await unless_unchanged(session, current, write)
    if out is None:
        assert current is not None
        return PutSet(out=current, created=False)
    await invalidate_figures(session, {unit_id})
    return PutSet(out=out, created=existing is None)


class PutSet(BaseModel):
    """What a PUT of a figure set did: the set as stored, and whether it was created (201)."""

    out: FigureSetOut
    created: bool


# --- Reading values ----------------------------------------------------------------------------


async def list_values(
    session: AsyncSession,
    *,
    unit: int | None,
    year: int | None,
    metric: str | None,
    limit: int,
    offset: int,
) -> Page[FigureItem]:
    rows = await session.execute(
        text(
            "SELECT u.id AS unit_id, u.code AS unit_code, u.name AS unit_name, "
            "u.valid_from AS unit_valid_from, u.valid_to AS unit_valid_to, "
            "fs.year, fs.period_start, fs.period_end, m.key AS metric, fv.value, fv.numerator, "
            "fv.denominator, NOT (m.kind = 'rate' AND fv.numerator IS NULL) AS re_aggregable, "
            "fs.version AS set_version, fs.written_by_unit_id "
            "FROM figure_values fv JOIN figure_sets fs ON fs.id = fv.figure_set_id "
            "JOIN metrics m ON m.id = fv.metric_id JOIN units u ON u.id = fs.unit_id "
            "WHERE (CAST(:unit AS int) IS NULL OR fs.unit_id = :unit) "
            "AND (CAST(:year AS int) IS NULL OR fs.year = :year) "
            "AND (CAST(:metric AS text) IS NULL OR m.key = :metric) "
            "ORDER BY u.code, fs.unit_id, fs.period_start, fs.period_end, m.id "
            "OFFSET :offset LIMIT :limit"
        ),
        {"unit": unit, "year": year, "metric": metric, "offset": offset, "limit": limit + 1},
    )
    items = [
        FigureItem(
            unit={
                "id": r.unit_id,
                "code": r.unit_code,
                "name": r.unit_name,
                "valid_from": r.unit_valid_from,
                "valid_to": r.unit_valid_to,
            },
            year=r.year,
            period_start=r.period_start,
            period_end=r.period_end,
            metric=r.metric,
            value=r.value,
            numerator=r.numerator,
            denominator=r.denominator,
            re_aggregable=r.re_aggregable,
            set_version=r.set_version,
            written_by_unit_id=r.written_by_unit_id,
        )
        for r in rows
    ]
    return page_at(items, limit, offset)
