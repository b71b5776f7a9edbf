"""Names as people write them (issue 6, item 9): prefixes, dashes and spaces, aliases as data,
near misses ranked by similarity; writes and imports that resolve names but never guess."""

import asyncio
import re
from datetime import date
from pathlib import Path

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
from app.core.errors import Unprocessable
from app.core.i18n import use_locale
from app.core.migrations import alembic_config
from app.core.text import query_keys, search_key
from app.history.importer import HistoryImportError
from app.reference import load_reference
from app.units import service as units_service
from app.units.service import resolve_name
from tests.helpers import assert_ranked, correct, found, history_file, problem, run_import, search, unit_id

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


@pytest.mark.parametrize(
    ("query", "as_of", "name"),
    [
        ("TP Hồ Chí Minh", "2025-07-01", "Hồ Chí Minh"),
        ("T.P Hồ Chí Minh", "2025-07-01", "Hồ Chí Minh"),
        ("Công an TP. Hồ Chí Minh", "2025-07-01", "Hồ Chí Minh"),
        ("Thành phố Hà Nội", "2025-07-01", "Hà Nội"),
        ("CATP Cần Thơ", "2025-07-01", "Cần Thơ"),
        ("Công an tỉnh Hưng Yên", "2025-07-01", "Hưng Yên"),
        ("CAT Hưng Yên", "2025-07-01", "Hưng Yên"),
        ("CA tỉnh Hưng Yên", "2025-07-01", "Hưng Yên"),
        ("CA Cà Mau", "2025-07-01", "Cà Mau"),
        ("Cà Mau", "2025-07-01", "Cà Mau"),
        ("Công an tỉnh Cà Mau", "2025-07-01", "Cà Mau"),
        ("Tỉnh Bà Rịa–Vũng Tàu", "2025-06-30", "Bà Rịa - Vũng Tàu"),
    ],
)
async def test_administrative_prefixes_do_not_matter(
    admin: httpx.AsyncClient, query: str, as_of: str, name: str
) -> None:
    items = await search(admin, query, as_of=as_of)
    assert found(items)[0] == (name, "exact", None)
    assert items[0]["match"]["score"] == 1.0
    assert [u["name"] for u in items].count(name) == 1


@pytest.mark.parametrize(
    ("query", "as_of", "name"),
    [
        ("Bà Rịa–Vũng Tàu", "2025-06-30", "Bà Rịa - Vũng Tàu"),
        ("Bà Rịa - Vũng Tàu", "2025-06-30", "Bà Rịa - Vũng Tàu"),
        ("Bà Rịa—Vũng Tàu", "2025-06-30", "Bà Rịa - Vũng Tàu"),
        ("Ba Ria Vung Tau", "2025-06-30", "Bà Rịa - Vũng Tàu"),
        ("BàRịa-VũngTàu", "2025-06-30", "Bà Rịa - Vũng Tàu"),
        ("Kontum", "2025-06-30", "Kon Tum"),
        ("Daklak", "2025-07-01", "Đắk Lắk"),
        ("Thừa Thiên-Huế", "2024-06-01", "Thừa Thiên Huế"),
        ("Thừa Thiên – Huế", "2024-06-01", "Thừa Thiên Huế"),
    ],
)
async def test_dashes_and_spaces_do_not_matter(
    admin: httpx.AsyncClient, query: str, as_of: str, name: str
) -> None:
    assert found(await search(admin, query, as_of=as_of))[0] == (name, "exact", None)


@pytest.mark.parametrize(
    ("query", "as_of", "name", "alias"),
    [
        ("HN", "2025-07-01", "Hà Nội", "HN"),
        ("TP.HCM", "2025-07-01", "Hồ Chí Minh", "TP.HCM"),
        ("TPHCM", "2025-07-01", "Hồ Chí Minh", "TP.HCM"),
        ("TP HCM", "2025-07-01", "Hồ Chí Minh", "TP.HCM"),
        ("HCM", "2025-06-30", "Hồ Chí Minh", "HCM"),
        ("Công an TP HCM", "2025-07-01", "Hồ Chí Minh", "TP.HCM"),  # "TP HCM" before "HCM"
        ("Công an HCM", "2025-07-01", "Hồ Chí Minh", "HCM"),
        ("Sài Gòn", "2025-07-01", "Hồ Chí Minh", "Sài Gòn"),
        ("sai gon", "2025-06-30", "Hồ Chí Minh", "Sài Gòn"),
        ("BR-VT", "2025-06-30", "Bà Rịa - Vũng Tàu", "BR-VT"),
        ("BRVT", "2025-06-30", "Bà Rịa - Vũng Tàu", "BR-VT"),
        ("TT-Huế", "2024-06-01", "Thừa Thiên Huế", "TT-Huế"),
        ("TTH", "2024-06-01", "Thừa Thiên Huế", "TTH"),
        ("Đắc Lắc", "2025-07-01", "Đắk Lắk", "Đắc Lắc"),
        ("Dak Lac", "2025-06-30", "Đắk Lắk", "Đắk Lắc"),
        ("Bắc Cạn", "2025-06-30", "Bắc Kạn", "Bắc Cạn"),
    ],
)
async def test_common_abbreviations_are_aliases(
    admin: httpx.AsyncClient, query: str, as_of: str, name: str, alias: str
) -> None:
    items = await search(admin, query, as_of=as_of)
    assert found(items)[0] == (name, "alias", alias)
    assert items[0]["match"]["score"] == 1.0


