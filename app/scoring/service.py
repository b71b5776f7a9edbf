"""Scoring of a cluster-year: the framework (versioned, replaced whole under `If-Match`), the
score sheets (one per scorer and unit, versioned), the standings computed from them, and the
freezes that fix them for the conference.

Every write locks the framework row first (`FOR UPDATE`), so the writes of one cluster-year
are serialized: the standings `version` it bumps then names exactly one state.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from sqlalchemy import delete, func, insert, select, update
from sqlalchemy.dialects.postgresql import insert as upsert
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from app.clusters.models import Cluster
from app.clusters.service import find_cluster
from app.core.cache import cluster_tag, invalidate
from app.core.database import table
from app.core.errors import Conflict, Forbidden, NotFound, PreconditionFailed, Unprocessable
from app.core.etag import record_etag, require_replaceable
from app.core.i18n import _
from app.core.pagination import Page, page_of
from app.core.periods import year_bounds
from app.core.revisions import record_revision, unless_unchanged
from app.core.security import Principal, ensure_cluster_writer
from app.core.time import utcnow
from app.keys.models import Role
from app.memberships.service import is_member, members
from app.scoring import engine, queries
from app.scoring.models import (
    Combination,
    CriterionKind,
    ScoreItem,
    Scorer,
    ScorerKind,
    ScoreSheet,
    ScoringClass,
    ScoringCriterion,
    ScoringFramework,
    StandingsFreeze,
    TieBreak,
)
from app.scoring.schemas import (
    ClassOut,
    CriterionOut,
    FrameworkOut,
    FrameworkPut,
    FreezeOut,
    FreezeRef,
    MissingScore,
    ScoreItemOut,
    ScorerOut,
    ScorerTotal,
    ScoreSheetOut,
    ScoreSheetPut,
    StandingRow,
    Standings,
)
from app.units.models import Unit
from app.units.schemas import UnitRef

FRAMEWORK = "scoring-framework"
SHEET = "score-sheet"
STANDINGS = "standings"


@dataclass(frozen=True, slots=True)
class _Loaded:
    """A framework row as `queries.FRAMEWORK` reads it."""

    record: ScoringFramework
    cluster: int
    out: FrameworkOut
    active_freeze: int | None

    @property
    def id(self) -> int:
        assert self.record.id is not None
        return self.record.id


def _decimal(text: str | None) -> Decimal | None:
    return Decimal(text) if text is not None else None


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


async def _load(session: AsyncSession, cluster_id: int, year: int, *, lock: bool = False) -> _Loaded | None:
    """The framework of a cluster-year with its parts; `lock`: its row `FOR UPDATE` first."""
    if lock:
        await session.execute(
            select(col(ScoringFramework.id))
            .where(col(ScoringFramework.cluster_id) == cluster_id, col(ScoringFramework.year) == year)
            .with_for_update()
        )
    r = (await session.execute(queries.FRAMEWORK, {"cluster_id": cluster_id, "year": year})).first()
    if r is None:
        return None
    return _Loaded(r.ScoringFramework, r.number, _framework_out(r), r.active_freeze)


def framework_etag(out: FrameworkOut) -> str:
    return record_etag(FRAMEWORK, f"{out.cluster}-{out.year}", out.version, out)


def _no_framework(number: int, year: int) -> str:
    return _("No scoring framework recorded for cluster {number} in {year}.", number=number, year=year)


async def get_framework(session: AsyncSession, number: int, year: int) -> tuple[FrameworkOut, str]:
    """The framework, or 404."""
    cluster = await find_cluster(session, number)
    assert cluster.id is not None
    loaded = await _load(session, cluster.id, year)
    if loaded is None:
        raise NotFound(_no_framework(number, year))
    return loaded.out, framework_etag(loaded.out)


async def framework_record_id(session: AsyncSession, number: int, year: int) -> int:
    """The id under which the framework's revisions are kept."""
    cluster = await find_cluster(session, number)
    record_id = (
        await session.execute(
            select(col(ScoringFramework.id)).where(
                col(ScoringFramework.cluster_id) == cluster.id, col(ScoringFramework.year) == year
            )
        )
    ).scalar_one_or_none()
    if record_id is None:
        raise NotFound(_no_framework(number, year))
    return record_id


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


