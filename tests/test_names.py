"""Names as people write them (issue 6, item 9): prefixes, dashes and spaces, aliases as data,
near misses ranked by similarity; writes and imports that resolve names but never guess."""

import asyncio

import asyncpg
import httpx
import pytest
from alembic import command
from pydantic import ValidationError
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import create_async_engine

from app.core.config import Settings
from app.core.database import Database
from app.core.migrations import alembic_config
from app.core.text import query_keys, search_key
from app.units.reference import load_reference
from tests.conftest import problem
from tests.helpers import correct

# Ids of the reference units (rows of data/reference/provinces.csv, in order).
HA_NOI, HA_NAM, HA_TINH, THUA_THIEN_HUE = 1, 23, 28, 31
HCM_BEFORE, HCM_AFTER = 50, 80


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


# --- Aliases as data -------------------------------------------------------------------------


async def test_an_admin_adds_corrects_and_retires_an_alias(admin: httpx.AsyncClient) -> None:
    base = f"/v1/units/{HA_NOI}/aliases"
    listed = (await admin.get(base)).json()
    assert [(a["name"], a["active"], a["recorded_by"]) for a in listed["items"]] == [
        ("HN", True, "reference-data")
    ]

    created = await admin.post(base, json={"name": "Thủ đô", "note": "The capital.", "source": "Press"})
    assert created.status_code == 201, created.text
    alias = created.json()
    url = f"{base}/{alias['id']}"
    assert created.headers["location"] == url
    assert created.headers["etag"] == f'"unit_alias-{alias["id"]}-v1"'
    assert (alias["unit_id"], alias["name"], alias["search_key"], alias["version"]) == (
        HA_NOI,
        "Thủ đô",
        "thudo",
        1,
    )
    read = await admin.get(url)
    assert read.json() == alias
    assert read.headers["etag"] == created.headers["etag"]

    problem(await admin.patch(url, json={"note": "Thủ đô Hà Nội."}), 428)
    corrected = await admin.patch(url, json={"name": "Thủ Đô"}, headers={"If-Match": read.headers["etag"]})
    assert corrected.status_code == 200, corrected.text
    assert (corrected.json()["name"], corrected.json()["version"]) == ("Thủ Đô", 2)
    assert corrected.headers["etag"] == f'"unit_alias-{alias["id"]}-v2"'
    stale = await admin.patch(url, json={"active": False}, headers={"If-Match": read.headers["etag"]})
    assert problem(stale, 412)["current_etag"] == corrected.headers["etag"]

    retired = await admin.patch(url, json={"active": False}, headers={"If-Match": corrected.headers["etag"]})
    assert retired.status_code == 200, retired.text
    assert (retired.json()["active"], retired.json()["version"]) == (False, 3)

    revisions = (await admin.get(f"{url}/revisions")).json()
    assert [(r["version"], r["data"]["name"], r["data"]["active"]) for r in revisions] == [
        (1, "Thủ đô", True),
        (2, "Thủ Đô", True),
        (3, "Thủ Đô", False),
    ]
    assert all(r["recorded_by"] == "key:1:test admin" for r in revisions)
    assert [a["active"] for a in (await admin.get(base)).json()["items"]] == [True, False]


async def test_a_duplicate_alias_is_409_naming_the_one_stored(admin: httpx.AsyncClient) -> None:
    base = f"/v1/units/{HCM_AFTER}/aliases"
    stored = next(a for a in (await admin.get(base)).json()["items"] if a["name"] == "TP.HCM")
    body = problem(await admin.post(base, json={"name": "T.P HCM"}), 409)
    assert body["existing_alias_id"] == stored["id"]
    assert "TP.HCM" in body["detail"]

    assert (await correct(admin, f"{base}/{stored['id']}", {"active": False})).status_code == 200
    again = problem(await admin.post(base, json={"name": "TPHCM"}), 409)
    assert "retired" in again["detail"]

    sai_gon = next(a for a in (await admin.get(base)).json()["items"] if a["name"] == "Sài Gòn")
    renamed = await correct(admin, f"{base}/{sai_gon['id']}", {"name": "hcm"})
    assert problem(renamed, 409)["existing_alias_id"] != sai_gon["id"]
    assert (await admin.get(f"{base}/{sai_gon['id']}")).json()["version"] == 1