async def test_an_alias_of_a_city_across_the_reform_finds_both_units(admin: httpx.AsyncClient) -> None:
    """Hồ Chí Minh is two unit rows (code 79 before and after 2025-07-01): the aliases are on both,
    and `as_of` still picks the one of the day."""
    for query in ("TP.HCM", "HCM", "Sài Gòn"):
        assert [(u["id"], u["match"]["kind"]) for u in await search(admin, query)][:2] == [
            (HCM_BEFORE, "alias"),
            (HCM_AFTER, "alias"),
        ]
    assert [u["id"] for u in await search(admin, "HCM", as_of="2025-06-30")] == [HCM_BEFORE]
    assert [u["id"] for u in await search(admin, "HCM", as_of="2025-07-01")] == [HCM_AFTER]
    assert [u["id"] for u in await search(admin, "Sài Gòn", code="79")] == [HCM_BEFORE, HCM_AFTER]
    assert await search(admin, "Sài Gòn", code="01") == []


async def test_ha_nam_is_exact_and_its_neighbours_only_similar(admin: httpx.AsyncClient) -> None:
    """Hà Nam, Hà Nội and Hà Tĩnh are one or two letters apart."""
    items = await search(admin, "Ha Nam")
    assert found(items)[0] == ("Hà Nam", "exact", None)
    assert all(u["match"]["kind"] == "similar" for u in items[1:]), found(items)
    neighbours = {u["name"]: u["match"] for u in items if u["name"] in ("Hà Nội", "Hà Tĩnh")}
    assert neighbours["Hà Nội"]["score"] < 1  # 0.333 ≥ the default threshold 0.3
    assert all(m["kind"] == "similar" for m in neighbours.values())
    assert_ranked(items)


async def test_a_typo_finds_the_nearest_name_first(admin: httpx.AsyncClient) -> None:
    items = await search(admin, "Ha Tihn")
    assert found(items)[0] == ("Hà Tĩnh", "similar", None)
    assert 0 < items[0]["match"]["score"] < 1
    assert_ranked(items)
    hcm = ("Hồ Chí Minh", "similar", None)
    assert found(await search(admin, "Ho Chi Mihn", as_of="2025-07-01"))[0] == hcm
    # A query that is part of the name is no typo: "Ho Chi Min" is `partial`.
    assert found(await search(admin, "Ho Chi Min", as_of="2025-07-01"))[0] == ("Hồ Chí Minh", "partial", None)


async def test_near_misses_of_aliases_are_similar_and_name_the_alias(admin: httpx.AsyncClient) -> None:
    items = await search(admin, "Sai Gonn", as_of="2025-07-01")
    assert found(items)[0] == ("Hồ Chí Minh", "similar", "Sài Gòn")


@pytest.mark.parametrize(
    ("query", "as_of"),
    [("Quang", "2025-06-30"), ("Quảng Ngãi", "2025-06-30"), ("Ha", None), ("Binh", None), ("HCM", None)],
)
async def test_matches_come_ranked(admin: httpx.AsyncClient, query: str, as_of: str | None) -> None:
    items = await search(admin, query, **({"as_of": as_of} if as_of else {}))
    assert items
    assert_ranked(items)


async def test_partial_matches_rank_by_how_much_of_the_name_they_cover(admin: httpx.AsyncClient) -> None:
    items = await search(admin, "Quang", as_of="2025-06-30")
    partial = [(u["name"], u["match"]["score"]) for u in items if u["match"]["kind"] == "partial"]
    # "quang" is 5 of the 8 letters of "quangtri" and "quangnam" (ids 30, 33), 5 of 10 of "tuyenquang"
    assert partial[:2] == [("Quảng Trị", 0.625), ("Quảng Nam", 0.625)]
    assert ("Tuyên Quang", 0.5) in partial


