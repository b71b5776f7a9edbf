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
