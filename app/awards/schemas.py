from collections import Counter
from datetime import date, datetime
from enum import StrEnum
from typing import Any, Self

from pydantic import BaseModel, ConfigDict, Field, StrictBool, model_validator

from app.awards.models import ApprovalClass, AwardKind, AwardLevel, AwardStatus, Recipient
from app.core.errors import Problem
from app.core.i18n import Localized, _
from app.core.types import Integer, IsoDate, Text
from app.rules.schemas import Citation, Confidence, RuleRefusal, RuleSetMissing
from app.units.examples import THAI_BINH
from app.units.schemas import UnitRef

AWARD_TYPE_CODE = r"^[a-z][a-z0-9_]{0,59}$"
_RECORDED = {"version": 1, "recorded_by": "reference-data", "recorded_at": "2026-11-26T08:00:00Z"}


class AwardTypeData(BaseModel):
    """An award type as the data file writes it."""

    model_config = ConfigDict(extra="forbid")

    code: str = Field(pattern=AWARD_TYPE_CODE)
    name: str = Field(min_length=1, max_length=200)
    kind: AwardKind
    recipient: Recipient
    level: AwardLevel
    authority: str = Field(min_length=1, max_length=200)
    requires_vote: bool
    approval_class: ApprovalClass
    standard_of: str | None = Field(pattern=AWARD_TYPE_CODE)
    rules: list[str]
    basis: Citation


_TYPE_EXAMPLE: dict[str, Any] = {
    "code": "government_flag",
    "name": "Cờ thi đua của Chính phủ",
    "kind": "flag",
    "recipient": "collective",
    "level": "government",
    "authority": "Thủ tướng Chính phủ",
    "requires_vote": True,
    "approval_class": "standard",
    "standard_of": "ministry_flag",
    "rules": [
        "government_flag_requires_cluster_lead",
        "government_flag_dossier_due",
        "blocking_proceeding_kinds",
    ],
    "basis": {"document": "Thông tư 12/2019/TT-BCA", "article": "art. 18(1)(a)", "note": None},
    **_RECORDED,
}


class AwardTypeOut(BaseModel):
    model_config = ConfigDict(json_schema_extra={"example": _TYPE_EXAMPLE})

    code: str
    name: str = Field(description="The award's Vietnamese name.")
    kind: AwardKind
    recipient: Recipient
    level: AwardLevel
    authority: str = Field(description="Who decides it.")
    requires_vote: bool = Field(description="Proposed by a secret-ballot vote.")
    approval_class: ApprovalClass = Field(
        description="`standard`: the rule set's `approval_threshold`; `high`: `approval_threshold_high`."
    )
    standard_of: str | None = Field(description="The award whose standard a nominee must also meet.")
    rules: list[str] = Field(description="The rule-set parameters that apply to it.")
    basis: Citation
    version: int
    recorded_by: str
    recorded_at: datetime


class Outcome(StrEnum):
    passed = "passed"
    refused = "refused"
    cannot_be_verified = "cannot_be_verified"


class RuleCheck(BaseModel):
    """One rule checked for a nomination: its outcome, its basis and how sure we are of it."""

    model_config = ConfigDict(
        json_schema_extra={
            "example": {
                "rule": "government_flag_requires_cluster_lead",
                "outcome": "cannot_be_verified",
                "finding": "rank_unknown",
                "basis": {"document": "Thông tư 12/2019/TT-BCA", "article": "art. 18(1)(a)", "note": None},
                "confidence": "text",
                "facts": {"rank": None},
                "message": "The unit's rank in its cluster's standings is not known.",
            }
        }
    )

    rule: str = Field(description="The rule-set parameter, or the rule, checked.")
    outcome: Outcome
    finding: str = Field(description="What was found, as a key (`first`, `not_first`, `open`, …).")
    basis: Citation | None
    confidence: Confidence | None
    facts: dict[str, Any] = Field(description="The values the check used (rank, proceeding id, …).")
    message: Localized = Field(default="", description="The check in words, in the request's language.")


class Fact(StrEnum):
    nomination = "nomination"
    vote_counts = "vote_counts"
    scores = "scores"
    rank = "rank"
    decision = "decision"


class Statement(StrEnum):
    stated = "stated"
    not_stated = "not_stated"


