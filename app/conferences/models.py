from datetime import date
from enum import StrEnum
from typing import Any

from sqlalchemy import CheckConstraint, Column, Index, PrimaryKeyConstraint, UniqueConstraint
from sqlalchemy.dialects.postgresql import JSONB
from sqlmodel import Field, SQLModel

from app.core.models import Versioned


class ConferenceKind(StrEnum):
    """What a conference of a cluster-year is held for."""

    signing = "signing"
    """Hội nghị ký kết giao ước thi đua: the members sign the year's covenant."""
    mid_year_review = "mid_year_review"
    """Sơ kết 6 tháng: the review of the first half."""
    nine_month_review = "nine_month_review"
    """Sơ kết 9 tháng: the review of the first nine months."""
    year_end_summary = "year_end_summary"
    """Hội nghị tổng kết: results, votes, and next year's leadership."""
    other = "other"


class DatePrecision(StrEnum):
    """`day`: the day is known. `month`: the source gives the month only; the date is stored as
    the month's first day."""

    day = "day"
    month = "month"


class Conference(Versioned, table=True):
    """A conference of a cluster-year: its kind, its day (or only its month), the unit that hosted
    it (null: not stated), the units that chaired it (`conference_chairs`), its guests and its
    source. The covenant, the leadership, the reported figures and the votes decided there name it
    (`conference_id`)."""

    __tablename__ = "conferences"
    __table_args__ = (
        CheckConstraint("year BETWEEN 2000 AND 2100", name="year_plausible"),
        CheckConstraint(
            "kind IN ('signing', 'mid_year_review', 'nine_month_review', 'year_end_summary', 'other')",
            name="kind_known",
        ),
        CheckConstraint("held_on_precision IN ('day', 'month')", name="precision_known"),
        CheckConstraint(
            "held_on_precision = 'day' OR EXTRACT(DAY FROM held_on) = 1", name="month_on_its_first_day"
        ),
        CheckConstraint(
            "EXTRACT(YEAR FROM held_on) BETWEEN year - 1 AND year + 1", name="held_near_its_year"
        ),
        CheckConstraint("source IS NULL OR jsonb_typeof(source) = 'object'", name="source_is_object"),
        Index("conferences_cluster_id_year_idx", "cluster_id", "year"),
        Index("conferences_held_on_id_idx", "held_on", "id"),
    )

    id: int | None = Field(default=None, primary_key=True)
    cluster_id: int = Field(foreign_key="clusters.id")
    year: int
    kind: str = Field(max_length=20)
    held_on: date
    held_on_precision: str = Field(default=DatePrecision.day.value, max_length=8)
    host_unit_id: int | None = Field(default=None, foreign_key="units.id", index=True)
    guests: str | None = Field(default=None, max_length=2000)
    source: dict[str, Any] | None = Field(default=None, sa_column=Column(JSONB, nullable=True))
    """`ConferenceSource`: title, url, published, quote."""
    note: str | None = Field(default=None, max_length=2000)


class ConferenceChair(SQLModel, table=True):
    """A unit that chaired a conference, in the order the source names them."""

    __tablename__ = "conference_chairs"
    __table_args__ = (
        PrimaryKeyConstraint("conference_id", "position"),
        UniqueConstraint("conference_id", "unit_id"),
        CheckConstraint("position >= 1", name="position_positive"),
    )

    conference_id: int = Field(foreign_key="conferences.id", ondelete="CASCADE")
    position: int
    unit_id: int = Field(foreign_key="units.id", index=True)
