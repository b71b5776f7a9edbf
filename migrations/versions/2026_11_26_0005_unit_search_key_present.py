"""Every unit can be found by name: its search key is never empty (as for aliases).

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-26
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_check_constraint("search_key_present", "units", "search_key <> ''")


def downgrade() -> None:
    op.drop_constraint("search_key_present", "units", type_="check")
