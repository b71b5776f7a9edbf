"""Names as people write them (issue 6, item 9): prefixes, dashes and spaces, aliases as data,
near misses ranked by similarity; writes and imports that resolve names but never guess."""

import asyncio

import asyncpg
import pytest
from alembic import command
from pydantic import ValidationError
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import create_async_engine

from app.core.config import Settings
from app.core.migrations import alembic_config
from app.core.text import query_keys, search_key


class TestSearchKey:
    @pytest.mark.parametrize(
        "written",
        [
            "Bà Rịa - Vũng Tàu",
            "Bà Rịa–Vũng Tàu",
            "Bà Rịa — Vũng Tàu",
            "Bà Rịa‑Vũng Tàu",
            "Bà Rịa‒Vũng Tàu",
            "Bà Rịa−Vũng Tàu",
            "Ba Ria Vung Tau",
            "BàRịa-VũngTàu",
            "ba_ria/vung.tau",
            "BÀ RỊA, VŨNG TÀU",
        ],
    )
    def test_every_spelling_has_one_key(self, written: str) -> None:
        assert search_key(written) == "bariavungtau"

    def test_spaces_and_apostrophes_do_not_matter(self) -> None:
        assert search_key("Kon Tum") == search_key("Kontum") == "kontum"
        assert search_key("Đắk Lắk") == search_key("Daklak") == "daklak"
        assert search_key("Ea H'leo") == search_key("Ea Hleo")
        assert search_key("---") == ""

    def test_prefixes_are_read_both_ways(self) -> None:
        """Cà Mau folds to "ca mau": the CA prefix may be stripped, but the whole key stays."""
        assert query_keys("Cà Mau") == ["camau", "mau"]
        assert "camau" in query_keys("CA Cà Mau")
        assert query_keys("Công an tỉnh Hưng Yên")[-1] == "hungyen"
        assert query_keys("Công an thành phố Cần Thơ")[-1] == "cantho"
        assert query_keys("T.P HCM") == ["tphcm", "hcm"]
        assert query_keys("CATP Hồ Chí Minh") == ["catphochiminh", "hochiminh"]
        assert query_keys("Thanh Hóa") == ["thanhhoa"]  # "thanh" alone is no prefix
        assert query_keys("Tỉnh") == ["tinh"]


def test_the_similarity_threshold_is_validated() -> None:
    for bad in (0, -0.1, 1.5, "nan"):
        with pytest.raises(ValidationError):
            Settings(name_similarity_threshold=bad)
    assert Settings(name_similarity_threshold=1).name_similarity_threshold == 1


# --- The migration -------------------------------------------------------------------------


def test_the_migration_backfills_search_keys(settings: Settings) -> None:
    """Units stored before revision 0004 get their search key; downgrading removes it again."""
    assert settings.database_url is not None
    url = make_url(settings.database_url)
    scratch = url.set(database=f"{url.database}_names_migration")
    server = url.set(drivername="postgresql", database="postgres").render_as_string(hide_password=False)

    async def create() -> None:
        conn = await asyncpg.connect(server)
        try:
            await conn.execute(f'CREATE DATABASE "{scratch.database}"')
        finally:
            await conn.close()

    async def sql(statement: str) -> list[tuple]:
        engine = create_async_engine(scratch.render_as_string(hide_password=False))
        try:
            async with engine.begin() as conn:
                result = await conn.execute(text(statement))
                return [tuple(r) for r in result] if result.returns_rows else []
        finally:
            await engine.dispose()

    async def drop() -> None:
        conn = await asyncpg.connect(server)
        try:
            await conn.execute(f'DROP DATABASE IF EXISTS "{scratch.database}" WITH (FORCE)')
        finally:
            await conn.close()

    asyncio.run(drop())
    asyncio.run(create())
    config = alembic_config(scratch.render_as_string(hide_password=False))
    command.upgrade(config, "0003")
    asyncio.run(
        sql(
            "INSERT INTO units (code, name, name_folded, kind) VALUES "
            "('77', 'Bà Rịa - Vũng Tàu', 'ba ria - vung tau', 'tinh'), ('62', 'Kon Tum', 'kon tum', 'tinh')"
        )
    )
    command.upgrade(config, "0004")
    assert asyncio.run(sql("SELECT name, search_key FROM units ORDER BY id")) == [
        ("Bà Rịa - Vũng Tàu", "bariavungtau"),
        ("Kon Tum", "kontum"),
    ]
    assert asyncio.run(sql("SELECT similarity('hatinh', 'hatihn') > 0.3")) == [(True,)]
    command.downgrade(config, "0003")
    tables = "SELECT count(*) FROM information_schema.tables WHERE table_name = 'unit_aliases'"
    assert asyncio.run(sql(tables)) == [(0,)]
    asyncio.run(drop())
