"""Rule sets as typed data: each parameter with its value, how sure we are of it (`confidence`)
and its basis. The same models validate the data file at load and the stored JSON when read."""

from datetime import date, datetime
from enum import StrEnum
from typing import Any, Literal, Self

from pydantic import BaseModel, ConfigDict, Field, model_validator

from app.core.errors import Problem
from app.proceedings.models import ProceedingKind


class Confidence(StrEnum):
    """`text`: the legal text is quoted by a public source. `analogue`: the same rule in another
    ministry's circular under the same law. `practice`: what clusters do, from press reports.
    `unknown`: not found, so a parameter with a cited basis."""

    text = "text"
    analogue = "analogue"
    practice = "practice"
    unknown = "unknown"


class Citation(BaseModel):
    """Where a rule comes from."""

    model_config = ConfigDict(
        extra="forbid",
        frozen=True,
        json_schema_extra={
            "example": {
                "document": "Nghị định 98/2023/NĐ-CP",
                "article": "art. 30(7)",
                "note": "At least 80% of the total number of voters.",
            }
        },
    )

    document: str = Field(min_length=1, max_length=300)
    article: str | None = Field(default=None, max_length=100)
    note: str | None = Field(default=None, max_length=1000)


class Fraction(BaseModel):
    """An exact share: compare `denominator × count ≥ numerator × total` in integers."""

    model_config = ConfigDict(
        extra="forbid", frozen=True, json_schema_extra={"example": {"numerator": 4, "denominator": 5}}
    )

    numerator: int = Field(ge=0)
    denominator: int = Field(ge=1)

    @model_validator(mode="after")
    def _at_most_one(self) -> Self:
        if self.numerator > self.denominator:
            raise ValueError("a share is at most 1")
        return self

    def reached(self, count: int, total: int) -> bool:
        """`count / total ≥ numerator / denominator`, in integer arithmetic."""
        return self.denominator * count >= self.numerator * total


class ApprovalDenominator(StrEnum):
    eligible_voters = "eligible_voters"
    present_voters = "present_voters"


class VoteTieBreak(StrEnum):
    """A step that settles a tie across the last seat of a nomination vote."""

    women_preference = "women_preference"
    stronger_record = "stronger_record"
    chair_vote = "chair_vote"


