"""The real cases of design/domain.md, answered over HTTP from the seed history `make run` loads."""

import io

import httpx
import openpyxl
import pytest

from tests.helpers import problem, unit_id

pytestmark = pytest.mark.usefixtures("seeded")


def names(members: list[dict]) -> set[str]:
    return {m["unit"]["name"] for m in members}


async def test_cluster_3_in_2022(admin: httpx.AsyncClient) -> None:
    sheet = (await admin.get("/v1/clusters/3/years/2022")).json()
    assert names(sheet["members"]) == {
        "Thái Nguyên",
        "Bắc Giang",
        "Bắc Kạn",
        "Hòa Bình",
        "Phú Thọ",
        "Quảng Ninh",
        "Tuyên Quang",
        "Yên Bái",
    }
    assert all(m["period_precision"] == "year" and "seed-003" in m["source"] for m in sheet["members"])
    assert sheet["leadership"]["leader"]["unit"]["name"] == "Thái Nguyên"
    assert sheet["next_leadership"]["leader"]["unit"]["name"] == "Bắc Giang"
    history = (await admin.get("/v1/clusters/3/leadership")).json()["items"]
    assert [(h["year"], h["leader"]["unit"]["name"]) for h in history][:2] == [
        (2022, "Thái Nguyên"),
        (2023, "Bắc Giang"),
    ]


async def test_cluster_4_in_2024_and_at_the_end_of_2025(admin: httpx.AsyncClient) -> None:
    in_2024 = (await admin.get("/v1/clusters/4/members", params={"year": 2024})).json()["items"]
    end_2025 = (await admin.get("/v1/clusters/4/members", params={"as_of": "2025-12-31"})).json()["items"]
    assert names(in_2024) == {
        "Quảng Ninh",
        "Phú Thọ",
        "Bắc Giang",
        "Bắc Ninh",
        "Hòa Bình",
        "Vĩnh Phúc",
    }
    assert names(end_2025) == {
        "Phú Thọ",
        "Bắc Ninh",
        "Quảng Ninh",
        "Lạng Sơn",
        "Thái Nguyên",
        "Hưng Yên",
    }
    assert len(in_2024) == len(end_2025) == 6
    same = {m["unit"]["id"] for m in in_2024} & {m["unit"]["id"] for m in end_2025}
    assert [m["unit"]["name"] for m in end_2025 if m["unit"]["id"] in same] == ["Quảng Ninh"]
    old = {m["unit"]["name"]: m["unit"]["id"] for m in in_2024}
    new = {m["unit"]["name"]: m for m in end_2025}
    assert old["Phú Thọ"] in {p["id"] for p in new["Phú Thọ"]["predecessors"]}
    assert old["Bắc Ninh"] in {p["id"] for p in new["Bắc Ninh"]["predecessors"]}
    assert {p["name"] for p in new["Bắc Ninh"]["predecessors"]} == {"Bắc Ninh", "Bắc Giang"}
    lineage = (await admin.get(f"/v1/units/{old['Phú Thọ']}/lineage")).json()
    assert lineage["successors"][0]["unit"]["id"] == new["Phú Thọ"]["unit"]["id"]


async def test_cluster_4_leadership_2025_and_2026(admin: httpx.AsyncClient) -> None:
    sheet = (await admin.get("/v1/clusters/4/years/2025")).json()
    assert sheet["leadership"]["leader"]["unit"]["name"] == "Phú Thọ"
    assert sheet["next_leadership"]["leader"]["unit"]["name"] == "Bắc Ninh"
    assert sheet["next_leadership"]["deputy"]["unit"]["name"] == "Thái Nguyên"
    assert sheet["next_leadership"]["decision"]["decided_on"] == "2025-11-27"


async def test_cluster_5_in_2024(admin: httpx.AsyncClient) -> None:
    sheet = (await admin.get("/v1/clusters/5/years/2024")).json()
    assert names(sheet["members"]) == {"Hưng Yên", "Thái Bình", "Nam Định", "Hà Nam", "Hải Dương"}
    assert sheet["leadership"]["leader"]["unit"]["name"] == "Hưng Yên"
    assert sheet["leadership"]["deputy"]["unit"]["name"] == "Thái Bình"
    assert sheet["next_leadership"]["leader"]["unit"]["name"] == "Thái Bình"
    assert sheet["next_leadership"]["deputy"]["unit"]["name"] == "Hải Dương"


