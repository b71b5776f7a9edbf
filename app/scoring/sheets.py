"""Score sheets: the points one scorer gave one member in a cluster-year, versioned, replaced
whole under `If-Match` (`app.clusters.years.write_year_record`); every change bumps the
standings version."""

from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from app.clusters.years import ClusterYear, Writer, write_year_record
from app.core.database import table
from app.core.errors import Conflict, Forbidden, NotFound, Unprocessable
from app.core.etag import record_etag
from app.core.i18n import _
from app.core.pagination import Page
from app.core.revisions import RevisionOut, revisions_page
from app.core.versioned import Change, Conditions, Stored, Written, replace_parts
from app.memberships.service import is_member
from app.scoring import queries
from app.scoring.framework import Loaded, framework_or_404, frozen, load, no_framework
from app.scoring.models import CriterionKind, ScoreItem, ScorerKind, ScoreSheet, ScoringFramework
from app.scoring.schemas import FrameworkOut, ScoreItemOut, ScoreSheetOut, ScoreSheetPut
from app.units.models import Unit
from app.units.schemas import UnitRef

RESOURCE = "score-sheet"


@dataclass(frozen=True, slots=True)
class SheetKey:
    """A score sheet as a path names it in its cluster-year: the scorer's code and the unit."""

    scorer: str
    unit_id: int


def sheet_etag(out: ScoreSheetOut) -> str:
    return record_etag(RESOURCE, f"{out.cluster}-{out.year}-{out.scorer}-{out.unit.id}", out.version, out)


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


async def _record_id(session: AsyncSession, framework_id: int, key: SheetKey) -> int | None:
    query = select(col(ScoreSheet.id)).where(
        col(ScoreSheet.framework_id) == framework_id,
        col(ScoreSheet.scorer_code) == key.scorer,
        col(ScoreSheet.unit_id) == key.unit_id,
    )
    return (await session.execute(query)).scalar_one_or_none()


async def get_sheet(session: AsyncSession, at: ClusterYear, key: SheetKey) -> tuple[ScoreSheetOut, str]:
    """A scorer's points for a unit, or 404."""
    loaded = await framework_or_404(session, at)
    out = await _sheet_of(session, loaded.id, key.scorer, key.unit_id)
    if out is None:
        raise NotFound(_no_sheet(key.scorer, key.unit_id))
    return out, sheet_etag(out)


async def sheet_revisions(
    session: AsyncSession, at: ClusterYear, key: SheetKey, *, limit: int, cursor: str | None
) -> Page[RevisionOut[ScoreSheetOut]]:
    loaded = await framework_or_404(session, at)
    return await revisions_page(
        session,
        RESOURCE,
        await _record_id(session, loaded.id, key),
        ScoreSheetOut,
        missing=_no_sheet(key.scorer, key.unit_id),
        limit=limit,
        cursor=cursor,
    )


async def _check_member(session: AsyncSession, at: ClusterYear, unit_id: int) -> None:
    if (await session.get(Unit, unit_id)) is None:
        raise NotFound(_("No unit with id {unit_id}.", unit_id=unit_id))
    if not await is_member(session, at.id, unit_id, at.year):
        raise Conflict(
            slug="not-a-member",
            detail=_(
                "Unit {unit_id} is not a member of cluster {cluster} in {year}.",
                unit_id=unit_id,
                cluster=at.number,
                year=at.year,
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


async def _framework_for(session: AsyncSession, at: ClusterYear, key: SheetKey, writer: Writer) -> Loaded:
    """The framework, locked (409 without one), once the scorer exists (404) and `writer` may
    write its scores: the cluster's scorer, admin or the cluster's key; a department's, admin
    only (the Ministry enters them; a cluster's secretariat cannot change what a department gave
    it)."""
    loaded = await load(session, at, lock=True)
    if loaded is None:
        raise Conflict(slug="no-scoring-framework", detail=no_framework(at))
    scorer = next((s for s in loaded.out.scorers if s.code == key.scorer), None)
    if scorer is None:
        raise NotFound(_("No scorer {code} in the framework.", code=key.scorer))
    if scorer.kind is ScorerKind.department and not writer.ministry:
        raise Forbidden(_("A department's scores are recorded with an admin key (the Ministry)."))
    return loaded


async def write_sheet(
    session: AsyncSession,
    at: ClusterYear,
    key: SheetKey,
    data: ScoreSheetPut,
    conditions: Conditions,
    writer: Writer,
) -> Written[ScoreSheetOut]:
    """Create or replace a scorer's points for a member (409 while frozen or for a non-member);
    bumps the standings version. The same version, nothing written, when the body says what is
    stored."""
    framework: Loaded | None = None

    async def load_locked() -> Stored[ScoreSheet, ScoreSheetOut] | None:
        nonlocal framework
        framework = await _framework_for(session, at, key, writer)
        query = select(ScoreSheet).where(
            col(ScoreSheet.framework_id) == framework.id,
            col(ScoreSheet.scorer_code) == key.scorer,
            col(ScoreSheet.unit_id) == key.unit_id,
        )
        record = (await session.execute(query.with_for_update())).scalar_one_or_none()
        return Stored(record, await read()) if record is not None else None

    def loaded() -> Loaded:
        assert framework is not None
        return framework

    async def read() -> ScoreSheetOut:
        out = await _sheet_of(session, loaded().id, key.scorer, key.unit_id)
        assert out is not None
        return out

    async def check(stored: object) -> None:
        if loaded().active_freeze is not None:
            raise frozen(loaded())
        await _check_member(session, at, key.unit_id)
        _check_items(loaded().out, data)

    def assign(record: ScoreSheet) -> None:
        record.note = data.note

    async def items(sheet_id: int) -> None:
        framework_id = loaded().id
        rows = [
            {"framework_id": framework_id, "criterion_code": i.criterion, "points": i.points}
            for i in data.items
        ]
        await replace_parts(session, ScoreItem, "sheet_id", sheet_id, rows)
        await _bump(session, framework_id)

    def new() -> ScoreSheet:
        return ScoreSheet(
            framework_id=loaded().id,
            scorer_code=key.scorer,
            unit_id=key.unit_id,
            recorded_by=writer.actor.recorded_by,
            version=0,
        )

    missing = _no_sheet(key.scorer, key.unit_id)
    change = Change(RESOURCE, new, assign, read, sheet_etag, missing, children=items, check=check)
    return await write_year_record(session, at, load_locked, change, conditions, writer.actor)


async def _bump(session: AsyncSession, framework_id: int) -> None:
    frameworks = table(ScoringFramework)
    await session.execute(
        update(frameworks)
        .where(frameworks.c.id == framework_id)
        .values(standings_version=frameworks.c.standings_version + 1)
    )
