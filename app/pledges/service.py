"""A covenant's pledges (cam kết): one versioned list per cluster-year, replaced whole under
`If-Match`, and the status of each member's task, versioned per member.

**Checks.** Read with the list, each pledge says how it stands: an amount or a count is a target
(`ge` its quantity, on its metric, `absolute`, for its scope) judged by the evaluation engine
(`app.evaluation.service.evaluation_out`) over the cluster-year's reporting period
(`app.covenants.periods.reporting_period`), for each member at its end or for the members
together; a task shows each member's status, or `unknown` when the secretariat set none.

**Identity.** A pledge is its position in the list: that is how the covenant numbers it and how
its statuses are addressed (`…/pledges/{position}/members/{unit_id}`). A replacement updates each
position in place, so a pledge keeps its row, and its statuses, while it keeps its position; a
replacement that would drop a pledge that has statuses, or make it an amount or a count, is 409
`pledge-has-statuses` (the statuses' foreign key to the pledge and its kind refuses both too).
Its words may be corrected: every version of the list stays under `…/pledges/revisions`, and
every version of a status under its own `…/revisions`, so nothing set is ever lost.

**Locking.** As every record of a cluster-year: the cluster's row first, then the list (or the
status) row.
"""

from datetime import date, datetime
from decimal import Decimal
from fractions import Fraction
from typing import Any

from pydantic import BaseModel
from sqlalchemy import bindparam, delete, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from app.clusters.years import ClusterYear, YearRecord, write_year_record
from app.core.database import table
from app.core.errors import Conflict, NotFound, Unprocessable
from app.core.etag import record_etag
from app.core.i18n import _
from app.core.identity import Actor
from app.core.pagination import Page
from app.core.plans import Id, Plan, Read, gather, one, run
from app.core.revisions import RevisionOut, revisions_page
from app.core.versioned import Change, Conditions, Stored, Written
from app.covenants.models import Covenant, Scope
from app.covenants.periods import ReportingPeriod, reporting_period_plan
from app.evaluation.domain import Basis, Comparator, Target
from app.evaluation.queries import MEMBERS_ON
from app.evaluation.schemas import EvaluationRowOut
from app.evaluation.service import Judged, evaluation_out, judged_plan
from app.memberships.service import is_member
from app.metrics.service import by_key as metric_refs
from app.pledges.models import Pledge, PledgeKind, PledgeList, PledgeStatus, TaskStatus
from app.pledges.queries import LIST, PLEDGE_AT, STATUS
from app.pledges.schemas import (
    PledgeCheck,
    PledgeOut,
    PledgeOutcome,
    PledgesOut,
    PledgesPut,
    PledgeStatusOut,
    PledgeStatusPut,
    TaskStatusOut,
)
from app.units.schemas import UnitRef
from app.units.service import get_unit

RESOURCE = "pledges"
STATUS_RESOURCE = "pledge-status"


class PledgeHasStatuses(Conflict):
    """A replacement of the list would drop a pledge whose members have statuses, or make it
    something other than a task."""

    slug = "pledge-has-statuses"


class _Status(BaseModel):
    """A status as the list's query reads it."""

    unit: UnitRef
    status: TaskStatus
    on: date
    source: str
    note: str | None
    version: int
    recorded_by: str
    recorded_at: datetime


class _Pledge(BaseModel):
    """A pledge as the list's query reads it, with the statuses set."""

    position: int
    kind: PledgeKind
    label: str
    scope: Scope
    metric: str | None
    metric_name: str | None
    quantity: Decimal | None
    note: str | None
    statuses: list[_Status]


# --- Reads ---------------------------------------------------------------------------------------


def pledges_etag(out: PledgesOut) -> str:
    return record_etag(RESOURCE, f"{out.cluster}-{out.year}", out.version, out)


def status_etag(out: PledgeStatusOut) -> str:
    return record_etag(
        STATUS_RESOURCE, f"{out.cluster}-{out.year}-{out.position}-{out.unit.id}", out.version, out
    )


