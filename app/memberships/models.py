from datetime import date, datetime
from enum import StrEnum

from sqlalchemy import CheckConstraint, Column, text
from sqlalchemy.dialects.postgresql import ExcludeConstraint
from sqlmodel import Field, SQLModel

from app.core.time import timestamp_field


class PeriodPrecision(StrEnum):
    """`day`: the dates are known. `year`: the source attests the year only; the stored
    period spans the year (within the unit's existence) and the exact days are unknown."""

    day = "day"
    year = "year"


class Membership(SQLModel, table=True):
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
    version: int = 1
    recorded_by: str = Field(max_length=160)
    recorded_at: datetime = timestamp_field()
