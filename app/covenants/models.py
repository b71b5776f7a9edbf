from datetime import date
from decimal import Decimal
from enum import StrEnum

from sqlalchemy import CheckConstraint, Column, Numeric, UniqueConstraint
from sqlalchemy.dialects.postgresql import JSONB
from sqlmodel import Field, SQLModel

from app.core.models import Versioned


class Comparator(StrEnum):
    lt = "lt"
    le = "le"
    eq = "eq"
    ge = "ge"
    gt = "gt"


class Basis(StrEnum):
    """`absolute`: the figure itself. `change_vs_previous_period`: its change on the like period
    of the previous year, a relative change in percent for counts and amounts ("cut by at least
    5%" is `le -5`), a change in percentage points for rates."""

    absolute = "absolute"
    change_vs_previous_period = "change_vs_previous_period"


class Scope(StrEnum):
    each_member = "each_member"
    cluster_total = "cluster_total"


class Covenant(Versioned, table=True):
    """A cluster's emulation covenant (giao ước thi đua) for one year: key contents as text and
    numeric targets (`covenant_targets`), and the reporting period its targets are judged on when
    it states one (`period_start`, `period_end`; both or neither: null is "not stated", and the
    default of `app.covenants.periods` applies)."""

    __tablename__ = "covenants"
    __table_args__ = (
        UniqueConstraint("cluster_id", "year"),
        CheckConstraint("year BETWEEN 2000 AND 2100", name="covenant_year_plausible"),
        CheckConstraint("jsonb_typeof(key_contents) = 'array'", name="key_contents_is_list"),
        CheckConstraint("(period_start IS NULL) = (period_end IS NULL)", name="period_both_or_neither"),
        CheckConstraint("period_start <= period_end", name="period_ordered"),
        CheckConstraint("period_end - period_start < 366", name="period_at_most_366_days"),
        CheckConstraint(
            "year IN (EXTRACT(YEAR FROM period_start), EXTRACT(YEAR FROM period_end))",
            name="period_in_year",
        ),
    )

    id: int | None = Field(default=None, primary_key=True)
    cluster_id: int = Field(foreign_key="clusters.id")
    year: int
    signed_on: date | None = None
    host_unit_id: int | None = Field(default=None, foreign_key="units.id", index=True)
    source: str | None = Field(default=None, max_length=500)
    key_contents: list[str] = Field(default_factory=list, sa_column=Column(JSONB, nullable=False))
    note: str | None = Field(default=None, max_length=2000)
    conference_id: int | None = Field(default=None, foreign_key="conferences.id", index=True)
    period_start: date | None = None
    period_end: date | None = None


class CovenantTarget(SQLModel, table=True):
    """A numeric target of a covenant, in its order."""

    __tablename__ = "covenant_targets"
    __table_args__ = (
        UniqueConstraint("covenant_id", "position"),
        CheckConstraint("comparator IN ('lt', 'le', 'eq', 'ge', 'gt')", name="comparator_known"),
        CheckConstraint("basis IN ('absolute', 'change_vs_previous_period')", name="basis_known"),
        CheckConstraint("scope IN ('each_member', 'cluster_total')", name="scope_known"),
        CheckConstraint("position >= 1", name="target_position_positive"),
    )

    id: int | None = Field(default=None, primary_key=True)
    covenant_id: int = Field(foreign_key="covenants.id", ondelete="CASCADE")
    position: int
    metric_id: int = Field(foreign_key="metrics.id", index=True)
    comparator: str = Field(max_length=2)
    threshold: Decimal = Field(sa_column=Column(Numeric, nullable=False))
    basis: str = Field(max_length=30)
    scope: str = Field(max_length=20)
    label: str | None = Field(default=None, max_length=500)
