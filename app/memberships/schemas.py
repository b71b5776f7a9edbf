from datetime import date, datetime

from pydantic import BaseModel, ConfigDict, Field, model_validator
from pydantic.config import JsonDict

from app.core.corrections import Correction
from app.core.errors import Problem
from app.core.i18n import _
from app.core.types import Integer, IsoDate, Text, not_null
from app.memberships.models import PeriodPrecision
from app.units.examples import HUNG_YEN, THAI_BINH
from app.units.schemas import UnitRef

_SOURCE = Field(default=None, max_length=500, description="Where this is recorded (decision, article).")
_NOTE = Field(default=None, max_length=2000)


class MembershipCreate(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "example": {
                "unit_id": 22,
                "cluster": 5,
                "valid_from": "2024-01-01",
                "valid_to": "2024-12-31",
                "period_precision": "year",
                "source": "Báo cáo tổng kết Cụm 5 năm 2024",
            }
        },
    )

    unit_id: Integer = Field(ge=1, le=2_147_483_647)
    cluster: Integer = Field(ge=1, le=999, description="The cluster's number.")
    valid_from: IsoDate
    valid_to: IsoDate | None = Field(default=None, description="Last day; null: open-ended.")
    period_precision: PeriodPrecision = PeriodPrecision.day
    source: Text | None = _SOURCE
    note: Text | None = _NOTE

    @model_validator(mode="after")
    def _ordered(self) -> "MembershipCreate":
        if self.valid_to is not None and self.valid_to < self.valid_from:
            raise ValueError(_("valid_to is before valid_from."))
        return self


class MembershipUpdate(Correction):
    """A correction; the previous version stays readable under `/revisions`."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"example": {"valid_to": "2025-06-30"}, "minProperties": 1},
    )

    cluster: Integer | None = Field(default=None, ge=1, le=999, json_schema_extra=not_null)
    valid_from: IsoDate | None = Field(default=None, json_schema_extra=not_null)
    valid_to: IsoDate | None = Field(default=None, description="null: open-ended.")
    period_precision: PeriodPrecision | None = Field(default=None, json_schema_extra=not_null)
    source: Text | None = _SOURCE
    note: Text | None = _NOTE


MEMBERSHIP_EXAMPLE: JsonDict = {
    "id": 41,
    "unit": THAI_BINH,
    "cluster": 5,
    "valid_from": "2024-01-01",
    "valid_to": "2024-12-31",
    "period_precision": "year",
    "source": "seed 002",
    "note": None,
    "version": 1,
    "recorded_by": "import:seed_history.yaml",
    "recorded_at": "2026-11-25T08:00:00Z",
}


class MembershipOut(BaseModel):
    model_config = ConfigDict(json_schema_extra={"example": MEMBERSHIP_EXAMPLE})

    id: int
    unit: UnitRef
    cluster: int
    valid_from: date
    valid_to: date | None
    period_precision: PeriodPrecision
    source: str | None
    note: str | None
    version: int
    recorded_by: str
    recorded_at: datetime


class Member(BaseModel):
    """A member of a cluster over a period, with the lineage of its unit."""

    model_config = ConfigDict(
        json_schema_extra={
            "example": {
                "membership_id": 37,
                "unit": THAI_BINH,
                "valid_from": "2025-01-01",
                "valid_to": "2025-06-30",
                "period_precision": "year",
                "source": "[seed-002] …",
                "note": "Inferred — handed the 2025 leadership at the 2024 summary conference.",
                "ceased_on": "2025-06-30",
                "predecessors": [],
                "successors": [HUNG_YEN],
            }
        }
    )

    membership_id: int
    unit: UnitRef
    valid_from: date
    valid_to: date | None
    period_precision: PeriodPrecision
    source: str | None
    note: str | None
    ceased_on: date | None = Field(
        description="The unit's last day if it has ceased to exist (see `successors`)."
    )
    predecessors: list[UnitRef] = Field(description="The units this one was formed from.")
    successors: list[UnitRef] = Field(description="The units this one became.")


class MembershipClosed(BaseModel):
    """A membership ended because its unit ceased to exist."""

    membership_id: int
    unit_id: int
    cluster: int
    valid_from: date
    previous_valid_to: date | None
    valid_to: date


# --- problems ----------------------------------------------------------------------------------


class ConflictingLeadership(BaseModel):
    """A leadership a change would leave without its leader or deputy as a member."""

    cluster: int
    year: int
    role: str = Field(description="`leader` or `deputy`.")
    href: str


class MembershipConflict(Problem):
    """409 on a membership: the membership it overlaps (`membership-overlap`), the unit's first
    or last day it would pass (`unit-not-in-period`), or the leaderships it would leave without a
    member (`leadership-needs-member`)."""

    model_config = ConfigDict(
        json_schema_extra={
            "example": {
                "type": "/problems/membership-overlap",
                "title": "Xung đột dữ liệu",
                "status": 409,
                "detail": "Thái Bình đã là thành viên Cụm 5 từ ngày 1/1/2024 đến ngày 31/12/2024 (bản ghi "
                "thành viên số 41); tại mỗi thời điểm, một đơn vị chỉ thuộc một Cụm thi đua.",
                "instance": "/v1/memberships",
                "request_id": "0f5c2a7e9b3d4c1a8e6f2b9d7c4a1e3f",
                "conflicting_membership_id": 41,
                "conflicting_membership": MEMBERSHIP_EXAMPLE,
            }
        }
    )

    conflicting_membership_id: int | None = Field(
        default=None, description="409: the membership the request overlaps."
    )
    conflicting_membership: MembershipOut | None = Field(
        default=None, description="409: that membership, as `GET /v1/memberships/{id}` shows it."
    )
    conflicting_leaderships: list[ConflictingLeadership] | None = Field(
        default=None, description="409: the leaderships the change would leave without a member."
    )
    unit_valid_from: str | None = Field(default=None, description="409: the unit's first day.")
    unit_valid_to: str | None = Field(default=None, description="409: the unit's last day.")