_SOURCE_EXAMPLE: dict[str, Any] = {
    "title": "Cụm thi đua số 5 tổng kết phong trào thi đua “Vì an ninh Tổ quốc” năm 2024",
    "url": "https://congan.hanam.gov.vn/",
    "published": "2024-11-26",
    "facts": {
        "nomination": "stated",
        "vote_counts": "not_stated",
        "scores": "not_stated",
        "rank": "not_stated",
    },
    "quote": "Công an tỉnh Hưng Yên và Thái Bình được Cụm thi đua suy tôn, đề nghị tặng Cờ thi đua "
    "của Bộ Công an năm 2024.",
}


class AwardSource(BaseModel):
    """The public record an attested award cites, and which facts it states (nothing it does not
    state is invented)."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"example": _SOURCE_EXAMPLE})

    title: Text = Field(min_length=1, max_length=500)
    url: Text | None = Field(default=None, max_length=1000)
    published: IsoDate | None = None
    facts: dict[Fact, Statement] = Field(default_factory=dict, description="Per fact: stated or not.")
    quote: Text | None = Field(default=None, max_length=2000, description="The source's own words.")


class StatedStatus(StrEnum):
    """The statuses a record is created in: `nominated` (every live nomination), or, for an
    attested record, the outcome its source states."""

    nominated = "nominated"
    granted = "granted"
    refused = "refused"
    revoked = "revoked"


class AwardCreate(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "example": {
                "award_type": "ministry_flag",
                "unit_id": 22,
                "emulation_year": 2024,
                "cluster": 5,
                "nominated_on": "2024-11-25",
                "rank": None,
                "vote_id": None,
                "standings_version": None,
                "attested": True,
                "source": _SOURCE_EXAMPLE,
                "status": "nominated",
                "decided_on": None,
                "decision_number": None,
                "authority": None,
                "reason": None,
            }
        },
    )

    award_type: str = Field(pattern=AWARD_TYPE_CODE, description="A code of `GET /v1/award-types`.")
    unit_id: Integer = Field(
        ge=1, le=2_147_483_647, description="The collective's unit; it may have ceased since."
    )
    emulation_year: Integer = Field(ge=2000, le=2100, description="The year the award recognises.")
    cluster: Integer | None = Field(
        default=None,
        ge=1,
        le=999,
        description="The cluster whose vote nominated it (required when the type needs a vote).",
    )
    nominated_on: IsoDate = Field(description="The day of the nomination (the conference's).")
    rank: Integer | None = Field(
        default=None,
        ge=1,
        le=1000,
        description="Only on an attested record whose source states it (`source.facts.rank: stated`); "
        "otherwise 422: a live nomination's rank comes from its vote's frozen standings.",
    )
    vote_id: Integer | None = Field(
        default=None,
        ge=1,
        le=2_147_483_647,
        description="Not taken from the request (422 `set-by-vote`): closing a vote records it.",
    )
    standings_version: Integer | None = Field(
        default=None,
        ge=1,
        le=2_147_483_647,
        description="Not taken from the request (422 `set-by-vote`): closing a vote records it.",
    )
    attested: StrictBool = Field(
        default=False,
        description="A historical record a public source attests (admin only; needs `source`): checks "
        "that cannot be verified say so instead of refusing.",
    )
    source: AwardSource | None = None
    status: StatedStatus = Field(
        default=StatedStatus.nominated,
        description="`nominated` (the default): a nomination, moved on by its transitions. An attested "
        "record may be created `granted`, `refused` or `revoked` as its source states it, without a "
        "dossier step; any other status on a nomination that is not attested is 422 "
        "`/problems/set-by-transition`.",
    )
    decided_on: IsoDate | None = Field(
        default=None,
        description="With a stated `status` other than `nominated`: the day of the decision, if "
        "the source states it; default `nominated_on`. Not before `nominated_on`.",
    )
    decision_number: Text | None = Field(
        default=None,
        min_length=1,
        max_length=100,
        description="With a stated `status` other than `nominated`, only when the source states the "
        "decision (`source.facts.decision: stated`, else 422 `/problems/decision-not-stated`); null: "
        "not stated.",
    )
    authority: Text | None = Field(
        default=None,
        min_length=1,
        max_length=200,
        description="Who decided, as `decision_number`: only when the source states the decision; "
        "null: not stated.",
    )
    reason: Text | None = Field(
        default=None,
        min_length=1,
        max_length=2000,
        description="With a stated `status` other than `nominated`: the reason the source gives.",
    )

    @model_validator(mode="after")
    def _attested_has_source(self) -> Self:
        if self.attested and self.source is None:
            raise ValueError(_("An attested award needs its source."))
        return self


class DossierItemIn(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "example": {
                "title": "Biên bản họp Cụm và kết quả bỏ phiếu",
                "document_id": None,
                "reference": "Biên bản số 05/BB-CTĐ5 ngày 25/11/2024",
                "due_on": None,
            }
        },
    )

    title: Text = Field(min_length=1, max_length=300)
    document_id: Integer | None = Field(
        default=None, ge=1, le=2_147_483_647, description="A document uploaded for this award."
    )
    reference: Text | None = Field(default=None, max_length=500, description="Where the document is.")
    due_on: IsoDate | None = Field(
        default=None,
        description="When it is due; for the Government flag, default the rule set's "
        "`government_flag_dossier_due` (30 June of the next year).",
    )

    @model_validator(mode="after")
    def _document_or_reference(self) -> Self:
        if self.document_id is None and self.reference is None:
            raise ValueError(_("A dossier item needs a document_id or a reference."))
        return self


_NEEDS_REASON = {AwardStatus.returned, AwardStatus.refused, AwardStatus.revoked}
_NEEDS_DECISION = {AwardStatus.granted, AwardStatus.revoked}


class TransitionIn(BaseModel):
    """A step of the lifecycle: nominated → proposed (with its dossier) → returned / granted /
    refused; returned → proposed / refused; granted → revoked."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "example": {
                "to": "granted",
                "decided_on": "2025-09-10",
                "decision_number": "1234/QĐ-TTg",
                "authority": "Thủ tướng Chính phủ",
                "reason": None,
                "dossier": [],
            }
        },
    )

    to: AwardStatus = Field(description="The new status (`nominated` is only the first).")
    decided_on: IsoDate
    decision_number: Text | None = Field(
        default=None, max_length=100, description="Needed to grant or revoke."
    )
    authority: Text | None = Field(default=None, max_length=200, description="Needed to grant or revoke.")
    reason: Text | None = Field(
        default=None, max_length=2000, description="Needed to return, refuse or revoke (Law 06/2022 ch. VII)."
    )
    dossier: list[DossierItemIn] = Field(
        default_factory=list, max_length=50, description="Only with `proposed`, and then at least one item."
    )

    @model_validator(mode="after")
    def _complete(self) -> Self:
        if self.to is AwardStatus.nominated:
            raise ValueError(_("An award is nominated only when it is created."))
        if self.to in _NEEDS_REASON and not self.reason:
            raise ValueError(_("A reason is needed to move an award to {status}.", status=self.to.value))
        if self.to in _NEEDS_DECISION and not (self.decision_number and self.authority):
            raise ValueError(
                _(
                    "A decision number and authority are needed to move an award to {status}.",
                    status=self.to.value,
                )
            )
        if (self.to is AwardStatus.proposed) != bool(self.dossier):
            raise ValueError(_("A proposal needs its dossier, and only a proposal carries one."))
        return self


