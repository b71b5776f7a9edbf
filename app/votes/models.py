"""Nomination votes. Who voted (`vote_participations`) and what was voted live in tables with no
link between them: no foreign key from one to the other, no serial id, no timestamp. A ballot is
a sealed blob (`vote_sealed_ballots`), written with its participation in one transaction and
opened only when the round closes, which adds it to the round's sums (`vote_round_tallies`)
(`app/votes/ballots.py` explains the design and its threat model)."""

from datetime import date
from enum import StrEnum
from typing import Any

from sqlalchemy import CheckConstraint, Column, ForeignKeyConstraint, PrimaryKeyConstraint
from sqlalchemy.dialects.postgresql import JSONB
from sqlmodel import Field, SQLModel

from app.core.models import Versioned


class VoteState(StrEnum):
    open = "open"
    closed = "closed"
    void = "void"


class RoundState(StrEnum):
    open = "open"
    counted = "counted"
    void = "void"


class ChairReason(StrEnum):
    leader = "leader"
    """The year's leader (Cụm trưởng), existing on the meeting day."""
    leader_successor = "leader_successor"
    """The leader ceased before the meeting; its successor, a voter of this vote, chairs."""
    deputy = "deputy"
    """The leader ceased and no successor of it votes here: the deputy (Cụm phó) chairs."""
    no_leadership = "no_leadership"
    """No leadership recorded for the year, or neither holder can chair."""


class AttendanceKind(StrEnum):
    present = "present"
    written = "written"
    """Absent, voting in writing (where the rule set's `absent_written_votes_count` allows)."""


class BallotMethod(StrEnum):
    electronic = "electronic"
    """Cast with the voting unit's own key."""
    paper = "paper"
    """Put in the box on paper, entered anonymously by the cluster's secretariat."""


class Vote(Versioned, table=True):
    """A cluster's secret nomination vote for one award type and emulation year."""

    __tablename__ = "votes"
    __table_args__ = (
        CheckConstraint("emulation_year BETWEEN 2000 AND 2100", name="vote_year_plausible"),
        CheckConstraint("seats BETWEEN 1 AND 50", name="vote_seats_positive"),
        CheckConstraint("EXTRACT(YEAR FROM held_on) >= emulation_year", name="vote_held_after_year_began"),
        CheckConstraint("state IN ('open', 'closed', 'void')", name="vote_state_known"),
        CheckConstraint(
            "chair_reason IN ('leader', 'leader_successor', 'deputy', 'no_leadership')",
            name="vote_chair_reason_known",
        ),
        CheckConstraint(
            "(chair_unit_id IS NULL) = (chair_reason = 'no_leadership')", name="vote_chair_has_reason"
        ),
        CheckConstraint("current_round >= 1", name="vote_round_positive"),
        CheckConstraint("jsonb_typeof(parameters) = 'object'", name="vote_parameters_is_object"),
    )

    id: int | None = Field(default=None, primary_key=True)
    cluster_id: int = Field(foreign_key="clusters.id", index=True)
    emulation_year: int
    award_type: str = Field(max_length=60, foreign_key="award_types.code")
    seats: int
    held_on: date
    rule_set: str = Field(max_length=60, foreign_key="rule_sets.code")
    rule_set_version: int
    parameters: dict[str, Any] = Field(sa_column=Column(JSONB, nullable=False))
    """The rule-set parameters the vote applies, as they were when it was created."""
    standings_version: int | None = None
    standings_frozen: bool = False
    freeze_number: int | None = None
    chair_unit_id: int | None = Field(default=None, foreign_key="units.id")
    chair_reason: str = Field(max_length=20)
    state: str = Field(default="open", max_length=10)
    state_reason: str | None = Field(default=None, max_length=40)
    current_round: int = 1
    note: str | None = Field(default=None, max_length=2000)
    conference_id: int | None = Field(default=None, foreign_key="conferences.id", index=True)
    """The conference it was held at, one of the cluster in the emulation year."""


class VoteCandidate(SQLModel, table=True):
    """A candidate, with what its nomination checks found when the vote was created."""

    __tablename__ = "vote_candidates"
    __table_args__ = (
        PrimaryKeyConstraint("vote_id", "unit_id"),
        CheckConstraint("position >= 1", name="vote_candidate_position_positive"),
        CheckConstraint("jsonb_typeof(rule_checks) = 'array'", name="vote_candidate_checks_is_list"),
    )

    vote_id: int = Field(foreign_key="votes.id")
    unit_id: int = Field(foreign_key="units.id")
    position: int
    women_preference: bool | None = None
    rank: int | None = None
    rule_checks: list[dict[str, Any]] = Field(sa_column=Column(JSONB, nullable=False))


class VoteVoter(SQLModel, table=True):
    """An eligible voter: a member unit of the cluster that year existing on the meeting day."""

    __tablename__ = "vote_voters"
    __table_args__ = (PrimaryKeyConstraint("vote_id", "unit_id"),)

    vote_id: int = Field(foreign_key="votes.id")
    unit_id: int = Field(foreign_key="units.id")