def _frozen(loaded: _Loaded) -> Conflict:
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
    classes = table(ScoringClass)
    await session.execute(delete(classes).where(classes.c.framework_id == framework_id))
    if data.classes:
        await session.execute(
            insert(classes),
            [
                {
                    "framework_id": framework_id,
                    "position": i,
                    "code": c.code,
                    "name": c.name,
                    "min_points": c.min_points,
                }
                for i, c in enumerate(data.classes, start=1)
            ],
        )


async def put_framework(
    session: AsyncSession,
    number: int,
    year: int,
    data: FrameworkPut,
    if_match: str | None,
    writer: Principal,
    if_none_match: str | None = None,
) -> tuple[FrameworkOut, str, bool]:
    """Create or replace the framework (409 while frozen); returns it, its ETag and whether it
    was created (the same version, nothing written, when the body says what is stored)."""
    cluster = await find_cluster(session, number)
    assert cluster.id is not None
    ensure_cluster_writer(writer, cluster.id)
    existing = await _load(session, cluster.id, year, lock=True)
    if existing is None and if_match is not None:
        raise PreconditionFailed(_no_framework(number, year))
    if existing is not None:
        require_replaceable(if_match, if_none_match, framework_etag(existing.out))
        if existing.active_freeze is not None:
            raise _frozen(existing)
    _check_framework(data)
    if existing is not None:
        await _check_recorded_scores(session, existing.id, data)
    record = (
        existing.record
        if existing is not None
        else ScoringFramework(
            cluster_id=cluster.id,
            year=year,
            combination=data.combination.value,
            tie_break=data.tie_break.value,
            recorded_by=writer.actor,
            version=0,
            standings_version=0,
        )
    )
    cluster_id = cluster.id

    async def write() -> FrameworkOut:
        record.combination = data.combination.value
        record.tie_break = data.tie_break.value
        record.tie_break_order = list(data.tie_break_order)
        record.source = data.source
        record.note = data.note
        record.version += 1
        record.standings_version += 1
        record.recorded_by = writer.actor
        record.recorded_at = utcnow()
        session.add(record)
        await session.flush()
        assert record.id is not None
        await _replace_parts(session, record.id, data)
        loaded = await _load(session, cluster_id, year)
        assert loaded is not None
        return loaded.out

    out = await unless_unchanged(session, existing.out if existing is not None else None, write)
    if out is None:
        assert existing is not None
        return existing.out, framework_etag(existing.out), False
    assert record.id is not None
    await invalidate(session, cluster_tag(number))
    await record_revision(session, FRAMEWORK, record.id, record.version, out, writer.actor)
    return out, framework_etag(out), existing is None


# --- Score sheets -------------------------------------------------------------------------------


def sheet_etag(out: ScoreSheetOut) -> str:
    return record_etag(SHEET, f"{out.cluster}-{out.year}-{out.scorer}-{out.unit.id}", out.version, out)


async def _sheet_of(
    session: AsyncSession, framework_id: int, scorer: str, unit_id: int
) -> ScoreSheetOut | None:
    r = (
        await session.execute(
            queries.SHEET, {"framework_id": framework_id, "scorer": scorer, "unit_id": unit_id}
        )
    ).first()
    if r is None:
        return None
    row: ScoreSheet = r.ScoreSheet
    items = [ScoreItemOut(criterion=i["criterion"], points=Decimal(i["points"])) for i in r.items]
    signs = {i["criterion"]: -1 if i["kind"] == CriterionKind.penalty else 1 for i in r.items}
    return ScoreSheetOut(
        cluster=r.number,
        year=r.year,
        scorer=row.scorer_code,
        unit=UnitRef.from_row(r),
        items=items,
        total=sum((signs[i.criterion] * i.points for i in items), Decimal(0)),
        note=row.note,
        version=row.version,
        recorded_by=row.recorded_by,
        recorded_at=row.recorded_at,
    )


