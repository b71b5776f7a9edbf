"""The metric catalogue: what figures and covenant targets are counted in.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-26
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "metrics",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("key", sa.String(length=60), nullable=False),
        sa.Column("name_vi", sa.String(length=200), nullable=False),
        sa.Column("name_en", sa.String(length=200), nullable=False),
        sa.Column("unit_of_measure", sa.String(length=20), nullable=False),
        sa.Column("kind", sa.String(length=10), nullable=False),
        sa.Column("numerator_id", sa.Integer(), sa.ForeignKey("metrics.id"), nullable=True),
        sa.Column("denominator_id", sa.Integer(), sa.ForeignKey("metrics.id"), nullable=True),
        sa.Column("description", sa.String(length=2000), nullable=True),
        sa.Column("version", sa.Integer(), server_default="1", nullable=False),
        sa.Column("recorded_by", sa.String(length=160), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.CheckConstraint("key ~ '^[a-z][a-z0-9_]*$'", name="key_format"),
        sa.CheckConstraint("kind IN ('count', 'amount', 'rate')", name="kind_known"),
        sa.CheckConstraint(
            "unit_of_measure IN ('cases', 'persons', 'collectives', 'individuals', 'letters', 'items', "
            "'vnd', 'percent')",
            name="unit_of_measure_known",
        ),
        sa.CheckConstraint(
            "(kind = 'rate') = (numerator_id IS NOT NULL AND denominator_id IS NOT NULL)",
            name="rate_has_parts",
        ),
        sa.CheckConstraint("numerator_id IS NULL OR numerator_id <> denominator_id", name="parts_differ"),
        sa.UniqueConstraint("key", name="metrics_key_key"),
    )


def downgrade() -> None:
    op.drop_table("metrics")
