"""The people register (`/v1/people`): who signs in through an OpenID provider, by issuer and
subject, and the grants an admin gives them, read when OIDC_GRANTS_SOURCE is `register`.

`people` is versioned (every version in `revisions`); `person_grants` holds the grants of each
person's current version, in order, replaced whole with each version. A grant's scope fits its
role as an API key's does (a cluster for `cluster`, a unit for `unit`, nothing else), and names
its cluster or unit by a foreign key. Nothing is deleted: a person without grants stays.

Every name is spelled as `app.core.naming` names it.

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-07
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0017"
down_revision: str | None = "0016"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "people",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("issuer", sa.String(length=300), nullable=False),
        sa.Column("subject", sa.String(length=255), nullable=False),
        sa.Column("display_name", sa.String(length=120), nullable=False),
        sa.Column("note", sa.String(length=2000), nullable=True),
        sa.Column("version", sa.Integer(), server_default="1", nullable=False),
        sa.Column("recorded_by", sa.String(length=160), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.PrimaryKeyConstraint("id", name="people_pkey"),
        sa.UniqueConstraint("issuer", "subject", name="people_issuer_subject_key"),
    )
    op.create_table(
        "person_grants",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("role", sa.String(length=16), nullable=False),
        sa.Column("cluster_id", sa.Integer(), nullable=True),
        sa.Column("unit_id", sa.Integer(), nullable=True),
        sa.PrimaryKeyConstraint("id", name="person_grants_pkey"),
        sa.ForeignKeyConstraint(
            ["person_id"], ["people.id"], name="person_grants_person_id_fkey", ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(["cluster_id"], ["clusters.id"], name="person_grants_cluster_id_fkey"),
        sa.ForeignKeyConstraint(["unit_id"], ["units.id"], name="person_grants_unit_id_fkey"),
        sa.UniqueConstraint("person_id", "position", name="person_grants_person_id_position_key"),
        sa.CheckConstraint("position >= 1", name="person_grants_position_positive"),
        sa.CheckConstraint("role IN ('admin', 'cluster', 'unit', 'reader')", name="person_grants_role_known"),
        sa.CheckConstraint(
            "(role = 'cluster') = (cluster_id IS NOT NULL)", name="person_grants_cluster_scope"
        ),
        sa.CheckConstraint("(role = 'unit') = (unit_id IS NOT NULL)", name="person_grants_unit_scope"),
    )
    op.create_index("person_grants_cluster_id_idx", "person_grants", ["cluster_id"])
    op.create_index("person_grants_unit_id_idx", "person_grants", ["unit_id"])


def downgrade() -> None:
    op.drop_table("person_grants")  # its indexes go with it
    op.drop_table("people")
