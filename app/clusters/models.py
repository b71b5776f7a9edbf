from enum import StrEnum

from sqlalchemy import CheckConstraint
from sqlmodel import Field

from app.core.models import Versioned


class RotationCustom(StrEnum):
    """How a cluster usually picks next year's leader."""

    least_recent = "least_recent"
    deputy_succeeds = "deputy_succeeds"


class Cluster(Versioned, table=True):
    """An emulation cluster (Cụm thi đua số N)."""

    __tablename__ = "clusters"
    __table_args__ = (
        CheckConstraint("number > 0", name="number_positive"),
        CheckConstraint(
            "rotation_custom IN ('least_recent', 'deputy_succeeds')", name="rotation_custom_known"
        ),
    )

    id: int | None = Field(default=None, primary_key=True)
    number: int = Field(unique=True)
    name: str = Field(max_length=120)
    rotation_custom: str = Field(default=RotationCustom.least_recent.value, max_length=20)
    note: str | None = Field(default=None, max_length=2000)
