from datetime import date, datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, model_validator

from app.conferences.schemas import CONFERENCE_ID
from app.core.i18n import _
from app.core.types import Integer, IsoDate, Text
from app.covenants.schemas import Number
from app.metrics.models import MeasureUnit
from app.reported.models import FigureKind, Qualifier

_FIGURES_EXAMPLE: list[dict[str, Any]] = [
    {
        "label": "Tội phạm về trật tự xã hội giảm so với cùng kỳ năm 2024",
        "metric": "social_order_crimes",
        "kind": "change",
        "qualifier": "exact",
        "value": -14.8,
        "unit_of_measure": "percent",
        "compared_with": "cùng kỳ năm 2024",
        "period_start": None,
        "period_end": None,
        "source": "Cụm thi đua số 4 tổng kết phong trào thi đua năm 2025",
        "note": None,
    },
    {
        "label": "lượt tập thể được khen thưởng",
        "metric": "commended_collectives",
        "kind": "value",
        "qualifier": "approximately",
        "value": 2600,
        "unit_of_measure": "collectives",
        "compared_with": None,
        "period_start": None,
        "period_end": None,
        "source": "Cụm thi đua số 3 tổng kết phong trào thi đua năm 2022",
        "note": "gần 2.600",
    },
]


class ReportedFigureIn(BaseModel):
    """A figure as the conference reports it for the whole cluster."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"example": _FIGURES_EXAMPLE[0]})

    label: Text = Field(min_length=1, max_length=500, description="What it counts, as the source says.")
    metric: str | None = Field(
        default=None, pattern=r"^[a-z][a-z0-9_]{0,59}$", description="A key of the metric catalogue."
    )
    kind: FigureKind = Field(
        description="`value`: a count or an amount; `change`: a signed percent against "
        "`compared_with`; `rate`: a percent."
    )
    qualifier: Qualifier = Field(
        description='As the source words it: "gần" `approximately`, "trên"/"hơn" `over`.'
    )
    value: Number = Field(description="Never negative but for a `change`.")
    unit_of_measure: MeasureUnit | None = None
    compared_with: Text | None = Field(
        default=None, max_length=200, description='For a change: against what ("cùng kỳ năm 2024").'
    )
    period_start: IsoDate | None = Field(
        default=None,
        description="The period the source states the figure for; null: not stated (it reads "
        "against the cluster-year's reporting period, which is not stored here).",
    )
    period_end: IsoDate | None = None
    source: Text | None = Field(default=None, max_length=500)
    note: Text | None = Field(default=None, max_length=2000)

    @model_validator(mode="after")
    def _consistent(self) -> "ReportedFigureIn":
        if self.kind is not FigureKind.change and self.value < 0:
            raise ValueError(_("Only a change may be negative."))
        if self.period_start and self.period_end and self.period_end < self.period_start:
            raise ValueError(_("The period ends before it starts."))
        return self


_PUT_EXAMPLE: dict[str, Any] = {"figures": _FIGURES_EXAMPLE, "conference_id": None}


class ReportedFiguresPut(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"example": _PUT_EXAMPLE})

    figures: list[ReportedFigureIn] = Field(max_length=200, description="In the order of the source.")
    conference_id: Integer | None = CONFERENCE_ID


class ReportedFigureOut(BaseModel):
    position: int = Field(description="1-based, in the order of the source.")
    label: str
    metric: str | None
    kind: FigureKind
    qualifier: Qualifier
    value: Number
    unit_of_measure: MeasureUnit | None
    compared_with: str | None
    period_start: date | None
    period_end: date | None
    source: str | None
    note: str | None


class ReportedFiguresOut(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "example": {
                "cluster": 4,
                "year": 2025,
                "figures": [{**_FIGURES_EXAMPLE[0], "position": 1}],
                "conference_id": None,
                "version": 1,
                "recorded_by": "import:seed_history.yaml",
                "recorded_at": "2026-11-26T08:00:00Z",
            }
        }
    )

    cluster: int
    year: int
    figures: list[ReportedFigureOut]
    conference_id: int | None = Field(
        default=None, description="The conference that reported them, if recorded."
    )
    version: int
    recorded_by: str
    recorded_at: datetime
