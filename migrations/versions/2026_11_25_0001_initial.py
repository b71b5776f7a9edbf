"""Units and lineage, clusters, versioned memberships, leadership, API keys, revisions.

Periods are inclusive `[valid_from, valid_to]` dates (NULL: unbounded). Two exclusion
constraints (btree_gist) keep them honest: a unit code names one unit on any day, and a
unit is in at most one cluster on any day.

Revision ID: 0001
Revises:
Create Date: 2026-11-25
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.execute("CREATE EXTENSION IF NOT EXISTS btree_gist")
    op.create_table(
        "clusters",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=120), nullable=False),
        sa.Column("rotation_custom", sa.String(length=20), nullable=False),
        sa.Column("note", sa.String(length=2000), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("recorded_by", sa.String(length=160), nullable=False),
        sa.Column(
            "recorded_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.CheckConstraint(
            "rotation_custom IN ('least_recent', 'deputy_succeeds')", name="rotation_custom_known"
        ),
        sa.CheckConstraint("number > 0", name="number_positive"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("number"),
    )
    op.create_table(
        "revisions",
        sa.Column("id", sa.BigInteger(), nullable=False),
        sa.Column("resource", sa.String(length=40), nullable=False),
        sa.Column("resource_id", sa.Integer(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("data", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("recorded_by", sa.String(length=160), nullable=False),
        sa.Column(
            "recorded_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("resource", "resource_id", "version"),
    )
    op.create_table(
        "units",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=8), nullable=False),
        sa.Column("name", sa.String(length=120), nullable=False),
        sa.Column("name_folded", sa.String(length=120), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("valid_from", sa.Date(), nullable=True),
        sa.Column("valid_to", sa.Date(), nullable=True),
        postgresql.ExcludeConstraint(
            (sa.column("code"), "="),
            (sa.text("daterange(valid_from, valid_to, '[]')"), "&&"),
            using="gist",
            name="units_code_unique_in_time",
        ),
        sa.CheckConstraint("kind IN ('tinh', 'thanh_pho')", name="kind_known"),
        sa.CheckConstraint(
            "valid_from IS NULL OR valid_to IS NULL OR valid_from <= valid_to",
            name="period_ordered",
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(op.f("ix_units_name_folded"), "units", ["name_folded"], unique=False)
    op.create_table(
        "api_keys",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=120), nullable=False),
        sa.Column("role", sa.String(length=16), nullable=False),
        sa.Column("cluster_id", sa.Integer(), nullable=True),
        sa.Column("unit_id", sa.Integer(), nullable=True),
        sa.Column("key_hash", sa.String(length=64), nullable=False),
        sa.Column("key_prefix", sa.String(length=16), nullable=False),
        sa.Column("created_by", sa.String(length=120), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint("(role = 'cluster') = (cluster_id IS NOT NULL)", name="cluster_scope"),
        sa.CheckConstraint("(role = 'unit') = (unit_id IS NOT NULL)", name="unit_scope"),
        sa.CheckConstraint("role IN ('admin', 'cluster', 'unit', 'reader')", name="role_known"),
        sa.ForeignKeyConstraint(
            ["cluster_id"],
            ["clusters.id"],
        ),
        sa.ForeignKeyConstraint(
            ["unit_id"],
            ["units.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("key_hash"),
    )
    op.create_table(
        "leaderships",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("cluster_id", sa.Integer(), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("leader_unit_id", sa.Integer(), nullable=False),
        sa.Column("deputy_unit_id", sa.Integer(), nullable=True),
        sa.Column("decided_on", sa.Date(), nullable=True),
        sa.Column("conference", sa.String(length=300), nullable=True),
        sa.Column("source", sa.String(length=500), nullable=True),
        sa.Column("note", sa.String(length=2000), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("recorded_by", sa.String(length=160), nullable=False),
        sa.Column(
            "recorded_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.CheckConstraint("leader_unit_id <> deputy_unit_id", name="leader_is_not_deputy"),
        sa.CheckConstraint("year BETWEEN 2000 AND 2100", name="year_plausible"),
        sa.ForeignKeyConstraint(
            ["cluster_id"],
            ["clusters.id"],
        ),
        sa.ForeignKeyConstraint(
            ["deputy_unit_id"],
            ["units.id"],
        ),
        sa.ForeignKeyConstraint(
            ["leader_unit_id"],
            ["units.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("cluster_id", "year"),
    )
    op.create_index(op.f("ix_leaderships_deputy_unit_id"), "leaderships", ["deputy_unit_id"], unique=False)
    op.create_index(op.f("ix_leaderships_leader_unit_id"), "leaderships", ["leader_unit_id"], unique=False)
    op.create_table(
        "memberships",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("unit_id", sa.Integer(), nullable=False),
        sa.Column("cluster_id", sa.Integer(), nullable=False),
        sa.Column("valid_from", sa.Date(), nullable=False),
        sa.Column("valid_to", sa.Date(), nullable=True),
        sa.Column("period_precision", sa.String(length=8), nullable=False),
        sa.Column("source", sa.String(length=500), nullable=True),
        sa.Column("note", sa.String(length=2000), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("recorded_by", sa.String(length=160), nullable=False),
        sa.Column(
            "recorded_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        postgresql.ExcludeConstraint(
            (sa.column("unit_id"), "="),
            (sa.text("daterange(valid_from, valid_to, '[]')"), "&&"),
            using="gist",
            name="memberships_one_cluster_per_day",
        ),
        sa.CheckConstraint("period_precision IN ('day', 'year')", name="precision_known"),
        sa.CheckConstraint("valid_to IS NULL OR valid_from <= valid_to", name="period_ordered"),
        sa.ForeignKeyConstraint(
            ["cluster_id"],
            ["clusters.id"],
        ),
        sa.ForeignKeyConstraint(
            ["unit_id"],
            ["units.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(op.f("ix_memberships_cluster_id"), "memberships", ["cluster_id"], unique=False)
    op.create_index(op.f("ix_memberships_unit_id"), "memberships", ["unit_id"], unique=False)
    op.create_table(
        "successions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("predecessor_id", sa.Integer(), nullable=False),
        sa.Column("successor_id", sa.Integer(), nullable=False),
        sa.Column("effective_date", sa.Date(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("legal_basis", sa.String(length=200), nullable=False),
        sa.Column("recorded_by", sa.String(length=160), nullable=False),
        sa.Column(
            "recorded_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.CheckConstraint("kind IN ('merge', 'split', 'rename')", name="kind_known"),
        sa.CheckConstraint("predecessor_id <> successor_id", name="not_self"),
        sa.ForeignKeyConstraint(
            ["predecessor_id"],
            ["units.id"],
        ),
        sa.ForeignKeyConstraint(
            ["successor_id"],
            ["units.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("predecessor_id", "successor_id"),
    )
    op.create_index(op.f("ix_successions_predecessor_id"), "successions", ["predecessor_id"], unique=False)
    op.create_index(op.f("ix_successions_successor_id"), "successions", ["successor_id"], unique=False)
    op.create_table(
        "idempotency_records",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("api_key_id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(length=255), nullable=False),
        sa.Column("fingerprint", sa.String(length=64), nullable=False),
        sa.Column("status_code", sa.Integer(), nullable=True),
        sa.Column("body", postgresql.JSON(astext_type=sa.Text()), nullable=True),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["api_key_id"],
            ["api_keys.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("api_key_id", "key"),
    )


def downgrade() -> None:
    op.drop_table("idempotency_records")
    op.drop_index(op.f("ix_successions_successor_id"), table_name="successions")
    op.drop_index(op.f("ix_successions_predecessor_id"), table_name="successions")
    op.drop_table("successions")
    op.drop_index(op.f("ix_memberships_unit_id"), table_name="memberships")
    op.drop_index(op.f("ix_memberships_cluster_id"), table_name="memberships")
    op.drop_table("memberships")
    op.drop_index(op.f("ix_leaderships_leader_unit_id"), table_name="leaderships")
    op.drop_index(op.f("ix_leaderships_deputy_unit_id"), table_name="leaderships")
    op.drop_table("leaderships")
    op.drop_table("api_keys")
    op.drop_index(op.f("ix_units_name_folded"), table_name="units")
    op.drop_table("units")
    op.drop_table("revisions")
    op.drop_table("clusters")
