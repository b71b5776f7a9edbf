"""What a covenant's pledges take and answer: the list (`PUT …/pledges`), each pledge with its
check against the members' figures or the statuses the secretariat set, and a task's status
(`PUT …/pledges/{position}/members/{unit_id}`)."""

from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, model_validator

from app.core.i18n import Localized, _
from app.core.numbers import ExactDecimal, exact_number
from app.core.types import IsoDate, Text
from app.covenants.models import Scope
from app.pledges.models import PledgeKind, TaskStatus
from app.units.schemas import UnitRef

Quantity = Annotated[Decimal, exact_number(0, 10**15, exclusive_minimum=True)]
"""A JSON number above zero: đồng for an amount, things for a count (a whole number)."""

_METRIC = r"^[a-z][a-z0-9_]{0,59}$"

_JOINT: dict[str, Any] = {
    "kind": "amount",
    "label": "Các đơn vị trong Cụm thi đua cũng thống nhất đóng góp 180 triệu để xây dựng nhà tình "
    "nghĩa cho cán bộ chiến sĩ có hoàn cảnh đặc biệt khó khăn tại đơn vị Cụm trưởng",
    "scope": "cluster_total",
    "metric": "charity_houses_vnd",
    "quantity": 180000000,
    "note": None,
}
_EACH: dict[str, Any] = {
    "kind": "amount",
    "label": "Mỗi đơn vị đóng góp 20 triệu đồng xây nhà tình nghĩa",
    "scope": "each_member",
    "metric": "charity_houses_vnd",
    "quantity": 20000000,
    "note": None,
}
_TASK: dict[str, Any] = {
    "kind": "task",
    "label": "Mỗi đơn vị tổ chức thăm, tặng quà các gia đình chính sách trên địa bàn",
    "scope": "each_member",
    "metric": None,
    "quantity": None,
    "note": None,
}
_UNIT: dict[str, Any] = {
    "id": 14,
    "code": "22",
    "name": "Quảng Ninh",
    "valid_from": None,
    "valid_to": None,
}
_STATUS: dict[str, Any] = {
    "status": "done",
    "on": "2024-07-27",
    "source": "Báo cáo sơ kết 6 tháng của Cụm thi đua số 4",
    "note": None,
}
_RECORDED: dict[str, Any] = {
    "version": 1,
    "recorded_by": "key:3:Cụm thi đua số 4",
    "recorded_at": "2024-08-01T08:00:00Z",
}


class PledgeIn(BaseModel):
    """A pledge as the covenant words it: an amount or a count on a metric of the catalogue, or a
    task; made by each member (`each_member`) or by the members together (`cluster_total`)."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"example": _EACH})

    kind: PledgeKind = Field(
        description="`amount` (money, on an amount metric), `count` (things, on a count metric) or "
        "`task` (whose status the secretariat sets for each member)."
    )
    label: Text = Field(min_length=1, max_length=500, description="The covenant's own words.")
    scope: Scope = Field(
        default=Scope.each_member,
        description="`each_member`: every member pledges it; `cluster_total`: the members together "
        "(an amount or a count only).",
    )
    metric: str | None = Field(
        default=None,
        pattern=_METRIC,
        description="For an amount or a count: a key of the metric catalogue of the same kind; null "
        "for a task.",
    )
    quantity: Quantity | None = Field(
        default=None,
        description="For an amount or a count: how much (đồng) or how many, a whole number above "
        "zero; null for a task.",
    )
    note: Text | None = Field(default=None, max_length=2000)

    @model_validator(mode="after")
    def _fits_kind(self) -> "PledgeIn":
        if self.kind is PledgeKind.task:
            if self.metric is not None or self.quantity is not None:
                raise ValueError(_("A task pledge has neither a metric nor a quantity."))
            if self.scope is not Scope.each_member:
                raise ValueError(_("A task pledge is each member's: its scope is each_member."))
            return self
        if self.metric is None or self.quantity is None:
            raise ValueError(_("An amount or a count pledge names its metric and its quantity."))
        if self.quantity != self.quantity.to_integral_value():
            raise ValueError(_("A pledge's quantity is a whole number."))
        return self


class PledgesPut(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"example": {"pledges": [_JOINT, _TASK]}})

    pledges: list[PledgeIn] = Field(
        max_length=50,
        description="In the covenant's order; a pledge is addressed by its position (from 1).",
    )


class PledgeOutcome(StrEnum):
    """An amount or a count: `met`, `not_met`, or `unknown` (figures missing). A task: `done`,
    `not_done`, or `unknown` (no status set)."""

    met = "met"
    not_met = "not_met"
    done = "done"
    not_done = "not_done"
    unknown = "unknown"


class TaskStatusOut(BaseModel):
    """A member's task status as the secretariat set it, with who recorded it and when."""

    model_config = ConfigDict(json_schema_extra={"example": {**_STATUS, **_RECORDED}})

    status: TaskStatus
    on: date = Field(description="The day the status holds on (done on, or not done as of).")
    source: str
    note: str | None
    version: int
    recorded_by: str
    recorded_at: datetime


