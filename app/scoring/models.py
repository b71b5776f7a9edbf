"""A cluster-year's scoring framework (criteria, classes, scorers), the scores each scorer gives
each member, and the freezes that fix the standings for the conference."""

from datetime import datetime
from decimal import Decimal
from enum import StrEnum
from typing import Any

from sqlalchemy import (
    CheckConstraint,
    Column,
    DateTime,
    ForeignKey,
    ForeignKeyConstraint,
    Index,
    Integer,
    Numeric,
    UniqueConstraint,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlmodel import Field, SQLModel

from app.core.identity import ACTOR_LENGTH
from app.core.models import Versioned
from app.core.time import timestamp_field


class CriterionKind(StrEnum):
    """`criterion` counts up to its maximum; `bonus` adds up to it; `penalty` deducts up to it
    (recorded as a positive number)."""

    criterion = "criterion"
    bonus = "bonus"
    penalty = "penalty"


class ScorerKind(StrEnum):
    """`cluster`: the cluster itself; `department`: a department of the Ministry."""

    cluster = "cluster"
    department = "department"


class Combination(StrEnum):
    """How the scorers' totals make the combined total: their `sum`, their `mean`, or their
    `weighted` mean (Σ weight × total ÷ Σ weight)."""

    sum = "sum"
    mean = "mean"
    weighted = "weighted"


class TieBreak(StrEnum):
    """`shared`: equal totals share a rank (1, 1, 3). `by_criteria_then_shared`: equal totals are
    ordered by the framework's `tie_break_order` (criterion codes or groups, higher first), and
    share a rank only if still equal."""

    shared = "shared"
    by_criteria_then_shared = "by_criteria_then_shared"


class ScoringFramework(Versioned, table=True):
    """A cluster's scoring framework (khung tiêu chí chấm điểm, xếp loại) for one year."""

    __tablename__ = "scoring_frameworks"
    __table_args__ = (
        UniqueConstraint("cluster_id", "year"),
        CheckConstraint("year BETWEEN 2000 AND 2100", name="scoring_year_plausible"),
        CheckConstraint("combination IN ('sum', 'mean', 'weighted')", name="combination_known"),
        CheckConstraint("tie_break IN ('shared', 'by_criteria_then_shared')", name="tie_break_known"),
        CheckConstraint("jsonb_typeof(tie_break_order) = 'array'", name="tie_break_order_is_list"),
        CheckConstraint("standings_version >= version", name="standings_version_counts_framework"),
    )

    id: int | None = Field(default=None, primary_key=True)
    cluster_id: int = Field(foreign_key="clusters.id")
    year: int
    combination: str = Field(max_length=10)
    tie_break: str = Field(max_length=30)
    tie_break_order: list[str] = Field(default_factory=list, sa_column=Column(JSONB, nullable=False))
    source: str | None = Field(default=None, max_length=500)
    note: str | None = Field(default=None, max_length=2000)
    standings_version: int = 1
    """Bumped by every change of the framework or of a score in the cluster-year: the version of
    the standings (what a vote records)."""


class ScoringCriterion(SQLModel, table=True):
    __tablename__ = "scoring_criteria"
    __table_args__ = (
        UniqueConstraint("framework_id", "code"),
        CheckConstraint("max_points > 0", name="max_points_positive"),
        CheckConstraint("kind IN ('criterion', 'bonus', 'penalty')", name="criterion_kind_known"),
        CheckConstraint("position >= 1", name="criterion_position_positive"),
    )

    id: int | None = Field(default=None, primary_key=True)
    framework_id: int = Field(
        sa_column=Column(Integer, ForeignKey("scoring_frameworks.id", ondelete="CASCADE"), nullable=False)
    )
    position: int
    code: str = Field(max_length=40)
    name: str = Field(max_length=500)
    group_name: str | None = Field(default=None, max_length=200)
    max_points: Decimal = Field(sa_column=Column(Numeric, nullable=False))
    kind: str = Field(max_length=10)


class ScoringClass(SQLModel, table=True):
    """A class (xếp loại) and the combined total it needs; the lowest may need nothing."""

    __tablename__ = "scoring_classes"
    __table_args__ = (
        UniqueConstraint("framework_id", "code"),
        CheckConstraint("position >= 1", name="class_position_positive"),
        CheckConstraint("min_points IS NULL OR min_points >= 0", name="min_points_non_negative"),
    )

    id: int | None = Field(default=None, primary_key=True)
    framework_id: int = Field(
        sa_column=Column(Integer, ForeignKey("scoring_frameworks.id", ondelete="CASCADE"), nullable=False)
    )
    position: int
    code: str = Field(max_length=40)
    name: str = Field(max_length=200)
    min_points: Decimal | None = Field(default=None, sa_column=Column(Numeric, nullable=True))


class Scorer(SQLModel, table=True):
    __tablename__ = "scorers"
    __table_args__ = (
        UniqueConstraint("framework_id", "code"),
        CheckConstraint("kind IN ('cluster', 'department')", name="scorer_kind_known"),
        CheckConstraint("weight IS NULL OR weight > 0", name="weight_positive"),
        CheckConstraint("position >= 1", name="scorer_position_positive"),
    )

    id: int | None = Field(default=None, primary_key=True)
    framework_id: int = Field(
        sa_column=Column(Integer, ForeignKey("scoring_frameworks.id", ondelete="CASCADE"), nullable=False)
    )
    position: int
    code: str = Field(max_length=40)
    name: str = Field(max_length=300)
    kind: str = Field(max_length=10)
    weight: Decimal | None = Field(default=None, sa_column=Column(Numeric, nullable=True))


class ScoreSheet(Versioned, table=True):
    """The points one scorer gave one unit in a cluster-year; versioned."""

    __tablename__ = "score_sheets"
    __table_args__ = (
        UniqueConstraint("framework_id", "scorer_code", "unit_id"),
        UniqueConstraint("id", "framework_id"),
        ForeignKeyConstraint(
            ["framework_id", "scorer_code"],
            ["scorers.framework_id", "scorers.code"],
            name="score_sheets_scorer_fkey",
        ),
    )

    id: int | None = Field(default=None, primary_key=True)
    framework_id: int = Field(foreign_key="scoring_frameworks.id")
    scorer_code: str = Field(max_length=40)
    unit_id: int = Field(foreign_key="units.id", index=True)
    note: str | None = Field(default=None, max_length=2000)


class ScoreItem(SQLModel, table=True):
    """The points of one criterion in a score sheet (a penalty as the positive deduction)."""

    __tablename__ = "score_items"
    __table_args__ = (
        CheckConstraint("points >= 0", name="points_non_negative"),
        ForeignKeyConstraint(
            ["sheet_id", "framework_id"],
            ["score_sheets.id", "score_sheets.framework_id"],
            ondelete="CASCADE",
            name="score_items_sheet_fkey",
        ),
        ForeignKeyConstraint(
            ["framework_id", "criterion_code"],
            ["scoring_criteria.framework_id", "scoring_criteria.code"],
            name="score_items_criterion_fkey",
        ),
    )

    sheet_id: int = Field(primary_key=True)
    criterion_code: str = Field(primary_key=True, max_length=40)
    framework_id: int
    points: Decimal = Field(sa_column=Column(Numeric, nullable=False))


class StandingsFreeze(SQLModel, table=True):
    """The standings fixed for the conference: while a freeze is active (not thawed), the
    framework and the scores cannot change. Its snapshot stays readable by version."""

    __tablename__ = "standings_freezes"
    __table_args__ = (
        UniqueConstraint("framework_id", "number"),
        CheckConstraint("number >= 1", name="freeze_number_positive"),
        CheckConstraint(
            "(thawed_at IS NULL) = (thawed_by IS NULL) AND (thawed_at IS NULL) = (thaw_reason IS NULL)",
            name="thaw_recorded_whole",
        ),
        Index(
            "standings_freezes_one_active",
            "framework_id",
            unique=True,
            postgresql_where=text("thawed_at IS NULL"),
        ),
        Index("standings_freezes_version_idx", "framework_id", "standings_version"),
    )

    id: int | None = Field(default=None, primary_key=True)
    framework_id: int = Field(foreign_key="scoring_frameworks.id")
    number: int
    standings_version: int
    snapshot: dict[str, Any] = Field(sa_column=Column(JSONB, nullable=False))
    frozen_by: str = Field(max_length=ACTOR_LENGTH)
    frozen_at: datetime = timestamp_field()
    thawed_by: str | None = Field(default=None, max_length=ACTOR_LENGTH)
    thawed_at: datetime | None = Field(default=None, sa_column=Column(DateTime(timezone=True), nullable=True))
    thaw_reason: str | None = Field(default=None, max_length=2000)
