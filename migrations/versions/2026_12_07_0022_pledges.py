"""Pledges each member makes, held by the covenant, and the task statuses the secretariat
sets (issue 21, item 5).

`pledge_lists` is versioned (every version in `revisions`), one per cluster-year, and hangs off
the covenant: a foreign key to its cluster and year (`covenants_cluster_id_year_key`). `pledges`
holds its pledges by position: an amount or a count names a metric and a whole quantity above
zero, a task neither and is each member's (checks). `pledge_statuses` is versioned too: a member's
status of a task pledge, referencing the pledge with its kind, which must be `task`, so that a
pledge with statuses can be neither deleted nor turned into an amount or a count. New tables only:
nothing existing is rewritten.

Every name is spelled as `app.core.naming` names it.

Revision ID: 0022
Revises: 0021
Create Date: 2026-12-07
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0022"
down_revision: str | None = "0021"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _recorded() -> list[sa.Column]:
    """The columns of a versioned row (`app.core.models.Versioned`)."""
    return [
        sa.Column("version", sa.Integer(), server_default="1", nullable=False),
        sa.Column("recorded_by", sa.String(length=160), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
    ]


def upgrade() -> None:
    op.create_table(
        "pledge_lists",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("cluster_id", sa.Integer(), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        *_recorded(),
        sa.PrimaryKeyConstraint("id", name="pledge_lists_pkey"),
        sa.ForeignKeyConstraint(
            ["cluster_id", "year"],
            ["covenants.cluster_id", "covenants.year"],
            name="pledge_lists_cluster_id_year_fkey",
        ),
        sa.UniqueConstraint("cluster_id", "year", name="pledge_lists_cluster_id_year_key"),
    )
    op.create_table(
        "pledges",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("list_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=10), nullable=False),
        sa.Column("scope", sa.String(length=20), nullable=False),
        sa.Column("label", sa.String(length=500), nullable=False),
        sa.Column("metric_id", sa.Integer(), nullable=True),
        sa.Column("quantity", sa.Numeric(), nullable=True),
        sa.Column("note", sa.String(length=2000), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pledges_pkey"),
        sa.ForeignKeyConstraint(
            ["list_id"], ["pledge_lists.id"], name="pledges_list_id_fkey", ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(["metric_id"], ["metrics.id"], name="pledges_metric_id_fkey"),
        sa.UniqueConstraint("list_id", "position", name="pledges_list_id_position_key"),
        sa.UniqueConstraint("id", "kind", name="pledges_id_kind_key"),
        sa.CheckConstraint("position >= 1", name="pledges_position_positive"),
        sa.CheckConstraint("kind IN ('amount', 'count', 'task')", name="pledges_kind_known"),
        sa.CheckConstraint("scope IN ('each_member', 'cluster_total')", name="pledges_scope_known"),
        sa.CheckConstraint(
            "(kind = 'task' AND metric_id IS NULL AND quantity IS NULL) "
            "OR (kind <> 'task' AND metric_id IS NOT NULL AND quantity IS NOT NULL)",
            name="pledges_measure_fits_kind",
        ),
        sa.CheckConstraint(
            "quantity IS NULL OR (quantity > 0 AND quantity = trunc(quantity))",
            name="pledges_quantity_positive_whole",
        ),
        sa.CheckConstraint("kind <> 'task' OR scope = 'each_member'", name="pledges_task_of_each_member"),
    )
    op.create_index("pledges_metric_id_idx", "pledges", ["metric_id"])
    op.create_table(
        "pledge_statuses",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("pledge_id", sa.Integer(), nullable=False),
        sa.Column("pledge_kind", sa.String(length=10), nullable=False),
        sa.Column("unit_id", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("status_on", sa.Date(), nullable=False),
        sa.Column("source", sa.String(length=500), nullable=False),
        sa.Column("note", sa.String(length=2000), nullable=True),
        *_recorded(),
        sa.PrimaryKeyConstraint("id", name="pledge_statuses_pkey"),
        sa.ForeignKeyConstraint(
            ["pledge_id", "pledge_kind"],
            ["pledges.id", "pledges.kind"],
            name="pledge_statuses_pledge_id_pledge_kind_fkey",
        ),
        sa.ForeignKeyConstraint(["unit_id"], ["units.id"], name="pledge_statuses_unit_id_fkey"),
        sa.UniqueConstraint("pledge_id", "unit_id", name="pledge_statuses_pledge_id_unit_id_key"),
        sa.CheckConstraint("pledge_kind = 'task'", name="pledge_statuses_only_tasks"),
        sa.CheckConstraint("status IN ('done', 'not_done')", name="pledge_statuses_status_known"),
    )
    op.create_index("pledge_statuses_unit_id_idx", "pledge_statuses", ["unit_id"])


def downgrade() -> None:
    op.drop_index("pledge_statuses_unit_id_idx", table_name="pledge_statuses")
    op.drop_table("pledge_statuses")
    op.drop_index("pledges_metric_id_idx", table_name="pledges")
    op.drop_table("pledges")
    op.drop_table("pledge_lists")
