"""One shape for recorded rows (`app.core.models.Recorded` / `Versioned`): every versioned table's
`version` defaults to 1 in the database too (ten tables had the default in Python only), and a
key's `created_by` holds a whole actor text (160 characters, as every `recorded_by`; 120 could
not hold `key:<id>:` and a 120-character key name).

Idempotency records belong to a caller, not to an API key: `owner` is the caller's
`rate_limit_key` (`key:7` for a key, as the records already stored are rewritten), so that a
person signed in with a token has `Idempotency-Key`s of their own.

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-07
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0015"
down_revision: str | None = "0014"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

VERSIONED_WITHOUT_DEFAULT = (
    "awards",
    "clusters",
    "covenants",
    "leaderships",
    "memberships",
    "proceedings",
    "reported_figure_sets",
    "score_sheets",
    "scoring_frameworks",
    "votes",
)


def upgrade() -> None:
    for table in VERSIONED_WITHOUT_DEFAULT:
        op.alter_column(table, "version", server_default=sa.text("1"))
    op.alter_column("api_keys", "created_by", type_=sa.String(160), existing_nullable=False)
    op.add_column("idempotency_records", sa.Column("owner", sa.String(160), nullable=True))
    op.execute("UPDATE idempotency_records SET owner = 'key:' || api_key_id")
    op.alter_column("idempotency_records", "owner", nullable=False)
    op.drop_constraint("idempotency_records_api_key_id_key_key", "idempotency_records", type_="unique")
    op.drop_column("idempotency_records", "api_key_id")  # its foreign key goes with it
    op.create_unique_constraint("idempotency_records_owner_key_key", "idempotency_records", ["owner", "key"])


def downgrade() -> None:
    op.add_column("idempotency_records", sa.Column("api_key_id", sa.Integer(), nullable=True))
    op.execute("DELETE FROM idempotency_records WHERE owner NOT LIKE 'key:%'")
    op.execute("UPDATE idempotency_records SET api_key_id = substr(owner, 5)::int")
    op.alter_column("idempotency_records", "api_key_id", nullable=False)
    op.create_foreign_key(None, "idempotency_records", "api_keys", ["api_key_id"], ["id"])
    op.drop_constraint("idempotency_records_owner_key_key", "idempotency_records", type_="unique")
    op.drop_column("idempotency_records", "owner")
    op.create_unique_constraint(
        "idempotency_records_api_key_id_key_key", "idempotency_records", ["api_key_id", "key"]
    )
    op.alter_column("api_keys", "created_by", type_=sa.String(120), existing_nullable=False)
    for table in VERSIONED_WITHOUT_DEFAULT:
        op.alter_column(table, "version", server_default=None)
