"""The memberships' SQL: the statements `app.memberships.service` runs, built here (the hot
ones once, at import) so that the service reads as rules and transactions."""

from datetime import date
from typing import Any

from sqlalchemy import Date, Select, bindparam, exists, func, or_, select
from sqlmodel import col

from app.clusters.models import Cluster
from app.core.periods import overlaps, period, year_bounds
from app.memberships.models import Leadership, Membership
from app.units.models import Unit
from app.units.service import linked_units, unit_columns


def membership_rows() -> Select[Any]:
    """Memberships with their cluster's number and their unit's columns (`unit_columns`)."""
    return (
        select(
            Membership,
            col(Cluster.number),
            *unit_columns(Unit),
        )
        .join(Cluster, col(Cluster.id) == col(Membership.cluster_id))
        .join(Unit, col(Unit.id) == col(Membership.unit_id))
    )


def listed(
    *, unit_id: int | None, cluster: int | None, start: date | None, end: date | None, after: int | None
) -> Select[Any]:
    """Memberships (as `membership_rows`) by id, filtered; both `start` and `end` None: any period."""
    query = membership_rows().order_by(col(Membership.id))
    if unit_id is not None:
        query = query.where(col(Membership.unit_id) == unit_id)
    if cluster is not None:
        query = query.where(col(Cluster.number) == cluster)
    if start is not None or end is not None:
        query = query.where(overlaps(col(Membership.valid_from), col(Membership.valid_to), start, end))
    if after is not None:
        query = query.where(col(Membership.id) > after)
    return query


def cluster_id(number: int) -> Select[int | None]:
    return select(col(Cluster.id)).where(col(Cluster.number) == number)


def unit_locked(unit_id: int) -> Select[Unit]:
    """The unit, share-locked (a concurrent succession cannot end it under the caller)."""
    return select(Unit).where(col(Unit.id) == unit_id).with_for_update(read=True)


def unit_of(membership_id: int) -> Select[int]:
    return select(col(Membership.unit_id)).where(col(Membership.id) == membership_id)


def membership_locked(membership_id: int) -> Select[Membership]:
    return select(Membership).where(col(Membership.id) == membership_id).with_for_update()


def clusters_locked(cluster_ids: set[int]) -> Select[int | None]:
    """Lock the clusters in id order (as `PUT …/leadership` does)."""
    return (
        select(col(Cluster.id))
        .where(col(Cluster.id).in_(cluster_ids))
        .order_by(col(Cluster.id))
        .with_for_update()
    )


def overlapping(unit_id: int, valid_from: date, valid_to: date | None, exclude_id: int | None) -> Select[Any]:
    """The unit's memberships (as `membership_rows`) overlapping the period, but `exclude_id`."""
    query = membership_rows().where(
        col(Membership.unit_id) == unit_id,
        overlaps(col(Membership.valid_from), col(Membership.valid_to), valid_from, valid_to),
    )
    if exclude_id is not None:
        query = query.where(col(Membership.id) != exclude_id)
    return query


def open_after(unit_ids: list[int], last_day: date) -> Select[Membership, int]:
    """The units' memberships (with the cluster's number) overlapping `[last_day, ∞)`, locked."""
    return (
        select(Membership, col(Cluster.number))
        .join(Cluster, col(Cluster.id) == col(Membership.cluster_id))
        .where(
            col(Membership.unit_id).in_(unit_ids),
            overlaps(col(Membership.valid_from), col(Membership.valid_to), last_day, None),
        )
        .order_by(col(Membership.id))
        .with_for_update(of=Membership)
    )


def membership_in_year(cluster_id: int, unit_id: int, year: int) -> Select[int | None]:
    start, end = year_bounds(year)
    return select(col(Membership.id)).where(
        col(Membership.cluster_id) == cluster_id,
        col(Membership.unit_id) == unit_id,
        overlaps(col(Membership.valid_from), col(Membership.valid_to), start, end),
    )


ORPHANED_LEADERSHIPS = (
    select(
        col(Leadership.year),
        col(Leadership.leader_unit_id),
        col(Cluster.number),
    )
    .join(Cluster, col(Cluster.id) == col(Leadership.cluster_id))
    .where(
        col(Leadership.cluster_id) == bindparam("cluster_id"),
        or_(
            col(Leadership.leader_unit_id) == bindparam("unit_id"),
            col(Leadership.deputy_unit_id) == bindparam("unit_id"),
        ),
        ~exists().where(
            col(Membership.unit_id) == bindparam("unit_id"),
            col(Membership.cluster_id) == col(Leadership.cluster_id),
            period(col(Membership.valid_from), col(Membership.valid_to)).op("&&")(
                period(
                    func.make_date(col(Leadership.year), 1, 1), func.make_date(col(Leadership.year), 12, 31)
                )
            ),
        ),
    )
    .order_by(col(Leadership.year))
)
"""Leaderships of a cluster naming a unit that is no longer a member of it in that year."""


MEMBERS = (
    select(
        col(Membership.id),
        col(Membership.valid_from),
        col(Membership.valid_to),
        col(Membership.period_precision),
        col(Membership.source),
        col(Membership.note),
        *unit_columns(Unit),
        linked_units(col(Unit.id), "predecessors").label("predecessors"),
        linked_units(col(Unit.id), "successors").label("successors"),
    )
    .join(Unit, col(Unit.id) == col(Membership.unit_id))
    .where(
        col(Membership.cluster_id) == bindparam("cluster_id"),
        period(col(Membership.valid_from), col(Membership.valid_to)).op("&&")(
            period(bindparam("start", type_=Date), bindparam("end", type_=Date))
        ),
    )
    .order_by(col(Membership.valid_from), col(Unit.name_folded), col(Membership.id))
)
"""Built once: a hot path (members list, year sheet) should not rebuild its SQL per request."""
