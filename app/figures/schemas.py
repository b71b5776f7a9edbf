from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, model_validator

from app.core.i18n import _
from app.core.numbers import ExactDecimal, exact_number
from app.core.types import Integer, IsoDate, Text
from app.units.schemas import UnitRef

METRIC_KEY = r"^[a-z][a-z0-9_]{0,59}$"
MAX_FIGURE = Decimal(10**18)

FigureNumber = Annotated[Decimal, exact_number(0, MAX_FIGURE)]
"""A non-negative JSON number, kept exactly (`numeric`): the same digits in and out."""
FigureValue = ExactDecimal
"""A figure in an answer, written with the digits it was stored with."""

_EXACT = (
    " An exact decimal (`format: decimal`): the value written is the value stored and answered, "
    "every significant digit of it, `12345678901234567.89` included (zeros ending a fraction are "
    "not repeated: `98.500` reads back as `98.5`); read it as a decimal (`BigDecimal`, Swift "
    "`Decimal`, Python `Decimal`) rather than a binary float to keep every digit."
)
VALUE = "A count or an amount; null for a rate given by its parts." + _EXACT
NUMERATOR = "A rate's numerator, with `denominator`; null when `value` is given." + _EXACT
DENOMINATOR = "A rate's denominator, with `numerator`; null when `value` is given." + _EXACT


def value_or_parts(value: Decimal | None, numerator: Decimal | None, denominator: Decimal | None) -> None:
    parts = (numerator is not None) + (denominator is not None)
    if parts == 1:
        raise ValueError(_("A rate's numerator and denominator go together."))
    if (value is None) == (parts == 0):
        raise ValueError(_("Give either `value` or both `numerator` and `denominator`."))


_HUNG_YEN: dict[str, Any] = {
    "id": 99,
    "code": "33",
    "name": "Hưng Yên",
    "valid_from": "2025-07-01",
    "valid_to": None,
}
_THAI_BINH: dict[str, Any] = {
    "id": 54,
    "code": "34",
    "name": "Thái Bình",
    "valid_from": None,
    "valid_to": "2025-06-30",
}


class FigureIn(BaseModel):
    """One metric's figure: `value` for a count or an amount; `numerator` and `denominator` for a
    rate (a bare percentage `value` for a rate is kept but cannot be re-aggregated)."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"example": {"metric": "social_order_crimes", "value": 412}},
    )

    metric: str = Field(pattern=METRIC_KEY, description="The metric's key in the catalogue.")
    value: FigureNumber | None = Field(default=None, description=VALUE)
    numerator: FigureNumber | None = Field(default=None, description=NUMERATOR)
    denominator: FigureNumber | None = Field(default=None, description=DENOMINATOR)

    @model_validator(mode="after")
    def _value_or_parts(self) -> "FigureIn":
        value_or_parts(self.value, self.numerator, self.denominator)
        return self


_PUT_EXAMPLE: dict[str, Any] = {
    "year": 2025,
    "values": [
        {"metric": "social_order_crimes", "value": 412, "numerator": None, "denominator": None},
        {"metric": "crime_reports_handled_rate", "value": None, "numerator": 1804, "denominator": 1932},
    ],
    "source": "Hệ thống thống kê Công an tỉnh Thái Bình",
    "note": None,
}


class FigureSetPut(BaseModel):
    """A unit's figures for the period in the path, within the reporting `year` (the year of the
    period's first or last day; a period spans at most 366 days)."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"example": _PUT_EXAMPLE})

    year: Integer = Field(ge=2000, le=2100, description="The reporting year.")
    values: list[FigureIn] = Field(min_length=1, max_length=500)
    source: Text | None = Field(default=None, max_length=500)
    note: Text | None = Field(default=None, max_length=2000)


class FigureOut(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "example": {
                "metric": "crime_reports_handled_rate",
                "value": None,
                "numerator": 1804,
                "denominator": 1932,
                "re_aggregable": True,
            }
        }
    )

    metric: str
    value: FigureValue | None = Field(description=VALUE)
    numerator: FigureValue | None = Field(description=NUMERATOR)
    denominator: FigureValue | None = Field(description=DENOMINATOR)
    re_aggregable: bool = Field(
        description="False for a rate given only as a percentage: it cannot be summed with others."
    )


_SET_EXAMPLE: dict[str, Any] = {
    "unit": _THAI_BINH,
    "year": 2025,
    "period_start": "2024-12-15",
    "period_end": "2025-06-14",
    "values": [
        {
            "metric": "social_order_crimes",
            "value": 412,
            "numerator": None,
            "denominator": None,
            "re_aggregable": True,
        },
        {
            "metric": "crime_reports_handled_rate",
            "value": None,
            "numerator": 1804,
            "denominator": 1932,
            "re_aggregable": True,
        },
    ],
    "written_by": _HUNG_YEN,
    "source": "Hệ thống thống kê Công an tỉnh Hưng Yên",
    "note": None,
    "version": 2,
    "recorded_by": "key:7:Công an tỉnh Hưng Yên",
    "recorded_at": "2026-11-26T08:00:00Z",
}