async def pledges_of(session: AsyncSession, cluster_id: int, year: int) -> PledgesOut | None:
    """The cluster-year's pledges, each checked; None when none are recorded. Two queries without
    a list (the list, the reporting period); with one, the members at its end (one query) or, when
    it holds an amount or a count, what the evaluation reads (`judged_plan`: five)."""
    return await run(session, pledges_plan(cluster_id, year))


def pledges_plan(cluster_id: Id, year: int) -> Plan[PledgesOut | None]:
    """`pledges_of` as a plan, in two steps: the list and the reporting period, then the members
    or what the evaluation reads (the year sheet reads both with the evaluation's own)."""
    found = yield from gather(
        {
            "list": one(Read(LIST, {"cluster_id": cluster_id, "year": year})),
            "period": reporting_period_plan(cluster_id, year),
        }
    )
    if not found["list"]:
        return None
    row = found["list"][0]
    period: ReportingPeriod = found["period"]
    record: PledgeList = row.PledgeList
    pledges = [_Pledge.model_validate(p) for p in row.pledges]
    measured = [p for p in pledges if p.kind is not PledgeKind.task]
    rows: dict[tuple[int, int | None], EvaluationRowOut] = {}
    if measured:
        judged = yield from judged_plan(cluster_id, period.start, period.end)
        members = judged.members
        rows = _judged(judged, measured, row.number, year)
    else:
        at_end = yield from one(Read(MEMBERS_ON, {"cluster_id": cluster_id, "day": period.end}))
        members = [UnitRef.from_row(r) for r in at_end]
    return PledgesOut(
        cluster=row.number,
        year=year,
        period_start=period.start,
        period_end=period.end,
        pledges=[_out(p, members, rows) for p in pledges],
        version=record.version,
        recorded_by=record.recorded_by,
        recorded_at=record.recorded_at,
    )


def _judged(
    judged: Judged, measured: list[_Pledge], number: int, year: int
) -> dict[tuple[int, int | None], EvaluationRowOut]:
    """The evaluation's row for each amount or count pledge (by position) and member (None: the
    members together): each pledge a target `ge` its quantity on its metric, `absolute`."""
    targets = [
        (
            Target(
                metric=p.metric or "",
                comparator=Comparator.ge,
                threshold=Fraction(p.quantity or 0),
                basis=Basis.absolute,
                scope=p.scope,
                label=p.label,
            ),
            p.position,
        )
        for p in measured
    ]
    evaluation = evaluation_out(judged, targets, number, year)
    return {(measured[r.target_index].position, r.unit_id): r for r in evaluation.rows}


def _out(
    pledge: _Pledge, members: list[UnitRef], rows: dict[tuple[int, int | None], EvaluationRowOut]
) -> PledgeOut:
    if pledge.kind is PledgeKind.task:
        shown = {m.id for m in members}
        statuses = {s.unit.id: s for s in pledge.statuses}
        checks = [_task(m, statuses.get(m.id)) for m in members]
        checks += [_task(s.unit, s) for s in pledge.statuses if s.unit.id not in shown]
    elif pledge.scope is Scope.cluster_total:
        checks = [_measured(None, rows.get((pledge.position, None)))]
    else:
        checks = [_measured(m, rows.get((pledge.position, m.id))) for m in members]
    return PledgeOut(
        position=pledge.position,
        kind=pledge.kind,
        label=pledge.label,
        scope=pledge.scope,
        metric=pledge.metric,
        metric_name=pledge.metric_name,
        quantity=pledge.quantity,
        note=pledge.note,
        checks=checks,
    )


def _measured(unit: UnitRef | None, row: EvaluationRowOut | None) -> PledgeCheck:
    if row is None:  # the evaluation judged other members than those at the end of the period
        why = _("Not judged: not a member at the end of the reporting period.")
        return PledgeCheck(unit=unit, outcome=PledgeOutcome.unknown, value=None, why=why, status=None)
    return PledgeCheck(
        unit=unit, outcome=PledgeOutcome(row.verdict.value), value=row.value, why=row.why, status=None
    )


