"""A cluster-year's standings, computed from the framework and the score sheets (a fixed number
of queries whatever the cluster's size), and the freezes that fix them for the conference."""

from decimal import Decimal
from typing import Any

from sqlalchemy import bindparam, func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from app.clusters.tags import cluster_tag
from app.clusters.years import ClusterYear, lock
from app.core.cache import invalidate
from app.core.errors import Conflict, NotFound
from app.core.etag import record_etag
from app.core.i18n import _
from app.core.identity import Actor
from app.core.pagination import Page, page_of
from app.core.periods import year_bounds
from app.core.plans import Id, Plan, Read, gather, one, run
from app.core.time import utcnow
from app.memberships.service import members_plan
from app.scoring import engine, queries
from app.scoring.framework import (
    Loaded,
    framework_or_404,
    frozen,
    load,
    load_by_id,
    load_plan,
    no_framework,
)
from app.scoring.models import StandingsFreeze
from app.scoring.schemas import (
    FrameworkOut,
    FreezeOut,
    FreezeRef,
    MissingScore,
    ScorerTotal,
    StandingRow,
    Standings,
)
from app.units.schemas import UnitRef

RESOURCE = "standings"


def _engine_framework(out: FrameworkOut) -> engine.Framework:
    return engine.Framework(
        criteria=[engine.Criterion(c.code, c.group, c.max_points, c.kind) for c in out.criteria],
        classes=[engine.Class(c.code, c.name, c.min_points) for c in out.classes],
        scorers=[engine.Scorer(s.code, s.weight) for s in out.scorers],
        combination=out.combination,
        tie_break=out.tie_break,
        tie_break_order=out.tie_break_order,
    )


async def _compute(session: AsyncSession, loaded: Loaded) -> Standings:
    """The standings as the stored scores make them now: two queries (members, points)."""
    return await run(session, _compute_plan(loaded))


def _compute_plan(loaded: Loaded, cluster_id: Id | None = None) -> Plan[Standings]:
    """The standings computed from the framework's points and the year's members. `cluster_id`:
    as the caller's other reads name the cluster (the year sheet's `LookedUp`), so that the
    members read here are the sheet's own read, read once; else the framework's."""
    start, end = year_bounds(loaded.record.year)
    found = yield from gather(
        {
            "members": members_plan(
                loaded.record.cluster_id if cluster_id is None else cluster_id, start, end
            ),
            "points": one(Read(queries.POINTS, {"framework_id": loaded.id})),
        }
    )
    units: dict[int, UnitRef] = {}
    for member in found["members"]:
        units.setdefault(member.unit.id, member.unit)
    scores: dict[int, dict[str, dict[str, Decimal]]] = {}
    for r in found["points"]:
        scores.setdefault(r.unit_id, {}).setdefault(r.scorer_code, {})[r.criterion_code] = r.points
    framework = _engine_framework(loaded.out)
    results = engine.standings(framework, list(units), scores)
    rows = [_row(units[r.unit_id], r) for r in results]
    rows.sort(key=lambda r: (r.rank is None, r.rank or 0, r.unit_name, r.unit_id))
    return Standings(
        cluster=loaded.cluster,
        year=loaded.record.year,
        version=loaded.record.standings_version,
        frozen=False,
        freeze=None,
        framework_version=loaded.record.version,
        combination=loaded.out.combination,
        tie_break=loaded.out.tie_break,
        tie_break_order=loaded.out.tie_break_order,
        scorers=loaded.out.scorers,
        classes=loaded.out.classes,
        rows=rows,
    )


def _row(unit: UnitRef, result: engine.Result) -> StandingRow:
    return StandingRow(
        unit_id=unit.id,
        unit_code=unit.code,
        unit_name=unit.name,
        rank=result.rank,
        unranked_reason="missing_scores" if result.missing else None,
        combined_total=engine.shown(result.combined) if result.combined is not None else None,
        class_code=result.klass.code if result.klass else None,
        class_name=result.klass.name if result.klass else None,
        scorer_totals=[ScorerTotal(scorer=code, total=total) for code, total in result.totals.items()],
        missing=[MissingScore(scorer=s, criterion=c) for s, c in result.missing],
    )


def _freeze_ref(freeze: StandingsFreeze) -> FreezeRef:
    return FreezeRef(
        number=freeze.number,
        frozen_by=freeze.frozen_by,
        frozen_at=freeze.frozen_at,
        thawed_by=freeze.thawed_by,
        thawed_at=freeze.thawed_at,
        thaw_reason=freeze.thaw_reason,
    )


def _snapshot(freeze: StandingsFreeze) -> Standings:
    """A freeze's standings as they were frozen, with the freeze as it stands now."""
    return Standings.model_validate({**freeze.snapshot, "frozen": True, "freeze": _freeze_ref(freeze)})


async def _freeze_where(session: AsyncSession, framework_id: int, *conditions: Any) -> StandingsFreeze | None:
    return (
        await session.execute(
            select(StandingsFreeze)
            .where(col(StandingsFreeze.framework_id) == framework_id, *conditions)
            .order_by(col(StandingsFreeze.number).desc())
            .limit(1)
        )
    ).scalar_one_or_none()


async def current_standings(session: AsyncSession, cluster_id: int, year: int) -> Standings | None:
    """The standings of a cluster-year now (the frozen snapshot while frozen), or None without a
    framework. Three queries at most, whatever the cluster's size."""
    return await run(session, current_standings_plan(cluster_id, year))


