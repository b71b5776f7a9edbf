from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, model_validator

from app.core.i18n import _
from app.core.types import Text
from app.metrics.models import SOURCE_LENGTH, MeasureUnit, MetricKind

MetricKey = Field(pattern=r"^[a-z][a-z0-9_]{0,59}$", description="Stable key, e.g. `social_order_crimes`.")

_RATE_EXAMPLE: dict[str, Any] = {
    "key": "crime_reports_processed_rate",
    "name_vi": "Tỷ lệ tin báo, tố giác tội phạm và kiến nghị khởi tố được tiếp nhận, xử lý",
    "name_en": "Share of crime reports and prosecution requests taken in and processed",
    "unit_of_measure": "percent",
    "kind": "rate",
    "numerator": "crime_reports_processed",
    "denominator": "crime_reports_received",
    "description": None,
    "source": "Cụm thi đua số 6 Bộ Công an ký giao ước thi đua “Vì an ninh Tổ quốc” năm 2022 (Báo Gia "
    "Lai, 04/2022): https://baogialai.com.vn/channel/581/202204/"
    "cum-thi-dua-so-6-bo-cong-an-ky-giao-uoc-thi-dua-vi-an-ninh-to-quoc-nam-2022-5773897/",
}

SOURCE_DESCRIPTION = (
    "Where the metric is seen counted: the title and address of a public article or document "
    "(a covenant, a year-end report) that counts it."
)


class MetricCreate(BaseModel):
    """A metric of the catalogue. A `rate` names its numerator and denominator metrics."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"example": _RATE_EXAMPLE})

    key: str = MetricKey
    name_vi: Text = Field(min_length=1, max_length=200, description="Vietnamese name.")
    name_en: Text = Field(min_length=1, max_length=200, description="English name.")
    unit_of_measure: MeasureUnit
    kind: MetricKind
    numerator: str | None = Field(
        default=None, pattern=r"^[a-z][a-z0-9_]{0,59}$", description="For a rate: the key of its numerator."
    )
    denominator: str | None = Field(
        default=None, pattern=r"^[a-z][a-z0-9_]{0,59}$", description="For a rate: the key of its denominator."
    )
    description: Text | None = Field(default=None, max_length=2000)
    source: Text | None = Field(default=None, max_length=SOURCE_LENGTH, description=SOURCE_DESCRIPTION)

    @model_validator(mode="after")
    def _parts(self) -> "MetricCreate":
        has_parts = self.numerator is not None and self.denominator is not None
        if (self.kind is MetricKind.rate) != has_parts:
            raise ValueError(_("A rate, and only a rate, names both its numerator and its denominator."))
        if has_parts and self.numerator == self.denominator:
            raise ValueError(_("A rate's numerator and denominator differ."))
        return self


class MetricOut(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "example": {
                **_RATE_EXAMPLE,
                "version": 1,
                "recorded_by": "reference-data",
                "recorded_at": "2026-11-26T08:00:00Z",
            }
        }
    )

    key: str
    name_vi: str
    name_en: str
    unit_of_measure: MeasureUnit
    kind: MetricKind
    numerator: str | None = Field(description="For a rate: the key of its numerator metric.")
    denominator: str | None = Field(description="For a rate: the key of its denominator metric.")
    description: str | None
    source: str | None = Field(default=None, description=SOURCE_DESCRIPTION)
    version: int
    recorded_by: str
    recorded_at: datetime