def _task(unit: UnitRef, status: _Status | None) -> PledgeCheck:
    if status is None:
        why = _("No status set yet by the cluster's secretariat.")
        return PledgeCheck(unit=unit, outcome=PledgeOutcome.unknown, value=None, why=why, status=None)
    if status.status is TaskStatus.done:
        why = _("Done on {day}, according to {source}.", day=status.on, source=status.source)
    else:
        why = _("Not done as of {day}, according to {source}.", day=status.on, source=status.source)
    return PledgeCheck(
        unit=unit,
        outcome=PledgeOutcome(status.status.value),
        value=None,
        why=why,
        status=TaskStatusOut.model_validate(status.model_dump(exclude={"unit"})),
    )


def without_figures(out: PledgesOut | None) -> PledgesOut | None:
    """The pledges as anyone may read them (PUBLIC_READS): an amount's or a count's checks left
    out (`checks: []`), since they tell each member's figures, which stay private as the
    evaluation does; a task's statuses stay (what the secretariat states, with its source)."""
    if out is None:
        return None
    pledges = [p if p.kind is PledgeKind.task else p.model_copy(update={"checks": []}) for p in out.pledges]
    return out.model_copy(update={"pledges": pledges})


def _not_found(at: ClusterYear) -> str:
    return _("No pledges recorded for cluster {number} in {year}.", number=at.number, year=at.year)


def _missing(at: ClusterYear) -> str:
    return _("No pledges recorded for cluster {number} in {year} yet.", number=at.number, year=at.year)


RECORD = YearRecord(PledgeList, RESOURCE, PledgesOut, pledges_of, pledges_etag, _not_found, _missing)
"""The year's pledges: their GET, revisions and writes."""


# --- The list ------------------------------------------------------------------------------------


async def write_pledges(
    session: AsyncSession, at: ClusterYear, data: PledgesPut, conditions: Conditions, actor: Actor
) -> Written[PledgesOut]:
    """Create or replace the list (the same version, nothing written, when the body says what is
    stored): 409 `no-covenant` without the year's covenant, 422 naming the field for a metric that
    is unknown or of another kind than the pledge, 409 `pledge-has-statuses` for a replacement
    that would drop a pledge with statuses or make it other than a task."""
    metrics: dict[str, int] = {}

    async def check(stored: Stored[PledgeList, PledgesOut] | None) -> None:
        await _check_covenant(session, at)
        metrics.update(await _metric_ids(session, data))
        if stored is not None:
            _keep_statuses(stored.out, data)

    async def pledges(list_id: int) -> None:
        rows = [
            {
                "list_id": list_id,
                "position": i,
                "kind": p.kind.value,
                "scope": p.scope.value,
                "label": p.label,
                "metric_id": metrics[p.metric] if p.metric is not None else None,
                "quantity": p.quantity,
                "note": p.note,
            }
            for i, p in enumerate(data.pledges, start=1)
        ]
        await _replace(session, list_id, rows)

    def new() -> PledgeList:
        return PledgeList(cluster_id=at.id, year=at.year, recorded_by=actor.recorded_by, version=0)

    def assign(record: PledgeList) -> None:
        """The list is all in its pledges."""

    return await RECORD.write(session, at, conditions, actor, new, assign, children=pledges, check=check)


async def _check_covenant(session: AsyncSession, at: ClusterYear) -> None:
    """Pledges hang off the year's covenant: 409 `no-covenant` when none is recorded."""
    found = await session.execute(
        select(col(Covenant.id)).where(col(Covenant.cluster_id) == at.id, col(Covenant.year) == at.year)
    )
    if found.first() is None:
        raise Conflict(
            slug="no-covenant",
            detail=_(
                "No covenant is recorded for cluster {number} in {year}: record it first, then its pledges.",
                number=at.number,
                year=at.year,
            ),
        )


