from datetime import date
from typing import Any

from sqlalchemy import ARRAY, Integer, bindparam, func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased
from sqlmodel import col

from app.clusters.models import Cluster, RotationCustom
from app.clusters.years import (
    ClusterYear,
    GroupingRef,
    YearRecord,
    resolve,
)
from app.conferences.service import check_link
from app.core.errors import Conflict
from app.core.etag import record_etag
from app.core.i18n import _
from app.core.identity import Actor
from app.core.pagination import Page, page_of
from app.core.periods import overlaps, year_bounds
from app.core.plans import Id, Plan, Read, one, run
from app.core.versioned import Conditions, Written
from app.leadership.models import Leadership
from app.leadership.schemas import (
    CandidateOut,
    Decision,
    LeadershipOut,
    LeadershipPut,
    RoleHolder,
    SuggestedRole,
    SuggestionOut,
)
from app.memberships.models import Membership
from app.units.models import Succession, Unit
from app.units.schemas import UnitRef
from app.units.service import linked_units, unit_columns

RESOURCE = "leadership"


def leadership_etag(leadership: LeadershipOut) -> str:
    return record_etag(RESOURCE, f"{leadership.cluster}-{leadership.year}", leadership.version, leadership)


def _role_holder(unit: UnitRef, successors: list[dict[str, Any]], year: int) -> RoleHolder:
    """Say so when the unit ceased to exist before or during its term, and who succeeded it."""
    first_day, last_day = year_bounds(year)
    if unit.valid_to is None or unit.valid_to > last_day:
        return RoleHolder(unit=unit, ceased_on=None, successors=[], remark=None)
    heirs = [UnitRef.model_validate(s) for s in successors]
    values = {
        "name": unit.name,
        "day": unit.valid_to,
        "successors": ", ".join(h.name for h in heirs) or _("none recorded"),
    }
    if unit.valid_to >= first_day:
        remark = _("{name} ceased to exist on {day}, during its term; successor: {successors}.", **values)
    else:
        remark = _("{name} ceased to exist on {day}, before its term; successor: {successors}.", **values)
    return RoleHolder(unit=unit, ceased_on=unit.valid_to, successors=heirs, remark=remark)


_LEADER, _DEPUTY = aliased(Unit, name="leader"), aliased(Unit, name="deputy")
_LEADERSHIPS = (
    select(
        Leadership,
        col(Cluster.number),
        *unit_columns(_LEADER, "l_"),
        linked_units(_LEADER.id, "successors").label("l_successors"),
        *unit_columns(_DEPUTY, "d_"),
        linked_units(_DEPUTY.id, "successors").label("d_successors"),
    )
    .join(Cluster, col(Cluster.id) == col(Leadership.cluster_id))
    .join(_LEADER, col(Leadership.leader_unit_id) == _LEADER.id)
    .outerjoin(_DEPUTY, col(Leadership.deputy_unit_id) == _DEPUTY.id)
    .where(col(Leadership.cluster_id) == bindparam("cluster_id"))
    .order_by(col(Leadership.year))
)
_LEADERSHIPS_IN_YEARS = _LEADERSHIPS.where(
    col(Leadership.year) == func.any(bindparam("years", type_=ARRAY(Integer)))
)
"""Built once; the year sheet and the history are hot paths."""


async def leaderships(
    session: AsyncSession, cluster_id: int, years: list[int] | None = None
) -> list[LeadershipOut]:
    """The cluster's leaderships (all years, or the given ones) in one query."""
    return await run(session, leaderships_plan(cluster_id, years))


def leaderships_plan(cluster_id: Id, years: list[int] | None = None) -> Plan[list[LeadershipOut]]:
    """`leaderships` as a plan (the year sheet reads it with the rest of the sheet)."""
    if years is None:
        read = Read(_LEADERSHIPS, {"cluster_id": cluster_id})
    else:
        read = Read(_LEADERSHIPS_IN_YEARS, {"cluster_id": cluster_id, "years": years})
    rows = yield from one(read)
    return [_out(r) for r in rows]