async def test_without_q_there_is_no_match_and_order_stays_by_id(admin: httpx.AsyncClient) -> None:
    items = (await admin.get("/v1/units", params={"limit": "200"})).json()["items"]
    assert [u["id"] for u in items] == sorted(u["id"] for u in items)
    assert all(u["match"] is None for u in items)
    assert "match" not in (await admin.get(f"/v1/units/{HA_NOI}")).json()


async def test_a_query_with_no_letter_or_digit_matches_nothing(admin: httpx.AsyncClient) -> None:
    assert await search(admin, " - ") == []


async def test_ranked_pages_do_not_repeat_or_skip(admin: httpx.AsyncClient) -> None:
    everything = await search(admin, "Quang")
    pages: list[dict] = []
    cursor = None
    while True:
        params = {"q": "Quang", "limit": "2", **({"cursor": cursor} if cursor else {})}
        page = (await admin.get("/v1/units", params=params)).json()
        pages += page["items"]
        cursor = page["next_cursor"]
        if cursor is None:
            break
        assert re.fullmatch(r"[0-9a-f]{1,8}", cursor)
    assert [u["id"] for u in pages] == [u["id"] for u in everything]
    assert len(everything) > 4


async def test_renamed_and_newly_opened_units_are_found_by_their_new_names(admin: httpx.AsyncClient) -> None:
    renamed = await correct(admin, f"/v1/units/{HA_TINH}", {"name": "Hà Tĩnh Mới"})
    assert renamed.status_code == 200, renamed.text
    assert found(await search(admin, "Ha Tinh Moi"))[0] == ("Hà Tĩnh Mới", "exact", None)
    hue = await unit_id(admin, "Huế", "2025-03-01")
    opened = await admin.post(
        "/v1/successions",
        json={
            "kind": "rename",
            "effective_date": "2031-01-01",
            "legal_basis": "Test resolution",
            "predecessor_id": hue,
            "new_unit": {"code": "46", "name": "Phú Xuân", "kind": "thanh_pho"},
        },
    )
    assert opened.status_code == 201, opened.text
    assert found(await search(admin, "Thành phố Phú Xuân", as_of="2031-01-01")) == [
        ("Phú Xuân", "exact", None)
    ]