async def test_aliases_need_their_unit(admin: httpx.AsyncClient) -> None:
    problem(await admin.get("/v1/units/99999/aliases"), 404)
    problem(await admin.post("/v1/units/99999/aliases", json={"name": "Atlantis"}), 404)
    hn = (await admin.get(f"/v1/units/{HA_NOI}/aliases")).json()["items"][0]
    problem(await admin.get(f"/v1/units/{HA_NAM}/aliases/{hn['id']}"), 404)
    problem(await admin.get(f"/v1/units/{HA_NAM}/aliases/{hn['id']}/revisions"), 404)
    problem(await admin.patch(f"/v1/units/{HA_NAM}/aliases/{hn['id']}", json={"active": False}), 404)


@pytest.mark.parametrize(
    "body",
    [
        {"name": "X", "colour": "red"},
        {"name": 5},
        {"name": ""},
        {"name": " - "},
        {"name": "x" * 121},
        {"note": "no name"},
    ],
)
async def test_alias_bodies_are_strict(admin: httpx.AsyncClient, body: dict) -> None:
    problem(await admin.post(f"/v1/units/{HA_NOI}/aliases", json=body), 422)


@pytest.mark.parametrize(
    "body", [{}, {"active": "false"}, {"active": 0}, {"active": None}, {"name": None}, {"unit_id": 2}]
)
async def test_alias_corrections_are_strict(admin: httpx.AsyncClient, body: dict) -> None:
    hn = (await admin.get(f"/v1/units/{HA_NOI}/aliases")).json()["items"][0]
    url = f"/v1/units/{HA_NOI}/aliases/{hn['id']}"
    etag = (await admin.get(url)).headers["etag"]
    problem(await admin.patch(url, json=body, headers={"If-Match": etag}), 422)


async def test_creating_an_alias_is_idempotent(admin: httpx.AsyncClient) -> None:
    base = f"/v1/units/{HA_TINH}/aliases"
    headers = {"Idempotency-Key": "alias-ha-tinh-1"}
    first = await admin.post(base, json={"name": "HT"}, headers=headers)
    again = await admin.post(base, json={"name": "HT"}, headers=headers)
    assert (first.status_code, again.status_code) == (201, 201)
    assert again.headers["idempotent-replayed"] == "true"
    assert again.json() == first.json()
    assert [a["name"] for a in (await admin.get(base)).json()["items"]] == ["HT"]


async def test_the_loader_adds_aliases_once_and_keeps_corrections(
    admin: httpx.AsyncClient, database: Database, settings: Settings
) -> None:
    base = f"/v1/units/{THUA_THIEN_HUE}/aliases"
    aliases = {a["name"]: a for a in (await admin.get(base)).json()["items"]}
    assert set(aliases) == {"TT-Huế", "TTH"}
    first = (await admin.get(f"{base}/{aliases['TTH']['id']}/revisions")).json()
    assert [(r["version"], r["recorded_by"]) for r in first] == [(1, "reference-data")]

    tth, tt_hue = aliases["TTH"], aliases["TT-Huế"]
    assert (await correct(admin, f"{base}/{tth['id']}", {"active": False})).is_success
    assert (await correct(admin, f"{base}/{tt_hue['id']}", {"name": "TT. Huế"})).is_success

    async with database.sessionmaker() as session, session.begin():
        report = await load_reference(session, settings.reference_dir)
    assert (report.units_added, report.successions_added, report.aliases_added) == (0, 0, 0)
    after = {a["name"]: a["active"] for a in (await admin.get(base)).json()["items"]}
    assert after == {"TT. Huế": True, "TTH": False}


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
