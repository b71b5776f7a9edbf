"""Secret nomination votes: votes, their candidates, voters and rounds, attendance, who voted
(`vote_participations`) and what was voted, only as sums (`vote_round_tallies`,
`vote_ballot_boxes`), with nothing linking the two; and the foreign key from awards to votes.

Revision ID: 0013
Revises: 0012
Create Date: 2026-11-26
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "votes",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("cluster_id", sa.Integer(), sa.ForeignKey("clusters.id"), nullable=False),
        sa.Column("emulation_year", sa.Integer(), nullable=False),
        sa.Column("award_type", sa.String(length=60), sa.ForeignKey("award_types.code"), nullable=False),
        sa.Column("seats", sa.Integer(), nullable=False),
        sa.Column("held_on", sa.Date(), nullable=False),
        sa.Column("rule_set", sa.String(length=60), sa.ForeignKey("rule_sets.code"), nullable=False),
        sa.Column("rule_set_version", sa.Integer(), nullable=False),
        sa.Column("parameters", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("standings_version", sa.Integer(), nullable=True),
        sa.Column("standings_frozen", sa.Boolean(), nullable=False),
        sa.Column("freeze_number", sa.Integer(), nullable=True),
        sa.Column("chair_unit_id", sa.Integer(), sa.ForeignKey("units.id"), nullable=True),
        sa.Column("chair_reason", sa.String(length=20), nullable=False),
        sa.Column("state", sa.String(length=10), nullable=False),
        sa.Column("state_reason", sa.String(length=40), nullable=True),
        sa.Column("current_round", sa.Integer(), nullable=False),
        sa.Column("note", sa.String(length=2000), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("recorded_by", sa.String(length=160), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.CheckConstraint("emulation_year BETWEEN 2000 AND 2100", name="vote_year_plausible"),
        sa.CheckConstraint("seats BETWEEN 1 AND 50", name="vote_seats_positive"),
        sa.CheckConstraint("EXTRACT(YEAR FROM held_on) >= emulation_year", name="vote_held_after_year_began"),
        sa.CheckConstraint("state IN ('open', 'closed', 'void')", name="vote_state_known"),
        sa.CheckConstraint(
            "chair_reason IN ('leader', 'leader_successor', 'deputy', 'no_leadership')",
            name="vote_chair_reason_known",
        ),
        sa.CheckConstraint(
            "(chair_unit_id IS NULL) = (chair_reason = 'no_leadership')", name="vote_chair_has_reason"
        ),
        sa.CheckConstraint("current_round >= 1", name="vote_round_positive"),
        sa.CheckConstraint("jsonb_typeof(parameters) = 'object'", name="vote_parameters_is_object"),
    )
    op.create_index("ix_votes_cluster_id", "votes", ["cluster_id"])
    op.create_table(
        "vote_candidates",
        sa.Column("vote_id", sa.Integer(), sa.ForeignKey("votes.id"), nullable=False),
        sa.Column("unit_id", sa.Integer(), sa.ForeignKey("units.id"), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("women_preference", sa.Boolean(), nullable=True),
        sa.Column("rank", sa.Integer(), nullable=True),
        sa.Column("rule_checks", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.PrimaryKeyConstraint("vote_id", "unit_id"),
        sa.CheckConstraint("position >= 1", name="vote_candidate_position_positive"),
        sa.CheckConstraint("jsonb_typeof(rule_checks) = 'array'", name="vote_candidate_checks_is_list"),
    )
    op.create_table(
        "vote_voters",
        sa.Column("vote_id", sa.Integer(), sa.ForeignKey("votes.id"), nullable=False),
        sa.Column("unit_id", sa.Integer(), sa.ForeignKey("units.id"), nullable=False),
        sa.PrimaryKeyConstraint("vote_id", "unit_id"),
    )
    op.create_table(
        "vote_rounds",
        sa.Column("vote_id", sa.Integer(), sa.ForeignKey("votes.id"), nullable=False),
        sa.Column("round", sa.Integer(), nullable=False),
        sa.Column("seats", sa.Integer(), nullable=False),
        sa.Column("state", sa.String(length=10), nullable=False),
        sa.Column("result", postgresql.JSONB(astext_type=sa.Text()), nullable=True),
        sa.PrimaryKeyConstraint("vote_id", "round"),
        sa.CheckConstraint("round >= 1", name="vote_round_number_positive"),
        sa.CheckConstraint("seats >= 1", name="vote_round_seats_positive"),
        sa.CheckConstraint("state IN ('open', 'counted', 'void')", name="vote_round_state_known"),
        sa.CheckConstraint("(state = 'open') = (result IS NULL)", name="vote_round_result_when_closed"),
    )
    op.create_table(
        "vote_attendance",
        sa.Column("vote_id", sa.Integer(), nullable=False),
        sa.Column("round", sa.Integer(), nullable=False),
        sa.Column("unit_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=10), nullable=False),
        sa.PrimaryKeyConstraint("vote_id", "round", "unit_id"),
        sa.ForeignKeyConstraint(["vote_id", "round"], ["vote_rounds.vote_id", "vote_rounds.round"]),
        sa.ForeignKeyConstraint(["vote_id", "unit_id"], ["vote_voters.vote_id", "vote_voters.unit_id"]),
        sa.CheckConstraint("kind IN ('present', 'written')", name="vote_attendance_kind_known"),
    )
    op.create_table(
        "vote_participations",
        sa.Column("vote_id", sa.Integer(), nullable=False),
        sa.Column("round", sa.Integer(), nullable=False),
        sa.Column("unit_id", sa.Integer(), nullable=False),
        sa.Column("method", sa.String(length=10), nullable=False),
        sa.Column("note", sa.String(length=2000), nullable=True),
        sa.PrimaryKeyConstraint("vote_id", "round", "unit_id"),
        sa.ForeignKeyConstraint(
            ["vote_id", "round", "unit_id"],
            ["vote_attendance.vote_id", "vote_attendance.round", "vote_attendance.unit_id"],
        ),
        sa.CheckConstraint("method IN ('electronic', 'paper')", name="vote_participation_method_known"),
    )
    op.create_table(
        "vote_round_tallies",
        sa.Column("vote_id", sa.Integer(), nullable=False),
        sa.Column("round", sa.Integer(), nullable=False),
        sa.Column("candidate_unit_id", sa.Integer(), nullable=False),
        sa.Column("approvals", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("vote_id", "round", "candidate_unit_id"),
        sa.ForeignKeyConstraint(["vote_id", "round"], ["vote_rounds.vote_id", "vote_rounds.round"]),
        sa.ForeignKeyConstraint(
            ["vote_id", "candidate_unit_id"], ["vote_candidates.vote_id", "vote_candidates.unit_id"]
        ),
        sa.CheckConstraint("approvals >= 0", name="vote_tally_not_negative"),
    )
    op.create_table(
        "vote_ballot_boxes",
        sa.Column("vote_id", sa.Integer(), nullable=False),
        sa.Column("round", sa.Integer(), nullable=False),
        sa.Column("ballots_cast", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("vote_id", "round"),
        sa.ForeignKeyConstraint(["vote_id", "round"], ["vote_rounds.vote_id", "vote_rounds.round"]),
        sa.CheckConstraint("ballots_cast >= 0", name="vote_ballots_not_negative"),
    )
    op.alter_column("awards", "vote_id", existing_type=sa.Integer(), comment=None, existing_nullable=True)
    op.create_foreign_key("awards_vote_id_fkey", "awards", "votes", ["vote_id"], ["id"])
    op.create_index("ix_awards_vote_id", "awards", ["vote_id"])


def downgrade() -> None:
    op.drop_index("ix_awards_vote_id", table_name="awards")
    op.drop_constraint("awards_vote_id_fkey", "awards", type_="foreignkey")
    op.alter_column(
        "awards",
        "vote_id",
        existing_type=sa.Integer(),
        comment="The nomination vote; its foreign key comes with the votes table.",
        existing_nullable=True,
    )
    for name in (
        "vote_ballot_boxes",
        "vote_round_tallies",
        "vote_participations",
        "vote_attendance",
        "vote_rounds",
        "vote_voters",
        "vote_candidates",
    ):
        op.drop_table(name)
    op.drop_index("ix_votes_cluster_id", table_name="votes")
    op.drop_table("votes")