async def test_cluster_5_nominations_for_2024_as_the_article_states_them(admin: httpx.AsyncClient) -> None:
    """Seed 002: Nam Định voted for the Government flag, Hưng Yên and Thái Bình for the Ministry
    flag; the article gives no counts, scores or rank, so nothing of them is invented and the
    Government flag's lead rule cannot be verified (not refused)."""
    sheet = (await admin.get("/v1/clusters/5/years/2024")).json()
    assert sorted((a["award_type"], a["unit"]["name"]) for a in sheet["awards"]) == [
        ("government_flag", "Nam Định"),
        ("ministry_flag", "Hưng Yên"),
        ("ministry_flag", "Thái Bình"),
    ]
    assert all(a["attested"] and a["status"] == "nominated" and a["vote_id"] is None for a in sheet["awards"])
    assert sheet["standings"] is None, "the article announces scores without giving any"
    flag = next(a for a in sheet["awards"] if a["award_type"] == "government_flag")
    award = (await admin.get(flag["href"], headers={"Accept-Language": "en"})).json()
    assert award["rule_set"] == "law-06-2022-decree-98-2023"
    assert award["source"]["facts"] == {
        "nomination": "stated",
        "vote_counts": "not_stated",
        "scores": "not_stated",
        "rank": "not_stated",
        "decision": "not_stated",
    }
    assert "Nam Định" in award["source"]["quote"]
    assert award["source"]["published"] == "2024-11-26"
    lead = next(c for c in award["rule_checks"] if c["rule"] == "government_flag_requires_cluster_lead")
    assert lead["outcome"] == "cannot_be_verified"
    assert lead["confidence"] == "text"
    assert [(t["to_status"], t["decided_on"]) for t in award["transitions"]] == [("nominated", "2024-11-25")]


async def test_the_merged_hung_yen_shows_thai_binhs_flag(admin: httpx.AsyncClient) -> None:
    hung_yen = await unit_id(admin, "Hưng Yên", "2025-12-31")
    own = (await admin.get("/v1/awards", params={"unit_id": hung_yen})).json()["items"]
    assert own == []
    record = (
        await admin.get("/v1/awards", params={"unit_id": hung_yen, "include_predecessors": "true"})
    ).json()["items"]
    assert sorted((a["unit"]["name"], a["award_type"]) for a in record) == [
        ("Hưng Yên", "ministry_flag"),
        ("Thái Bình", "ministry_flag"),
    ]


async def test_thai_binh_led_cluster_5_in_2025_and_ceased(admin: httpx.AsyncClient) -> None:
    history = {h["year"]: h for h in (await admin.get("/v1/clusters/5/leadership")).json()["items"]}
    leader = history[2025]["leader"]
    assert leader["unit"]["name"] == "Thái Bình"
    assert leader["ceased_on"] == "2025-06-30"
    assert [s["name"] for s in leader["successors"]] == ["Hưng Yên"]
    assert "during its term" in leader["remark"]
    deputy = history[2025]["deputy"]
    assert deputy["unit"]["name"] == "Hải Dương"
    assert [s["name"] for s in deputy["successors"]] == ["Hải Phòng"]
    sheet = (await admin.get("/v1/clusters/5/years/2025")).json()
    assert "Thái Bình ceased to exist on 2025-06-30; successor: Hưng Yên." in sheet["notes"]


async def test_cluster_5_follows_the_deputy(admin: httpx.AsyncClient) -> None:
    suggestion = (await admin.get("/v1/clusters/5/years/2025/leadership/suggestion")).json()
    assert suggestion["leader"]["unit"]["name"] == "Thái Bình"
    assert suggestion["rotation_custom"] == "deputy_succeeds"


async def test_cluster_3_in_2025_and_2026(admin: httpx.AsyncClient) -> None:
    sheet = (await admin.get("/v1/clusters/3/years/2025")).json()
    assert names(sheet["members"]) == {
        "Cao Bằng",
        "Điện Biên",
        "Lào Cai",
        "Lai Châu",
        "Sơn La",
        "Tuyên Quang",
    }
    lao_cai = next(m for m in sheet["members"] if m["unit"]["name"] == "Lào Cai")
    assert lao_cai["valid_from"] == "2025-07-01"
    assert {p["name"] for p in lao_cai["predecessors"]} == {"Lào Cai", "Yên Bái"}
    assert sheet["leadership"]["leader"]["unit"]["name"] == "Cao Bằng"
    nxt = sheet["next_leadership"]
    assert (nxt["leader"]["unit"]["name"], nxt["deputy"]["unit"]["name"]) == (
        "Lào Cai",
        "Tuyên Quang",
    )


async def test_the_clusters_phu_tho_has_been_in(admin: httpx.AsyncClient) -> None:
    units = (await admin.get("/v1/units", params={"q": "phu tho"})).json()["items"]
    clusters = set()
    for unit in units:
        for m in (await admin.get("/v1/memberships", params={"unit": unit["id"]})).json()["items"]:
            clusters.add((m["cluster"], m["valid_from"][:4], unit["valid_to"]))
    assert clusters == {(3, "2022", "2025-06-30"), (4, "2024", "2025-06-30"), (4, "2025", None)}