class VoteRound(SQLModel, table=True):
    """A round of the vote: its seats, its state and, once closed, its published result."""

    __tablename__ = "vote_rounds"
    __table_args__ = (
        PrimaryKeyConstraint("vote_id", "round"),
        CheckConstraint("round >= 1", name="vote_round_number_positive"),
        CheckConstraint("seats >= 1", name="vote_round_seats_positive"),
        CheckConstraint("state IN ('open', 'counted', 'void')", name="vote_round_state_known"),
        CheckConstraint("(state = 'open') = (result IS NULL)", name="vote_round_result_when_closed"),
    )

    vote_id: int = Field(foreign_key="votes.id")
    round: int
    seats: int
    state: str = Field(default="open", max_length=10)
    result: dict[str, Any] | None = Field(default=None, sa_column=Column(JSONB, nullable=True))


class VoteAttendance(SQLModel, table=True):
    """Who is present for a round, or absent and voting in writing (public)."""

    __tablename__ = "vote_attendance"
    __table_args__ = (
        PrimaryKeyConstraint("vote_id", "round", "unit_id"),
        ForeignKeyConstraint(["vote_id", "round"], ["vote_rounds.vote_id", "vote_rounds.round"]),
        ForeignKeyConstraint(["vote_id", "unit_id"], ["vote_voters.vote_id", "vote_voters.unit_id"]),
        CheckConstraint("kind IN ('present', 'written')", name="vote_attendance_kind_known"),
    )

    vote_id: int
    round: int
    unit_id: int
    kind: str = Field(max_length=10)


class VoteParticipation(SQLModel, table=True):
    """Who voted in a round, and how: never what. One per voter and round (the primary key
    decides a race between two ballots of one voter). No id, no timestamp, and no link to the
    tallies."""

    __tablename__ = "vote_participations"
    __table_args__ = (
        PrimaryKeyConstraint("vote_id", "round", "unit_id"),
        ForeignKeyConstraint(
            ["vote_id", "round", "unit_id"],
            ["vote_attendance.vote_id", "vote_attendance.round", "vote_attendance.unit_id"],
        ),
        CheckConstraint("method IN ('electronic', 'paper')", name="vote_participation_method_known"),
    )

    vote_id: int
    round: int
    unit_id: int
    method: str = Field(max_length=10)
    note: str | None = Field(default=None, max_length=2000)


class VoteRoundTally(SQLModel, table=True):
    """What was voted, only as the sum: approvals per candidate of a round, written when the
    round closes (rounds counted before 2.0.0 were summed ballot by ballot)."""

    __tablename__ = "vote_round_tallies"
    __table_args__ = (
        PrimaryKeyConstraint("vote_id", "round", "candidate_unit_id"),
        ForeignKeyConstraint(["vote_id", "round"], ["vote_rounds.vote_id", "vote_rounds.round"]),
        ForeignKeyConstraint(
            ["vote_id", "candidate_unit_id"], ["vote_candidates.vote_id", "vote_candidates.unit_id"]
        ),
        CheckConstraint("approvals >= 0", name="vote_tally_not_negative"),
    )

    vote_id: int
    round: int
    candidate_unit_id: int
    approvals: int = 0


class VoteSealedBallot(SQLModel, table=True):
    """A ballot, sealed (`app/votes/seal.py`): every one the same size, unreadable without the
    seal key, kept only until its round closes. No caster, no id, no timestamp: its key is the
    blob itself (random nonce)."""

    __tablename__ = "vote_sealed_ballots"
    __table_args__ = (
        PrimaryKeyConstraint("vote_id", "round", "sealed"),
        ForeignKeyConstraint(["vote_id", "round"], ["vote_rounds.vote_id", "vote_rounds.round"]),
        CheckConstraint("octet_length(sealed) = 45", name="vote_sealed_ballot_fixed_size"),
    )

    vote_id: int
    round: int
    sealed: bytes


class VoteBallotBox(SQLModel, table=True):
    """How many ballots a round holds, counted with the participations (same transaction)."""

    __tablename__ = "vote_ballot_boxes"
    __table_args__ = (
        PrimaryKeyConstraint("vote_id", "round"),
        ForeignKeyConstraint(["vote_id", "round"], ["vote_rounds.vote_id", "vote_rounds.round"]),
        CheckConstraint("ballots_cast >= 0", name="vote_ballots_not_negative"),
        CheckConstraint(
            "ballots_sealed >= 0 AND ballots_sealed <= ballots_cast", name="vote_ballots_sealed_counted"
        ),
    )

    vote_id: int
    round: int
    ballots_cast: int = 0
    ballots_sealed: int = Field(default=0, sa_column_kwargs={"server_default": "0"})
    """Of those, the ones stored sealed (since 2.0.0): closing opens exactly as many, or refuses."""
