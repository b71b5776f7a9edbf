"""The cluster-year sheet: one call per screen, a fixed number of queries, an ETag."""

import httpx

from app.core.database import Database
from tests.helpers import join, unit_id
from tests.queries import counting
from tests.scoring.helpers import framework, items


async def sheet_queries(admin: httpx.AsyncClient, database: Database, number: int) -> tuple[int, dict]:
    with counting(database) as statements:
        response = await admin.get(f"/v1/clusters/{number}/years/2024")
    assert response.status_code == 200
    return len(statements), response.json()


async def test_query_count_does_not_grow_with_members(admin: httpx.AsyncClient, database: Database) -> None:
    names = [
        "Hà Nội",
        "Cao Bằng",
        "Điện Biên",
        "Lai Châu",
        "Sơn La",
        "Lạng Sơn",
        "Quảng Ninh",
        "Thanh Hóa",
    ]
    ids = [await unit_id(admin, name, "2024-06-01") for name in names]
    for number, members in ((80, ids[:2]), (81, ids[2:])):
        await admin.post("/v1/clusters", json={"number": number})
        for unit in members:
            body = {
                "unit_id": unit,
                "cluster": number,
                "valid_from": "2024-01-01",
                "valid_to": "2024-12-31",
            }
            assert (await admin.post("/v1/memberships", json=body)).status_code == 201
        await admin.put(
            f"/v1/clusters/{number}/years/2024/leadership",
            json={"leader_unit_id": members[0], "deputy_unit_id": members[1]},
        )
        await admin.put(f"/v1/clusters/{number}/years/2025/leadership", json={"leader_unit_id": members[1]})
        targets = [
            {
                "metric": metric,
                "comparator": "ge",
                "threshold": 90,
                "basis": "absolute",
                "scope": "each_member",
            }
            for metric in ("social_order_clearance_rate", "crime_reports_handled_rate")
        ]
        covenant = {"host_unit_id": members[-1], "key_contents": ["a", "b"], "targets": targets}
        put = await admin.put(f"/v1/clusters/{number}/years/2024/covenant", json=covenant)
        assert put.status_code == 201, put.text
        figure = {"label": "x", "kind": "value", "qualifier": "over", "value": 1}
        put = await admin.put(
            f"/v1/clusters/{number}/years/2024/reported-figures", json={"figures": [figure] * 3}
        )
        assert put.status_code == 201, put.text
        for held_on in ("2024-11-25", "2024-11-26"):
            body = {
                "cluster": number,
                "emulation_year": 2024,
                "award_type": "ministry_flag",
                "seats": 1,
                "held_on": held_on,
                "candidates": [{"unit_id": u} for u in members],
            }
            vote = await admin.post("/v1/votes", json=body)
            assert vote.status_code == 201, vote.text
            attended = await admin.post(
                f"/v1/votes/{vote.json()['id']}/attendance", json={"present": members}
            )
            assert attended.status_code == 200, attended.text
        base = f"/v1/clusters/{number}/years/2024"
        assert (await admin.put(f"{base}/scoring-framework", json=framework())).status_code == 201
        for i, unit in enumerate(members):
            for scorer in ("CUM", "X01"):
                put = await admin.put(f"{base}/scores/{scorer}/units/{unit}", json=items(30, 50 - i))
                assert put.status_code == 201, put.text
        assert (await admin.post(f"{base}/standings/freezes")).status_code == 201
        for unit in members:
            nomination = {
                "award_type": "minister_certificate_of_merit",
                "unit_id": unit,
                "emulation_year": 2024,
                "cluster": number,
                "nominated_on": "2024-11-25",
            }
            posted = await admin.post("/v1/awards", json=nomination)
            assert posted.status_code == 201, posted.text
    small, small_sheet = await sheet_queries(admin, database, 80)
    large, large_sheet = await sheet_queries(admin, database, 81)
    assert len(small_sheet["members"]) == 2
    assert len(large_sheet["members"]) == 6
    assert large_sheet["leadership"]["deputy"]["unit"]["name"] == "Lai Châu"
    assert large_sheet["covenant"]["host"]["name"] == "Thanh Hóa"
    assert [t["metric"] for t in large_sheet["covenant"]["targets"]] == [
        "social_order_clearance_rate",
        "crime_reports_handled_rate",
    ]
    assert [f["position"] for f in large_sheet["reported_figures"]["figures"]] == [1, 2, 3]
    assert [len(v["candidates"]) for v in large_sheet["votes"]] == [6, 6]
    assert [v["rounds"][0]["present"] for v in small_sheet["votes"]] == [sorted(ids[:2])] * 2
    standings = large_sheet["standings"]
    assert standings["frozen"] is True
    assert [(r["unit_name"], r["rank"], r["combined_total"]) for r in standings["rows"]][:2] == [
        ("Điện Biên", 1, 160),
        ("Lai Châu", 2, 158),
    ]
    assert standings["href"] == "/v1/clusters/81/years/2024/standings"
    assert len(large_sheet["awards"]) == 6
    assert {a["status"] for a in large_sheet["awards"]} == {"nominated"}
    assert small == large <= 27


async def test_sheet_etag(admin: httpx.AsyncClient) -> None:
    await admin.post("/v1/clusters", json={"number": 82})
    first = await admin.get("/v1/clusters/82/years/2024")
    assert first.json()["members"] == []
    assert first.json()["leadership"] is None
    assert first.json()["covenant"] is None
    assert first.json()["reported_figures"] is None
    assert first.json()["standings"] is None
    assert first.json()["awards"] == []
    cached = await admin.get("/v1/clusters/82/years/2024", headers={"If-None-Match": first.headers["etag"]})
    assert cached.status_code == 304
    ha_noi = await unit_id(admin, "Hà Nội", "2024-06-01")
    await join(admin, ha_noi, 82, "2024-01-01")
    changed = await admin.get("/v1/clusters/82/years/2024", headers={"If-None-Match": first.headers["etag"]})
    assert changed.status_code == 200
    assert len(changed.json()["members"]) == 1
    figures = {"figures": [{"label": "x", "kind": "change", "qualifier": "exact", "value": -3}]}
    assert (await admin.put("/v1/clusters/82/years/2024/reported-figures", json=figures)).status_code == 201
    again = await admin.get("/v1/clusters/82/years/2024", headers={"If-None-Match": changed.headers["etag"]})
    assert again.status_code == 200
    assert again.json()["reported_figures"]["figures"][0]["value"] == -3