def _out(r: Any) -> LeadershipOut:
    row: Leadership = r.Leadership
    deputy = None
    if row.deputy_unit_id is not None:
        deputy = _role_holder(UnitRef.from_row(r, "d_"), r.d_successors, row.year)
    return LeadershipOut(
        cluster=r.number,
        year=row.year,
        leader=_role_holder(UnitRef.from_row(r, "l_"), r.l_successors, row.year),
        deputy=deputy,
        decision=Decision(
            decided_on=row.decided_on,
            conference=row.conference,
            source=row.source,
            note=row.note,
            conference_id=row.conference_id,
        ),
        version=row.version,
        recorded_by=row.recorded_by,
        recorded_at=row.recorded_at,
    )


async def history(
    session: AsyncSession, ref: GroupingRef, *, limit: int, after: int | None
) -> Page[LeadershipOut]:
    """The cluster's leaderships by year, `limit` at a time (the cursor is the last year)."""
    grouping = await resolve(session, ref)
    rows = [lead for lead in await leaderships(session, grouping.id) if after is None or lead.year > after]
    return page_of(rows[: limit + 1], limit, lambda lead: lead.year)


def _not_found(at: ClusterYear) -> str:
    return _("No leadership recorded for cluster {number} in {year}.", number=at.number, year=at.year)


async def leadership_of(session: AsyncSession, cluster_id: int, year: int) -> LeadershipOut | None:
    """The cluster's leadership in `year`, or None."""
    found = await leaderships(session, cluster_id, [year])
    return found[0] if found else None


def _missing(at: ClusterYear) -> str:
    return _("No leadership recorded for cluster {number} in {year} yet.", number=at.number, year=at.year)


RECORD = YearRecord(Leadership, RESOURCE, LeadershipOut, leadership_of, leadership_etag, _not_found, _missing)
"""The year's leadership: its GET, revisions and writes."""


async def _check_members(session: AsyncSession, at: ClusterYear, data: LeadershipPut) -> None:
    wanted = {data.leader_unit_id: "leader"}
    if data.deputy_unit_id is not None:
        wanted[data.deputy_unit_id] = "deputy"
    start, end = year_bounds(at.year)
    members = set(
        (
            await session.execute(
                select(col(Membership.unit_id)).where(
                    col(Membership.cluster_id) == at.id,
                    col(Membership.unit_id).in_(wanted),
                    overlaps(col(Membership.valid_from), col(Membership.valid_to), start, end),
                )
            )
        ).scalars()
    )
    for unit_id, role in wanted.items():
        if unit_id not in members:
            values = {"unit_id": unit_id, "cluster": at.number, "year": at.year}
            if role == "leader":
                detail = _(
                    "The leader (unit {unit_id}) is not a member of cluster {cluster} in {year}.", **values
                )
            else:
                detail = _(
                    "The deputy (unit {unit_id}) is not a member of cluster {cluster} in {year}.", **values
                )
            raise Conflict(slug="not-a-member", detail=detail, field=f"{role}_unit_id")


async def write_leadership(
    session: AsyncSession, at: ClusterYear, data: LeadershipPut, conditions: Conditions, actor: Actor
) -> Written[LeadershipOut]:
    """Create or replace (the same version, nothing written, when the body says what is
    stored)."""

    async def check(stored: object) -> None:
        await _check_members(session, at, data)
        if data.conference_id is not None:
            number, year = at.number, at.year - 1
            await check_link(session, data.conference_id, cluster_id=at.id, number=number, year=year)

    def assign(record: Leadership) -> None:
        for field, value in data.model_dump().items():
            setattr(record, field, value)

    def new() -> Leadership:
        return Leadership(
            cluster_id=at.id, year=at.year, leader_unit_id=0, recorded_by=actor.recorded_by, version=0
        )

    return await RECORD.write(session, at, conditions, actor, new, assign, check=check)


