from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, StrictBool

from app.core.corrections import Correction
from app.core.errors import Problem
from app.core.types import SearchableName, Text, not_null

_NAME = Field(
    min_length=1,
    max_length=120,
    description="The alias as written (`TP.HCM`, `BR-VT`, `Đắc Lắc`). Two aliases of a unit that read "
    "the same once case, diacritics, dashes, dots and spaces are set aside are one alias (409).",
)
_NOTE = Field(default=None, max_length=2000, description="Who writes it so, and when it applies.")
_SOURCE = Field(default=None, max_length=500, description="Where it is written so (document, article).")

_EXAMPLE_OUT: dict[str, Any] = {
    "id": 3,
    "unit_id": 80,
    "name": "TP.HCM",
    "search_key": "tphcm",
    "note": "Press and official documents; also written TPHCM, TP HCM (the same search key).",
    "source": None,
    "active": True,
    "version": 1,
    "recorded_by": "reference-data",
    "recorded_at": "2026-11-27T08:00:00Z",
}


class AliasCreate(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "example": {"name": "Sài Gòn", "note": "Common in the press.", "source": "Báo Công an nhân dân"}
        },
    )

    name: SearchableName = _NAME
    note: Text | None = _NOTE
    source: Text | None = _SOURCE


class AliasUpdate(Correction):
    """A correction of an alias, or its retirement (`active: false`); a new version each time."""

    model_config = ConfigDict(
        extra="forbid", json_schema_extra={"example": {"active": False}, "minProperties": 1}
    )

    name: SearchableName | None = Field(
        default=None,
        min_length=1,
        max_length=120,
        description="The alias as written.",
        json_schema_extra=not_null,
    )
    note: Text | None = _NOTE
    source: Text | None = _SOURCE
    active: StrictBool | None = Field(
        default=None,
        description="`false` retires the alias: it no longer matches names (it stays listed).",
        json_schema_extra=not_null,
    )


class AliasOut(BaseModel):
    model_config = ConfigDict(json_schema_extra={"example": _EXAMPLE_OUT})

    id: int
    unit_id: int
    name: str
    search_key: str = Field(description="What name searches compare: folded letters and digits.")
    note: str | None
    source: str | None
    active: bool = Field(description="Only active aliases match names.")
    version: int
    recorded_by: str
    recorded_at: datetime


class AliasConflict(Problem):
    """409 on an alias: another alias of the unit reads the same (`alias-exists`)."""

    model_config = ConfigDict(
        json_schema_extra={
            "example": {
                "type": "/problems/alias-exists",
                "title": "Xung đột dữ liệu",
                "status": 409,
                "detail": "Đơn vị có mã số 80 đã có tên gọi khác 'TP.HCM' (mã số 3), được coi là trùng với "
                "'TP HCM'.",
                "instance": "/v1/units/80/aliases",
                "request_id": "0f5c2a7e9b3d4c1a8e6f2b9d7c4a1e3f",
                "existing_alias_id": 3,
            }
        }
    )

    existing_alias_id: int | None = Field(default=None, description="409: the alias that reads the same.")
