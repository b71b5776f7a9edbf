"""Where a metric of the catalogue comes from: `metrics.source`, the title and address of a
public article or document in which covenants or reports of the movement count it. Nullable:
a metric an admin creates may name none. Adding a nullable column rewrites no data.

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-07
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0020"
down_revision: str | None = "0019"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("metrics", sa.Column("source", sa.String(length=1000), nullable=True))


def downgrade() -> None:
    op.drop_column("metrics", "source")