async def _candidates(session: AsyncSession, cluster_id: int, year: int) -> list[UnitRef]:
    """Members overlapping the year; if none are recorded yet, last year's end-of-year members
    whose units still exist."""
    start, end = year_bounds(year)
    for window_start, window_end, alive_on in (
        (start, end, None),
        (date(year - 1, 12, 31), date(year - 1, 12, 31), start),
    ):
        query = (
            select(col(Unit.id), col(Unit.code), col(Unit.name), col(Unit.valid_from), col(Unit.valid_to))
            .join(Membership, col(Membership.unit_id) == col(Unit.id))
            .where(
                col(Membership.cluster_id) == cluster_id,
                overlaps(col(Membership.valid_from), col(Membership.valid_to), window_start, window_end),
            )
            .distinct()
        )
        if alive_on is not None:
            query = query.where(overlaps(col(Unit.valid_from), col(Unit.valid_to), alive_on, alive_on))
        units = [UnitRef.model_validate(r, from_attributes=True) for r in await session.execute(query)]
        if units:
            return units
    return []


async def suggestion(session: AsyncSession, at: ClusterYear) -> SuggestionOut:
    number, year = at.number, at.year
    candidates = await _candidates(session, at.id, year)
    if not candidates:
        raise Conflict(
            slug="no-members-recorded",
            detail=_(
                "No members of cluster {number} are recorded for {year} or the end of {previous}; "
                "record the composition first.",
                number=number,
                year=year,
                previous=year - 1,
            ),
        )
    past = [h for h in await leaderships(session, at.id) if h.year < year]
    predecessors: dict[int, set[int]] = {c.id: {c.id} for c in candidates}
    for pred, succ in await session.execute(
        select(col(Succession.predecessor_id), col(Succession.successor_id)).where(
            col(Succession.successor_id).in_(predecessors)
        )
    ):
        predecessors[succ].add(pred)

    def last_year(unit_id: int, role: str) -> int | None:
        years = [
            h.year
            for h in past
            if (holder := getattr(h, role)) is not None and holder.unit.id in predecessors[unit_id]
        ]
        return max(years, default=None)

    scored = [
        CandidateOut(unit=c, last_led=last_year(c.id, "leader"), last_deputy=last_year(c.id, "deputy"))
        for c in candidates
    ]
    scored.sort(key=lambda c: (c.last_led or 0, c.last_deputy or 0, c.unit.code, c.unit.id))

    custom = RotationCustom(at.grouping.row.rotation_custom)
    previous = next((h for h in past if h.year == year - 1), None)
    leader: CandidateOut | None = None
    reason = ""
    if custom is RotationCustom.deputy_succeeds and previous and previous.deputy:
        outgoing = previous.deputy.unit.id
        leader = next((c for c in scored if outgoing in predecessors[c.unit.id]), None)
        if leader is not None:
            reason = _(
                "Deputy in {year} ({name}); by this cluster's custom the outgoing deputy leads "
                "the next year.",
                year=year - 1,
                name=previous.deputy.unit.name,
            )
    if leader is None:
        leader = scored[0]
        reason = _least_recent_reason(leader)
    rest = [c for c in scored if c is not leader]
    deputy = None
    if rest:
        deputy = SuggestedRole(unit=rest[0].unit, reason=_least_recent_reason(rest[0]))
    ordered = [leader, *rest]
    return SuggestionOut(
        cluster=number,
        year=year,
        rotation_custom=custom,
        leader=SuggestedRole(unit=leader.unit, reason=reason),
        deputy=deputy,
        candidates=ordered,
    )


def _least_recent_reason(candidate: CandidateOut) -> str:
    if candidate.last_led is None:
        return _(
            "Has not led the cluster in the recorded history (ties: fewest recent deputy terms, "
            "then official code)."
        )
    return _("Led the cluster least recently among the members (last in {year}).", year=candidate.last_led)
