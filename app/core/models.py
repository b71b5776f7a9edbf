"""Tables every feature shares: the revision log and idempotency records."""

from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, Column, Index, UniqueConstraint
from sqlalchemy.dialects.postgresql import JSON, JSONB
from sqlmodel import Field, SQLModel

from app.core.time import timestamp_field


class Revision(SQLModel, table=True):
    """Every version of every versioned record, as it was written; never updated or deleted."""

    __tablename__ = "revisions"
    __table_args__ = (UniqueConstraint("resource", "resource_id", "version"),)

    id: int | None = Field(default=None, sa_column=Column(BigInteger, primary_key=True))
    resource: str = Field(max_length=40)
    resource_id: int
    version: int
    data: dict[str, Any] = Field(sa_column=Column(JSONB, nullable=False))
    recorded_by: str = Field(max_length=160)
    recorded_at: datetime = timestamp_field()


class IdempotencyRecord(SQLModel, table=True):
    """The first answer to a creating POST, replayed when the same key is sent again."""

    __tablename__ = "idempotency_records"
    __table_args__ = (
        UniqueConstraint("api_key_id", "key"),
        Index("idempotency_records_created_at_idx", "created_at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    api_key_id: int = Field(foreign_key="api_keys.id")
    key: str = Field(max_length=255)
    fingerprint: str = Field(max_length=64)
    status_code: int | None = None
    body: Any = Field(default=None, sa_column=Column(JSON, nullable=True))
    """`json`, not `jsonb`: a replay keeps the first answer's key order. Never a secret."""
    headers: dict[str, str] | None = Field(default=None, sa_column=Column(JSON, nullable=True))
    """The first answer's representation headers (`Location`, `ETag`, `Content-Type`)."""
    created_at: datetime = timestamp_field()
