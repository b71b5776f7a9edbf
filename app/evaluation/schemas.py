"""What `GET /v1/clusters/{number}/years/{year}/evaluation` answers.

Numbers are decimal strings, not JSON numbers: the engine computes with exact fractions, and a
JSON number becomes a binary float in most clients (JavaScript's `0.1 + 0.2`, VND amounts past
2^53). A string is exact when the decimal terminates (`"87.5"`) and otherwise rounded half to even
to 6 places (`"-7.142857"`); a client that needs arithmetic parses it as a decimal. The rounded
text people read is in `why`, in the request's language (`7,14%` in Vietnamese)."""

from datetime import date, datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from app.core.i18n import Localized
from app.covenants.periods import PeriodBasis
from app.evaluation.domain import Basis, EvaluationRow, MissingReason, PeriodRole, Scope, Verdict
from app.rules.reporting_periods import PeriodRule

DecimalString = Field(
    pattern=r"^-?\d+(\.\d+)?$",
    description="Exact when the decimal terminates, else rounded half to even to 6 places; "
    "a rate in percent, a change in percent (counts, amounts) or percentage points (rates).",
)

_USED_EXAMPLE: dict[str, Any] = {
    "unit_id": 12,
    "start": "2023-12-15",
    "end": "2024-12-14",
    "role": "baseline",
}
_MISSING_EXAMPLE: dict[str, Any] = {
    "problem": "no_figures",
    "unit_id": 57,
    "start": "2023-12-15",
    "end": "2024-12-14",
    "role": "baseline",
}
_RULE_EXAMPLE: dict[str, Any] = PeriodRule.model_json_schema()["example"]
_PERIOD_EXAMPLE: dict[str, Any] = {
    "period_start": "2024-12-15",
    "period_end": "2025-12-14",
    "period_basis": "default",
    "period_rule": _RULE_EXAMPLE,
}
_ROW_EXAMPLE: dict[str, Any] = {
    "target_index": 0,
    "metric": "social_order_crimes",
    "basis": "change_vs_previous_period",
    "scope": "each_member",
    "unit_id": 60,
    "value": "26",
    "baseline": "28",
    "change": "-7.142857",
    "verdict": "met",
    "why": "Giảm 7,14% so với cùng kỳ (26 vụ so với 28 vụ), đạt chỉ tiêu giảm ít nhất 5%. "
    "Cùng kỳ năm trước gồm số liệu của Hưng Yên (cũ) và Thái Bình từ 15/12/2023 đến 14/12/2024.",
    "combined": [
        {"unit_id": 60, "start": "2024-12-15", "end": "2025-12-14", "role": "value"},
        {**_USED_EXAMPLE, "unit_id": 12},
        {**_USED_EXAMPLE, "unit_id": 57},
    ],
    "missing": [],
}


PERIOD_START = Field(
    description="The period judged: the cluster-year's reporting period unless the request gave "
    "one (`period_basis` says why)."
)
PERIOD_BASIS = Field(
    description="Why the period is what it is: `covenant` (the covenant states it), `default` (the "
    "statistical year for that year, 15 December of the year before to 14 December: data, "
    "`period_rule` names it with its basis), `calendar_year` (no rule covers the year), "
    "`requested` (given in the request; a day given alone is completed from the reporting period)."
)
PERIOD_RULE = Field(
    description="The rule a `default` period comes from (or that completed a `requested` one), "
    "with its citations and how sure we are of it; null otherwise."
)


class UsedOut(BaseModel):
    """A figure set that went into a row: whose, which days, for the value or the baseline."""

    model_config = ConfigDict(json_schema_extra={"example": _USED_EXAMPLE})

    unit_id: int
    start: date
    end: date
    role: PeriodRole


class MissingOut(BaseModel):
    """What makes a row unknown: the problem, whose figures (null: the cluster's), which days."""

    model_config = ConfigDict(json_schema_extra={"example": _MISSING_EXAMPLE})

    problem: MissingReason
    unit_id: int | None
    start: date
    end: date
    role: PeriodRole


class EvaluationRowOut(BaseModel):
    """One target judged for one member, or for the whole cluster (`unit_id` null)."""

    model_config = ConfigDict(json_schema_extra={"example": _ROW_EXAMPLE})

    target_index: int = Field(description="The target's position in the covenant, from 0.")
    metric: str
    basis: Basis
    scope: Scope
    unit_id: int | None = Field(description="The member; null for a cluster-total row.")
    value: str | None = DecimalString
    baseline: str | None = DecimalString
    change: str | None = DecimalString
    verdict: Verdict
    why: Localized = Field(description="One sentence, then what was combined when it is not one set.")
    combined: list[UsedOut]
    missing: list[MissingOut]

    @classmethod
    def of(cls, row: EvaluationRow, basis: Basis) -> "EvaluationRowOut":
        """The row as the API answers it (`basis` from the covenant's target)."""
        return cls.model_validate({**row.to_json(), "basis": basis})


class EvaluationOut(BaseModel):
    """A cluster's year against its covenant: targets in order, members in the order given."""

    model_config = ConfigDict(
        json_schema_extra={
            "example": {
                "cluster": 4,
                "year": 2025,
                **_PERIOD_EXAMPLE,
                "baseline_start": "2023-12-15",
                "baseline_end": "2024-12-14",
                "figures_recorded_at": "2026-01-10T08:00:00Z",
                "rows": [_ROW_EXAMPLE],
            }
        }
    )

    cluster: int
    year: int
    period_start: date = PERIOD_START
    period_end: date
    period_basis: PeriodBasis = PERIOD_BASIS
    period_rule: PeriodRule | None = PERIOD_RULE
    baseline_start: date = Field(description="The like period one year earlier (cùng kỳ).")
    baseline_end: date
    figures_recorded_at: datetime | None = Field(
        description="When the latest figure set that was read was recorded (null: none was)."
    )
    rows: list[EvaluationRowOut]


class EvaluationSummary(BaseModel):
    """The year's verdicts counted over its reporting period, for the sheet; the rows are at `href`."""

    model_config = ConfigDict(
        json_schema_extra={
            "example": {
                "met": 9,
                "not_met": 4,
                "unknown": 5,
                "figures_recorded_at": "2026-01-10T08:00:00Z",
                **_PERIOD_EXAMPLE,
                "href": "/v1/clusters/4/years/2025/evaluation",
            }
        }
    )

    met: int
    not_met: int
    unknown: int
    figures_recorded_at: datetime | None = Field(
        description="When the latest figure set read was recorded: the sheet's ETag changes with it."
    )
    period_start: date = Field(
        description="The period counted: the cluster-year's reporting period (the covenant's own, "
        "else the statistical year); `href` answers for the same period."
    )
    period_end: date
    period_basis: PeriodBasis = PERIOD_BASIS
    period_rule: PeriodRule | None = PERIOD_RULE
    href: str
