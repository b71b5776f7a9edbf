from datetime import date
from decimal import Decimal

from sqlalchemy import CheckConstraint, Column, ForeignKey, Integer, Numeric, UniqueConstraint
from sqlmodel import Field, SQLModel

from app.core.models import Versioned


class FigureSet(Versioned, table=True):
    """A unit's figures for one period (its first and last day) within a reporting year."""

    __tablename__ = "figure_sets"
    __table_args__ = (
        UniqueConstraint("unit_id", "period_start", "period_end"),
        CheckConstraint("year BETWEEN 2000 AND 2100", name="year_plausible"),
        CheckConstraint("period_start <= period_end", name="period_ordered"),
    )

    id: int | None = Field(default=None, primary_key=True)
    unit_id: int = Field(foreign_key="units.id", index=True)
    year: int
    period_start: date
    period_end: date
    written_by_unit_id: int | None = Field(
        default=None,
        foreign_key="units.id",
        description="The successor whose key wrote a predecessor's figures; null otherwise.",
    )
    source: str | None = Field(default=None, max_length=500)
    note: str | None = Field(default=None, max_length=2000)


class FigureValue(SQLModel, table=True):
    """One metric's value in a figure set: `value` (counts, amounts, a bare rate) or the rate's
    `numerator` and `denominator`."""

    __tablename__ = "figure_values"
    __table_args__ = (
        CheckConstraint(
            "value IS NOT NULL OR (numerator IS NOT NULL AND denominator IS NOT NULL)",
            name="value_or_parts",
        ),
        CheckConstraint(
            "(value IS NULL OR value >= 0) AND (numerator IS NULL OR numerator >= 0) "
            "AND (denominator IS NULL OR denominator >= 0)",
            name="non_negative",
        ),
    )

    figure_set_id: int = Field(
        sa_column=Column(Integer, ForeignKey("figure_sets.id", ondelete="CASCADE"), primary_key=True)
    )
    metric_id: int = Field(foreign_key="metrics.id", primary_key=True)
    value: Decimal | None = Field(default=None, sa_column=Column(Numeric, nullable=True))
    numerator: Decimal | None = Field(default=None, sa_column=Column(Numeric, nullable=True))
    denominator: Decimal | None = Field(default=None, sa_column=Column(Numeric, nullable=True))
