from datetime import date, datetime
from typing import Annotated, Any, Self

from pydantic import BaseModel, ConfigDict, Field, StrictBool, model_validator

from app.awards.schemas import AWARD_TYPE_CODE, NominationRefusal, RuleCheck
from app.conferences.schemas import CONFERENCE_ID
from app.core.i18n import Localized, _
from app.core.types import Integer, IsoDate, Text
from app.rules.schemas import Citation, Confidence, RuleSetMissing
from app.units.examples import THAI_BINH
from app.units.schemas import UnitRef
from app.votes.models import BallotMethod, ChairReason, RoundState, VoteState

UnitIdIn = Annotated[int, Integer, Field(ge=1, le=2_147_483_647)]

_HUNG_YEN_2024 = {"id": 21, "code": "33", "name": "Hưng Yên", "valid_from": None, "valid_to": "2025-06-30"}
_NAM_DINH = {"id": 23, "code": "36", "name": "Nam Định", "valid_from": None, "valid_to": "2025-06-30"}


def _distinct(values: list[int]) -> bool:
    return len(set(values)) == len(values)


class CandidateIn(BaseModel):
    model_config = ConfigDict(
        extra="forbid", json_schema_extra={"example": {"unit_id": 23, "women_preference": None}}
    )

    unit_id: UnitIdIn
    women_preference: StrictBool | None = Field(
        default=None,
        description="True: a collective with at least 70% women (Decree 152/2025 art. 4, a tie-breaker); "
        "null: not known.",
    )


class VoteCreate(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "example": {
                "cluster": 5,
                "emulation_year": 2024,
                "award_type": "ministry_flag",
                "seats": 2,
                "held_on": "2024-11-25",
                "candidates": [
                    {"unit_id": 21, "women_preference": None},
                    {"unit_id": 22, "women_preference": None},
                ],
                "note": "Hội nghị tổng kết năm 2024, Công an tỉnh Hưng Yên",
                "conference_id": None,
            }
        },
    )

    cluster: Integer = Field(ge=1, le=999, description="The cluster's number.")
    emulation_year: Integer = Field(ge=2000, le=2100, description="The year judged; it chooses the rule set.")
    award_type: str = Field(pattern=AWARD_TYPE_CODE, description="An award type a vote proposes.")
    seats: Integer = Field(ge=1, le=50, description="How many units the vote may put forward.")
    held_on: IsoDate = Field(description="The meeting day; not before the emulation year.")
    candidates: list[CandidateIn] = Field(min_length=1, max_length=50)
    note: Text | None = Field(default=None, max_length=2000)
    conference_id: Integer | None = CONFERENCE_ID

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        if not _distinct([c.unit_id for c in self.candidates]):
            raise ValueError(_("A unit is named twice among the candidates."))
        if self.seats > len(self.candidates):
            raise ValueError(_("There are more seats than candidates."))
        if self.held_on.year < self.emulation_year:
            raise ValueError(_("The vote is held before its emulation year begins."))
        return self


class AttendanceIn(BaseModel):
    model_config = ConfigDict(
        extra="forbid", json_schema_extra={"example": {"present": [21, 22, 23, 24], "written": [25]}}
    )

    present: list[UnitIdIn] = Field(max_length=100, description="Voters present at the meeting.")
    written: list[UnitIdIn] = Field(
        default_factory=list,
        max_length=100,
        description="Voters absent who vote in writing (only where the rule set counts such votes).",
    )

    @model_validator(mode="after")
    def _disjoint(self) -> Self:
        everyone = [*self.present, *self.written]
        if not _distinct(everyone):
            raise ValueError(_("A voter is named twice in the attendance."))
        return self


class BallotIn(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"example": {"approvals": [23]}})

    approvals: list[UnitIdIn] = Field(
        max_length=50, description="The candidates this ballot approves: at most the round's seats."
    )

    @model_validator(mode="after")
    def _distinct_approvals(self) -> Self:
        if not _distinct(self.approvals):
            raise ValueError(_("A ballot approves each candidate at most once."))
        return self


