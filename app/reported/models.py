from datetime import date
from decimal import Decimal
from enum import StrEnum

from sqlalchemy import CheckConstraint, Column, Numeric, UniqueConstraint
from sqlmodel import Field, SQLModel

from app.core.models import Versioned


class FigureKind(StrEnum):
    """`value`: a count or an amount; `change`: a signed percent against `compared_with`;
    `rate`: a percent."""

    value = "value"
    change = "change"
    rate = "rate"


class Qualifier(StrEnum):
    """How the source words the number: "gần" is `approximately`, "trên"/"hơn" `over`, "ít nhất"
    `at_least`, "dưới" `under`, "tối đa" `at_most`."""

    exact = "exact"
    approximately = "approximately"
    at_least = "at_least"
    over = "over"
    under = "under"
    at_most = "at_most"


class ReportedFigureSet(Versioned, table=True):
    """The figures a conference reports for the whole cluster in a year, versioned as one list."""

    __tablename__ = "reported_figure_sets"
    __table_args__ = (
        UniqueConstraint("cluster_id", "year"),
        CheckConstraint("year BETWEEN 2000 AND 2100", name="reported_year_plausible"),
    )

    id: int | None = Field(default=None, primary_key=True)
    cluster_id: int = Field(foreign_key="clusters.id")
    year: int
    conference_id: int | None = Field(default=None, foreign_key="conferences.id", index=True)
    """The conference that reported them, one of the same cluster-year."""


class ReportedFigure(SQLModel, table=True):
    """One figure of a set, in its order, as the source words it."""

    __tablename__ = "reported_figures"
    __table_args__ = (
        UniqueConstraint("set_id", "position"),
        CheckConstraint("position >= 1", name="figure_position_positive"),
        CheckConstraint("kind IN ('value', 'change', 'rate')", name="figure_kind_known"),
        CheckConstraint(
            "qualifier IN ('exact', 'approximately', 'at_least', 'over', 'under', 'at_most')",
            name="qualifier_known",
        ),
        CheckConstraint("kind = 'change' OR value >= 0", name="only_changes_are_negative"),
        CheckConstraint(
            "unit_of_measure IS NULL OR unit_of_measure IN ('cases', 'persons', 'collectives', "
            "'individuals', 'letters', 'items', 'vnd', 'percent')",
            name="figure_unit_of_measure_known",
        ),
        CheckConstraint(
            "period_start IS NULL OR period_end IS NULL OR period_start <= period_end",
            name="figure_period_ordered",
        ),
    )

    id: int | None = Field(default=None, primary_key=True)
    set_id: int = Field(foreign_key="reported_figure_sets.id", ondelete="CASCADE")
    position: int
    label: str = Field(max_length=500)
    metric_id: int | None = Field(default=None, foreign_key="metrics.id", index=True)
    kind: str = Field(max_length=10)
    qualifier: str = Field(max_length=20)
    value: Decimal = Field(sa_column=Column(Numeric, nullable=False))
    unit_of_measure: str | None = Field(default=None, max_length=20)
    compared_with: str | None = Field(default=None, max_length=200)
    period_start: date | None = None
    period_end: date | None = None
    source: str | None = Field(default=None, max_length=500)
    note: str | None = Field(default=None, max_length=2000)
