"""Sealed ballots: each ballot stored once, with its participation, as a fixed-size blob sealed
with a key outside the database, and opened into the round's sums when the round closes
(`app/votes/seal.py`); the box counts the sealed ones apart, so that closing notices one gone.
Rounds already open keep the sums their earlier ballots added.

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-07
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0014"
down_revision: str | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "vote_sealed_ballots",
        sa.Column("vote_id", sa.Integer(), nullable=False),
        sa.Column("round", sa.Integer(), nullable=False),
        sa.Column("sealed", sa.LargeBinary(), nullable=False),
        sa.PrimaryKeyConstraint("vote_id", "round", "sealed"),
        sa.ForeignKeyConstraint(["vote_id", "round"], ["vote_rounds.vote_id", "vote_rounds.round"]),
        sa.CheckConstraint("octet_length(sealed) = 45", name="vote_sealed_ballot_fixed_size"),
    )
    op.add_column(
        "vote_ballot_boxes",
        sa.Column("ballots_sealed", sa.Integer(), nullable=False, server_default="0"),
    )
    op.create_check_constraint(
        "vote_ballots_sealed_counted",
        "vote_ballot_boxes",
        "ballots_sealed >= 0 AND ballots_sealed <= ballots_cast",
    )


def downgrade() -> None:
    op.drop_constraint("vote_ballots_sealed_counted", "vote_ballot_boxes", type_="check")
    op.drop_column("vote_ballot_boxes", "ballots_sealed")
    op.drop_table("vote_sealed_ballots")