class TieBreakStep(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    step: VoteTieBreak
    confidence: Confidence
    basis: Citation


class DossierDue(BaseModel):
    """A dossier's deadline: `month`/`day` of the year `years_after` the emulation year."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    month: int = Field(ge=1, le=12)
    day: int = Field(ge=1, le=31)
    years_after: int = Field(ge=0, le=5)

    def for_year(self, emulation_year: int) -> date:
        return date(emulation_year + self.years_after, self.month, self.day)


class _Parameter(BaseModel):
    """A rule's value, how sure we are of it, and its basis."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    confidence: Confidence
    basis: Citation


class FractionParameter(_Parameter):
    value: Fraction


class BoolParameter(_Parameter):
    value: bool


class CountParameter(_Parameter):
    value: int = Field(ge=1)


class DenominatorParameter(_Parameter):
    value: ApprovalDenominator


class TieBreakParameter(_Parameter):
    value: list[TieBreakStep]


class ProceedingKindsParameter(_Parameter):
    value: list[ProceedingKind]


class DossierDueParameter(_Parameter):
    value: DossierDue


class RuleParameters(BaseModel):
    """Every parameter a rule set carries; the names are the contract other features code against."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    approval_threshold: FractionParameter = Field(description="The share of votes a candidate needs.")
    approval_threshold_high: FractionParameter = Field(
        description="For Hero, national and ministry-level emulation fighter (`approval_class: high`)."
    )
    approval_denominator: DenominatorParameter = Field(
        description="Of whom the share is counted: all eligible voters, or those present."
    )
    absent_written_votes_count: BoolParameter
    quorum: FractionParameter = Field(description="The share of voters present for a valid meeting.")
    max_rounds: CountParameter
    tie_break: TieBreakParameter = Field(description="In order; each step with its confidence.")
    self_approval_allowed: BoolParameter
    cluster_vote_share: FractionParameter = Field(
        description="The share a cluster's own nomination vote needs."
    )
    blocking_proceeding_kinds: ProceedingKindsParameter = Field(
        description="An open proceeding of these kinds blocks a nomination."
    )
    government_flag_requires_cluster_lead: BoolParameter = Field(
        description="A Government-flag nominee must rank first in its cluster's standings."
    )
    government_flag_dossier_due: DossierDueParameter
    ministry_flag_requires_cluster_lead: BoolParameter = Field(
        description="A Ministry-flag nominee must rank first in its cluster's standings."
    )


class RuleSetData(BaseModel):
    """A rule set as the data file writes it."""

    model_config = ConfigDict(extra="forbid")

    code: str = Field(pattern=r"^[a-z0-9][a-z0-9-]{0,59}$")
    name: str = Field(min_length=1, max_length=300)
    in_force_from: date
    in_force_to: date | None
    basis: list[Citation] = Field(min_length=1)
    parameters: RuleParameters

    @model_validator(mode="after")
    def _ordered(self) -> Self:
        if self.in_force_to is not None and self.in_force_to < self.in_force_from:
            raise ValueError("in_force_to is before in_force_from")
        return self


class RuleSetFile(BaseModel):
    model_config = ConfigDict(extra="forbid")

    format: Literal["thidua-rule-sets/1"]
    rule_sets: list[RuleSetData]


def _example() -> dict[str, Any]:
    citation = {"document": "Nghị định 98/2023/NĐ-CP", "article": "art. 30(7)", "note": None}
    analogue = {"document": "Thông tư 01/2024/TT-TANDTC", "article": "art. 29", "note": None}

    def p(value: Any, confidence: str = "text", basis: dict[str, Any] = citation) -> dict[str, Any]:
        return {"value": value, "confidence": confidence, "basis": basis}

    return {
        "code": "law-06-2022-decree-98-2023",
        "name": "Luật Thi đua, khen thưởng 06/2022/QH15 và Nghị định 98/2023/NĐ-CP",
        "in_force_from": "2024-01-01",
        "in_force_to": "2025-06-30",
        "basis": [{"document": "Luật Thi đua, khen thưởng số 06/2022/QH15", "article": None, "note": None}],
        "parameters": {
            "approval_threshold": p({"numerator": 4, "denominator": 5}),
            "approval_threshold_high": p({"numerator": 9, "denominator": 10}),
            "approval_denominator": p("eligible_voters"),
            "absent_written_votes_count": p(True),
            "quorum": p({"numerator": 2, "denominator": 3}, "analogue", analogue),
            "max_rounds": p(2, "analogue", analogue),
            "tie_break": p(
                [
                    {"step": "women_preference", "confidence": "unknown", "basis": citation},
                    {"step": "stronger_record", "confidence": "analogue", "basis": analogue},
                    {"step": "chair_vote", "confidence": "analogue", "basis": analogue},
                ],
                "analogue",
                analogue,
            ),
            "self_approval_allowed": p(True, "unknown"),
            "cluster_vote_share": p({"numerator": 4, "denominator": 5}, "unknown"),
            "blocking_proceeding_kinds": p(
                ["disciplinary_review", "investigation", "inspection", "complaint"], "unknown"
            ),
            "government_flag_requires_cluster_lead": p(True),
            "government_flag_dossier_due": p({"month": 6, "day": 30, "years_after": 1}),
            "ministry_flag_requires_cluster_lead": p(False, "practice"),
        },
        "version": 1,
        "recorded_by": "reference-data",
        "recorded_at": "2026-11-26T08:00:00Z",
    }


class RuleSet(BaseModel):
    """A rule set as stored and answered: typed parameters, its period and basis."""

    model_config = ConfigDict(json_schema_extra={"example": _example()})

    code: str
    name: str
    in_force_from: date
    in_force_to: date | None = Field(description="Last day; null: still in force.")
    basis: list[Citation]
    parameters: RuleParameters
    version: int = Field(description="Bumped when the data file changes the rule set.")
    recorded_by: str
    recorded_at: datetime

    def threshold_for(self, approval_class: str) -> FractionParameter:
        """The approval threshold an award of `approval_class` needs."""
        p = self.parameters
        return p.approval_threshold_high if approval_class == "high" else p.approval_threshold


# --- problems ----------------------------------------------------------------------------------


class RuleRefusal(Problem):
    """409: a rule of the rule set (a rule-set parameter, or a rule such as
    `one_achievement_one_award`) refuses the change; quoted with its basis and how sure we are of
    it where known. Raised by the awards and the votes."""

    model_config = ConfigDict(
        json_schema_extra={
            "example": {
                "type": "/problems/self-approval-refused",
                "title": "Xung đột dữ liệu",
                "status": 409,
                "detail": "Bộ quy tắc của cuộc bỏ phiếu này không cho phép đơn vị tự tán thành mình.",
                "instance": "/v1/votes/3/ballots",
                "request_id": "0f5c2a7e9b3d4c1a8e6f2b9d7c4a1e3f",
                "rule": "self_approval_allowed",
            }
        }
    )

    rule: str | None = Field(default=None, description="409: the rule (a rule-set parameter) refusing it.")
    basis: Citation | None = Field(
        default=None, description="409: that rule's basis (`document`, `article`, `note`)."
    )
    confidence: str | None = Field(
        default=None,
        description="409: how sure we are of that rule: `text`, `analogue`, `practice`, `unknown`.",
    )


class RuleSetMissing(Problem):
    """No rule set covers the emulation year: 404 reading the rule set for it, 409
    (`no-rule-set`) on a vote or a nomination that needs it."""

    model_config = ConfigDict(
        json_schema_extra={
            "example": {
                "type": "/problems/not-found",
                "title": "Không tìm thấy",
                "status": 404,
                "detail": "Không có bộ quy định nào áp dụng cho năm thi đua 2023: các quy định được ghi nhận "
                "từ năm 2024 (Luật 06/2022/QH15).",
                "instance": "/v1/rule-sets/for-year/2023",
                "request_id": "0f5c2a7e9b3d4c1a8e6f2b9d7c4a1e3f",
                "emulation_year": 2023,
            }
        }
    )

    emulation_year: int | None = Field(default=None, description="409/404: the year no rule set covers.")
