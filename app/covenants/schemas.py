from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, model_validator

from app.conferences.schemas import CONFERENCE_ID
from app.core.i18n import _
from app.core.numbers import ExactDecimal, exact_number
from app.core.periods import MAX_PERIOD_DAYS
from app.core.types import Integer, IsoDate, Text
from app.covenants.models import Basis, Comparator, Scope
from app.units.schemas import UnitRef

_LIMIT = Decimal(10**15)


Number = Annotated[Decimal, exact_number(-_LIMIT, _LIMIT)]
"""A JSON number, stored as `numeric` without rounding."""

PERIOD_START = (
    "The first day of the reporting period the covenant's targets are judged on, when it states "
    "one (both days or neither; null: not stated, and the default applies: the statistical year, "
    "15 December of the year before to 14 December, as data with its basis). At most 366 days, "
    "its first or last day in the covenant's year (422 otherwise)."
)

MetricKeyField = Field(pattern=r"^[a-z][a-z0-9_]{0,59}$", description="A key of the metric catalogue.")

_TARGETS_EXAMPLE: list[dict[str, Any]] = [
    {
        "metric": "social_order_crimes",
        "comparator": "le",
        "threshold": -5,
        "basis": "change_vs_previous_period",
        "scope": "each_member",
        "label": "kéo giảm ít nhất 5% số vụ phạm tội về trật tự xã hội",
    },
    {
        "metric": "social_order_clearance_rate",
        "comparator": "gt",
        "threshold": 90,
        "basis": "absolute",
        "scope": "each_member",
        "label": "tỷ lệ giải quyết trên 90%",
    },
]
_PUT_EXAMPLE: dict[str, Any] = {
    "signed_on": "2024-03-01",
    "host_unit_id": 14,
    "source": "Cụm thi đua số 4 ký giao ước thi đua năm 2024",
    "key_contents": [
        "Giữ vững an ninh, an toàn trên tất cả các lĩnh vực, không để bị động bất ngờ trong mọi tình huống",
        "Đẩy mạnh công tác xây dựng phong trào toàn dân bảo vệ ANTQ",
    ],
    "targets": _TARGETS_EXAMPLE,
    "note": None,
    "conference_id": None,
    "period_start": None,
    "period_end": None,
}


class TargetIn(BaseModel):
    """A numeric target: `metric` `comparator` `threshold`, on a `basis`, for a `scope`."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"example": _TARGETS_EXAMPLE[0]})

    metric: str = MetricKeyField
    comparator: Comparator
    threshold: Number = Field(
        description="For `change_vs_previous_period`: a relative change in percent for counts and "
        'amounts, in percentage points for rates. "Cut by at least 5%" is `le` `-5`.'
    )
    basis: Basis
    scope: Scope
    label: Text | None = Field(default=None, max_length=500, description="The covenant's own wording.")


class CovenantPut(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"example": _PUT_EXAMPLE})

    signed_on: IsoDate | None = Field(default=None, description="Day the covenant was signed.")
    host_unit_id: Integer | None = Field(
        default=None,
        ge=1,
        le=2_147_483_647,
        description="The unit that hosted the signing; a member of the cluster that year.",
    )
    source: Text | None = Field(default=None, max_length=500)
    key_contents: list[Annotated[Text, Field(min_length=1, max_length=2000)]] = Field(
        default_factory=list,
        max_length=50,
        description="The key contents (nội dung trọng tâm) in order, as text; those without a "
        "number stay text only.",
    )
    targets: list[TargetIn] = Field(default_factory=list, max_length=50, description="In order.")
    note: Text | None = Field(default=None, max_length=2000)
    conference_id: Integer | None = CONFERENCE_ID
    period_start: IsoDate | None = Field(default=None, description=PERIOD_START)
    period_end: IsoDate | None = Field(default=None, description="The period's last day; see `period_start`.")

    @model_validator(mode="after")
    def _period(self) -> "CovenantPut":
        if (self.period_start is None) != (self.period_end is None):
            raise ValueError(_("Give both `period_start` and `period_end`, or neither."))
        if self.period_start is not None and self.period_end is not None:
            if self.period_end < self.period_start:
                raise ValueError(_("The period ends before it starts."))
            if (self.period_end - self.period_start).days >= MAX_PERIOD_DAYS:
                raise ValueError(_("A period spans at most {days} days.", days=MAX_PERIOD_DAYS))
        return self


class TargetOut(BaseModel):
    position: int = Field(description="1-based, in the covenant's order.")
    metric: str
    metric_name: str = Field(description="The metric's Vietnamese name, as the catalogue has it.")
    comparator: Comparator
    threshold: ExactDecimal
    basis: Basis
    scope: Scope
    label: str | None


class CovenantOut(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "example": {
                "cluster": 4,
                "year": 2024,
                "signed_on": "2024-03-01",
                "host": {
                    "id": 14,
                    "code": "22",
                    "name": "Quảng Ninh",
                    "valid_from": None,
                    "valid_to": None,
                },
                "source": "[seed-004] Cụm thi đua số 4 ký giao ước thi đua năm 2024",
                "key_contents": _PUT_EXAMPLE["key_contents"],
                "targets": [
                    {**t, "position": i, "metric_name": name}
                    for i, (t, name) in enumerate(
                        zip(
                            _TARGETS_EXAMPLE,
                            (
                                "Tội phạm về trật tự xã hội",
                                "Tỷ lệ điều tra làm rõ án về trật tự xã hội",
                            ),
                            strict=True,
                        ),
                        start=1,
                    )
                ],
                "note": None,
                "conference_id": None,
                "period_start": None,
                "period_end": None,
                "version": 1,
                "recorded_by": "import:seed_history.yaml",
                "recorded_at": "2026-11-26T08:00:00Z",
            }
        }
    )

    cluster: int
    year: int
    signed_on: date | None
    host: UnitRef | None = Field(description="The unit that hosted the signing.")
    source: str | None
    key_contents: list[str]
    targets: list[TargetOut]
    note: str | None
    conference_id: int | None = Field(default=None, description="The signing conference, if recorded.")
    period_start: date | None = Field(
        default=None,
        description="The reporting period the covenant states (null: not stated); see `period_end`.",
    )
    period_end: date | None = Field(
        default=None,
        description="Its last day. Null with `period_start`: the covenant states no period, and its "
        "targets are judged on the default (the statistical year, 15 December of the year before "
        "to 14 December).",
    )
    version: int
    recorded_by: str
    recorded_at: datetime
