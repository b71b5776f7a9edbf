from datetime import date, datetime

from pydantic import BaseModel, ConfigDict, Field, model_validator

from app.clusters.models import RotationCustom
from app.core.i18n import Localized, _
from app.core.types import Integer, IsoDate, Text
from app.units.examples import HUNG_YEN, THAI_BINH
from app.units.schemas import UnitRef


class LeadershipPut(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "example": {
                "leader_unit_id": 22,
                "deputy_unit_id": 19,
                "decided_on": "2024-11-25",
                "conference": "Hội nghị tổng kết phong trào thi đua năm 2024, Công an tỉnh Hưng Yên",
                "source": "Công an tỉnh Hà Nam, 26/11/2024",
            }
        },
    )

    leader_unit_id: Integer = Field(ge=1, le=2_147_483_647, description="Cụm trưởng.")
    deputy_unit_id: Integer | None = Field(default=None, ge=1, le=2_147_483_647, description="Cụm phó.")
    decided_on: IsoDate | None = Field(default=None, description="Day of the decision (conference).")
    conference: Text | None = Field(default=None, max_length=300)
    source: Text | None = Field(default=None, max_length=500)
    note: Text | None = Field(default=None, max_length=2000)
    conference_id: Integer | None = Field(
        default=None,
        ge=1,
        le=2_147_483_647,
        description="The conference it was decided at (`GET /v1/conferences/{id}`): one of the "
        "cluster in the year before, whose year-end summary hands the leadership over (409 "
        "`conference-mismatch` otherwise); null: not recorded.",
    )

    @model_validator(mode="after")
    def _distinct(self) -> "LeadershipPut":
        if self.deputy_unit_id is not None and self.deputy_unit_id == self.leader_unit_id:
            raise ValueError(_("The leader and the deputy must be different units."))
        return self


class RoleHolder(BaseModel):
    unit: UnitRef
    ceased_on: date | None = Field(description="Set when the unit ceased to exist before or during the term.")
    successors: list[UnitRef] = Field(description="Who carries on, when the unit ceased.")
    remark: Localized | None = Field(
        default=None,
        description="A readable note on the above, in the request's language (`Accept-Language`); "
        "null in revisions, which keep data, not prose.",
    )


class Decision(BaseModel):
    decided_on: date | None
    conference: str | None
    source: str | None
    note: str | None
    conference_id: int | None = Field(
        default=None, description="The conference it was decided at (of the year before), if recorded."
    )


class LeadershipOut(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "example": {
                "cluster": 5,
                "year": 2025,
                "leader": {
                    "unit": THAI_BINH,
                    "ceased_on": "2025-06-30",
                    "successors": [HUNG_YEN],
                    "remark": "Thái Bình đã kết thúc hoạt động ngày 30/6/2025, khi đang trong "
                    "nhiệm kỳ; đơn vị kế thừa: Hưng Yên.",
                },
                "deputy": None,
                "decision": {
                    "decided_on": "2024-11-25",
                    "conference": None,
                    "source": "seed 002",
                    "note": None,
                    "conference_id": None,
                },
                "version": 1,
                "recorded_by": "import:seed_history.yaml",
                "recorded_at": "2026-11-25T08:00:00Z",
            }
        }
    )

    cluster: int
    year: int
    leader: RoleHolder
    deputy: RoleHolder | None
    decision: Decision
    version: int
    recorded_by: str
    recorded_at: datetime


class CandidateOut(BaseModel):
    unit: UnitRef
    last_led: int | None = Field(description="Last year it (or a predecessor) led this cluster.")
    last_deputy: int | None = Field(description="Last year it (or a predecessor) was deputy.")


class SuggestedRole(BaseModel):
    unit: UnitRef
    reason: Localized = Field(description="Why this unit, in the request's language (`Accept-Language`).")


class SuggestionOut(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "example": {
                "cluster": 5,
                "year": 2025,
                "rotation_custom": "deputy_succeeds",
                "leader": {
                    "unit": THAI_BINH,
                    "reason": "Cụm phó năm 2024 (Thái Bình); theo thông lệ của Cụm, Cụm phó năm "
                    "trước làm Cụm trưởng năm sau.",
                },
                "deputy": None,
                "candidates": [
                    {
                        "unit": THAI_BINH,
                        "last_led": None,
                        "last_deputy": 2024,
                    }
                ],
            }
        }
    )

    cluster: int
    year: int
    rotation_custom: RotationCustom
    leader: SuggestedRole
    deputy: SuggestedRole | None
    candidates: list[CandidateOut] = Field(description="Members considered, in order of preference.")
