from enum import StrEnum

from sqlalchemy import CheckConstraint
from sqlmodel import Field

from app.core.models import Versioned

SOURCE_LENGTH = 1000


class MetricKind(StrEnum):
    """`count` (cases, persons) and `amount` (money) add up; a `rate` is a numerator metric over a
    denominator metric, re-aggregated as the ratio of summed parts, never as an average."""

    counted = "count"  # not `count`: that would shadow str.count
    amount = "amount"
    rate = "rate"


class MeasureUnit(StrEnum):
    cases = "cases"
    persons = "persons"
    collectives = "collectives"
    individuals = "individuals"
    letters = "letters"
    items = "items"
    vnd = "vnd"
    percent = "percent"


class Metric(Versioned, table=True):
    """A figure the movement counts: its stable key, names, unit of measure and kind, and where
    covenants or reports of the movement are seen counting it (`source`)."""

    __tablename__ = "metrics"
    __table_args__ = (
        CheckConstraint("key ~ '^[a-z][a-z0-9_]*$'", name="key_format"),
        CheckConstraint("kind IN ('count', 'amount', 'rate')", name="kind_known"),
        CheckConstraint(
            "unit_of_measure IN ('cases', 'persons', 'collectives', 'individuals', 'letters', 'items', "
            "'vnd', 'percent')",
            name="unit_of_measure_known",
        ),
        CheckConstraint(
            "(kind = 'rate') = (numerator_id IS NOT NULL AND denominator_id IS NOT NULL)",
            name="rate_has_parts",
        ),
        CheckConstraint("numerator_id IS NULL OR numerator_id <> denominator_id", name="parts_differ"),
    )

    id: int | None = Field(default=None, primary_key=True)
    key: str = Field(max_length=60, unique=True)
    name_vi: str = Field(max_length=200)
    name_en: str = Field(max_length=200)
    unit_of_measure: str = Field(max_length=20)
    kind: str = Field(max_length=10)
    numerator_id: int | None = Field(default=None, foreign_key="metrics.id")
    denominator_id: int | None = Field(default=None, foreign_key="metrics.id")
    description: str | None = Field(default=None, max_length=2000)
    source: str | None = Field(default=None, max_length=SOURCE_LENGTH)
    """The title and address of a public article or document in which the metric is counted."""
