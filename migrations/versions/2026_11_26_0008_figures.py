"""Figures of a unit for a period: figure sets and their values per metric.

Revision ID: 0008
Revises: 0006
Create Date: 2026-11-26
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "figure_sets",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("unit_id", sa.Integer(), sa.ForeignKey("units.id"), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("period_start", sa.Date(), nullable=False),
        sa.Column("period_end", sa.Date(), nullable=False),
        sa.Column("written_by_unit_id", sa.Integer(), sa.ForeignKey("units.id"), nullable=True),
        sa.Column("source", sa.String(length=500), nullable=True),
        sa.Column("note", sa.String(length=2000), nullable=True),
        sa.Column("version", sa.Integer(), server_default="1", nullable=False),
        sa.Column("recorded_by", sa.String(length=160), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.CheckConstraint("year BETWEEN 2000 AND 2100", name="year_plausible"),
        sa.CheckConstraint("period_start <= period_end", name="period_ordered"),
        sa.UniqueConstraint("unit_id", "period_start", "period_end"),
    )
    op.create_index(op.f("ix_figure_sets_unit_id"), "figure_sets", ["unit_id"], unique=False)
    op.create_table(
        "figure_values",
        sa.Column(
            "figure_set_id",
            sa.Integer(),
            sa.ForeignKey("figure_sets.id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column("metric_id", sa.Integer(), sa.ForeignKey("metrics.id"), primary_key=True),
        sa.Column("value", sa.Numeric(), nullable=True),
        sa.Column("numerator", sa.Numeric(), nullable=True),
        sa.Column("denominator", sa.Numeric(), nullable=True),
        sa.CheckConstraint(
            "value IS NOT NULL OR (numerator IS NOT NULL AND denominator IS NOT NULL)",
            name="value_or_parts",
        ),
        sa.CheckConstraint(
            "(value IS NULL OR value >= 0) AND (numerator IS NULL OR numerator >= 0) "
            "AND (denominator IS NULL OR denominator >= 0)",
            name="non_negative",
        ),
    )


def downgrade() -> None:
    op.drop_table("figure_values")
    op.drop_index(op.f("ix_figure_sets_unit_id"), table_name="figure_sets")
    op.drop_table("figure_sets")
