"""Idempotent replays carry the first answer's representation headers, and no stored answer
keeps a secret: raw API keys already kept in idempotency records are erased.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-26
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("idempotency_records", sa.Column("headers", sa.JSON(), nullable=True))
    # Answers to `POST /v1/keys` were stored whole, the raw key included. Keep the record
    # (a retry still replays it) but never the secret.
    op.execute(
        """
        UPDATE idempotency_records
        SET body = (body::jsonb || '{"key": null}'::jsonb)::json
        WHERE json_typeof(body) = 'object' AND body::jsonb ? 'key_prefix' AND body::jsonb ? 'key'
        """
    )
    op.create_index("idempotency_records_created_at_idx", "idempotency_records", ["created_at"])
    # The UPDATE leaves the old row versions (with the raw keys) on disk until a vacuum: run it now.
    with op.get_context().autocommit_block():
        op.execute("VACUUM idempotency_records")


def downgrade() -> None:
    op.drop_index("idempotency_records_created_at_idx", table_name="idempotency_records")
    op.drop_column("idempotency_records", "headers")