class DossierItemOut(BaseModel):
    id: int
    title: str
    document_id: int | None
    reference: str | None
    due_on: date | None


class TransitionOut(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "example": {
                "position": 1,
                "from_status": None,
                "to_status": "nominated",
                "decided_on": "2024-11-25",
                "decision_number": None,
                "authority": None,
                "reason": None,
                "dossier": [],
                "attested": True,
                "recorded_by": "key:1:Cục Công tác chính trị",
                "recorded_at": "2026-11-26T08:00:00Z",
            }
        }
    )

    position: int = Field(description="1-based; the first is the nomination.")
    from_status: AwardStatus | None
    to_status: AwardStatus
    decided_on: date
    decision_number: str | None
    authority: str | None
    reason: str | None
    dossier: list[DossierItemOut]
    attested: bool = Field(
        description="True: the source's word (an attested record's first step, its decision number "
        "and authority null where the source does not state them), not a decision recorded here."
    )
    recorded_by: str
    recorded_at: datetime


_AWARD_EXAMPLE: dict[str, Any] = {
    "id": 2,
    "award_type": "ministry_flag",
    "award_type_name": "Cờ thi đua của Bộ Công an",
    "unit": THAI_BINH,
    "emulation_year": 2024,
    "cluster": 5,
    "status": "nominated",
    "rule_set": "law-06-2022-decree-98-2023",
    "vote_id": None,
    "standings_version": None,
    "nominated_on": "2024-11-25",
    "attested": True,
    "source": _SOURCE_EXAMPLE,
    "rule_checks": [
        {
            "rule": "ministry_flag_requires_cluster_lead",
            "outcome": "cannot_be_verified",
            "finding": "rank_unknown",
            "basis": {
                "document": "Luật Thi đua, khen thưởng số 06/2022/QH15",
                "article": "art. 26(1)",
                "note": None,
            },
            "confidence": "analogue",
            "facts": {"rank": None},
            "message": "The unit's rank in its cluster's standings is not known.",
        }
    ],
    "transitions": [TransitionOut.model_config["json_schema_extra"]["example"]],  # type: ignore[index]
    "allowed_transitions": ["proposed", "refused"],
    "version": 1,
    "recorded_by": "key:1:Cục Công tác chính trị",
    "recorded_at": "2026-11-26T08:00:00Z",
}


