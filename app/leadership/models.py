from datetime import date, datetime

from sqlalchemy import CheckConstraint, UniqueConstraint
from sqlmodel import Field, SQLModel

from app.core.time import timestamp_field


class Leadership(SQLModel, table=True):
    """A cluster's leader (Cụm trưởng) and deputy (Cụm phó) for one year, with the decision."""

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
    version: int = 1
    recorded_by: str = Field(max_length=160)
    recorded_at: datetime = timestamp_field()
