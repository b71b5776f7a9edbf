from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

from app.clusters.models import RotationCustom
from app.core.corrections import Correction
from app.core.types import Integer, Text, not_null

Number = Field(ge=1, le=999, description="The cluster's number (Cụm thi đua số N).")


class ClusterCreate(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"example": {"number": 5, "rotation_custom": "deputy_succeeds"}},
    )

    number: Integer = Number
    name: Text | None = Field(
        default=None, min_length=1, max_length=120, description="Default: `Cụm thi đua số N`."
    )
    rotation_custom: RotationCustom = Field(
        default=RotationCustom.least_recent,
        description="`deputy_succeeds`: this year's deputy usually leads next year; "
        "`least_recent`: the member who led least recently leads.",
    )
    note: Text | None = Field(default=None, max_length=2000)


class ClusterUpdate(Correction):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"example": {"note": "Theo Quyết định …"}, "minProperties": 1},
    )

    name: Text | None = Field(default=None, min_length=1, max_length=120, json_schema_extra=not_null)
    rotation_custom: RotationCustom | None = Field(default=None, json_schema_extra=not_null)
    note: Text | None = Field(default=None, max_length=2000)


class ClusterOut(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "example": {
                "number": 5,
                "name": "Cụm thi đua số 5",
                "rotation_custom": "deputy_succeeds",
                "note": None,
                "version": 1,
                "recorded_by": "key:1:ministry",
                "recorded_at": "2025-01-02T08:00:00Z",
            }
        }
    )

    number: int
    name: str
    rotation_custom: RotationCustom
    note: str | None
    version: int
    recorded_by: str
    recorded_at: datetime
