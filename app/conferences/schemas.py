from datetime import date, datetime
from typing import Annotated, Any, Self

from pydantic import BaseModel, ConfigDict, Field, model_validator

from app.conferences.models import ConferenceKind, DatePrecision
from app.core.corrections import Correction
from app.core.i18n import _
from app.core.types import Integer, IsoDate, Text, not_null
from app.units.schemas import UnitRef

UnitIdIn = Annotated[int, Integer, Field(ge=1, le=2_147_483_647)]

CONFERENCE_ID = Field(
    default=None,
    ge=1,
    le=2_147_483_647,
    description="The conference it was decided at (`GET /v1/conferences/{id}`), one of the same "
    "cluster-year (409 `conference-mismatch` otherwise); null: not recorded.",
)
"""The `conference_id` a covenant, reported figures or a vote may give."""

_CAO_BANG = {"id": 3, "code": "04", "name": "Cao Bằng", "valid_from": None, "valid_to": None}

_SOURCE_EXAMPLE: dict[str, Any] = {
    "title": "Cụm thi đua số 3 tổng kết phong trào 'Vì an ninh Tổ quốc' năm 2025 (Báo CAND)",
    "url": "https://cand.com.vn/hoat-dong-ll-cand/cum-thi-dua-so-3-tong-ket-phong-trao-vi-an-ninh-to-"
    "quoc-nam-2025-i788804/",
    "published": None,
    "quote": "Ngày 21/11, tại Công an tỉnh Cao Bằng, Cụm thi đua số 3, Bộ Công an … tổ chức Hội nghị "
    "tổng kết phong trào thi đua 'Vì an ninh Tổ quốc' năm 2025.",
}
_CREATE_EXAMPLE: dict[str, Any] = {
    "kind": "year_end_summary",
    "held_on": "2025-11-21",
    "held_on_precision": "day",
    "host_unit_id": 3,
    "chair_unit_ids": [3],
    "guests": None,
    "source": _SOURCE_EXAMPLE,
    "note": None,
}
_OUT_EXAMPLE: dict[str, Any] = {
    "id": 2,
    "cluster": 3,
    "year": 2025,
    "kind": "year_end_summary",
    "held_on": "2025-11-21",
    "held_on_precision": "day",
    "host": _CAO_BANG,
    "host_stated": True,
    "chairs": [_CAO_BANG],
    "guests": None,
    "source": _SOURCE_EXAMPLE,
    "note": None,
    "version": 1,
    "recorded_by": "import:seed_history.yaml",
    "recorded_at": "2026-12-07T08:00:00Z",
}

_KIND = Field(
    description="`signing` (hội nghị ký kết giao ước), `mid_year_review` (sơ kết 6 tháng), "
    "`nine_month_review` (sơ kết 9 tháng), `year_end_summary` (tổng kết), or `other`."
)
_HELD_ON = Field(
    description="The day it was held; when only the month is known, any day of it with "
    "`held_on_precision: month` (stored and shown as the month's first day). In the year before, "
    "the year itself or the year after."
)
_PRECISION = (
    "`day`: `held_on` is the day. `month`: the source gives the month only, and `held_on` is its "
    "first day (a day of it given is stored as the first)."
)
_HOST = (
    "The unit that hosted it, a member of the cluster on that day (on some day of that month, for "
    "a month-only date); null: the source does not state it."
)
_CHAIRS = (
    "The units that chaired it (chủ trì), in the source's order, each a member of the cluster on "
    "that day (that month); empty: not stated."
)
_GUESTS = Field(
    default=None, max_length=2000, description="Who attended besides the members, as the source says."
)
_NOTE = Field(default=None, max_length=2000)


class ConferenceSource(BaseModel):
    """The public record a conference is known from."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"example": _SOURCE_EXAMPLE})

    title: Text = Field(min_length=1, max_length=500)
    url: Text | None = Field(default=None, max_length=1000)
    published: IsoDate | None = None
    quote: Text | None = Field(default=None, max_length=2000, description="The source's own words.")


def _unique_items_not_null(schema: dict[str, Any]) -> None:
    """A list that may be left out of a correction, but not set to null, and names a unit once."""
    not_null(schema)
    schema["uniqueItems"] = True


def _distinct(units: list[int] | None) -> None:
    if units is not None and len(set(units)) != len(units):
        raise ValueError(_("A unit is named twice among the chairs."))


class ConferenceCreate(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"example": _CREATE_EXAMPLE})

    kind: ConferenceKind = _KIND
    held_on: IsoDate = _HELD_ON
    held_on_precision: DatePrecision = Field(default=DatePrecision.day, description=_PRECISION)
    host_unit_id: Integer | None = Field(
        ge=1, le=2_147_483_647, description=_HOST + " Required: give null to record that."
    )
    chair_unit_ids: list[UnitIdIn] = Field(
        default_factory=list, max_length=10, description=_CHAIRS, json_schema_extra={"uniqueItems": True}
    )
    guests: Text | None = _GUESTS
    source: ConferenceSource | None = None
    note: Text | None = _NOTE

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        _distinct(self.chair_unit_ids)
        return self


class ConferenceUpdate(Correction):
    """A correction of a conference; a new version each time. Its cluster and year stay."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"example": {"guests": "Lãnh đạo Cục Công tác chính trị"}, "minProperties": 1},
    )

    kind: ConferenceKind | None = Field(default=None, json_schema_extra=not_null)
    held_on: IsoDate | None = Field(default=None, json_schema_extra=not_null)
    held_on_precision: DatePrecision | None = Field(default=None, json_schema_extra=not_null)
    host_unit_id: Integer | None = Field(default=None, ge=1, le=2_147_483_647, description=_HOST)
    chair_unit_ids: list[UnitIdIn] | None = Field(
        default=None, max_length=10, description=_CHAIRS, json_schema_extra=_unique_items_not_null
    )
    guests: Text | None = _GUESTS
    source: ConferenceSource | None = None
    note: Text | None = _NOTE

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        if "chair_unit_ids" in self.model_fields_set and self.chair_unit_ids is None:
            raise ValueError(_("{field} cannot be null.", field="chair_unit_ids"))
        _distinct(self.chair_unit_ids)
        return self


class ConferenceOut(BaseModel):
    """A conference of a cluster-year, as its source tells it."""

    model_config = ConfigDict(json_schema_extra={"example": _OUT_EXAMPLE})

    id: int
    cluster: int
    year: int = Field(description="The emulation year it belongs to.")
    kind: ConferenceKind
    held_on: date = Field(description="The day; the month's first day when only the month is known.")
    held_on_precision: DatePrecision = Field(description=_PRECISION)
    host: UnitRef | None = Field(description="The unit that hosted it; null: the source does not state it.")
    host_stated: bool = Field(description="Whether the source states the host (false: `host` is null).")
    chairs: list[UnitRef] = Field(description="The units that chaired it; empty: not stated.")
    guests: str | None
    source: ConferenceSource | None
    note: str | None
    version: int
    recorded_by: str
    recorded_at: datetime
