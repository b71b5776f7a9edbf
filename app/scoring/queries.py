"""The read statements of scoring, built once: the framework with its criteria, classes and
scorers in one query; a score sheet with its unit and items in one; every point of a
cluster-year in one (the standings are a fixed number of queries whatever the cluster's size)."""

from typing import Any

from sqlalchemy import String, bindparam, cast, func, literal_column, select
from sqlalchemy.dialects.postgresql import aggregate_order_by
from sqlmodel import SQLModel, col

from app.clusters.models import Cluster
from app.scoring.models import (
    ScoreItem,
    Scorer,
    ScoreSheet,
    ScoringClass,
    ScoringCriterion,
    ScoringFramework,
    StandingsFreeze,
)
from app.units.models import Unit
from app.units.service import unit_columns


def _json_list(model: type[SQLModel], fields: dict[str, Any], owner: Any) -> Any:
    """The framework's rows of `model` as a JSON list in their order (numbers as exact text)."""
    pairs = [part for name, column in fields.items() for part in (name, column)]
    position = col(model.position)  # type: ignore[attr-defined]
    return (
        select(
            func.coalesce(
                func.json_agg(aggregate_order_by(func.json_build_object(*pairs), position)),
                literal_column("'[]'::json"),
            )
        )
        .where(col(model.framework_id) == owner)  # type: ignore[attr-defined]
        .scalar_subquery()
    )


CRITERIA = _json_list(
    ScoringCriterion,
    {
        "position": col(ScoringCriterion.position),
        "code": col(ScoringCriterion.code),
        "name": col(ScoringCriterion.name),
        "group": col(ScoringCriterion.group_name),
        "max_points": cast(col(ScoringCriterion.max_points), String),
        "kind": col(ScoringCriterion.kind),
    },
    col(ScoringFramework.id),
)
CLASSES = _json_list(
    ScoringClass,
    {
        "position": col(ScoringClass.position),
        "code": col(ScoringClass.code),
        "name": col(ScoringClass.name),
        "min_points": cast(col(ScoringClass.min_points), String),
    },
    col(ScoringFramework.id),
)
SCORERS = _json_list(
    Scorer,
    {
        "position": col(Scorer.position),
        "code": col(Scorer.code),
        "name": col(Scorer.name),
        "kind": col(Scorer.kind),
        "weight": cast(col(Scorer.weight), String),
    },
    col(ScoringFramework.id),
)
ACTIVE_FREEZE = (
    select(col(StandingsFreeze.number))
    .where(
        col(StandingsFreeze.framework_id) == col(ScoringFramework.id),
        col(StandingsFreeze.thawed_at).is_(None),
    )
    .scalar_subquery()
)

FRAMEWORK = (
    select(
        ScoringFramework,
        col(Cluster.number),
        CRITERIA.label("criteria"),
        CLASSES.label("classes"),
        SCORERS.label("scorers"),
        ACTIVE_FREEZE.label("active_freeze"),
    )
    .join(Cluster, col(Cluster.id) == col(ScoringFramework.cluster_id))
    .where(
        col(ScoringFramework.cluster_id) == bindparam("cluster_id"),
        col(ScoringFramework.year) == bindparam("year"),
    )
)
"""The framework of a cluster-year with its parts and its active freeze's number, in one query."""

POINTS = (
    select(
        col(ScoreSheet.unit_id),
        col(ScoreSheet.scorer_code),
        col(ScoreItem.criterion_code),
        col(ScoreItem.points),
    )
    .join(ScoreItem, col(ScoreItem.sheet_id) == col(ScoreSheet.id))
    .where(col(ScoreSheet.framework_id) == bindparam("framework_id"))
)
"""Every point recorded under a framework."""

_ITEMS = (
    select(
        func.coalesce(
            func.json_agg(
                aggregate_order_by(
                    func.json_build_object(
                        "criterion",
                        col(ScoreItem.criterion_code),
                        "points",
                        cast(col(ScoreItem.points), String),
                        "kind",
                        col(ScoringCriterion.kind),
                    ),
                    col(ScoringCriterion.position),
                )
            ),
            literal_column("'[]'::json"),
        )
    )
    .select_from(ScoreItem)
    .join(
        ScoringCriterion,
        (col(ScoringCriterion.framework_id) == col(ScoreItem.framework_id))
        & (col(ScoringCriterion.code) == col(ScoreItem.criterion_code)),
    )
    .where(col(ScoreItem.sheet_id) == col(ScoreSheet.id))
    .scalar_subquery()
)
SHEET = (
    select(
        ScoreSheet,
        col(ScoringFramework.year),
        col(Cluster.number),
        *unit_columns(Unit),
        _ITEMS.label("items"),
    )
    .join(ScoringFramework, col(ScoringFramework.id) == col(ScoreSheet.framework_id))
    .join(Cluster, col(Cluster.id) == col(ScoringFramework.cluster_id))
    .join(Unit, col(Unit.id) == col(ScoreSheet.unit_id))
    .where(
        col(ScoreSheet.framework_id) == bindparam("framework_id"),
        col(ScoreSheet.scorer_code) == bindparam("scorer"),
        col(ScoreSheet.unit_id) == bindparam("unit_id"),
    )
)
"""A score sheet with its unit and items (in the framework's order), in one query."""

FREEZES = (
    select(StandingsFreeze)
    .where(
        col(StandingsFreeze.framework_id) == bindparam("framework_id"),
        col(StandingsFreeze.number) > bindparam("after"),
    )
    .order_by(col(StandingsFreeze.number))
    .limit(bindparam("limit"))
)