class PaperBallotsIn(BaseModel):
    """Paper ballots taken out of the box: who put one in, and the ballots, with nothing pairing
    them (the order of one list says nothing about the other)."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "example": {
                "voters": [21, 22, 24],
                "ballots": [[23], [23, 21], []],
                "note": "Phiếu giấy kiểm tại hội nghị; biên bản kiểm phiếu số 1",
            }
        },
    )

    voters: list[UnitIdIn] = Field(min_length=1, max_length=100)
    ballots: list[Annotated[list[UnitIdIn], Field(max_length=50)]] = Field(min_length=1, max_length=100)
    note: Text | None = Field(default=None, max_length=2000)

    @model_validator(mode="after")
    def _as_many(self) -> Self:
        if not _distinct(self.voters):
            raise ValueError(_("A voter is named twice."))
        if len(self.ballots) != len(self.voters):
            raise ValueError(_("There must be as many ballots as voters who put one in the box."))
        if not all(_distinct(b) for b in self.ballots):
            raise ValueError(_("A ballot approves each candidate at most once."))
        return self


class CloseIn(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"example": {"chair_choice": []}})

    chair_choice: list[UnitIdIn] = Field(
        default_factory=list,
        max_length=50,
        description="Where the rule set's tie-breakers end with the chair's vote and a tie remains "
        "across the last seat: the tied candidates the chair chooses, as many as the seats left.",
    )

    @model_validator(mode="after")
    def _distinct_choice(self) -> Self:
        if not _distinct(self.chair_choice):
            raise ValueError(_("The chair chooses each candidate at most once."))
        return self


class ParameterUsed(BaseModel):
    """A rule-set parameter a vote applies, with its value, how sure we are of it and its basis."""

    name: str
    value: Any
    confidence: Confidence
    basis: Citation


class VoteCandidateOut(BaseModel):
    unit: UnitRef
    women_preference: bool | None
    rank: int | None = Field(description="In the standings the vote relied on; null: not ranked or none.")
    rule_checks: list[RuleCheck] = Field(description="The nomination checks when the vote was created.")


class ChairOut(BaseModel):
    unit: UnitRef | None
    reason: ChairReason
    remark: Localized = Field(description="Why this unit chairs, in the request's language.")


class ParticipationOut(BaseModel):
    unit_id: int
    method: BallotMethod


class TallyOut(BaseModel):
    unit_id: int
    approvals: int
    passed: bool


class SeatOut(BaseModel):
    unit_id: int
    reason: str = Field(description="`approvals`, `women_preference`, `stronger_record` or `chair_vote`.")


class RoundResult(BaseModel):
    """A closed round's published result: counts per candidate, never a ballot."""

    outcome: str = Field(description="`counted` or `void_no_quorum`.")
    eligible: int
    present: int
    written: int = Field(description="Absent voters who voted in writing.")
    ballots: int
    quorum_met: bool
    quorum_minimum: int = Field(description="The fewest present for a valid meeting.")
    approval_base: int = Field(description="Of whom the share is counted (all eligible voters, or present).")
    approval_minimum: int = Field(description="The fewest approvals a candidate needs.")
    tallies: list[TallyOut]
    seats: list[SeatOut]
    seats_left: int
    breakers_used: list[str]
    chair_choice: list[int]
    nominations: list[int] = Field(description="The awards register's nominations made by this round.")


class RoundOut(BaseModel):
    round: int
    seats: int
    state: RoundState
    candidates: list[int] = Field(description="The candidates of this round (ids), in order.")
    present: list[int]
    written: list[int]
    participations: list[ParticipationOut] = Field(description="Who voted, and how; never what.")
    ballots_cast: int
    result: RoundResult | None = Field(description="Once the round is closed.")


