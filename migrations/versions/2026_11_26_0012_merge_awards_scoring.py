"""Joins the two branches of the history written in parallel: rule sets, the award catalogue,
proceedings and the awards register (0010), and the scoring framework, scores and standings
freezes (0011), both on 0009. No schema change.

Revision ID: 0012
Revises: 0010, 0011
Create Date: 2026-11-26
"""

from collections.abc import Sequence

revision: str = "0012"
down_revision: str | tuple[str, ...] | None = ("0010", "0011")
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