def _no_sheet(scorer: str, unit_id: int) -> str:
    return _("No scores of scorer {scorer} for unit {unit_id}.", scorer=scorer, unit_id=unit_id)


async def _framework_or_404(session: AsyncSession, number: int, year: int) -> _Loaded:
    cluster = await find_cluster(session, number)
    assert cluster.id is not None
    loaded = await _load(session, cluster.id, year)
    if loaded is None:
        raise NotFound(_no_framework(number, year))
    return loaded


async def get_sheet(
    session: AsyncSession, number: int, year: int, scorer: str, unit_id: int
) -> tuple[ScoreSheetOut, str]:
    """A scorer's points for a unit, or 404."""
    loaded = await _framework_or_404(session, number, year)
    out = await _sheet_of(session, loaded.id, scorer, unit_id)
    if out is None:
        raise NotFound(_no_sheet(scorer, unit_id))
    return out, sheet_etag(out)


async def sheet_record_id(session: AsyncSession, number: int, year: int, scorer: str, unit_id: int) -> int:
    """The id under which the sheet's revisions are kept."""
    loaded = await _framework_or_404(session, number, year)
    record_id = (
        await session.execute(
            select(col(ScoreSheet.id)).where(
                col(ScoreSheet.framework_id) == loaded.id,
                col(ScoreSheet.scorer_code) == scorer,
                col(ScoreSheet.unit_id) == unit_id,
            )
        )
    ).scalar_one_or_none()
    if record_id is None:
        raise NotFound(_no_sheet(scorer, unit_id))
    return record_id


def _ensure_scorer_writer(writer: Principal, cluster: Cluster, scorer: ScorerOut) -> None:
    """The cluster's scores: admin or the cluster's key. A department's: admin only (the
    Ministry enters them; a cluster's secretariat cannot change what a department gave it)."""
    assert cluster.id is not None
    ensure_cluster_writer(writer, cluster.id)
    if scorer.kind is ScorerKind.department and writer.role is not Role.admin:
        raise Forbidden(_("A department's scores are recorded with an admin key (the Ministry)."))


async def _check_member(session: AsyncSession, cluster: Cluster, year: int, unit_id: int) -> None:
    if (await session.get(Unit, unit_id)) is None:
        raise NotFound(_("No unit with id {unit_id}.", unit_id=unit_id))
    assert cluster.id is not None
    member = await is_member(session, cluster.id, unit_id, year)
    if not member:
        raise Conflict(
            slug="not-a-member",
            detail=_(
                "Unit {unit_id} is not a member of cluster {cluster} in {year}.",
                unit_id=unit_id,
                cluster=cluster.number,
                year=year,
            ),
            field="unit_id",
        )


def _check_items(framework: FrameworkOut, data: ScoreSheetPut) -> None:
    maxima = {c.code: c.max_points for c in framework.criteria}
    seen: set[str] = set()
    for i, item in enumerate(data.items):
        if item.criterion not in maxima:
            raise Unprocessable(
                _("No criterion {code} in the framework.", code=item.criterion), field=f"items.{i}.criterion"
            )
        if item.criterion in seen:
            raise Unprocessable(
                _("Criterion {code} is given twice.", code=item.criterion), field=f"items.{i}.criterion"
            )
        seen.add(item.criterion)
        if item.points > maxima[item.criterion]:
            raise Unprocessable(
                _(
                    "{points} points exceed the maximum of criterion {code} ({maximum}).",
                    points=item.points,
                    code=item.criterion,
                    maximum=maxima[item.criterion],
                ),
                field=f"items.{i}.points",
            )


