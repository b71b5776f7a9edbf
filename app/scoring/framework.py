"""A cluster-year's scoring framework: criteria, classes, scorers, and how totals combine and
ties rank; versioned, replaced whole under `If-Match` (`app.clusters.years.write_year_record`).

Every scoring write of a cluster-year locks the cluster row, then the framework row (`FOR
UPDATE`): the writes of one cluster-year are serialized, and the standings `version` each bumps
names exactly one state.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.dialects.postgresql import insert as upsert
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from app.clusters.years import ClusterYear, YearRecord
from app.core.database import table
from app.core.errors import Conflict, NotFound, Unprocessable
from app.core.etag import record_etag
from app.core.i18n import _
from app.core.identity import Actor
from app.core.plans import Id, Plan, Read, one, run
from app.core.versioned import Conditions, Stored, Written, replace_parts
from app.scoring import queries
from app.scoring.models import (
    Combination,
    Scorer,
    ScoringClass,
    ScoringCriterion,
    ScoringFramework,
    TieBreak,
)
from app.scoring.schemas import ClassOut, CriterionOut, FrameworkOut, FrameworkPut, ScorerOut

RESOURCE = "scoring-framework"


@dataclass(frozen=True, slots=True)
class Loaded:
    """A framework row as `queries.FRAMEWORK` reads it."""

    record: ScoringFramework
    cluster: int
    out: FrameworkOut
    active_freeze: int | None

    @property
    def id(self) -> int:
        assert self.record.id is not None
        return self.record.id


def _framework_out(r: Any) -> FrameworkOut:
    row: ScoringFramework = r.ScoringFramework
    return FrameworkOut(
        cluster=r.number,
        year=row.year,
        criteria=[CriterionOut.model_validate(c) for c in r.criteria],
        classes=[ClassOut.model_validate(c) for c in r.classes],
        scorers=[ScorerOut.model_validate(s) for s in r.scorers],
        combination=Combination(row.combination),
        tie_break=TieBreak(row.tie_break),
        tie_break_order=list(row.tie_break_order),
        source=row.source,
        note=row.note,
        version=row.version,
        recorded_by=row.recorded_by,
        recorded_at=row.recorded_at,
    )


async def load(session: AsyncSession, at: ClusterYear, *, lock: bool = False) -> Loaded | None:
    """The framework of a cluster-year with its parts; `lock`: its row `FOR UPDATE` first (the
    cluster row is locked already: `app.clusters.years.lock`)."""
    return await load_by_id(session, at.id, at.year, lock=lock)


async def load_by_id(
    session: AsyncSession, cluster_id: int, year: int, *, lock: bool = False
) -> Loaded | None:
    if lock:
        await session.execute(
            select(col(ScoringFramework.id))
            .where(col(ScoringFramework.cluster_id) == cluster_id, col(ScoringFramework.year) == year)
            .with_for_update()
        )
    return await run(session, load_plan(cluster_id, year))


def load_plan(cluster_id: Id, year: int) -> Plan[Loaded | None]:
    """`load_by_id` as a plan, unlocked (the year sheet reads it with the rest of the sheet)."""
    rows = yield from one(Read(queries.FRAMEWORK, {"cluster_id": cluster_id, "year": year}))
    if not rows:
        return None
    r = rows[0]
    return Loaded(r.ScoringFramework, r.number, _framework_out(r), r.active_freeze)


def framework_etag(out: FrameworkOut) -> str:
    return record_etag(RESOURCE, f"{out.cluster}-{out.year}", out.version, out)


def no_framework(at: ClusterYear) -> str:
    return _("No scoring framework recorded for cluster {number} in {year}.", number=at.number, year=at.year)


async def framework_of(session: AsyncSession, cluster_id: int, year: int) -> FrameworkOut | None:
    loaded = await load_by_id(session, cluster_id, year)
    return loaded.out if loaded is not None else None


RECORD = YearRecord(
    ScoringFramework, RESOURCE, FrameworkOut, framework_of, framework_etag, no_framework, no_framework
)
"""The year's framework: its GET and revisions, and its writes (`write_framework`)."""


async def framework_or_404(session: AsyncSession, at: ClusterYear) -> Loaded:
    loaded = await load(session, at)
    if loaded is None:
        raise NotFound(no_framework(at))
    return loaded


def frozen(loaded: Loaded) -> Conflict:
    return Conflict(
        slug="standings-frozen",
        detail=_(
            "The standings of cluster {number} in {year} are frozen (freeze {freeze}): the framework "
            "and the scores cannot change until an admin thaws them.",
            number=loaded.cluster,
            year=loaded.record.year,
            freeze=loaded.active_freeze,
        ),
        freeze_number=loaded.active_freeze,
    )


def _unique(codes: Sequence[str], field: str) -> None:
    seen: set[str] = set()
    for i, code in enumerate(codes):
        if code in seen:
            raise Unprocessable(_("The code {code} is given twice.", code=code), field=f"{field}.{i}.code")
        seen.add(code)


