from datetime import date
from typing import Any

from sqlalchemy import CheckConstraint, Column, text
from sqlalchemy.dialects.postgresql import JSONB, ExcludeConstraint
from sqlmodel import Field

from app.core.models import Versioned


class RuleSet(Versioned, table=True):
    """The rules votes and awards are judged by over a period, with their basis: data loaded from
    `data/reference/rule_sets.yaml`, never constants. Periods never overlap."""

    __tablename__ = "rule_sets"
    __table_args__ = (
        CheckConstraint(
            "in_force_to IS NULL OR in_force_from <= in_force_to", name="rule_set_period_ordered"
        ),
        CheckConstraint("jsonb_typeof(basis) = 'array'", name="rule_set_basis_is_list"),
        CheckConstraint("jsonb_typeof(parameters) = 'object'", name="rule_set_parameters_is_object"),
        ExcludeConstraint(
            (text("daterange(in_force_from, in_force_to, '[]')"), "&&"),
            name="rule_sets_no_overlap",
            using="gist",
        ),
    )

    id: int | None = Field(default=None, primary_key=True)
    code: str = Field(max_length=60, unique=True)
    name: str = Field(max_length=300)
    in_force_from: date
    in_force_to: date | None = None
    basis: list[dict[str, Any]] = Field(sa_column=Column(JSONB, nullable=False))
    parameters: dict[str, Any] = Field(sa_column=Column(JSONB, nullable=False))
    """`app.rules.schemas.RuleParameters`, validated when loaded and when read."""


class ReportingPeriodRule(Versioned, table=True):
    """The default reporting period (kỳ báo cáo) of a cluster-year over a span of years, with its
    basis and how sure we are of it: data loaded from `data/reference/reporting_periods.yaml`,
    never a constant. Year Y's period starts on `first_month`/`first_day` of the year Y −
    `years_before` and ends the day before that day a year later (15 December of the year before
    to 14 December: `12`, `15`, `1`). Spans of years never overlap."""

    __tablename__ = "reporting_period_rules"
    __table_args__ = (
        CheckConstraint("first_year BETWEEN 2000 AND 2100", name="first_year_plausible"),
        CheckConstraint("last_year IS NULL OR first_year <= last_year", name="years_ordered"),
        CheckConstraint(
            "first_month BETWEEN 1 AND 12 AND first_day >= 1 AND first_day <= CASE WHEN first_month = 2 "
            "THEN 28 WHEN first_month IN (4, 6, 9, 11) THEN 30 ELSE 31 END",
            name="first_day_exists",
        ),
        CheckConstraint("years_before IN (0, 1)", name="years_before_known"),
        CheckConstraint("confidence IN ('text', 'analogue', 'practice', 'unknown')", name="confidence_known"),
        CheckConstraint("jsonb_typeof(basis) = 'array'", name="basis_is_list"),
        ExcludeConstraint(
            (text("int4range(first_year, last_year, '[]')"), "&&"),
            name="reporting_period_rules_no_overlap",
            using="gist",
        ),
    )

    id: int | None = Field(default=None, primary_key=True)
    code: str = Field(max_length=60, unique=True)
    name: str = Field(max_length=300)
    first_year: int
    last_year: int | None = None
    first_month: int
    first_day: int
    years_before: int
    confidence: str = Field(max_length=10)
    basis: list[dict[str, Any]] = Field(sa_column=Column(JSONB, nullable=False))
