"""Scoring: a cluster-year's framework (criteria, classes, scorers), score sheets and their
items, and the freezes of the standings.

Revision ID: 0011
Revises: 0009
Create Date: 2026-11-26
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0011"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _recorded() -> list[sa.Column]:  # type: ignore[type-arg]
    return [
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("recorded_by", sa.String(length=160), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
    ]


def _framework_part(name: str, *columns: sa.Column, checks: Sequence[sa.CheckConstraint]) -> None:  # type: ignore[type-arg]
    op.create_table(
        name,
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column(
            "framework_id",
            sa.Integer(),
            sa.ForeignKey("scoring_frameworks.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=40), nullable=False),
        *columns,
        *checks,
        sa.UniqueConstraint("framework_id", "code", name=f"{name}_framework_id_code_key"),
    )


def upgrade() -> None:
    op.create_table(
        "scoring_frameworks",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("cluster_id", sa.Integer(), sa.ForeignKey("clusters.id"), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("combination", sa.String(length=10), nullable=False),
        sa.Column("tie_break", sa.String(length=30), nullable=False),
        sa.Column("tie_break_order", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("source", sa.String(length=500), nullable=True),
        sa.Column("note", sa.String(length=2000), nullable=True),
        sa.Column("standings_version", sa.Integer(), nullable=False),
        *_recorded(),
        sa.CheckConstraint("year BETWEEN 2000 AND 2100", name="scoring_year_plausible"),
        sa.CheckConstraint("combination IN ('sum', 'mean', 'weighted')", name="combination_known"),
        sa.CheckConstraint("tie_break IN ('shared', 'by_criteria_then_shared')", name="tie_break_known"),
        sa.CheckConstraint("jsonb_typeof(tie_break_order) = 'array'", name="tie_break_order_is_list"),
        sa.CheckConstraint("standings_version >= version", name="standings_version_counts_framework"),
        sa.UniqueConstraint("cluster_id", "year", name="scoring_frameworks_cluster_id_year_key"),
    )
    _framework_part(
        "scoring_criteria",
        sa.Column("name", sa.String(length=500), nullable=False),
        sa.Column("group_name", sa.String(length=200), nullable=True),
        sa.Column("max_points", sa.Numeric(), nullable=False),
        sa.Column("kind", sa.String(length=10), nullable=False),
        checks=[
            sa.CheckConstraint("max_points > 0", name="max_points_positive"),
            sa.CheckConstraint("kind IN ('criterion', 'bonus', 'penalty')", name="criterion_kind_known"),
            sa.CheckConstraint("position >= 1", name="criterion_position_positive"),
        ],
    )
    _framework_part(
        "scoring_classes",
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("min_points", sa.Numeric(), nullable=True),
        checks=[
            sa.CheckConstraint("position >= 1", name="class_position_positive"),
            sa.CheckConstraint("min_points IS NULL OR min_points >= 0", name="min_points_non_negative"),
        ],
    )
    _framework_part(
        "scorers",
        sa.Column("name", sa.String(length=300), nullable=False),
        sa.Column("kind", sa.String(length=10), nullable=False),
        sa.Column("weight", sa.Numeric(), nullable=True),
        checks=[
            sa.CheckConstraint("kind IN ('cluster', 'department')", name="scorer_kind_known"),
            sa.CheckConstraint("weight IS NULL OR weight > 0", name="weight_positive"),
            sa.CheckConstraint("position >= 1", name="scorer_position_positive"),
        ],
    )
    op.create_table(
        "score_sheets",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("framework_id", sa.Integer(), sa.ForeignKey("scoring_frameworks.id"), nullable=False),
        sa.Column("scorer_code", sa.String(length=40), nullable=False),
        sa.Column("unit_id", sa.Integer(), sa.ForeignKey("units.id"), nullable=False),
        sa.Column("note", sa.String(length=2000), nullable=True),
        *_recorded(),
        sa.UniqueConstraint(
            "framework_id", "scorer_code", "unit_id", name="score_sheets_framework_id_scorer_code_unit_id_key"
        ),
        sa.UniqueConstraint("id", "framework_id", name="score_sheets_id_framework_id_key"),
        sa.ForeignKeyConstraint(
            ["framework_id", "scorer_code"],
            ["scorers.framework_id", "scorers.code"],
            name="score_sheets_scorer_fkey",
        ),
    )
    op.create_index("ix_score_sheets_unit_id", "score_sheets", ["unit_id"])
    op.create_table(
        "score_items",
        sa.Column("sheet_id", sa.Integer(), nullable=False),
        sa.Column("criterion_code", sa.String(length=40), nullable=False),
        sa.Column("framework_id", sa.Integer(), nullable=False),
        sa.Column("points", sa.Numeric(), nullable=False),
        sa.PrimaryKeyConstraint("sheet_id", "criterion_code"),
        sa.CheckConstraint("points >= 0", name="points_non_negative"),
        sa.ForeignKeyConstraint(
            ["sheet_id", "framework_id"],
            ["score_sheets.id", "score_sheets.framework_id"],
            ondelete="CASCADE",
            name="score_items_sheet_fkey",
        ),
        sa.ForeignKeyConstraint(
            ["framework_id", "criterion_code"],
            ["scoring_criteria.framework_id", "scoring_criteria.code"],
            name="score_items_criterion_fkey",
        ),
    )
    op.create_table(
        "standings_freezes",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("framework_id", sa.Integer(), sa.ForeignKey("scoring_frameworks.id"), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("standings_version", sa.Integer(), nullable=False),
        sa.Column("snapshot", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("frozen_by", sa.String(length=160), nullable=False),
        sa.Column("frozen_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("thawed_by", sa.String(length=160), nullable=True),
        sa.Column("thawed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("thaw_reason", sa.String(length=2000), nullable=True),
        sa.UniqueConstraint("framework_id", "number", name="standings_freezes_framework_id_number_key"),
        sa.CheckConstraint("number >= 1", name="freeze_number_positive"),
        sa.CheckConstraint(
            "(thawed_at IS NULL) = (thawed_by IS NULL) AND (thawed_at IS NULL) = (thaw_reason IS NULL)",
            name="thaw_recorded_whole",
        ),
    )
    op.create_index(
        "standings_freezes_one_active",
        "standings_freezes",
        ["framework_id"],
        unique=True,
        postgresql_where=sa.text("thawed_at IS NULL"),
    )
    op.create_index(
        "standings_freezes_version_idx", "standings_freezes", ["framework_id", "standings_version"]
    )


def downgrade() -> None:
    for name in (
        "standings_freezes",
        "score_items",
        "score_sheets",
        "scorers",
        "scoring_classes",
        "scoring_criteria",
    ):
        op.drop_table(name)
    op.drop_table("scoring_frameworks")
