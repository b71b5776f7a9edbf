"""Rule sets (dated, non-overlapping), the award catalogue, proceedings that block nominations, and
the awards register: awards, their transitions, dossier items and uploaded documents.

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-26
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_STATUSES = "'nominated', 'proposed', 'returned', 'granted', 'refused', 'revoked'"


def _recorded(version: bool = True) -> list[sa.Column]:  # type: ignore[type-arg]
    columns = [
        sa.Column("recorded_by", sa.String(length=160), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
    ]
    if version:
        columns.insert(0, sa.Column("version", sa.Integer(), server_default="1", nullable=False))
    return columns


def upgrade() -> None:
    op.create_table(
        "rule_sets",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("code", sa.String(length=60), nullable=False, unique=True),
        sa.Column("name", sa.String(length=300), nullable=False),
        sa.Column("in_force_from", sa.Date(), nullable=False),
        sa.Column("in_force_to", sa.Date(), nullable=True),
        sa.Column("basis", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("parameters", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        *_recorded(),
        sa.CheckConstraint(
            "in_force_to IS NULL OR in_force_from <= in_force_to", name="rule_set_period_ordered"
        ),
        sa.CheckConstraint("jsonb_typeof(basis) = 'array'", name="rule_set_basis_is_list"),
        sa.CheckConstraint("jsonb_typeof(parameters) = 'object'", name="rule_set_parameters_is_object"),
        postgresql.ExcludeConstraint(
            (sa.text("daterange(in_force_from, in_force_to, '[]')"), "&&"),
            using="gist",
            name="rule_sets_no_overlap",
        ),
    )
    op.create_table(
        "award_types",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("code", sa.String(length=60), nullable=False, unique=True),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("kind", sa.String(length=30), nullable=False),
        sa.Column("recipient", sa.String(length=20), nullable=False),
        sa.Column("level", sa.String(length=20), nullable=False),
        sa.Column("authority", sa.String(length=200), nullable=False),
        sa.Column("requires_vote", sa.Boolean(), nullable=False),
        sa.Column("approval_class", sa.String(length=10), nullable=False),
        sa.Column("standard_of", sa.String(length=60), sa.ForeignKey("award_types.code"), nullable=True),
        sa.Column("rules", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("basis", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        *_recorded(),
        sa.CheckConstraint("kind IN ('flag', 'certificate_of_merit', 'title')", name="award_kind_known"),
        sa.CheckConstraint("recipient IN ('collective', 'individual')", name="award_recipient_known"),
        sa.CheckConstraint("level IN ('government', 'ministry')", name="award_level_known"),
        sa.CheckConstraint("approval_class IN ('standard', 'high')", name="approval_class_known"),
        sa.CheckConstraint("jsonb_typeof(rules) = 'array'", name="award_type_rules_is_list"),
    )
    op.create_table(
        "proceedings",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("unit_id", sa.Integer(), sa.ForeignKey("units.id"), nullable=False),
        sa.Column("kind", sa.String(length=30), nullable=False),
        sa.Column("opened_on", sa.Date(), nullable=False),
        sa.Column("closed_on", sa.Date(), nullable=True),
        sa.Column("reference", sa.String(length=300), nullable=True),
        sa.Column("note", sa.String(length=2000), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        *_recorded(version=False),
        sa.CheckConstraint(
            "kind IN ('disciplinary_review', 'investigation', 'inspection', 'complaint')",
            name="proceeding_kind_known",
        ),
        sa.CheckConstraint("closed_on IS NULL OR opened_on <= closed_on", name="proceeding_period_ordered"),
    )
    op.create_index("ix_proceedings_unit_id", "proceedings", ["unit_id"])
    op.create_table(
        "awards",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("award_type", sa.String(length=60), sa.ForeignKey("award_types.code"), nullable=False),
        sa.Column("unit_id", sa.Integer(), sa.ForeignKey("units.id"), nullable=False),
        sa.Column("emulation_year", sa.Integer(), nullable=False),
        sa.Column("cluster_id", sa.Integer(), sa.ForeignKey("clusters.id"), nullable=True),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("rule_set", sa.String(length=60), sa.ForeignKey("rule_sets.code"), nullable=True),
        sa.Column(
            "vote_id",
            sa.Integer(),
            nullable=True,
            comment="The nomination vote; its foreign key comes with the votes table.",
        ),
        sa.Column("standings_version", sa.Integer(), nullable=True),
        sa.Column("nominated_on", sa.Date(), nullable=False),
        sa.Column("attested", sa.Boolean(), nullable=False),
        sa.Column("source", postgresql.JSONB(astext_type=sa.Text()), nullable=True),
        sa.Column("rule_checks", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        *_recorded(version=False),
        sa.CheckConstraint(f"status IN ({_STATUSES})", name="award_status_known"),
        sa.CheckConstraint("emulation_year BETWEEN 2000 AND 2100", name="award_year_plausible"),
        sa.CheckConstraint("jsonb_typeof(rule_checks) = 'array'", name="award_rule_checks_is_list"),
    )
    op.create_index("ix_awards_award_type", "awards", ["award_type"])
    op.create_index("ix_awards_unit_id", "awards", ["unit_id"])
    op.create_index("ix_awards_cluster_id", "awards", ["cluster_id"])
    op.create_index(
        "awards_one_per_achievement",
        "awards",
        ["award_type", "unit_id", "emulation_year"],
        unique=True,
        postgresql_where=sa.text("status NOT IN ('refused', 'revoked')"),
    )
    op.create_table(
        "award_transitions",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("award_id", sa.Integer(), sa.ForeignKey("awards.id"), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("from_status", sa.String(length=20), nullable=True),
        sa.Column("to_status", sa.String(length=20), nullable=False),
        sa.Column("decided_on", sa.Date(), nullable=False),
        sa.Column("decision_number", sa.String(length=100), nullable=True),
        sa.Column("authority", sa.String(length=200), nullable=True),
        sa.Column("reason", sa.String(length=2000), nullable=True),
        *_recorded(version=False),
        sa.CheckConstraint("position >= 1", name="transition_position_positive"),
        sa.CheckConstraint(f"to_status IN ({_STATUSES})", name="transition_status_known"),
        sa.CheckConstraint("(position = 1) = (from_status IS NULL)", name="transition_first_has_no_origin"),
        sa.UniqueConstraint("award_id", "position", name="award_transitions_award_id_position_key"),
    )
    op.create_table(
        "award_documents",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("award_id", sa.Integer(), sa.ForeignKey("awards.id"), nullable=False),
        sa.Column("filename", sa.String(length=200), nullable=False),
        sa.Column("content_type", sa.String(length=120), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("content", sa.LargeBinary(), nullable=False),
        *_recorded(version=False),
        sa.CheckConstraint("size = octet_length(content)", name="document_size_matches"),
        sa.CheckConstraint("sha256 ~ '^[0-9a-f]{64}$'", name="document_sha256_format"),
    )
    op.create_index("ix_award_documents_award_id", "award_documents", ["award_id"])
    op.create_table(
        "award_dossier_items",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("transition_id", sa.Integer(), sa.ForeignKey("award_transitions.id"), nullable=False),
        sa.Column("title", sa.String(length=300), nullable=False),
        sa.Column("document_id", sa.Integer(), sa.ForeignKey("award_documents.id"), nullable=True),
        sa.Column("reference", sa.String(length=500), nullable=True),
        sa.Column("due_on", sa.Date(), nullable=True),
        sa.CheckConstraint(
            "document_id IS NOT NULL OR reference IS NOT NULL", name="dossier_item_document_or_reference"
        ),
    )
    op.create_index("ix_award_dossier_items_transition_id", "award_dossier_items", ["transition_id"])


def downgrade() -> None:
    op.drop_table("award_dossier_items")
    op.drop_table("award_documents")
    op.drop_table("award_transitions")
    op.drop_table("awards")
    op.drop_table("proceedings")
    op.drop_table("award_types")
    op.drop_table("rule_sets")
