"""The statements the pledges run, built once (Core `select()`, bind parameters)."""

from typing import Any

from sqlalchemy import bindparam, func, literal_column, select
from sqlalchemy.dialects.postgresql import aggregate_order_by
from sqlalchemy.orm import aliased
from sqlmodel import col

from app.clusters.models import Cluster
from app.metrics.models import Metric
from app.pledges.models import Pledge, PledgeList, PledgeStatus
from app.units.models import Unit
from app.units.service import unit_columns

_UNIT = aliased(Unit, name="status_unit")


def _unit_json(unit: Any) -> Any:
    """A unit as `UnitRef` reads it, in JSON."""
    return func.json_build_object(
        "id", unit.id, "code", unit.code, "name", unit.name, "valid_from", unit.valid_from,
        "valid_to", unit.valid_to,
    )  # fmt: skip


_STATUSES = (
    select(
        func.coalesce(
            func.json_agg(
                aggregate_order_by(
                    func.json_build_object(
                        "unit",
                        _unit_json(_UNIT),
                        "status",
                        col(PledgeStatus.status),
                        "on",
                        col(PledgeStatus.status_on),
                        "source",
                        col(PledgeStatus.source),
                        "note",
                        col(PledgeStatus.note),
                        "version",
                        col(PledgeStatus.version),
                        "recorded_by",
                        col(PledgeStatus.recorded_by),
                        "recorded_at",
                        col(PledgeStatus.recorded_at),
                    ),
                    col(_UNIT.name_folded),
                    col(_UNIT.id),
                )
            ),
            literal_column("'[]'::json"),
        )
    )
    .select_from(PledgeStatus)
    .join(_UNIT, col(_UNIT.id) == col(PledgeStatus.unit_id))
    .where(col(PledgeStatus.pledge_id) == col(Pledge.id))
    .scalar_subquery()
)
_PLEDGES = (
    select(
        func.coalesce(
            func.json_agg(
                aggregate_order_by(
                    func.json_build_object(
                        "position",
                        col(Pledge.position),
                        "kind",
                        col(Pledge.kind),
                        "label",
                        col(Pledge.label),
                        "scope",
                        col(Pledge.scope),
                        "metric",
                        col(Metric.key),
                        "metric_name",
                        col(Metric.name_vi),
                        "quantity",
                        col(Pledge.quantity),
                        "note",
                        col(Pledge.note),
                        "statuses",
                        _STATUSES,
                    ),
                    col(Pledge.position),
                )
            ),
            literal_column("'[]'::json"),
        )
    )
    .select_from(Pledge)
    .outerjoin(Metric, col(Metric.id) == col(Pledge.metric_id))
    .where(col(Pledge.list_id) == col(PledgeList.id))
    .scalar_subquery()
)
LIST = (
    select(PledgeList, col(Cluster.number), _PLEDGES.label("pledges"))
    .join(Cluster, col(Cluster.id) == col(PledgeList.cluster_id))
    .where(
        col(PledgeList.cluster_id) == bindparam("cluster_id"),
        col(PledgeList.year) == bindparam("year"),
    )
)
"""The list with its pledges, each with the statuses set (a unit's name and id order them): one
query (the year sheet shows it)."""


PLEDGE_AT = (
    select(col(Pledge.id), col(Pledge.kind), col(Pledge.label))
    .join(PledgeList, col(PledgeList.id) == col(Pledge.list_id))
    .where(
        col(PledgeList.cluster_id) == bindparam("cluster_id"),
        col(PledgeList.year) == bindparam("year"),
        col(Pledge.position) == bindparam("position"),
    )
)
"""A pledge by its position in the cluster-year's list."""

STATUS = (
    select(
        PledgeStatus,
        col(Cluster.number),
        col(PledgeList.year),
        col(Pledge.position),
        col(Pledge.label),
        *unit_columns(Unit),
    )
    .join(Pledge, col(Pledge.id) == col(PledgeStatus.pledge_id))
    .join(PledgeList, col(PledgeList.id) == col(Pledge.list_id))
    .join(Cluster, col(Cluster.id) == col(PledgeList.cluster_id))
    .join(Unit, col(Unit.id) == col(PledgeStatus.unit_id))
    .where(
        col(PledgeStatus.pledge_id) == bindparam("pledge_id"),
        col(PledgeStatus.unit_id) == bindparam("unit_id"),
    )
)
"""A member's status of a task pledge, with where it belongs and the unit: one query."""