class _Award(BaseModel):
    """What an award's record and its list item share."""

    id: int
    award_type: str
    award_type_name: str
    unit: UnitRef
    emulation_year: int
    cluster: int | None = Field(description="The number of the cluster whose vote nominated it.")
    status: AwardStatus
    rule_set: str | None = Field(description="The rule set that judged it; null: none covers its year.")
    vote_id: int | None
    standings_version: int | None
    nominated_on: date
    attested: bool = Field(
        description="True: a historical record a cited `source` attests, in the status it states "
        "(its decision possibly not stated); false: a nomination and decisions recorded here as they "
        "happened. `GET /v1/awards?attested=` filters on it."
    )
    source: AwardSource | None
    transitions: list[TransitionOut] = Field(description="Its whole history, in order.")
    allowed_transitions: list[AwardStatus] = Field(description="Where it may go next.")
    version: int = Field(description="Bumped by each transition; `If-Match` names it.")
    recorded_by: str
    recorded_at: datetime


class AwardOut(_Award):
    model_config = ConfigDict(json_schema_extra={"example": _AWARD_EXAMPLE})

    rule_checks: list[RuleCheck]


class RuleOutcomes(BaseModel):
    """How many of an award's rule checks came out each way (the checks are on the award)."""

    passed: int
    refused: int
    cannot_be_verified: int


class AwardListItem(_Award):
    """An award as a list shows it: its rule checks counted by outcome (the checks themselves,
    about 3 KB an award, are at `href`)."""

    model_config = ConfigDict(
        json_schema_extra={
            "example": {
                **{k: v for k, v in _AWARD_EXAMPLE.items() if k != "rule_checks"},
                "rule_outcomes": {"passed": 0, "refused": 0, "cannot_be_verified": 1},
                "href": "/v1/awards/2",
            }
        }
    )

    rule_outcomes: RuleOutcomes
    href: str

    @classmethod
    def of(cls, award: AwardOut) -> "AwardListItem":
        counted = Counter(check.outcome for check in award.rule_checks)
        return cls(
            **award.model_dump(exclude={"rule_checks"}),
            rule_outcomes=RuleOutcomes(**{outcome.value: counted[outcome] for outcome in Outcome}),
            href=f"/v1/awards/{award.id}",
        )


class DocumentOut(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "example": {
                "id": 1,
                "award_id": 2,
                "filename": "bao-cao-thanh-tich.pdf",
                "content_type": "application/pdf",
                "size": 183204,
                "sha256": "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08",
                "recorded_by": "key:1:Cục Công tác chính trị",
                "recorded_at": "2026-11-26T08:00:00Z",
            }
        }
    )

    id: int
    award_id: int
    filename: str
    content_type: str
    size: int = Field(description="Bytes.")
    sha256: str
    recorded_by: str
    recorded_at: datetime


class AwardBrief(BaseModel):
    """An award as the year sheet lists it; the whole record is at `href`."""

    model_config = ConfigDict(
        json_schema_extra={
            "example": {
                "id": 1,
                "award_type": "government_flag",
                "award_type_name": "Cờ thi đua của Chính phủ",
                "unit": {
                    "id": 36,
                    "code": "36",
                    "name": "Nam Định",
                    "valid_from": None,
                    "valid_to": "2025-06-30",
                },
                "status": "nominated",
                "attested": True,
                "vote_id": None,
                "href": "/v1/awards/1",
            }
        }
    )

    id: int
    award_type: str
    award_type_name: str
    unit: UnitRef
    status: AwardStatus
    attested: bool = Field(
        description="True: recorded from a cited source, in the status it states, not decided here."
    )
    vote_id: int | None
    href: str