async def _metric_ids(session: AsyncSession, data: PledgesPut) -> dict[str, int]:
    """The id of every metric the pledges name; 422 naming the field for an unknown metric or one
    whose kind is not the pledge's (an amount pledge names an amount metric, a count pledge a
    count metric)."""
    found = await metric_refs(session, {p.metric for p in data.pledges if p.metric is not None})
    for i, pledge in enumerate(data.pledges):
        if pledge.metric is None:
            continue
        if pledge.metric not in found:
            raise Unprocessable(
                _("No metric with key {key}.", key=pledge.metric), field=f"pledges.{i}.metric"
            )
        if found[pledge.metric].kind != pledge.kind.value:
            raise Unprocessable(
                _(
                    "A pledge of kind {kind} names a metric of that kind; {key} is of kind {metric_kind}.",
                    kind=pledge.kind.value,
                    key=pledge.metric,
                    metric_kind=found[pledge.metric].kind,
                ),
                field=f"pledges.{i}.metric",
            )
    return {key: metric.id for key, metric in found.items()}


def _keep_statuses(stored: PledgesOut, data: PledgesPut) -> None:
    """A pledge whose members have statuses stays in the list, at its position, and a task."""
    for pledge in stored.pledges:
        if not any(check.status is not None for check in pledge.checks):
            continue
        values = {"position": pledge.position, "label": pledge.label}
        i = pledge.position - 1
        if i >= len(data.pledges):
            raise PledgeHasStatuses(
                _(
                    "Pledge {position} (“{label}”) has statuses set for its members: the list may "
                    "not drop it.",
                    **values,
                ),
                field="pledges",
            )
        if data.pledges[i].kind is not PledgeKind.task:
            raise PledgeHasStatuses(
                _(
                    "Pledge {position} (“{label}”) has statuses set for its members: it stays a task.",
                    **values,
                ),
                field=f"pledges.{i}.kind",
            )


_PLEDGES = table(Pledge)
_UPDATED = ("kind", "scope", "label", "metric_id", "quantity", "note")


async def _replace(session: AsyncSession, list_id: int, rows: list[dict[str, Any]]) -> None:
    """Each position updated in place (its pledge keeps its id and statuses), new ones added,
    those past the end removed."""
    if rows:
        upsert = insert(_PLEDGES).values(rows)
        upsert = upsert.on_conflict_do_update(
            index_elements=["list_id", "position"], set_={name: upsert.excluded[name] for name in _UPDATED}
        )
        await session.execute(upsert)
    await session.execute(
        delete(_PLEDGES).where(_PLEDGES.c.list_id == list_id, _PLEDGES.c.position > len(rows))
    )


# --- A task's status ------------------------------------------------------------------------------


async def _pledge_at(session: AsyncSession, at: ClusterYear, position: int) -> Any:
    """The pledge at `position` of the cluster-year's list (id, kind, label), or 404."""
    values = {"cluster_id": at.id, "year": at.year, "position": position}
    found = (await session.execute(PLEDGE_AT, values)).first()
    if found is None:
        raise NotFound(
            _(
                "No pledge {position} recorded for cluster {number} in {year}.",
                position=position,
                number=at.number,
                year=at.year,
            )
        )
    return found


def _status_out(r: Any) -> PledgeStatusOut:
    row: PledgeStatus = r.PledgeStatus
    return PledgeStatusOut(
        cluster=r.number,
        year=r.year,
        position=r.position,
        label=r.label,
        unit=UnitRef.from_row(r),
        status=TaskStatus(row.status),
        on=row.status_on,
        source=row.source,
        note=row.note,
        version=row.version,
        recorded_by=row.recorded_by,
        recorded_at=row.recorded_at,
    )


async def _status_of(session: AsyncSession, pledge_id: int, unit_id: int) -> PledgeStatusOut | None:
    query = STATUS.execution_options(populate_existing=True)
    row = (await session.execute(query, {"pledge_id": pledge_id, "unit_id": unit_id})).first()
    return _status_out(row) if row is not None else None


def _no_status(at: ClusterYear, position: int, unit_id: int) -> str:
    return _(
        "No status of pledge {position} of cluster {number} in {year} is recorded for unit {unit_id}.",
        position=position,
        number=at.number,
        year=at.year,
        unit_id=unit_id,
    )


