"""Units become correctable records: version, who recorded them and when, and the reference
row each was loaded from (so the loader recognises a unit after its code or name is corrected).

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-25
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("units", sa.Column("reference_key", sa.String(length=40), nullable=True))
    op.add_column("units", sa.Column("version", sa.Integer(), server_default="1", nullable=False))
    op.add_column(
        "units",
        sa.Column("recorded_by", sa.String(length=160), server_default="reference-data", nullable=False),
    )
    op.add_column(
        "units",
        sa.Column("recorded_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
    )
    # Units opened by a succession someone recorded through the API did not come from the
    # reference files; every other unit did, under its code and first day.
    op.execute(
        """
        UPDATE units SET reference_key = code || '@' || coalesce(valid_from::text, '')
        WHERE id NOT IN (SELECT successor_id FROM successions WHERE recorded_by <> 'reference-data')
        """
    )
    op.create_unique_constraint("units_reference_key_key", "units", ["reference_key"])


def downgrade() -> None:
    op.drop_constraint("units_reference_key_key", "units", type_="unique")
    op.drop_column("units", "recorded_at")
    op.drop_column("units", "recorded_by")
    op.drop_column("units", "version")
    op.drop_column("units", "reference_key")
