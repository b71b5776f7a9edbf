from datetime import date, datetime
from typing import Any, Self

from pydantic import BaseModel, ConfigDict, Field, model_validator

from app.core.corrections import Correction
from app.core.i18n import _
from app.core.types import IsoDate, Text, not_null
from app.proceedings.models import ProceedingKind

_KIND = Field(
    description="`disciplinary_review`, `investigation`, `inspection`, or `complaint` (a complaint "
    "being verified): while open, the unit may not be nominated (Decree 152/2025 art. 4)."
)
_CLOSED = Field(default=None, description="Last day it was open (inclusive); null: still open.")
_REFERENCE = Field(default=None, max_length=300, description="The decision or file that opened it.")
_NOTE = Field(default=None, max_length=2000)

_OUT_EXAMPLE: dict[str, Any] = {
    "id": 1,
    "unit_id": 21,
    "kind": "inspection",
    "opened_on": "2025-09-01",
    "closed_on": None,
    "reference": "Quyết định thanh tra số 12/QĐ-TTr",
    "note": None,
    "version": 1,
    "recorded_by": "key:1:Cục Công tác chính trị",
    "recorded_at": "2026-11-26T08:00:00Z",
}


def _ordered(opened_on: date | None, closed_on: date | None) -> None:
    if opened_on is not None and closed_on is not None and closed_on < opened_on:
        raise ValueError(_("closed_on is before opened_on."))


class ProceedingCreate(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "example": {
                "kind": "inspection",
                "opened_on": "2025-09-01",
                "closed_on": None,
                "reference": "Quyết định thanh tra số 12/QĐ-TTr",
                "note": None,
            }
        },
    )

    kind: ProceedingKind = _KIND
    opened_on: IsoDate = Field(description="First day it was open.")
    closed_on: IsoDate | None = _CLOSED
    reference: Text | None = _REFERENCE
    note: Text | None = _NOTE

    @model_validator(mode="after")
    def _period(self) -> Self:
        _ordered(self.opened_on, self.closed_on)
        return self


class ProceedingUpdate(Correction):
    """Close a proceeding (`closed_on`) or correct it; a new version each time."""

    model_config = ConfigDict(
        extra="forbid", json_schema_extra={"example": {"closed_on": "2025-12-15"}, "minProperties": 1}
    )

    kind: ProceedingKind | None = Field(default=None, json_schema_extra=not_null)
    opened_on: IsoDate | None = Field(default=None, json_schema_extra=not_null)
    closed_on: IsoDate | None = _CLOSED
    reference: Text | None = _REFERENCE
    note: Text | None = _NOTE


class ProceedingOut(BaseModel):
    model_config = ConfigDict(json_schema_extra={"example": _OUT_EXAMPLE})

    id: int
    unit_id: int
    kind: ProceedingKind
    opened_on: date
    closed_on: date | None
    reference: str | None
    note: str | None
    version: int
    recorded_by: str
    recorded_at: datetime