def _check_framework(data: FrameworkPut) -> None:
    """The rules JSON Schema cannot state: 422 naming the field."""
    _unique([c.code for c in data.criteria], "criteria")
    _unique([c.code for c in data.classes], "classes")
    _unique([s.code for s in data.scorers], "scorers")
    last = len(data.classes) - 1
    for i, klass in enumerate(data.classes):
        previous = data.classes[i - 1].min_points if i > 0 else None
        if klass.min_points is None and i != last:
            raise Unprocessable(
                _("Only the last class may have no threshold."), field=f"classes.{i}.min_points"
            )
        if klass.min_points is not None and previous is not None and klass.min_points >= previous:
            raise Unprocessable(
                _("Class thresholds must decrease strictly from the first class."),
                field=f"classes.{i}.min_points",
            )
    if data.combination is Combination.weighted:
        for i, scorer in enumerate(data.scorers):
            if scorer.weight is None:
                raise Unprocessable(
                    _("A weighted combination needs every scorer's weight."), field=f"scorers.{i}.weight"
                )
    _check_tie_break(data)


def _check_tie_break(data: FrameworkPut) -> None:
    if data.tie_break is not TieBreak.by_criteria_then_shared:
        if data.tie_break_order:
            raise Unprocessable(
                _("A tie-break order is used only by `by_criteria_then_shared`."), field="tie_break_order"
            )
        return
    if not data.tie_break_order:
        raise Unprocessable(
            _("`by_criteria_then_shared` needs the criteria or groups that break ties."),
            field="tie_break_order",
        )
    known = {c.code for c in data.criteria} | {c.group for c in data.criteria if c.group}
    for i, key in enumerate(data.tie_break_order):
        if key not in known or key in data.tie_break_order[:i]:
            raise Unprocessable(
                _("{key} is not a criterion code or group of the framework, or is given twice.", key=key),
                field=f"tie_break_order.{i}",
            )


async def _check_recorded_scores(session: AsyncSession, framework_id: int, data: FrameworkPut) -> None:
    """A replacement keeps every scorer and criterion that has points, and every maximum at
    least the points recorded under it (409 otherwise)."""
    scorers = {s.code for s in data.scorers}
    maxima = {c.code: c.max_points for c in data.criteria}
    rows = await session.execute(queries.POINTS, {"framework_id": framework_id})
    for r in rows:
        if r.scorer_code not in scorers:
            raise Conflict(
                slug="scores-recorded",
                detail=_("Scorer {code} has recorded scores; it cannot be removed.", code=r.scorer_code),
                field="scorers",
            )
        if r.criterion_code not in maxima:
            raise Conflict(
                slug="scores-recorded",
                detail=_(
                    "Criterion {code} has recorded points; it cannot be removed.", code=r.criterion_code
                ),
                field="criteria",
            )
        if r.points > maxima[r.criterion_code]:
            raise Conflict(
                slug="scores-recorded",
                detail=_(
                    "Criterion {code} has {points} points recorded, above the new maximum.",
                    code=r.criterion_code,
                    points=r.points,
                ),
                field="criteria",
            )


async def _replace_parts(session: AsyncSession, framework_id: int, data: FrameworkPut) -> None:
    """Criteria and scorers are kept by code (score sheets refer to them), classes replaced."""
    for model, rows in (
        (
            ScoringCriterion,
            [
                {
                    "code": c.code,
                    "name": c.name,
                    "group_name": c.group,
                    "max_points": c.max_points,
                    "kind": c.kind.value,
                }
                for c in data.criteria
            ],
        ),
        (
            Scorer,
            [
                {"code": s.code, "name": s.name, "kind": s.kind.value, "weight": s.weight}
                for s in data.scorers
            ],
        ),
    ):
        parts = table(model)
        codes = [r["code"] for r in rows]
        await session.execute(
            delete(parts).where(parts.c.framework_id == framework_id, parts.c.code.not_in(codes))
        )
        statement = upsert(parts).values(
            [{**r, "framework_id": framework_id, "position": i} for i, r in enumerate(rows, start=1)]
        )
        await session.execute(
            statement.on_conflict_do_update(
                index_elements=["framework_id", "code"],
                set_={k: statement.excluded[k] for k in ("position", *rows[0]) if k != "code"},
            )
        )
    classes = [
        {"position": i, "code": c.code, "name": c.name, "min_points": c.min_points}
        for i, c in enumerate(data.classes, start=1)
    ]
    await replace_parts(session, ScoringClass, "framework_id", framework_id, classes)


async def write_framework(
    session: AsyncSession, at: ClusterYear, data: FrameworkPut, conditions: Conditions, actor: Actor
) -> Written[FrameworkOut]:
    """Create or replace the framework (409 while frozen); every change bumps the standings
    version. The same version, nothing written, when the body says what is stored."""
    stored: Loaded | None = None

    async def load_locked() -> Stored[ScoringFramework, FrameworkOut] | None:
        nonlocal stored
        stored = await load(session, at, lock=True)
        return Stored(stored.record, stored.out) if stored is not None else None

    async def check(existing: object) -> None:
        if stored is not None and stored.active_freeze is not None:
            raise frozen(stored)
        _check_framework(data)
        if stored is not None:
            await _check_recorded_scores(session, stored.id, data)

    def assign(record: ScoringFramework) -> None:
        record.combination = data.combination.value
        record.tie_break = data.tie_break.value
        record.tie_break_order = list(data.tie_break_order)
        record.source = data.source
        record.note = data.note
        record.standings_version += 1

    async def parts(framework_id: int) -> None:
        await _replace_parts(session, framework_id, data)

    def new() -> ScoringFramework:
        return ScoringFramework(
            cluster_id=at.id,
            year=at.year,
            combination=data.combination.value,
            tie_break=data.tie_break.value,
            recorded_by=actor.recorded_by,
            version=0,
            standings_version=0,
        )

    return await RECORD.write(
        session, at, conditions, actor, new, assign, children=parts, check=check, load=load_locked
    )