async def test_the_similarity_threshold_is_a_setting(
    admin: httpx.AsyncClient, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    for bad in (0, -0.1, 1.5, "nan"):
        with pytest.raises(ValidationError):
            Settings(name_similarity_threshold=bad)
    assert Settings(name_similarity_threshold=1).name_similarity_threshold == 1
    assert found(await search(admin, "Ha Tihn"))[0][1] == "similar"  # similarity 0.4
    strict = settings.model_copy(update={"name_similarity_threshold": 0.5})
    monkeypatch.setattr(units_service, "session_settings", lambda session: strict)
    assert await search(admin, "Ha Tihn") == []


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
    assert created.headers["etag"].startswith(f'"unit_alias-{alias["id"]}-v1-')
    assert (alias["unit_id"], alias["name"], alias["search_key"], alias["version"]) == (
        HA_NOI,
        "Thủ đô",
        "thudo",
        1,
    )
    read = await admin.get(url)
    assert read.json() == alias
    assert read.headers["etag"] == created.headers["etag"]
    assert found(await search(admin, "thu do"))[0] == ("Hà Nội", "alias", "Thủ đô")

    problem(await admin.patch(url, json={"note": "Thủ đô Hà Nội."}), 428, "precondition-required")
    corrected = await admin.patch(url, json={"name": "Thủ Đô"}, headers={"If-Match": read.headers["etag"]})
    assert corrected.status_code == 200, corrected.text
    assert (corrected.json()["name"], corrected.json()["version"]) == ("Thủ Đô", 2)
    assert corrected.headers["etag"].startswith(f'"unit_alias-{alias["id"]}-v2-')
    stale = await admin.patch(url, json={"active": False}, headers={"If-Match": read.headers["etag"]})
    assert problem(stale, 412, "precondition-failed")["current_etag"] == corrected.headers["etag"]

    retired = await admin.patch(url, json={"active": False}, headers={"If-Match": corrected.headers["etag"]})
    assert retired.status_code == 200, retired.text
    assert (retired.json()["active"], retired.json()["version"]) == (False, 3)
    assert "Hà Nội" not in [u["name"] for u in await search(admin, "thu do")]
    assert "Hà Nội" not in [u["name"] for u in await search(admin, "thu doo")]

    revisions = (await admin.get(f"{url}/revisions")).json()["items"]
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
    body = problem(await admin.post(base, json={"name": "T.P HCM"}), 409, "alias-exists")
    assert body["existing_alias_id"] == stored["id"]
    assert "TP.HCM" in body["detail"]

    assert (await correct(admin, f"{base}/{stored['id']}", {"active": False})).status_code == 200
    again = problem(await admin.post(base, json={"name": "TPHCM"}), 409, "alias-exists")
    assert "retired" in again["detail"]

    sai_gon = next(a for a in (await admin.get(base)).json()["items"] if a["name"] == "Sài Gòn")
    renamed = await correct(admin, f"{base}/{sai_gon['id']}", {"name": "hcm"})
    assert problem(renamed, 409, "alias-exists")["existing_alias_id"] != sai_gon["id"]
    assert (await admin.get(f"{base}/{sai_gon['id']}")).json()["version"] == 1


async def test_aliases_need_their_unit(admin: httpx.AsyncClient) -> None:
    problem(await admin.get("/v1/units/99999/aliases"), 404, "not-found")
    problem(await admin.post("/v1/units/99999/aliases", json={"name": "Atlantis"}), 404, "not-found")
    hn = (await admin.get(f"/v1/units/{HA_NOI}/aliases")).json()["items"][0]
    problem(await admin.get(f"/v1/units/{HA_NAM}/aliases/{hn['id']}"), 404, "not-found")
    problem(await admin.get(f"/v1/units/{HA_NAM}/aliases/{hn['id']}/revisions"), 404, "not-found")
    problem(
        await admin.patch(f"/v1/units/{HA_NAM}/aliases/{hn['id']}", json={"active": False}), 404, "not-found"
    )


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
    problem(await admin.post(f"/v1/units/{HA_NOI}/aliases", json=body), 422, "validation")


@pytest.mark.parametrize(
    "body", [{}, {"active": "false"}, {"active": 0}, {"active": None}, {"name": None}, {"unit_id": 2}]
)
async def test_alias_corrections_are_strict(admin: httpx.AsyncClient, body: dict) -> None:
    hn = (await admin.get(f"/v1/units/{HA_NOI}/aliases")).json()["items"][0]
    url = f"/v1/units/{HA_NOI}/aliases/{hn['id']}"
    etag = (await admin.get(url)).headers["etag"]
    problem(await admin.patch(url, json=body, headers={"If-Match": etag}), 422, "validation")


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
    first = (await admin.get(f"{base}/{aliases['TTH']['id']}/revisions")).json()["items"]
    assert [(r["version"], r["recorded_by"]) for r in first] == [(1, "reference-data")]

    tth, tt_hue = aliases["TTH"], aliases["TT-Huế"]
    assert (await correct(admin, f"{base}/{tth['id']}", {"active": False})).is_success
    assert (await correct(admin, f"{base}/{tt_hue['id']}", {"name": "TT. Huế"})).is_success

    async with database.sessionmaker() as session, session.begin():
        report = await load_reference(session, settings.reference_dir)
    assert (report.units_added, report.successions_added, report.aliases_added) == (0, 0, 0)
    after = {a["name"]: a["active"] for a in (await admin.get(base)).json()["items"]}
    assert after == {"TT. Huế": True, "TTH": False}


# --- Writes and imports resolve names, never guess -----------------------------------------


class TestResolveName:
    async def test_by_name_prefix_or_alias(self, database: Database) -> None:
        async with database.sessionmaker() as session:
            assert (await resolve_name(session, "TP.HCM", on=date(2025, 7, 1))).id == HCM_AFTER
            assert (await resolve_name(session, "Sài Gòn", on=date(2025, 6, 30))).id == HCM_BEFORE
            hung_yen = await resolve_name(session, "Công an tỉnh Hưng Yên", on=date(2025, 7, 1))
            assert (hung_yen.name, hung_yen.valid_from) == ("Hưng Yên", date(2025, 7, 1))
            assert (await resolve_name(session, "CA Cà Mau", on=date(2024, 1, 1))).code == "96"
            tuyen_quang = await resolve_name(session, "Tuyên Quang", on=date(2025, 7, 1), code="08")
            assert tuyen_quang.valid_from == date(2025, 7, 1)

    async def test_a_near_miss_is_an_error_listing_the_candidates(self, database: Database) -> None:
        async with database.sessionmaker() as session:
            with pytest.raises(Unprocessable) as failure:
                await resolve_name(session, "Ha Tihn", on=date(2025, 7, 1))
        assert "Hà Tĩnh" in failure.value.detail
        candidates = failure.value.extra["candidates"]
        assert (candidates[0]["name"], candidates[0]["match"]["kind"]) == ("Hà Tĩnh", "similar")

    async def test_a_name_of_no_unit_that_day_is_an_error(self, database: Database) -> None:
        async with database.sessionmaker() as session:
            with pytest.raises(Unprocessable) as failure:
                await resolve_name(session, "Hà Nam", on=date(2025, 7, 1))
        assert "Hà Nam" not in [c["name"] for c in failure.value.extra["candidates"]]

    async def test_two_units_named_so_that_day_is_an_error_listing_both(
        self, admin: httpx.AsyncClient, database: Database
    ) -> None:
        """Two units answering to one alias ("HN" for Hà Nội ships; an admin gives it to Hà Nam too)."""
        assert (await admin.post(f"/v1/units/{HA_NAM}/aliases", json={"name": "HN"})).status_code == 201
        async with database.sessionmaker() as session:
            with pytest.raises(Unprocessable) as failure, use_locale("en"):
                await resolve_name(session, "HN", on=date(2024, 6, 1))
            assert {c["id"] for c in failure.value.extra["candidates"]} == {HA_NOI, HA_NAM}
            assert "2 units" in failure.value.detail
            with pytest.raises(Unprocessable) as failure:  # outside a request: DEFAULT_LOCALE
                await resolve_name(session, "HN", on=date(2024, 6, 1))
            assert failure.value.detail.startswith("Có 2 đơn vị mang tên 'HN' vào ngày 1/6/2024: ")
            # Hà Nam ceased on 2025-06-30: afterwards the alias is unambiguous.
            assert (await resolve_name(session, "HN", on=date(2025, 7, 1))).id == HA_NOI


async def test_an_import_fails_on_a_near_miss_and_lists_the_candidates(
    database: Database, admin: httpx.AsyncClient, tmp_path: Path
) -> None:
    path = history_file(tmp_path, 93, 2024, "2024-06-01", ["Hà Nội", "Ha Tihn"])
    with pytest.raises(HistoryImportError) as failure, use_locale("en"):
        await run_import(database, path)
    [complaint] = failure.value.problems
    assert "Ha Tihn" in complaint
    assert "candidates: Hà Tĩnh (code 42" in complaint
    with pytest.raises(HistoryImportError) as failure:  # the importer's own language: DEFAULT_LOCALE
        await run_import(database, path)
    [complaint] = failure.value.problems
    assert "các tên gần giống: Hà Tĩnh (mã hành chính 42, mã số 28)" in complaint
    problem(await admin.get("/v1/clusters/93"), 404, "not-found")


async def test_an_import_resolves_aliases_and_prefixes(
    database: Database, admin: httpx.AsyncClient, tmp_path: Path
) -> None:
    members = ["TP.HCM", "Công an tỉnh Hưng Yên", "BR-VT"]
    summary = await run_import(database, history_file(tmp_path, 94, 2025, "2025-06-01", members))
    assert summary.memberships_created == 3
    members_2025 = (await admin.get("/v1/clusters/94/members", params={"as_of": "2025-06-01"})).json()
    assert sorted(m["unit"]["name"] for m in members_2025["items"]) == [
        "Bà Rịa - Vũng Tàu",
        "Hưng Yên",
        "Hồ Chí Minh",
    ]
    again = await run_import(database, history_file(tmp_path, 94, 2025, "2025-06-01", members))
    assert (again.memberships_created, again.memberships_unchanged) == (0, 3)


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


async def test_a_units_own_name_wins_over_another_units_alias(
    database: Database, admin: httpx.AsyncClient, tmp_path: Path
) -> None:
    """An alias "Hà Nam" given to Hà Nội by mistake does not make the name "Hà Nam" ambiguous."""
    ha_noi = await unit_id(admin, "Hà Nội", "2024-06-01")
    created = await admin.post(f"/v1/units/{ha_noi}/aliases", json={"name": "Ha Nam"})
    assert created.status_code == 201, created.text
    summary = await run_import(database, history_file(tmp_path, 96, 2024, "2024-06-01", ["Hà Nam"]))
    assert summary.memberships_created == 1
    members = (await admin.get("/v1/clusters/96/members", params={"year": 2024})).json()["items"]
    assert [m["unit"]["name"] for m in members] == ["Hà Nam"]