async def test_who_led_cluster_3_each_year(admin: httpx.AsyncClient) -> None:
    history = (await admin.get("/v1/clusters/3/leadership")).json()["items"]
    assert [
        (h["year"], h["leader"]["unit"]["name"], h["deputy"] and h["deputy"]["unit"]["name"]) for h in history
    ] == [
        (2022, "Thái Nguyên", None),
        (2023, "Bắc Giang", None),
        (2025, "Cao Bằng", None),
        (2026, "Lào Cai", "Tuyên Quang"),
    ]
    assert history[1]["leader"]["ceased_on"] is None, "Bắc Giang existed throughout 2023"


async def test_a_leader_cannot_be_moved_out_of_its_cluster(admin: httpx.AsyncClient) -> None:
    """Thái Bình leads cluster 5 in 2025: its 2025 membership cannot move to cluster 3, nor
    shrink out of 2025; the sheet keeps Thái Bình as leader and member."""
    thai_binh = await unit_id(admin, "Thái Bình", "2025-01-01")
    [membership] = (await admin.get("/v1/memberships", params={"unit": thai_binh, "year": 2025})).json()[
        "items"
    ]
    url = f"/v1/memberships/{membership['id']}"
    etag = (await admin.get(url)).headers["etag"]

    moved = problem(
        await admin.patch(url, json={"cluster": 3}, headers={"If-Match": etag}),
        409,
        "leadership-needs-member",
    )
    assert moved["conflicting_leaderships"] == [
        {"cluster": 5, "year": 2025, "role": "leader", "href": "/v1/clusters/5/years/2025/leadership"}
    ]
    assert "Thái Bình" in moved["detail"]
    shrunk = await admin.patch(url, json={"valid_from": "2026-01-01"}, headers={"If-Match": etag})
    problem(shrunk, 409, "period-reversed")

    sheet = (await admin.get("/v1/clusters/5/years/2025")).json()
    assert thai_binh in {m["unit"]["id"] for m in sheet["members"]}
    assert sheet["leadership"]["leader"]["unit"]["id"] == thai_binh
    assert (await admin.get(url)).json()["version"] == membership["version"]
    noted = await admin.patch(url, json={"note": "Cụm trưởng 2025"}, headers={"If-Match": etag})
    assert noted.status_code == 200, noted.text


async def test_a_deputy_cannot_be_moved_out_either(admin: httpx.AsyncClient) -> None:
    hai_duong = await unit_id(admin, "Hải Dương", "2025-01-01")
    [membership] = (await admin.get("/v1/memberships", params={"unit": hai_duong, "year": 2025})).json()[
        "items"
    ]
    url = f"/v1/memberships/{membership['id']}"
    etag = (await admin.get(url)).headers["etag"]
    body = problem(
        await admin.patch(url, json={"cluster": 4}, headers={"If-Match": etag}),
        409,
        "leadership-needs-member",
    )
    assert {(c["cluster"], c["year"], c["role"]) for c in body["conflicting_leaderships"]} >= {
        (5, 2025, "deputy")
    }
    current = (await admin.get("/v1/clusters/5/years/2025/leadership")).json()
    resaved = await admin.put(
        "/v1/clusters/5/years/2025/leadership",
        json={
            "leader_unit_id": current["leader"]["unit"]["id"],
            "deputy_unit_id": current["deputy"]["unit"]["id"],
        },
        headers={"If-Match": (await admin.get("/v1/clusters/5/years/2025/leadership")).headers["etag"]},
    )
    assert resaved.status_code == 200, resaved.text


async def test_cluster_5_sheet_as_xlsx_lists_the_nominations_in_vietnamese(admin: httpx.AsyncClient) -> None:
    response = await admin.get(
        "/v1/clusters/5/years/2024", params={"format": "xlsx"}, headers={"Accept-Language": "vi"}
    )
    assert response.status_code == 200
    book = openpyxl.load_workbook(io.BytesIO(response.content), read_only=True)
    rows = [list(r) for r in book["Khen thưởng"].iter_rows(values_only=True)][1:]  # under its title
    assert rows[0] == ["STT", "Hình thức khen thưởng", "Đơn vị", "Trạng thái", "Ghi nhận theo nguồn"]
    assert sorted(r[1:] for r in rows[1:]) == [
        ["Cờ thi đua của Bộ Công an", "Hưng Yên", "Được Cụm suy tôn, đề nghị", "Có"],
        ["Cờ thi đua của Bộ Công an", "Thái Bình", "Được Cụm suy tôn, đề nghị", "Có"],
        ["Cờ thi đua của Chính phủ", "Nam Định", "Được Cụm suy tôn, đề nghị", "Có"],
    ]