# --- problems ----------------------------------------------------------------------------------

_LEAD_BASIS: dict[str, Any] = {
    "document": "Thông tư 12/2019/TT-BCA",
    "article": "art. 18(1)(a)",
    "note": "A provincial police unit proposed for the Government flag meets the Ministry flag's "
    "standard and leads its cluster (ranks first in results, dẫn đầu; not the Cụm trưởng).",
}


class NominationRefusal(RuleRefusal):
    """409 `rule-refused`: a nomination a rule refuses, quoting the first rule it breaks (the
    members of `RuleRefusal`), what that check found, and every rule checked beside it. Raised on
    a nomination, and on a vote whose candidates are checked when it is created."""

    model_config = ConfigDict(
        json_schema_extra={
            "example": {
                "type": "/problems/rule-refused",
                "title": "Xung đột dữ liệu",
                "status": 409,
                "detail": "Đơn vị xếp thứ 2 trong Cụm thi đua, không phải thứ nhất: hình thức khen thưởng "
                "này dành cho đơn vị dẫn đầu Cụm. Quy định: government_flag_requires_cluster_lead "
                "(Thông tư 12/2019/TT-BCA art. 18(1)(a)).",
                "instance": "/v1/votes",
                "request_id": "0f5c2a7e9b3d4c1a8e6f2b9d7c4a1e3f",
                "rule": "government_flag_requires_cluster_lead",
                "basis": _LEAD_BASIS,
                "confidence": "text",
                "facts": {"rank": 2},
                "rule_checks": [
                    {
                        "rule": "government_flag_requires_cluster_lead",
                        "outcome": "refused",
                        "finding": "not_first",
                        "basis": _LEAD_BASIS,
                        "confidence": "text",
                        "facts": {"rank": 2},
                        "message": "Đơn vị xếp thứ 2 trong Cụm thi đua, không phải thứ nhất: hình thức khen "
                        "thưởng này dành cho đơn vị dẫn đầu Cụm.",
                    }
                ],
            }
        }
    )

    facts: dict[str, Any] | None = Field(
        default=None, description="409: what the refused check found (a proceeding's id, a rank, …)."
    )
    rule_checks: list[RuleCheck] | None = Field(
        default=None, description="409: every rule checked for the nomination, with its outcome."
    )


class AwardConflict(NominationRefusal, RuleSetMissing):
    """409 on an award: a rule refusing the nomination (`rule-refused`, `award-exists`: the
    members of `NominationRefusal`), no rule set for its year (`no-rule-set`: `emulation_year`),
    or a transition its status does not allow (`transition-not-allowed`)."""

    model_config = ConfigDict(
        json_schema_extra={
            "example": {
                "type": "/problems/transition-not-allowed",
                "title": "Xung đột dữ liệu",
                "status": 409,
                "detail": "Khen thưởng ở trạng thái granted không thể chuyển sang proposed; được phép: "
                "revoked.",
                "instance": "/v1/awards/7/transitions",
                "request_id": "0f5c2a7e9b3d4c1a8e6f2b9d7c4a1e3f",
                "allowed_transitions": ["revoked"],
            }
        }
    )

    allowed_transitions: list[str] | None = Field(
        default=None, description="409: the statuses the award may move to from its current one."
    )


class DocumentTypeRefusal(Problem):
    """415 `unsupported-document-type`: a document of a type not accepted (`DOCUMENT_TYPES`)."""

    model_config = ConfigDict(
        json_schema_extra={
            "example": {
                "type": "/problems/unsupported-document-type",
                "title": "Kiểu nội dung không được hỗ trợ",
                "status": 415,
                "detail": "Không nhận tài liệu có kiểu text/html; hãy gửi một trong các kiểu: "
                "application/pdf, image/png, image/jpeg.",
                "instance": "/v1/awards/7/documents",
                "request_id": "0f5c2a7e9b3d4c1a8e6f2b9d7c4a1e3f",
                "allowed_media_types": ["application/pdf", "image/png", "image/jpeg"],
            }
        }
    )

    allowed_media_types: list[str] | None = Field(
        default=None, description="415: the media types the operation accepts for its body."
    )