async def put_sheet(
    session: AsyncSession,
    number: int,
    year: int,
    scorer_code: str,
    unit_id: int,
    data: ScoreSheetPut,
    if_match: str | None,
    writer: Principal,
    if_none_match: str | None = None,
) -> tuple[ScoreSheetOut, str, bool]:
    """Create or replace a scorer's points for a member (409 while frozen or for a non-member);
    bumps the standings version. The same version, nothing written, when the body says what is
    stored."""
    cluster = await find_cluster(session, number)
    assert cluster.id is not None
    ensure_cluster_writer(writer, cluster.id)
    loaded = await _load(session, cluster.id, year, lock=True)
    if loaded is None:
        raise Conflict(slug="no-scoring-framework", detail=_no_framework(number, year))
    scorer = next((s for s in loaded.out.scorers if s.code == scorer_code), None)
    if scorer is None:
        raise NotFound(_("No scorer {code} in the framework.", code=scorer_code))
    _ensure_scorer_writer(writer, cluster, scorer)
    existing = (
        await session.execute(
            select(ScoreSheet).where(
                col(ScoreSheet.framework_id) == loaded.id,
                col(ScoreSheet.scorer_code) == scorer_code,
                col(ScoreSheet.unit_id) == unit_id,
            )
        )
    ).scalar_one_or_none()
    if existing is None and if_match is not None:
        raise PreconditionFailed(_no_sheet(scorer_code, unit_id))
    current = None
    if existing is not None:
        current = await _sheet_of(session, loaded.id, scorer_code, unit_id)
        assert current is not None
        require_replaceable(if_match, if_none_match, sheet_etag(current))
    if loaded.active_freeze is not None:
        raise _frozen(loaded)
    await _check_member(session, cluster, year, unit_id)
    _check_items(loaded.out, data)
    record = existing or ScoreSheet(
        framework_id=loaded.id, scorer_code=scorer_code, unit_id=unit_id, recorded_by=writer.actor, version=0
    )
    framework_id = loaded.id

    async def write() -> ScoreSheetOut:
        record.note = data.note
        record.version += 1
        record.recorded_by = writer.actor
        record.recorded_at = utcnow()
        session.add(record)
        await session.flush()
        assert record.id is not None
        items = table(ScoreItem)
        await session.execute(delete(items).where(items.c.sheet_id == record.id))
        if data.items:
            await session.execute(
                insert(items),
                [
                    {
                        "sheet_id": record.id,
                        "framework_id": framework_id,
                        "criterion_code": i.criterion,
                        "points": i.points,
                    }
                    for i in data.items
                ],
            )
        await _bump(session, framework_id)
        out = await _sheet_of(session, framework_id, scorer_code, unit_id)
        assert out is not None
        return out

    out = await unless_unchanged(session, current, write)
    if out is None:
        assert current is not None
        return current, sheet_etag(current), False
    assert record.id is not None
    await invalidate(session, cluster_tag(number))
    await record_revision(session, SHEET, record.id, record.version, out, writer.actor)
    return out, sheet_etag(out), existing is None


async def _bump(session: AsyncSession, framework_id: int) -> None:
    frameworks = table(ScoringFramework)
    await session.execute(
        update(frameworks)
        .where(frameworks.c.id == framework_id)
        .values(standings_version=frameworks.c.standings_version + 1)
    )


# --- Standings ----------------------------------------------------------------------------------


def _engine_framework(out: FrameworkOut) -> engine.Framework:
    return engine.Framework(
        criteria=[engine.Criterion(c.code, c.group, c.max_points, c.kind) for c in out.criteria],
        classes=[engine.Class(c.code, c.name, c.min_points) for c in out.classes],
        scorers=[engine.Scorer(s.code, s.weight) for s in out.scorers],
        combination=out.combination,
        tie_break=out.tie_break,
        tie_break_order=out.tie_break_order,
    )


async def _compute(session: AsyncSession, loaded: _Loaded) -> Standings:
    """The standings as the stored scores make them now: two queries (members, points)."""
    start, end = year_bounds(loaded.record.year)
    units: dict[int, UnitRef] = {}
    for member in await members(session, loaded.record.cluster_id, start, end):
        units.setdefault(member.unit.id, member.unit)
    scores: dict[int, dict[str, dict[str, Decimal]]] = {}
    for r in await session.execute(queries.POINTS, {"framework_id": loaded.id}):
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
    loaded = await _load(session, cluster_id, year)
    if loaded is None:
        return None
    if loaded.active_freeze is not None:
        freeze = await _freeze_where(session, loaded.id, col(StandingsFreeze.number) == loaded.active_freeze)
        assert freeze is not None
        return _snapshot(freeze)
    return await _compute(session, loaded)