class FigureSetOut(BaseModel):
    model_config = ConfigDict(json_schema_extra={"example": _SET_EXAMPLE})

    unit: UnitRef
    year: int
    period_start: date
    period_end: date
    values: list[FigureOut]
    written_by: UnitRef | None = Field(
        description="The successor whose key wrote these figures of its predecessor; null otherwise."
    )
    source: str | None
    note: str | None
    version: int
    recorded_by: str
    recorded_at: datetime


class FigureItem(BaseModel):
    """One value, with its set's unit and period."""

    model_config = ConfigDict(
        json_schema_extra={
            "example": {
                "unit": _THAI_BINH,
                "year": 2025,
                "period_start": "2024-12-15",
                "period_end": "2025-06-14",
                "metric": "social_order_crimes",
                "value": 412,
                "numerator": None,
                "denominator": None,
                "re_aggregable": True,
                "set_version": 2,
                "written_by_unit_id": 99,
            }
        }
    )

    unit: UnitRef
    year: int
    period_start: date
    period_end: date
    metric: str
    value: FigureValue | None = Field(description=VALUE)
    numerator: FigureValue | None = Field(description=NUMERATOR)
    denominator: FigureValue | None = Field(description=DENOMINATOR)
    re_aggregable: bool
    set_version: int
    written_by_unit_id: int | None


_ROW_EXAMPLE: dict[str, Any] = {
    "unit_id": None,
    "unit_code": "34",
    "unit_code_on": "2025-01-01",
    "year": 2025,
    "period_start": "2024-12-15",
    "period_end": "2025-06-14",
    "metric": "social_order_crimes",
    "value": 412,
    "numerator": None,
    "denominator": None,
    "source": None,
    "note": None,
    "expected_version": None,
}


class FigureRowIn(BaseModel):
    """One value of a batch. The unit is named by `unit_id`, or by `unit_code` with a day on which
    that code names it (`unit_code_on`). Rows of one set (unit and period) share `year`, `source`,
    `note` and `expected_version`."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"example": _ROW_EXAMPLE})

    unit_id: Integer | None = Field(default=None, ge=1, le=2_147_483_647)
    unit_code: str | None = Field(default=None, pattern=r"^\d{2,3}$")
    unit_code_on: IsoDate | None = None
    year: Integer = Field(ge=2000, le=2100)
    period_start: IsoDate
    period_end: IsoDate
    metric: str = Field(pattern=METRIC_KEY)
    value: FigureNumber | None = Field(default=None, description=VALUE)
    numerator: FigureNumber | None = Field(default=None, description=NUMERATOR)
    denominator: FigureNumber | None = Field(default=None, description=DENOMINATOR)
    source: Text | None = Field(default=None, max_length=500)
    note: Text | None = Field(default=None, max_length=2000)
    expected_version: Integer | None = Field(
        default=None,
        ge=1,
        le=2_147_483_647,
        description="If-Match for a batch: the set must exist with this version (409 otherwise). "
        "Left out: the set is created or replaced, whatever its version.",
    )

    @model_validator(mode="after")
    def _checks(self) -> "FigureRowIn":
        if (self.unit_id is None) == (self.unit_code is None):
            raise ValueError(_("Name the unit by `unit_id`, or by `unit_code` with `unit_code_on`."))
        if self.unit_code is not None and self.unit_code_on is None:
            raise ValueError(_("A unit code needs the day on which it names the unit (`unit_code_on`)."))
        value_or_parts(self.value, self.numerator, self.denominator)
        return self


class FigureBatch(BaseModel):
    """A bulk push as JSON (CSV: see the operation's description)."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"example": {"rows": [_ROW_EXAMPLE]}})

    rows: list[FigureRowIn] = Field(min_length=1)


class BatchSet(BaseModel):
    unit_id: int
    period_start: date
    period_end: date
    version: int = Field(description="The set's version after the push (would be, on a dry run).")
    created: bool


class BatchReport(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "example": {
                "dry_run": False,
                "rows": 2,
                "created": 1,
                "replaced": 0,
                "sets": [
                    {
                        "unit_id": 54,
                        "period_start": "2024-12-15",
                        "period_end": "2025-06-14",
                        "version": 1,
                        "created": True,
                    }
                ],
            }
        }
    )

    dry_run: bool = Field(description="True: nothing was written; `sets` says what would be.")
    rows: int
    created: int
    replaced: int
    sets: list[BatchSet]
