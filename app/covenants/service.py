"""A cluster's covenant for a year: versioned, replaced whole (targets included) under `If-Match`."""

from typing import Any

from sqlalchemy import bindparam, func, literal_column, select
from sqlalchemy.dialects.postgresql import aggregate_order_by
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from app.clusters.models import Cluster
from app.clusters.years import ClusterYear, YearRecord
from app.conferences.service import check_link
from app.core.errors import Conflict, Unprocessable
from app.core.etag import record_etag
from app.core.i18n import _
from app.core.identity import Actor
from app.core.periods import year_problem
from app.core.plans import Id, Plan, Read, one, run
from app.core.versioned import Conditions, Written, replace_parts
from app.covenants.models import Basis, Comparator, Covenant, CovenantTarget, Scope
from app.covenants.schemas import CovenantOut, CovenantPut, TargetOut
from app.memberships.service import is_member
from app.metrics.models import Metric
from app.metrics.service import ids_by_key
from app.units.models import Unit
from app.units.schemas import UnitRef
from app.units.service import unit_columns

RESOURCE = "covenant"

_TARGETS = (
    select(
        func.coalesce(
            func.json_agg(
                aggregate_order_by(
                    func.json_build_object(
                        "position",
                        col(CovenantTarget.position),
                        "metric",
                        col(Metric.key),
                        "metric_name",
                        col(Metric.name_vi),
                        "comparator",
                        col(CovenantTarget.comparator),
                        "threshold",
                        col(CovenantTarget.threshold),
                        "basis",
                        col(CovenantTarget.basis),
                        "scope",
                        col(CovenantTarget.scope),
                        "label",
                        col(CovenantTarget.label),
                    ),
                    col(CovenantTarget.position),
                )
            ),
            literal_column("'[]'::json"),
        )
    )
    .select_from(CovenantTarget)
    .join(Metric, col(Metric.id) == col(CovenantTarget.metric_id))
    .where(col(CovenantTarget.covenant_id) == col(Covenant.id))
    .scalar_subquery()
)
_COVENANT = (
    select(Covenant, col(Cluster.number), *unit_columns(Unit, "h_"), _TARGETS.label("targets"))
    .join(Cluster, col(Cluster.id) == col(Covenant.cluster_id))
    .outerjoin(Unit, col(Unit.id) == col(Covenant.host_unit_id))
    .where(col(Covenant.cluster_id) == bindparam("cluster_id"), col(Covenant.year) == bindparam("year"))
)
"""The covenant with its host and its targets, in one query (the year sheet is a hot path)."""


def covenant_etag(out: CovenantOut) -> str:
    return record_etag(RESOURCE, f"{out.cluster}-{out.year}", out.version, out)


def _out(r: Any) -> CovenantOut:
    row: Covenant = r.Covenant
    return CovenantOut(
        cluster=r.number,
        year=row.year,
        signed_on=row.signed_on,
        host=UnitRef.from_row(r, "h_") if row.host_unit_id is not None else None,
        source=row.source,
        key_contents=list(row.key_contents),
        targets=[TargetOut.model_validate(t) for t in r.targets],
        note=row.note,
        conference_id=row.conference_id,
        period_start=row.period_start,
        period_end=row.period_end,
        version=row.version,
        recorded_by=row.recorded_by,
        recorded_at=row.recorded_at,
    )


async def covenant_of(session: AsyncSession, cluster_id: int, year: int) -> CovenantOut | None:
    """The cluster's covenant for `year`, or None; one query."""
    return await run(session, covenant_plan(cluster_id, year))


def covenant_plan(cluster_id: Id, year: int) -> Plan[CovenantOut | None]:
    """`covenant_of` as a plan (the year sheet reads it with the rest of the sheet)."""
    rows = yield from one(Read(_COVENANT, {"cluster_id": cluster_id, "year": year}))
    return _out(rows[0]) if rows else None


def _not_found(at: ClusterYear) -> str:
    return _("No covenant recorded for cluster {number} in {year}.", number=at.number, year=at.year)


def _missing(at: ClusterYear) -> str:
    return _("No covenant recorded for cluster {number} in {year} yet.", number=at.number, year=at.year)


RECORD = YearRecord(Covenant, RESOURCE, CovenantOut, covenant_of, covenant_etag, _not_found, _missing)
"""The year's covenant: its GET, revisions and writes."""


async def _check_host(session: AsyncSession, at: ClusterYear, unit_id: int) -> None:
    if not await is_member(session, at.id, unit_id, at.year):
        raise Conflict(
            slug="not-a-member",
            detail=_(
                "The host (unit {unit_id}) is not a member of cluster {cluster} in {year}.",
                unit_id=unit_id,
                cluster=at.number,
                year=at.year,
            ),
            field="host_unit_id",
        )


def _check_period(at: ClusterYear, data: CovenantPut) -> None:
    """A stated period is one of the covenant's year: its first or last day in that year (the
    schema checked the rest; the database checks it all again)."""
    if data.period_start is None or data.period_end is None:
        return
    problem = year_problem(at.year, data.period_start, data.period_end)
    if problem is not None:
        raise Unprocessable(problem, field="period_start")


async def write_covenant(
    session: AsyncSession, at: ClusterYear, data: CovenantPut, conditions: Conditions, actor: Actor
) -> Written[CovenantOut]:
    """Create or replace the covenant, targets included (the same version, nothing written, when
    the body says what is stored)."""
    metrics: dict[str, int] = {}

    async def check(stored: object) -> None:
        metrics.update(await ids_by_key(session, {t.metric for t in data.targets}))
        for i, target in enumerate(data.targets):
            if target.metric not in metrics:
                raise Unprocessable(
                    _("No metric with key {key}.", key=target.metric), field=f"targets.{i}.metric"
                )
        if data.host_unit_id is not None:
            await _check_host(session, at, data.host_unit_id)
        if data.conference_id is not None:
            await check_link(session, data.conference_id, cluster_id=at.id, number=at.number, year=at.year)
        _check_period(at, data)

    def assign(record: Covenant) -> None:
        record.signed_on = data.signed_on
        record.host_unit_id = data.host_unit_id
        record.source = data.source
        record.key_contents = list(data.key_contents)
        record.note = data.note
        record.conference_id = data.conference_id
        record.period_start = data.period_start
        record.period_end = data.period_end

    async def targets(covenant_id: int) -> None:
        rows = [
            {
                "position": i,
                "metric_id": metrics[t.metric],
                "comparator": Comparator(t.comparator).value,
                "threshold": t.threshold,
                "basis": Basis(t.basis).value,
                "scope": Scope(t.scope).value,
                "label": t.label,
            }
            for i, t in enumerate(data.targets, start=1)
        ]
        await replace_parts(session, CovenantTarget, "covenant_id", covenant_id, rows)

    def new() -> Covenant:
        return Covenant(cluster_id=at.id, year=at.year, recorded_by=actor.recorded_by, version=0)

    return await RECORD.write(session, at, conditions, actor, new, assign, children=targets, check=check)
