from datetime import datetime

from sqlalchemy import CheckConstraint, Column, DateTime
from sqlmodel import Field, SQLModel

from app.auth.roles import Role
from app.core.identity import ACTOR_LENGTH
from app.core.time import timestamp_field

__all__ = ["ApiKey", "Role"]


class ApiKey(SQLModel, table=True):
    """An API key; only its SHA-256 is stored. Revoked keys stay for the record."""

    __tablename__ = "api_keys"
    __table_args__ = (
        CheckConstraint("role IN ('admin', 'cluster', 'unit', 'reader')", name="role_known"),
        CheckConstraint("(role = 'cluster') = (cluster_id IS NOT NULL)", name="cluster_scope"),
        CheckConstraint("(role = 'unit') = (unit_id IS NOT NULL)", name="unit_scope"),
    )

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=120)
    role: str = Field(max_length=16)
    cluster_id: int | None = Field(default=None, foreign_key="clusters.id")
    unit_id: int | None = Field(default=None, foreign_key="units.id")
    key_hash: str = Field(max_length=64, unique=True)
    key_prefix: str = Field(max_length=16)
    created_by: str = Field(max_length=ACTOR_LENGTH)
    created_at: datetime = timestamp_field()
    revoked_at: datetime | None = Field(
        default=None, sa_column=Column(DateTime(timezone=True), nullable=True)
    )
