"""Tables every feature shares (the revision log, idempotency records) and the columns every
recorded row shares (`Recorded`, `Versioned`)."""

from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, Column, DateTime, Index, UniqueConstraint, func
from sqlalchemy.dialects.postgresql import JSON, JSONB
from sqlmodel import Field, SQLModel

from app.core.identity import ACTOR_LENGTH, Actor
from app.core.time import timestamp_field, utcnow


class Recorded(SQLModel):
    """Who recorded a row and when: `recorded_by` holds an `Actor` in its one text form, written by
    `record` only (a key today, a person once people sign in), and read back by `recorder`."""

    recorded_by: str = Field(max_length=ACTOR_LENGTH)
    recorded_at: datetime = Field(
        default_factory=utcnow,
        sa_type=DateTime(timezone=True),
        sa_column_kwargs={"nullable": False, "server_default": func.now()},
    )

    def record(self, actor: Actor) -> None:
        """`actor` recorded this row, now."""
        self.recorded_by = actor.recorded_by
        self.recorded_at = utcnow()

    @property
    def recorder(self) -> Actor:
        """Who recorded this row, typed."""
        return Actor.parse(self.recorded_by)


class Versioned(Recorded):
    """A record that keeps versions: its version (1 when first written) and who recorded it when.
    Its earlier versions are in `revisions`; `app.core.versioned` writes the next one."""

    version: int = Field(default=1, sa_column_kwargs={"server_default": "1"})

    def stamp(self, actor: Actor) -> None:
        """The next version, recorded by `actor`, now."""
        self.version += 1
        self.record(actor)


class Revision(Recorded, table=True):
    """Every version of every versioned record, as it was written; never updated or deleted."""

    __tablename__ = "revisions"
    __table_args__ = (UniqueConstraint("resource", "resource_id", "version"),)

    id: int | None = Field(default=None, sa_column=Column(BigInteger, primary_key=True))
    resource: str = Field(max_length=40)
    resource_id: int
    version: int
    data: dict[str, Any] = Field(sa_column=Column(JSONB, nullable=False))


class IdempotencyRecord(SQLModel, table=True):
    """The first answer to a creating POST, replayed when the same key is sent again."""

    __tablename__ = "idempotency_records"
    __table_args__ = (
        UniqueConstraint("owner", "key"),
        Index("idempotency_records_created_at_idx", "created_at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    owner: str = Field(max_length=ACTOR_LENGTH)
    """Whose records they are: the caller's `rate_limit_key` (`key:7`, a person's), so that a
    key belongs to one caller whatever its credential."""
    key: str = Field(max_length=255)
    fingerprint: str = Field(max_length=64)
    status_code: int | None = None
    body: Any = Field(default=None, sa_column=Column(JSON, nullable=True))
    """`json`, not `jsonb`: a replay keeps the first answer's key order. Never a secret."""
    headers: dict[str, str] | None = Field(default=None, sa_column=Column(JSON, nullable=True))
    """The first answer's representation headers (`Location`, `ETag`, `Content-Type`)."""
    created_at: datetime = timestamp_field()
