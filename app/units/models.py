from datetime import date
from enum import StrEnum

from sqlalchemy import CheckConstraint, Column, Index, UniqueConstraint, text
from sqlalchemy.dialects.postgresql import ExcludeConstraint
from sqlmodel import Field

from app.core.identity import REFERENCE
from app.core.models import Recorded, Versioned

REFERENCE_ACTOR = REFERENCE.recorded_by
"""The `recorded_by` of units the reference loader opened (the column's default)."""


def trigram_index(table: str, column: str) -> Index:
    """A GIN pg_trgm index on `column`: serves substring (`LIKE '%…%'`) and similarity look-ups."""
    return Index(
        f"{table}_{column}_trgm_idx",
        column,
        postgresql_using="gin",
        postgresql_ops={column: "gin_trgm_ops"},
    )


class UnitKind(StrEnum):
    province = "tinh"
    city = "thanh_pho"


class SuccessionKind(StrEnum):
    merge = "merge"
    division = "split"  # not `split`: that would shadow str.split
    rename = "rename"


class Unit(Versioned, table=True):
    """A provincial police unit (Công an tỉnh / thành phố) over its period of existence."""

    __tablename__ = "units"
    __table_args__ = (
        CheckConstraint("kind IN ('tinh', 'thanh_pho')", name="kind_known"),
        CheckConstraint(
            "valid_from IS NULL OR valid_to IS NULL OR valid_from <= valid_to",
            name="period_ordered",
        ),
        ExcludeConstraint(
            (Column("code"), "="),
            (text("daterange(valid_from, valid_to, '[]')"), "&&"),
            name="units_code_unique_in_time",
            using="gist",
        ),
        CheckConstraint("search_key <> ''", name="search_key_present"),
        trigram_index("units", "search_key"),
    )

    id: int | None = Field(default=None, primary_key=True)
    code: str = Field(max_length=8, description="Official administrative code, e.g. `08`.")
    name: str = Field(max_length=120)
    name_folded: str = Field(max_length=120, index=True)
    search_key: str = Field(
        max_length=120, description="`app.core.text.search_key(name)`: what name searches compare."
    )
    kind: str = Field(max_length=16)
    valid_from: date | None = None
    valid_to: date | None = None
    reference_key: str | None = Field(
        default=None,
        max_length=40,
        unique=True,
        description="`code@valid_from` of the reference row this unit was loaded from; "
        "null for units opened by a succession. Lets the loader recognise a unit after corrections.",
    )
    recorded_by: str = Field(
        default=REFERENCE_ACTOR, max_length=160, sa_column_kwargs={"server_default": REFERENCE_ACTOR}
    )


class Succession(Recorded, table=True):
    """One predecessor → successor link of a merge, split or rename."""

    __tablename__ = "successions"
    __table_args__ = (
        UniqueConstraint("predecessor_id", "successor_id"),
        CheckConstraint("predecessor_id <> successor_id", name="not_self"),
        CheckConstraint("kind IN ('merge', 'split', 'rename')", name="kind_known"),
    )

    id: int | None = Field(default=None, primary_key=True)
    predecessor_id: int = Field(foreign_key="units.id", index=True)
    successor_id: int = Field(foreign_key="units.id", index=True)
    effective_date: date
    kind: str = Field(max_length=16)
    legal_basis: str = Field(max_length=200)


class UnitAlias(Versioned, table=True):
    """Another way the press or a province writes a unit ("TP.HCM", "BR-VT", "Đắc Lắc").

    A unit's name data, so it lives beside the unit: the name search (`app.units.search`) reads
    it. The aliases feature (`app.aliases`) records and corrects the rows."""

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
