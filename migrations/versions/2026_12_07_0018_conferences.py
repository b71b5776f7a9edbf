"""Conferences of a cluster-year (issue 21, item 1), and what was decided there links to them.

`conferences` is versioned (every version in `revisions`): its kind, the day it was held or only
its month (`held_on_precision`, the month stored as its first day), the host (null: not stated),
guests, its source (JSONB: title, url, published, quote) and a note. `conference_chairs` holds the
chairing units of each conference's current version, in order, replaced whole with each version.
The covenant, the leadership, the reported figure set and the vote each gain a nullable
`conference_id`: nothing existing is rewritten, and no existing row names a conference.

Every name is spelled as `app.core.naming` names it.

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-07
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0018"
down_revision: str | None = "0017"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_LINKED = ("covenants", "leaderships", "reported_figure_sets", "votes")
"""The records decided at a conference."""


def upgrade() -> None:
    op.create_table(
        "conferences",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("cluster_id", sa.Integer(), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("held_on", sa.Date(), nullable=False),
        sa.Column("held_on_precision", sa.String(length=8), nullable=False),
        sa.Column("host_unit_id", sa.Integer(), nullable=True),
        sa.Column("guests", sa.String(length=2000), nullable=True),
        sa.Column("source", postgresql.JSONB(astext_type=sa.Text()), nullable=True),
        sa.Column("note", sa.String(length=2000), nullable=True),
        sa.Column("version", sa.Integer(), server_default="1", nullable=False),
        sa.Column("recorded_by", sa.String(length=160), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.PrimaryKeyConstraint("id", name="conferences_pkey"),
        sa.ForeignKeyConstraint(["cluster_id"], ["clusters.id"], name="conferences_cluster_id_fkey"),
        sa.ForeignKeyConstraint(["host_unit_id"], ["units.id"], name="conferences_host_unit_id_fkey"),
        sa.CheckConstraint("year BETWEEN 2000 AND 2100", name="conferences_year_plausible"),
        sa.CheckConstraint(
            "kind IN ('signing', 'mid_year_review', 'nine_month_review', 'year_end_summary', 'other')",
            name="conferences_kind_known",
        ),
        sa.CheckConstraint("held_on_precision IN ('day', 'month')", name="conferences_precision_known"),
        sa.CheckConstraint(
            "held_on_precision = 'day' OR EXTRACT(DAY FROM held_on) = 1",
            name="conferences_month_on_its_first_day",
        ),
        sa.CheckConstraint(
            "EXTRACT(YEAR FROM held_on) BETWEEN year - 1 AND year + 1", name="conferences_held_near_its_year"
        ),
        sa.CheckConstraint(
            "source IS NULL OR jsonb_typeof(source) = 'object'", name="conferences_source_is_object"
        ),
    )
    op.create_index("conferences_cluster_id_year_idx", "conferences", ["cluster_id", "year"])
    op.create_index("conferences_held_on_id_idx", "conferences", ["held_on", "id"])
    op.create_index("conferences_host_unit_id_idx", "conferences", ["host_unit_id"])
    op.create_table(
        "conference_chairs",
        sa.Column("conference_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("unit_id", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("conference_id", "position", name="conference_chairs_pkey"),
        sa.ForeignKeyConstraint(
            ["conference_id"],
            ["conferences.id"],
            name="conference_chairs_conference_id_fkey",
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(["unit_id"], ["units.id"], name="conference_chairs_unit_id_fkey"),
        sa.UniqueConstraint("conference_id", "unit_id", name="conference_chairs_conference_id_unit_id_key"),
        sa.CheckConstraint("position >= 1", name="conference_chairs_position_positive"),
    )
    op.create_index("conference_chairs_unit_id_idx", "conference_chairs", ["unit_id"])
    for table in _LINKED:
        op.add_column(table, sa.Column("conference_id", sa.Integer(), nullable=True))
        op.create_foreign_key(f"{table}_conference_id_fkey", table, "conferences", ["conference_id"], ["id"])
        op.create_index(f"{table}_conference_id_idx", table, ["conference_id"])


def downgrade() -> None:
    for table in reversed(_LINKED):
        op.drop_index(f"{table}_conference_id_idx", table_name=table)
        op.drop_constraint(f"{table}_conference_id_fkey", table, type_="foreignkey")
        op.drop_column(table, "conference_id")
    op.drop_index("conference_chairs_unit_id_idx", table_name="conference_chairs")
    op.drop_table("conference_chairs")
    op.drop_index("conferences_host_unit_id_idx", table_name="conferences")
    op.drop_index("conferences_held_on_id_idx", table_name="conferences")
    op.drop_index("conferences_cluster_id_year_idx", table_name="conferences")
    op.drop_table("conferences")
