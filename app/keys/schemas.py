from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field, model_validator

from app.keys.models import Role


class KeyCreate(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"example": {"name": "Công an tỉnh Hưng Yên — hệ thống báo cáo", "role": "unit", "unit_id": 69}},
    )

    name: str = Field(min_length=1, max_length=120, description="Who holds the key.")
    role: Role
    cluster: int | None = Field(default=None, ge=1, le=999, description="For `cluster` keys: its number.")
    unit_id: int | None = Field(default=None, ge=1, le=2_147_483_647, description="For `unit` keys.")

    @model_validator(mode="after")
    def _scope(self) -> "KeyCreate":
        if (self.role is Role.cluster) != (self.cluster is not None):
            raise ValueError("`cluster` is given for cluster keys, and only for them")
        if (self.role is Role.unit) != (self.unit_id is not None):
            raise ValueError("`unit_id` is given for unit keys, and only for them")
        return self


class KeyOut(BaseModel):
    id: int
    name: str
    role: Role
    cluster: int | None
    unit_id: int | None
    key_prefix: str = Field(description="The first characters of the key, to recognise it.")
    created_by: str
    created_at: datetime
    revoked_at: datetime | None


class KeyCreated(KeyOut):
    key: str = Field(description="The key itself. Shown once; only its hash is stored.")