_CHECK_EXAMPLE: dict[str, Any] = {
    "unit": _UNIT,
    "outcome": "met",
    "value": "25000000",
    "why": "Kết quả 25.000.000 đồng, đạt chỉ tiêu ≥ 20.000.000 đồng.",
    "status": None,
}


class PledgeCheck(BaseModel):
    """A pledge checked for one member, or for the members together (`unit` null)."""

    model_config = ConfigDict(json_schema_extra={"example": _CHECK_EXAMPLE})

    unit: UnitRef | None = Field(description="The member; null: the members together (`cluster_total`).")
    outcome: PledgeOutcome
    value: str | None = Field(
        pattern=r"^-?\d+(\.\d+)?$",
        description="An amount or a count: the member's value (or the members' total) over the "
        "reporting period, as an exact decimal string; null for a task or when unknown.",
    )
    why: Localized = Field(
        default="",
        description="Why, in one sentence: the value against the pledge, what is "
        "missing, or the status and its source.",
    )
    status: TaskStatusOut | None = Field(
        description="A task: the status set; null otherwise or when none is."
    )


class PledgeOut(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "example": {
                **_EACH,
                "position": 1,
                "metric_name": "Trị giá nhà tình nghĩa",
                "checks": [_CHECK_EXAMPLE],
            }
        }
    )

    position: int = Field(description="1-based, in the covenant's order.")
    kind: PledgeKind
    label: str
    scope: Scope
    metric: str | None
    metric_name: str | None = Field(description="The metric's Vietnamese name, as the catalogue has it.")
    quantity: ExactDecimal | None
    note: str | None
    checks: list[PledgeCheck] = Field(
        description="An `each_member` pledge: one per member at the end of the reporting period, by "
        "name (for a task, then any other unit whose status is set); a `cluster_total` pledge: one, "
        "the members together."
    )


class PledgesOut(BaseModel):
    """A covenant's pledges, each checked: against the figures the members report over the
    cluster-year's reporting period, or against the statuses the secretariat set."""

    model_config = ConfigDict(
        json_schema_extra={
            "example": {
                "cluster": 4,
                "year": 2024,
                "period_start": "2023-12-15",
                "period_end": "2024-12-14",
                "pledges": [
                    {
                        **_JOINT,
                        "position": 1,
                        "metric_name": "Trị giá nhà tình nghĩa",
                        "checks": [
                            {
                                "unit": None,
                                "outcome": "unknown",
                                "value": None,
                                "why": "Chưa xác định được: thiếu số liệu của Quảng Ninh từ 15/12/2023 "
                                "đến 14/12/2024.",
                                "status": None,
                            }
                        ],
                    },
                    {
                        **_TASK,
                        "position": 2,
                        "metric_name": None,
                        "checks": [
                            {
                                "unit": _UNIT,
                                "outcome": "done",
                                "value": None,
                                "why": "Đã thực hiện ngày 27/7/2024, theo Báo cáo sơ kết 6 tháng "
                                "của Cụm thi đua số 4.",
                                "status": {**_STATUS, **_RECORDED},
                            }
                        ],
                    },
                ],
                **_RECORDED,
                "recorded_by": "import:seed_history.yaml",
            }
        }
    )

    cluster: int
    year: int
    period_start: date = Field(description="The first day of the reporting period the figures are read for.")
    period_end: date = Field(description="Its last day; the members are those at its end.")
    pledges: list[PledgeOut]
    version: int
    recorded_by: str
    recorded_at: datetime


class PledgeStatusPut(BaseModel):
    """A task's status for one member, as the secretariat sets it."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"example": _STATUS})

    status: TaskStatus
    on: IsoDate = Field(description="The day it holds on: done on that day, or not done as of it.")
    source: Text = Field(min_length=1, max_length=500, description="Where it is stated (a report, minutes).")
    note: Text | None = Field(default=None, max_length=2000)


class PledgeStatusOut(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "example": {
                "cluster": 4,
                "year": 2024,
                "position": 2,
                "label": _TASK["label"],
                "unit": _UNIT,
                **_STATUS,
                **_RECORDED,
            }
        }
    )

    cluster: int
    year: int
    position: int = Field(description="The task pledge's position in the list.")
    label: str = Field(description="The task pledge's words.")
    unit: UnitRef
    status: TaskStatus
    on: date
    source: str
    note: str | None
    version: int
    recorded_by: str
    recorded_at: datetime
