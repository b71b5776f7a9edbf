from datetime import date
from enum import StrEnum

from sqlalchemy import CheckConstraint
from sqlmodel import Field

from app.core.models import Versioned


class ProceedingKind(StrEnum):
    """What keeps a unit from being proposed while it is open (Decree 152/2025 art. 4)."""

    disciplinary_review = "disciplinary_review"
    investigation = "investigation"
    inspection = "inspection"
    complaint = "complaint"


class Proceeding(Versioned, table=True):
    """A disciplinary review, investigation, inspection or complaint being verified that concerns a
    unit, open from `opened_on` until `closed_on` (inclusive; null: still open)."""

    __tablename__ = "proceedings"
    __table_args__ = (
        CheckConstraint(
            "kind IN ('disciplinary_review', 'investigation', 'inspection', 'complaint')",
            name="proceeding_kind_known",
        ),
        CheckConstraint("closed_on IS NULL OR opened_on <= closed_on", name="proceeding_period_ordered"),
    )

    id: int | None = Field(default=None, primary_key=True)
    unit_id: int = Field(foreign_key="units.id", index=True)
    kind: str = Field(max_length=30)
    opened_on: date
    closed_on: date | None = None
    reference: str | None = Field(default=None, max_length=300)
    note: str | None = Field(default=None, max_length=2000)
