from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from app.auth.roles import Role
from app.core.types import Integer, Text
from app.units.examples import HUNG_YEN
from app.units.schemas import UnitRef

_NAME = Field(min_length=1, max_length=120, description="Who holds the key.")


class _KeyCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: Text = _NAME


class AdminKeyCreate(_KeyCreate):
    role: Literal[Role.admin]


class ReaderKeyCreate(_KeyCreate):
    role: Literal[Role.reader]


class ClusterKeyCreate(_KeyCreate):
    """A cluster secretariat's key: writes for that cluster only."""

    role: Literal[Role.cluster]
    cluster: Integer = Field(ge=1, le=999, description="The cluster's number.")


class UnitKeyCreate(_KeyCreate):
    """A provincial system's key: writes for that unit only."""

    model_config = ConfigDict(
        json_schema_extra={
            "example": {
                "name": "Công an tỉnh Hưng Yên — hệ thống báo cáo",
                "role": "unit",
                "unit_id": 69,
            }
        }
    )

    role: Literal[Role.unit]
    unit_id: Integer = Field(ge=1, le=2_147_483_647)


KeyCreate = Annotated[
    AdminKeyCreate | ReaderKeyCreate | ClusterKeyCreate | UnitKeyCreate, Field(discriminator="role")
]


_KEY_EXAMPLE: dict[str, Any] = {
    "id": 7,
    "name": "Công an tỉnh Hưng Yên — hệ thống báo cáo",
    "role": "unit",
    "cluster": None,
    "unit": HUNG_YEN,
    "key_prefix": "thd_3kF9aQ",
    "created_by": "key:1:Cục Công tác chính trị",
    "created_at": "2026-11-25T08:00:00Z",
    "revoked_at": None,
}


class KeyOut(BaseModel):
    model_config = ConfigDict(json_schema_extra={"example": _KEY_EXAMPLE})

    id: int
    name: str
    role: Role
    cluster: int | None = Field(description="For `cluster` keys: the cluster's number.")
    unit: UnitRef | None = Field(description="For `unit` keys: the unit.")
    key_prefix: str = Field(description="The first characters of the key, to recognise it.")
    created_by: str
    created_at: datetime
    revoked_at: datetime | None


class KeyCreated(KeyOut):
    model_config = ConfigDict(json_schema_extra={"example": {**_KEY_EXAMPLE, "key": "thd_3kF9aQ…"}})

    key: str | None = Field(
        description="The key itself, in the answer that created it and never again: only its "
        "hash is stored. null in an idempotent replay of the creation."
    )
