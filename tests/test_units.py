"""Units, their validity and lineage (the 2025 reorganization), and name look-ups."""

import unicodedata
from urllib.parse import urlencode

import httpx
import pytest

from app.core.config import Settings
from app.core.database import Database
from app.reference import load_reference
from tests.helpers import problem, unit_id


async def all_units(client: httpx.AsyncClient, **params: str) -> list[dict]:
    """Every unit the list returns, following each page's `Link: <…>; rel="next"` (RFC 8288),
    which must name the page `next_cursor` names, and be absent on the last page."""
    items: list[dict] = []
    url, query = "/v1/units", {**params, "limit": "20"}
    while True:
        response = await client.get(url, params=None if "?" in url else query)
        page = response.json()
        items += page["items"]
        link = response.headers.get("link")
        if page["next_cursor"] is None:
            assert link is None
            return items
        assert link == f'</v1/units?{urlencode({**query, "cursor": page["next_cursor"]})}>; rel="next"'
        url = link[1 : link.index(">")]


async def test_63_units_before_the_reform_and_34_after(admin: httpx.AsyncClient) -> None:
    before = await all_units(admin, as_of="2025-06-30")
    after = await all_units(admin, as_of="2025-07-01")
    assert len(before) == 63
    assert len(after) == 34
    # the ten units the reform left alone, and Huế (renamed on 2025-01-01)
    assert len({u["id"] for u in before} & {u["id"] for u in after}) == 11
    assert len(await all_units(admin, as_of="2024-12-31")) == 63
    assert {u["kind_label"] for u in after} == {"Tỉnh", "Thành phố trực thuộc trung ương"}


async def test_pages_do_not_repeat_or_skip(admin: httpx.AsyncClient) -> None:
    everything = await all_units(admin)
    assert len(everything) == len({u["id"] for u in everything}) == 87


async def test_thai_binh_became_hung_yen(admin: httpx.AsyncClient) -> None:
    thai_binh = await unit_id(admin, "Thái Bình", "2025-06-30")
    lineage = (await admin.get(f"/v1/units/{thai_binh}/lineage")).json()
    assert lineage["unit"]["valid_to"] == "2025-06-30"
    assert lineage["predecessors"] == []
    [successor] = lineage["successors"]
    assert successor["unit"]["name"] == "Hưng Yên"
    assert successor["unit"]["valid_from"] == "2025-07-01"
    assert successor["effective_date"] == "2025-07-01"
    assert successor["kind"] == "merge"
    assert successor["legal_basis"] == "Resolution 202/2025/QH15"


async def test_new_tuyen_quang_came_from_tuyen_quang_and_ha_giang(admin: httpx.AsyncClient) -> None:
    new = await unit_id(admin, "Tuyên Quang", "2025-07-01")
    lineage = (await admin.get(f"/v1/units/{new}/lineage")).json()
    assert lineage["unit"]["code"] == "08"
    names = sorted((p["unit"]["name"], p["unit"]["valid_to"]) for p in lineage["predecessors"])
    assert names == [("Hà Giang", "2025-06-30"), ("Tuyên Quang", "2025-06-30")]
    assert lineage["successors"] == []


async def test_lineage_is_transitive(admin: httpx.AsyncClient) -> None:
    """Thừa Thiên Huế → Huế (rename, 2025-01-01); a later merge of Huế reaches back two steps."""
    hue = await unit_id(admin, "Huế", "2025-03-01")
    quang_tri = await unit_id(admin, "Quảng Trị", "2025-07-01")
    created = await admin.post(
        "/v1/successions",
        json={
            "kind": "merge",
            "effective_date": "2031-01-01",
            "legal_basis": "Test resolution",
            "predecessor_ids": [hue, quang_tri],
            "successor": {"code": "46", "name": "Bình Trị Thiên", "kind": "tinh"},
        },
    )
    assert created.status_code == 201, created.text
    new_id = created.json()["opened_units"][0]["id"]
    lineage = (await admin.get(f"/v1/units/{new_id}/lineage")).json()
    by_depth = {(p["unit"]["name"], p["depth"]) for p in lineage["predecessors"]}
    assert ("Huế", 1) in by_depth
    assert ("Thừa Thiên Huế", 2) in by_depth
    assert ("Quảng Bình", 2) in by_depth
    old_hue = await unit_id(admin, "Thừa Thiên Huế", "2024-06-01")
    down = (await admin.get(f"/v1/units/{old_hue}/lineage")).json()
    assert [(s["unit"]["name"], s["depth"]) for s in down["successors"]] == [
        ("Huế", 1),
        ("Bình Trị Thiên", 2),
    ]