_ACTIVE_FREEZE = select(StandingsFreeze).where(
    col(StandingsFreeze.framework_id) == bindparam("framework_id"),
    col(StandingsFreeze.number) == bindparam("number"),
)


def current_standings_plan(cluster_id: Id, year: int) -> Plan[Standings | None]:
    """`current_standings` as a plan (the year sheet reads it with the rest of the sheet)."""
    loaded = yield from load_plan(cluster_id, year)
    if loaded is None:
        return None
    if loaded.active_freeze is not None:
        snapshot = Read(_ACTIVE_FREEZE, {"framework_id": loaded.id, "number": loaded.active_freeze})
        rows = yield from one(snapshot)
        return _snapshot(rows[0].StandingsFreeze)
    return (yield from _compute_plan(loaded, cluster_id))


async def standings_at(session: AsyncSession, cluster_id: int, year: int, version: int) -> Standings | None:
    """The standings at `version`: its latest frozen snapshot, or the current standings if that
    is the current version; None otherwise (a version never frozen and since changed)."""
    loaded = await load_by_id(session, cluster_id, year)
    if loaded is None:
        return None
    freeze = await _freeze_where(session, loaded.id, col(StandingsFreeze.standings_version) == version)
    if freeze is not None:
        return _snapshot(freeze)
    if version == loaded.record.standings_version:
        return await _compute(session, loaded)
    return None


def rank_of(standings: Standings, unit_id: int) -> int | None:
    """The unit's rank in `standings`; None when it is not ranked or not a member."""
    row = standings.row(unit_id)
    return row.rank if row is not None else None


def standings_etag(out: Standings) -> str:
    return record_etag(RESOURCE, f"{out.cluster}-{out.year}", out.version, out)


async def get_standings(session: AsyncSession, at: ClusterYear, version: int | None = None) -> Standings:
    """The current standings, or those at `version`; 404 when there are none."""
    if version is None:
        out = await current_standings(session, at.id, at.year)
        if out is None:
            raise NotFound(no_framework(at))
        return out
    out = await standings_at(session, at.id, at.year, version)
    if out is None:
        raise NotFound(
            _(
                "Version {version} of the standings of cluster {number} in {year} was never frozen and is "
                "no longer current.",
                version=version,
                number=at.number,
                year=at.year,
            )
        )
    return out


# --- Freezes ------------------------------------------------------------------------------------


def _freeze_out(freeze: StandingsFreeze) -> FreezeOut:
    return FreezeOut(**_freeze_ref(freeze).model_dump(), standings=_snapshot(freeze))


async def freeze(session: AsyncSession, at: ClusterYear, actor: Actor) -> FreezeOut:
    """Fix the standings for the conference (409 if already frozen or without a framework)."""
    await lock(session, at.grouping)
    await invalidate(session, cluster_tag(at.number))
    loaded = await load(session, at, lock=True)
    if loaded is None:
        raise Conflict(slug="no-scoring-framework", detail=no_framework(at))
    if loaded.active_freeze is not None:
        raise frozen(loaded)
    standings = await _compute(session, loaded)
    count = (
        await session.execute(
            select(func.count())
            .select_from(StandingsFreeze)
            .where(col(StandingsFreeze.framework_id) == loaded.id)
        )
    ).scalar_one()
    record = StandingsFreeze(
        framework_id=loaded.id,
        number=count + 1,
        standings_version=standings.version,
        snapshot=standings.model_dump(mode="json", exclude={"freeze", "frozen"}),
        frozen_by=actor.recorded_by,
    )
    session.add(record)
    await session.flush()
    return _freeze_out(record)


async def _find_freeze(session: AsyncSession, at: ClusterYear, freeze_number: int) -> StandingsFreeze:
    loaded = await framework_or_404(session, at)
    found = await _freeze_where(session, loaded.id, col(StandingsFreeze.number) == freeze_number)
    if found is None:
        raise NotFound(_("No freeze {freeze} of the standings.", freeze=freeze_number))
    return found


async def get_freeze(session: AsyncSession, at: ClusterYear, freeze_number: int) -> FreezeOut:
    """One freeze with its snapshot, or 404."""
    return _freeze_out(await _find_freeze(session, at, freeze_number))


async def thaw(
    session: AsyncSession, at: ClusterYear, freeze_number: int, reason: str, actor: Actor
) -> FreezeOut:
    """End a freeze (admin, with a reason, recorded on it); 409 if it already ended."""
    found = await _find_freeze(session, at, freeze_number)
    if found.thawed_at is not None:
        raise Conflict(
            slug="freeze-already-thawed",
            detail=_("Freeze {freeze} was already thawed.", freeze=freeze_number),
            freeze_number=freeze_number,
        )
    await invalidate(session, cluster_tag(at.number))
    found.thawed_at = utcnow()
    found.thawed_by = actor.recorded_by
    found.thaw_reason = reason
    session.add(found)
    await session.flush()
    return _freeze_out(found)


async def list_freezes(
    session: AsyncSession, at: ClusterYear, *, limit: int, after: int | None
) -> Page[FreezeOut]:
    """Every freeze of a cluster-year, in order."""
    loaded = await framework_or_404(session, at)
    rows = await session.execute(
        queries.FREEZES, {"framework_id": loaded.id, "after": after or 0, "limit": limit + 1}
    )
    return page_of([_freeze_out(f) for f in rows.scalars()], limit, lambda f: f.number)