async def get_status(
    session: AsyncSession, at: ClusterYear, position: int, unit_id: int
) -> tuple[PledgeStatusOut, str]:
    """A member's status of a task pledge and its ETag, or 404."""
    pledge = await _pledge_at(session, at, position)
    out = await _status_of(session, pledge.id, unit_id)
    if out is None:
        raise NotFound(_no_status(at, position, unit_id))
    return out, status_etag(out)


_STATUS_ID = select(col(PledgeStatus.id)).where(
    col(PledgeStatus.pledge_id) == bindparam("pledge_id"), col(PledgeStatus.unit_id) == bindparam("unit_id")
)


async def status_revisions(
    session: AsyncSession, at: ClusterYear, position: int, unit_id: int, *, limit: int, cursor: str | None
) -> Page[RevisionOut[PledgeStatusOut]]:
    """Every version of a member's status of a task pledge, or 404."""
    pledge = await _pledge_at(session, at, position)
    record_id = (
        await session.execute(_STATUS_ID, {"pledge_id": pledge.id, "unit_id": unit_id})
    ).scalar_one_or_none()
    missing = _no_status(at, position, unit_id)
    return await revisions_page(
        session, STATUS_RESOURCE, record_id, PledgeStatusOut, missing=missing, limit=limit, cursor=cursor
    )


async def write_status(
    session: AsyncSession,
    at: ClusterYear,
    position: int,
    unit_id: int,
    data: PledgeStatusPut,
    conditions: Conditions,
    actor: Actor,
) -> Written[PledgeStatusOut]:
    """Set or replace a member's status of the task pledge at `position` (the same version,
    nothing written, when the body says what is stored): 404 for a pledge or unit that does not
    exist, 409 `not-a-task` for an amount or a count, 409 `not-a-member` for a unit that is not a
    member of the cluster that year."""
    await get_unit(session, unit_id)
    pledge: Any = None

    async def read() -> PledgeStatusOut:
        out = await _status_of(session, pledge.id, unit_id)
        assert out is not None
        return out

    async def load() -> Stored[PledgeStatus, PledgeStatusOut] | None:
        """After the cluster's lock: the pledge as it stands now, then the status, locked."""
        nonlocal pledge
        pledge = await _pledge_at(session, at, position)
        query = select(PledgeStatus).where(
            col(PledgeStatus.pledge_id) == pledge.id, col(PledgeStatus.unit_id) == unit_id
        )
        row = (await session.execute(query.with_for_update())).scalar_one_or_none()
        return Stored(row, await read()) if row is not None else None

    async def check(stored: Stored[PledgeStatus, PledgeStatusOut] | None) -> None:
        values = {"position": position, "number": at.number, "year": at.year}
        if pledge.kind != PledgeKind.task.value:
            raise Conflict(
                slug="not-a-task",
                detail=_(
                    "Pledge {position} of cluster {number} in {year} is an amount or a count: it is "
                    "checked against the members' figures, not set.",
                    **values,
                ),
            )
        if not await is_member(session, at.id, unit_id, at.year):
            raise Conflict(
                slug="not-a-member",
                detail=_(
                    "Unit {unit_id} is not a member of cluster {number} in {year}.", unit_id=unit_id, **values
                ),
                field="unit_id",
            )

    def new() -> PledgeStatus:
        return PledgeStatus(
            pledge_id=pledge.id,
            unit_id=unit_id,
            status=data.status.value,
            status_on=data.on,
            source=data.source,
            recorded_by=actor.recorded_by,
            version=0,
        )

    def assign(record: PledgeStatus) -> None:
        record.status = data.status.value
        record.status_on = data.on
        record.source = data.source
        record.note = data.note

    missing = _no_status(at, position, unit_id)
    change = Change(STATUS_RESOURCE, new, assign, read, status_etag, missing, check=check)
    return await write_year_record(session, at, load, change, conditions, actor)
