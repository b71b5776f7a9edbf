from datetime import date
from enum import StrEnum

from sqlalchemy import CheckConstraint, Column, UniqueConstraint, text
from sqlalchemy.dialects.postgresql import ExcludeConstraint
from sqlmodel import Field

from app.core.models import Versioned


class PeriodPrecision(StrEnum):
    """`day`: the dates are known. `year`: the source attests the year only; the stored
    period spans the year (within the unit's existence) and the exact days are unknown."""

    day = "day"
    year = "year"


class Membership(Versioned, table=True):
    """A unit's membership of a cluster over a period; at most one cluster per unit per day."""

    __tablename__ = "memberships"
    __table_args__ = (
        CheckConstraint("valid_to IS NULL OR valid_from <= valid_to", name="period_ordered"),
        CheckConstraint("period_precision IN ('day', 'year')", name="precision_known"),
        ExcludeConstraint(
            (Column("unit_id"), "="),
            (text("daterange(valid_from, valid_to, '[]')"), "&&"),
            name="memberships_one_cluster_per_day",
            using="gist",
        ),
    )

    id: int | None = Field(default=None, primary_key=True)
    unit_id: int = Field(foreign_key="units.id", index=True)
    cluster_id: int = Field(foreign_key="clusters.id", index=True)
    valid_from: date
    valid_to: date | None = None
    period_precision: str = Field(default=PeriodPrecision.day.value, max_length=8)
    source: str | None = Field(default=None, max_length=500)
    note: str | None = Field(default=None, max_length=2000)


class Leadership(Versioned, table=True):
    """A cluster's leader (Cụm trưởng) and deputy (Cụm phó) for one year, with the decision.

    Both must be members of the cluster that year, and a membership change may not take that
    away, so the table lives beside the memberships: a membership write reads it
    (`app.memberships.queries.ORPHANED_LEADERSHIPS`). The leadership feature (`app.leadership`)
    records and reads the rows."""

    __tablename__ = "leaderships"
    __table_args__ = (
        UniqueConstraint("cluster_id", "year"),
        CheckConstraint("leader_unit_id <> deputy_unit_id", name="leader_is_not_deputy"),
        CheckConstraint("year BETWEEN 2000 AND 2100", name="year_plausible"),
    )

    id: int | None = Field(default=None, primary_key=True)
    cluster_id: int = Field(foreign_key="clusters.id")
    year: int
    leader_unit_id: int = Field(foreign_key="units.id", index=True)
    deputy_unit_id: int | None = Field(default=None, foreign_key="units.id", index=True)
    decided_on: date | None = None
    conference: str | None = Field(default=None, max_length=300)
    source: str | None = Field(default=None, max_length=500)
    note: str | None = Field(default=None, max_length=2000)
    conference_id: int | None = Field(default=None, foreign_key="conferences.id", index=True)
    """The conference it was decided at: one of the year before (the year-end summary hands the
    leadership over)."""
