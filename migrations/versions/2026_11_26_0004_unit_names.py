"""Names as people write them: every unit gets a search key (its letters and digits, folded,
without spaces), units get aliases ("TP.HCM", "BR-VT", "Đắc Lắc"), and both keys get a
pg_trgm GIN index for substring and similarity search.

The keys of the existing units are computed here with a copy of `app.core.text.search_key`
as it was when this revision was written: a migration never imports the app.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-27
"""

import unicodedata
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _search_key(text: str) -> str:
    """Folded (case, diacritics, tone marks, đ), only letters and digits: "Bà Rịa - Vũng Tàu" →
    "bariavungtau"."""
    decomposed = unicodedata.normalize("NFD", text.replace("đ", "d").replace("Đ", "D"))
    bare = "".join(c for c in decomposed if not unicodedata.combining(c)).casefold()
    return "".join(c for c in bare if c.isalnum())


def upgrade() -> None:
    op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")

    op.add_column("units", sa.Column("search_key", sa.String(length=120), nullable=True))
    units = sa.table("units", sa.column("id", sa.Integer()), sa.column("name", sa.String()))
    connection = op.get_bind()
    for unit_id, name in connection.execute(sa.select(units.c.id, units.c.name)).all():
        connection.execute(
            sa.text("UPDATE units SET search_key = :key WHERE id = :id"),
            {"key": _search_key(name), "id": unit_id},
        )
    op.alter_column("units", "search_key", nullable=False)
    op.create_index(
        "units_search_key_trgm_idx",
        "units",
        ["search_key"],
        postgresql_using="gin",
        postgresql_ops={"search_key": "gin_trgm_ops"},
    )

    op.create_table(
        "unit_aliases",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("unit_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=120), nullable=False),
        sa.Column("search_key", sa.String(length=120), nullable=False),
        sa.Column("note", sa.String(length=2000), nullable=True),
        sa.Column("source", sa.String(length=500), nullable=True),
        sa.Column("active", sa.Boolean(), server_default="true", nullable=False),
        sa.Column("reference_key", sa.String(length=160), nullable=True),
        sa.Column("version", sa.Integer(), server_default="1", nullable=False),
        sa.Column("recorded_by", sa.String(length=160), nullable=False),
        sa.Column(
            "recorded_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.CheckConstraint("search_key <> ''", name="search_key_present"),
        sa.ForeignKeyConstraint(["unit_id"], ["units.id"], name="unit_aliases_unit_id_fkey"),
        sa.PrimaryKeyConstraint("id", name="unit_aliases_pkey"),
        sa.UniqueConstraint("reference_key", name="unit_aliases_reference_key_key"),
        sa.UniqueConstraint("unit_id", "search_key", name="unit_aliases_unit_id_search_key_key"),
    )
    op.create_index(
        "unit_aliases_search_key_trgm_idx",
        "unit_aliases",
        ["search_key"],
        postgresql_using="gin",
        postgresql_ops={"search_key": "gin_trgm_ops"},
    )


def downgrade() -> None:
    op.drop_index("unit_aliases_search_key_trgm_idx", table_name="unit_aliases")
    op.drop_table("unit_aliases")
    op.drop_index("units_search_key_trgm_idx", table_name="units")
    op.drop_column("units", "search_key")
    # pg_trgm stays: other objects in the database may have come to use it.
