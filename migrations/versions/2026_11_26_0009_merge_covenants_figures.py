"""Joins the two branches of the history written in parallel: covenants and reported figures
(0007) and unit figure sets (0008), both on the metric catalogue (0006). No schema change.

Revision ID: 0009
Revises: 0007, 0008
Create Date: 2026-11-26
"""

from collections.abc import Sequence

revision: str = "0009"
down_revision: str | tuple[str, ...] | None = ("0007", "0008")
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