async def standings_at(session: AsyncSession, cluster_id: int, year: int, version: int) -> Standings | None:
    """The standings at `version`: its latest frozen snapshot, or the current standings if that
    is the current version; None otherwise (a version never frozen and since changed)."""
    loaded = await _load(session, cluster_id, year)
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
    return record_etag(STANDINGS, f"{out.cluster}-{out.year}", out.version, out)


async def get_standings(
    session: AsyncSession, number: int, year: int, version: int | None = None
) -> Standings:
    """The current standings, or those at `version`; 404 when there are none."""
    cluster = await find_cluster(session, number)
    assert cluster.id is not None
    if version is None:
        out = await current_standings(session, cluster.id, year)
        if out is None:
            raise NotFound(_no_framework(number, year))
        return out
    out = await standings_at(session, cluster.id, year, version)
    if out is None:
        raise NotFound(
            _(
                "Version {version} of the standings of cluster {number} in {year} was never frozen and is "
                "no longer current.",
                version=version,
                number=number,
                year=year,
            )
        )
    return out


# --- Freezes ------------------------------------------------------------------------------------


def _freeze_out(freeze: StandingsFreeze) -> FreezeOut:
    return FreezeOut(**_freeze_ref(freeze).model_dump(), standings=_snapshot(freeze))


async def freeze(session: AsyncSession, number: int, year: int, writer: Principal) -> FreezeOut:
    """Fix the standings for the conference (409 if already frozen or without a framework)."""
    cluster = await find_cluster(session, number)
    await invalidate(session, cluster_tag(number))
    assert cluster.id is not None
    ensure_cluster_writer(writer, cluster.id)
    loaded = await _load(session, cluster.id, year, lock=True)
    if loaded is None:
        raise Conflict(slug="no-scoring-framework", detail=_no_framework(number, year))
    if loaded.active_freeze is not None:
        raise _frozen(loaded)
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
        frozen_by=writer.actor,
    )
    session.add(record)
    await session.flush()
    return _freeze_out(record)


async def _find_freeze(session: AsyncSession, number: int, year: int, freeze_number: int) -> StandingsFreeze:
    loaded = await _framework_or_404(session, number, year)
    found = await _freeze_where(session, loaded.id, col(StandingsFreeze.number) == freeze_number)
    if found is None:
        raise NotFound(_("No freeze {freeze} of the standings.", freeze=freeze_number))
    return found


async def get_freeze(session: AsyncSession, number: int, year: int, freeze_number: int) -> FreezeOut:
    """One freeze with its snapshot, or 404."""
    return _freeze_out(await _find_freeze(session, number, year, freeze_number))


async def thaw(
    session: AsyncSession, number: int, year: int, freeze_number: int, reason: str, actor: str
) -> FreezeOut:
    """End a freeze (admin, with a reason, recorded on it); 409 if it already ended."""
    found = await _find_freeze(session, number, year, freeze_number)
    if found.thawed_at is not None:
        raise Conflict(
            slug="freeze-already-thawed",
            detail=_("Freeze {freeze} was already thawed.", freeze=freeze_number),
            freeze_number=freeze_number,
        )
    await invalidate(session, cluster_tag(number))
    found.thawed_at = utcnow()
    found.thawed_by = actor
    found.thaw_reason = reason
    session.add(found)
    await session.flush()
    return _freeze_out(found)


async def list_freezes(
    session: AsyncSession, number: int, year: int, *, limit: int, after: int | None
) -> Page[FreezeOut]:
    """Every freeze of a cluster-year, in order."""
    loaded = await _framework_or_404(session, number, year)
    rows = await session.execute(
        queries.FREEZES, {"framework_id": loaded.id, "after": after or 0, "limit": limit + 1}
    )
    return page_of([_freeze_out(f) for f in rows.scalars()], limit, lambda f: f.number)
