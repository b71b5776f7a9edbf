from datetime import date
from decimal import Decimal
from enum import StrEnum

from sqlalchemy import CheckConstraint, Column, ForeignKeyConstraint, Numeric, UniqueConstraint
from sqlmodel import Field, SQLModel

from app.core.models import Versioned


class PledgeKind(StrEnum):
    """`amount`: money given (đồng), checked against an amount metric; `count`: things done
    (houses built), against a count metric; `task`: something to do, whose status the
    secretariat sets for each member."""

    amount = "amount"
    counted = "count"  # not `count`: that would shadow str.count
    task = "task"


class TaskStatus(StrEnum):
    done = "done"
    not_done = "not_done"


class PledgeList(Versioned, table=True):
    """The pledges (cam kết) of a cluster-year's covenant, versioned as one list: it hangs off the
    covenant (a foreign key to its cluster and year), and its pledges are `pledges`."""

    __tablename__ = "pledge_lists"
    __table_args__ = (
        UniqueConstraint("cluster_id", "year"),
        ForeignKeyConstraint(["cluster_id", "year"], ["covenants.cluster_id", "covenants.year"]),
    )

    id: int | None = Field(default=None, primary_key=True)
    cluster_id: int
    year: int


class Pledge(SQLModel, table=True):
    """One pledge of a list, at its position. A replacement of the list updates each position in
    place, so a pledge keeps its id (and its statuses) while it keeps its position."""

    __tablename__ = "pledges"
    __table_args__ = (
        UniqueConstraint("list_id", "position"),
        UniqueConstraint("id", "kind"),
        CheckConstraint("position >= 1", name="position_positive"),
        CheckConstraint("kind IN ('amount', 'count', 'task')", name="kind_known"),
        CheckConstraint("scope IN ('each_member', 'cluster_total')", name="scope_known"),
        CheckConstraint(
            "(kind = 'task' AND metric_id IS NULL AND quantity IS NULL) "
            "OR (kind <> 'task' AND metric_id IS NOT NULL AND quantity IS NOT NULL)",
            name="measure_fits_kind",
        ),
        CheckConstraint(
            "quantity IS NULL OR (quantity > 0 AND quantity = trunc(quantity))",
            name="quantity_positive_whole",
        ),
        CheckConstraint("kind <> 'task' OR scope = 'each_member'", name="task_of_each_member"),
    )

    id: int | None = Field(default=None, primary_key=True)
    list_id: int = Field(foreign_key="pledge_lists.id", ondelete="CASCADE")
    position: int
    kind: str = Field(max_length=10)
    scope: str = Field(max_length=20)
    label: str = Field(max_length=500)
    metric_id: int | None = Field(default=None, foreign_key="metrics.id", index=True)
    quantity: Decimal | None = Field(default=None, sa_column=Column(Numeric, nullable=True))
    note: str | None = Field(default=None, max_length=2000)


class PledgeStatus(Versioned, table=True):
    """Whether a member did what a task pledge says, as the secretariat sets it: done or not done,
    on a day, according to a source. Versioned: every version is kept. It references its pledge
    with the pledge's kind, which must be `task`: a pledge that has statuses can be neither dropped
    nor turned into an amount or a count (the foreign key refuses both)."""

    __tablename__ = "pledge_statuses"
    __table_args__ = (
        UniqueConstraint("pledge_id", "unit_id"),
        ForeignKeyConstraint(["pledge_id", "pledge_kind"], ["pledges.id", "pledges.kind"]),
        CheckConstraint("pledge_kind = 'task'", name="only_tasks"),
        CheckConstraint("status IN ('done', 'not_done')", name="status_known"),
    )

    id: int | None = Field(default=None, primary_key=True)
    pledge_id: int
    pledge_kind: str = Field(default=PledgeKind.task.value, max_length=10)
    unit_id: int = Field(foreign_key="units.id", index=True)
    status: str = Field(max_length=10)
    status_on: date
    source: str = Field(max_length=500)
    note: str | None = Field(default=None, max_length=2000)