_PARAMETER = {
    "name": "cluster_vote_share",
    "value": {"numerator": 4, "denominator": 5},
    "confidence": "unknown",
    "basis": {
        "document": "Nghị định 98/2023/NĐ-CP",
        "article": "art. 30(7)",
        "note": "The share a cluster's own nomination vote needs is not found; defaults to the "
        "council's 4/5.",
    },
}
_RESULT: dict[str, Any] = {
    "outcome": "counted",
    "eligible": 5,
    "present": 5,
    "written": 0,
    "ballots": 5,
    "quorum_met": True,
    "quorum_minimum": 4,
    "approval_base": 5,
    "approval_minimum": 4,
    "tallies": [
        {"unit_id": 21, "approvals": 5, "passed": True},
        {"unit_id": 22, "approvals": 4, "passed": True},
    ],
    "seats": [{"unit_id": 21, "reason": "approvals"}, {"unit_id": 22, "reason": "approvals"}],
    "seats_left": 0,
    "breakers_used": [],
    "chair_choice": [],
    "nominations": [3, 4],
}
_VOTE: dict[str, Any] = {
    "id": 1,
    "cluster": 5,
    "emulation_year": 2024,
    "award_type": "ministry_flag",
    "seats": 2,
    "held_on": "2024-11-25",
    "rule_set": "law-06-2022-decree-98-2023",
    "rule_set_version": 1,
    "threshold": _PARAMETER,
    "parameters": [_PARAMETER],
    "standings_version": 12,
    "standings_frozen": True,
    "freeze_number": 1,
    "chair": {
        "unit": _HUNG_YEN_2024,
        "reason": "leader",
        "remark": "Hưng Yên chủ trì với tư cách Cụm trưởng năm 2024.",
    },
    "state": "closed",
    "state_reason": "seats_filled",
    "current_round": 1,
    "candidates": [
        {"unit": _HUNG_YEN_2024, "women_preference": None, "rank": 2, "rule_checks": []},
        {"unit": THAI_BINH, "women_preference": None, "rank": 3, "rule_checks": []},
    ],
    "voters": [_HUNG_YEN_2024, THAI_BINH, _NAM_DINH],
    "rounds": [
        {
            "round": 1,
            "seats": 2,
            "state": "counted",
            "candidates": [21, 22],
            "present": [21, 22, 23],
            "written": [],
            "participations": [
                {"unit_id": 21, "method": "electronic"},
                {"unit_id": 22, "method": "paper"},
            ],
            "ballots_cast": 5,
            "result": _RESULT,
        }
    ],
    "note": None,
    "conference_id": None,
    "version": 3,
    "recorded_by": "key:4:Cụm thi đua số 5",
    "recorded_at": "2024-11-25T09:30:00Z",
}


class VoteOut(BaseModel):
    """A nomination vote: what it decides, the rule it applies (each parameter with its value,
    basis and confidence), who chairs, who may vote, each round's attendance, who voted, and the
    published result of each closed round. Never a ballot."""

    model_config = ConfigDict(json_schema_extra={"example": _VOTE})

    id: int
    cluster: int
    emulation_year: int
    award_type: str
    seats: int
    held_on: date
    rule_set: str = Field(description="The rule set of the emulation year (in force on its 31 December).")
    rule_set_version: int
    threshold: ParameterUsed = Field(description="The share a candidate needs, and which parameter it is.")
    parameters: list[ParameterUsed] = Field(description="Every rule-set parameter the vote applies.")
    standings_version: int | None = Field(description="The standings the candidates' ranks come from.")
    standings_frozen: bool
    freeze_number: int | None
    chair: ChairOut
    state: VoteState
    state_reason: str | None = Field(
        description="`no_quorum` (void), `seats_filled`, `no_rounds_left`, `next_round_possible`."
    )
    current_round: int
    candidates: list[VoteCandidateOut]
    voters: list[UnitRef] = Field(description="The eligible voters: one ballot each per round.")
    rounds: list[RoundOut]
    note: str | None
    conference_id: int | None = Field(default=None, description="The conference it was held at, if recorded.")
    version: int
    recorded_by: str
    recorded_at: datetime


class BallotReceipt(BaseModel):
    """That a ballot (or a batch of paper ballots) was received and counted: never its content."""

    model_config = ConfigDict(
        json_schema_extra={"example": {"vote_id": 1, "round": 1, "received": 1, "ballots_cast": 4}}
    )

    vote_id: int
    round: int
    received: int = Field(description="How many ballots this request put in the box.")
    ballots_cast: int = Field(description="How many ballots the round holds now.")


# --- problems ----------------------------------------------------------------------------------


class VoteConflict(NominationRefusal, RuleSetMissing):
    """409 creating a vote or closing its round: a rule refusing a candidate (`rule-refused`,
    `standings-not-frozen`: the members of `NominationRefusal`), no rule set for its year
    (`no-rule-set`: `emulation_year`), or a tie across the last seat that needs the chair's choice
    (`tie-unresolved`: `tied`)."""

    model_config = ConfigDict(
        json_schema_extra={
            "example": {
                "type": "/problems/tie-unresolved",
                "title": "Xung đột dữ liệu",
                "status": 409,
                "detail": "Các ứng viên 21, 23 bằng phiếu ở suất cuối và các tiêu chí phân định của bộ quy "
                "tắc không phân định được: cần lựa chọn của người chủ trì (`chair_choice`).",
                "instance": "/v1/votes/3/close",
                "request_id": "0f5c2a7e9b3d4c1a8e6f2b9d7c4a1e3f",
                "tied": [21, 23],
            }
        }
    )

    tied: list[int] | None = Field(
        default=None,
        description="409: the candidates tied across the last seat (the chair's choice is needed).",
    )