@pytest.mark.parametrize(
    "query",
    [
        "Hoa Binh",
        "Hoà Bình",
        "Hòa Bình",
        "HOÀ BÌNH",
        unicodedata.normalize("NFD", "Hoà Bình"),
        unicodedata.normalize("NFD", "Hòa Bình"),
        "hoa  binh",
    ],
)
async def test_any_spelling_finds_hoa_binh(admin: httpx.AsyncClient, query: str) -> None:
    items = (await admin.get("/v1/units", params={"q": query})).json()["items"]
    assert [u["name"] for u in items] == ["Hòa Bình"]


@pytest.mark.parametrize("query", ["Thai Binh", "THÁI BÌNH", "thái bình"])
async def test_any_spelling_finds_thai_binh(admin: httpx.AsyncClient, query: str) -> None:
    items = (await admin.get("/v1/units", params={"q": query})).json()["items"]
    assert [u["name"] for u in items] == ["Thái Bình"]


async def test_d_with_stroke_folds_to_d(admin: httpx.AsyncClient) -> None:
    items = (await admin.get("/v1/units", params={"q": "dak lak", "as_of": "2025-07-01"})).json()["items"]
    assert [u["name"] for u in items] == ["Đắk Lắk"]


async def test_filter_by_code_shows_both_units_that_held_it(admin: httpx.AsyncClient) -> None:
    items = (await admin.get("/v1/units", params={"code": "08"})).json()["items"]
    assert [(u["name"], u["valid_from"], u["valid_to"]) for u in items] == [
        ("Tuyên Quang", None, "2025-06-30"),
        ("Tuyên Quang", "2025-07-01", None),
    ]


async def test_unknown_unit_is_a_problem(admin: httpx.AsyncClient) -> None:
    body = problem(await admin.get("/v1/units/99999"), 404, "not-found")
    assert "99999" in body["detail"]


async def test_malformed_cursor_is_422_and_any_wellformed_one_is_a_position(
    admin: httpx.AsyncClient,
) -> None:
    problem(await admin.get("/v1/units", params={"cursor": "not-a-cursor"}), 422, "validation")
    beyond = await admin.get("/v1/units", params={"cursor": "ffffffff"})
    assert beyond.status_code == 200
    assert beyond.json()["next_cursor"] is None


async def test_limit_is_bounded(admin: httpx.AsyncClient) -> None:
    body = problem(await admin.get("/v1/units", params={"limit": "1000"}), 422, "validation")
    assert body["errors"][0]["loc"] == ["query", "limit"]


async def test_an_admin_corrects_a_unit_and_the_loader_keeps_it(
    admin: httpx.AsyncClient, database: Database, settings: Settings
) -> None:
    hoa_binh = await unit_id(admin, "Hòa Bình", "2024-01-01")
    read = await admin.get(f"/v1/units/{hoa_binh}")
    assert read.headers["etag"].startswith(f'"unit-{hoa_binh}-v1-')
    url = f"/v1/units/{hoa_binh}"
    problem(await admin.patch(url, json={"code": "18"}), 428, "precondition-required")
    corrected = await admin.patch(
        url, json={"code": "18", "name": "Hoà Bình"}, headers={"If-Match": read.headers["etag"]}
    )
    assert corrected.status_code == 200, corrected.text
    assert (corrected.json()["code"], corrected.json()["name"], corrected.json()["version"]) == (
        "18",
        "Hoà Bình",
        2,
    )
    problem(
        await admin.patch(url, json={"code": "19"}, headers={"If-Match": read.headers["etag"]}),
        412,
        "precondition-failed",
    )
    revisions = (await admin.get(f"{url}/revisions")).json()["items"]
    assert [(r["version"], r["data"]["code"], r["data"]["name"]) for r in revisions] == [
        (1, "17", "Hòa Bình"),
        (2, "18", "Hoà Bình"),
    ]
    assert revisions[0]["recorded_by"] == "reference-data"
    assert [u["id"] for u in (await admin.get("/v1/units", params={"q": "hoa binh"})).json()["items"]] == [
        hoa_binh
    ]

    async with database.sessionmaker() as session, session.begin():
        report = await load_reference(session, settings.reference_dir)
    assert (report.units_added, report.successions_added) == (0, 0)
    assert (await admin.get(url)).json()["code"] == "18"
    assert (await admin.get("/v1/units", params={"code": "17"})).json()["items"] == []


async def test_a_correction_cannot_reuse_a_code_in_use(admin: httpx.AsyncClient) -> None:
    son_la = await unit_id(admin, "Sơn La", "2026-01-01")
    etag = (await admin.get(f"/v1/units/{son_la}")).headers["etag"]
    problem(
        await admin.patch(f"/v1/units/{son_la}", json={"code": "01"}, headers={"If-Match": etag}),
        409,
        "unit-code-taken",
    )
    problem(
        await admin.patch(f"/v1/units/{son_la}", json={"valid_to": "2030-01-01"}, headers={"If-Match": etag}),
        422,
        "validation",
    )
    assert (await admin.get(f"/v1/units/{son_la}")).json()["version"] == 1
