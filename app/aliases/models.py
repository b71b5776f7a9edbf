from datetime import datetime

from sqlalchemy import CheckConstraint, UniqueConstraint
from sqlmodel import Field, SQLModel

from app.core.time import timestamp_field
from app.units.models import trigram_index


class UnitAlias(SQLModel, table=True):
    """Another way the press or a province writes a unit ("TP.HCM", "BR-VT", "Đắc Lắc")."""

    __tablename__ = "unit_aliases"
    __table_args__ = (
        UniqueConstraint("unit_id", "search_key", name="unit_aliases_unit_id_search_key_key"),
        CheckConstraint("search_key <> ''", name="search_key_present"),
        trigram_index("unit_aliases", "search_key"),
    )

    id: int | None = Field(default=None, primary_key=True)
    unit_id: int = Field(foreign_key="units.id")
    name: str = Field(max_length=120, description="The alias as written.")
    search_key: str = Field(max_length=120, description="`app.core.text.search_key(name)`.")
    note: str | None = Field(default=None, max_length=2000)
    source: str | None = Field(default=None, max_length=500)
    active: bool = Field(default=True, sa_column_kwargs={"server_default": "true"})
    reference_key: str | None = Field(
        default=None,
        max_length=160,
        unique=True,
        description="`<unit reference_key>/<search key>` of the reference row this alias was loaded "
        "from; null for aliases an admin added. Lets the loader leave a corrected alias alone.",
    )
    version: int = Field(default=1, sa_column_kwargs={"server_default": "1"})
    recorded_by: str = Field(max_length=160)
    recorded_at: datetime = timestamp_field()
