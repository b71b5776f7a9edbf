"""Covenants (key contents and numeric targets) and the figures conferences report for a cluster.

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-26
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_UNITS_OF_MEASURE = "'cases', 'persons', 'collectives', 'individuals', 'letters', 'items', 'vnd', 'percent'"


def _recorded() -> list[sa.Column]:  # type: ignore[type-arg]
    return [
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("recorded_by", sa.String(length=160), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
    ]


def upgrade() -> None:
    op.create_table(
        "covenants",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("cluster_id", sa.Integer(), sa.ForeignKey("clusters.id"), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("signed_on", sa.Date(), nullable=True),
        sa.Column("host_unit_id", sa.Integer(), sa.ForeignKey("units.id"), nullable=True),
        sa.Column("source", sa.String(length=500), nullable=True),
        sa.Column("key_contents", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("note", sa.String(length=2000), nullable=True),
        *_recorded(),
        sa.CheckConstraint("year BETWEEN 2000 AND 2100", name="covenant_year_plausible"),
        sa.CheckConstraint("jsonb_typeof(key_contents) = 'array'", name="key_contents_is_list"),
        sa.UniqueConstraint("cluster_id", "year", name="covenants_cluster_id_year_key"),
    )
    op.create_index("ix_covenants_host_unit_id", "covenants", ["host_unit_id"])
    op.create_table(
        "covenant_targets",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column(
            "covenant_id", sa.Integer(), sa.ForeignKey("covenants.id", ondelete="CASCADE"), nullable=False
        ),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("metric_id", sa.Integer(), sa.ForeignKey("metrics.id"), nullable=False),
        sa.Column("comparator", sa.String(length=2), nullable=False),
        sa.Column("threshold", sa.Numeric(), nullable=False),
        sa.Column("basis", sa.String(length=30), nullable=False),
        sa.Column("scope", sa.String(length=20), nullable=False),
        sa.Column("label", sa.String(length=500), nullable=True),
        sa.CheckConstraint("comparator IN ('lt', 'le', 'eq', 'ge', 'gt')", name="comparator_known"),
        sa.CheckConstraint("basis IN ('absolute', 'change_vs_previous_period')", name="basis_known"),
        sa.CheckConstraint("scope IN ('each_member', 'cluster_total')", name="scope_known"),
        sa.CheckConstraint("position >= 1", name="target_position_positive"),
        sa.UniqueConstraint("covenant_id", "position", name="covenant_targets_covenant_id_position_key"),
    )
    op.create_index("ix_covenant_targets_metric_id", "covenant_targets", ["metric_id"])
    op.create_table(
        "reported_figure_sets",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("cluster_id", sa.Integer(), sa.ForeignKey("clusters.id"), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        *_recorded(),
        sa.CheckConstraint("year BETWEEN 2000 AND 2100", name="reported_year_plausible"),
        sa.UniqueConstraint("cluster_id", "year", name="reported_figure_sets_cluster_id_year_key"),
    )
    op.create_table(
        "reported_figures",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column(
            "set_id",
            sa.Integer(),
            sa.ForeignKey("reported_figure_sets.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("label", sa.String(length=500), nullable=False),
        sa.Column("metric_id", sa.Integer(), sa.ForeignKey("metrics.id"), nullable=True),
        sa.Column("kind", sa.String(length=10), nullable=False),
        sa.Column("qualifier", sa.String(length=20), nullable=False),
        sa.Column("value", sa.Numeric(), nullable=False),
        sa.Column("unit_of_measure", sa.String(length=20), nullable=True),
        sa.Column("compared_with", sa.String(length=200), nullable=True),
        sa.Column("period_start", sa.Date(), nullable=True),
        sa.Column("period_end", sa.Date(), nullable=True),
        sa.Column("source", sa.String(length=500), nullable=True),
        sa.Column("note", sa.String(length=2000), nullable=True),
        sa.CheckConstraint("position >= 1", name="figure_position_positive"),
        sa.CheckConstraint("kind IN ('value', 'change', 'rate')", name="figure_kind_known"),
        sa.CheckConstraint(
            "qualifier IN ('exact', 'approximately', 'at_least', 'over', 'under', 'at_most')",
            name="qualifier_known",
        ),
        sa.CheckConstraint("kind = 'change' OR value >= 0", name="only_changes_are_negative"),
        sa.CheckConstraint(
            f"unit_of_measure IS NULL OR unit_of_measure IN ({_UNITS_OF_MEASURE})",
            name="figure_unit_of_measure_known",
        ),
        sa.CheckConstraint(
            "period_start IS NULL OR period_end IS NULL OR period_start <= period_end",
            name="figure_period_ordered",
        ),
        sa.UniqueConstraint("set_id", "position", name="reported_figures_set_id_position_key"),
    )
    op.create_index("ix_reported_figures_metric_id", "reported_figures", ["metric_id"])


def downgrade() -> None:
    op.drop_table("reported_figures")
    op.drop_table("reported_figure_sets")
    op.drop_table("covenant_targets")
    op.drop_table("covenants")
