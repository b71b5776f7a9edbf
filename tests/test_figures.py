"""Figure sets: a unit's values per metric for a period, versioned, written by the unit (or its
successor for its lifetime)."""

import asyncio
from typing import Any

import httpx

from tests.helpers import PROBLEM_MEMBERS, UnitKey, bearer, problem, unit_id

H1 = "2025-01-01..2025-06-30"
BODY: dict[str, Any] = {
    "year": 2025,
    "values": [
        {"metric": "social_order_crimes", "value": 412},
        {"metric": "crime_reports_handled_rate", "numerator": 1804, "denominator": 1932},
        {"metric": "social_order_clearance_rate", "value": 87.5},
    ],
    "source": "Hệ thống thống kê",
}


async def test_create_read_replace_and_revisions(admin: httpx.AsyncClient) -> None:
    thai_binh = await unit_id(admin, "Thái Bình", "2025-01-01")
    url = f"/v1/units/{thai_binh}/figures/{H1}"
    problem(await admin.get(url), 404, "not-found")
    created = await admin.put(url, json=BODY)
    assert created.status_code == 201, created.text
    out = created.json()
    assert out["version"] == 1
    assert out["written_by"] is None
    by_metric = {v["metric"]: v for v in out["values"]}
    assert by_metric["social_order_crimes"]["value"] == 412
    assert by_metric["crime_reports_handled_rate"]["numerator"] == 1804
    assert by_metric["crime_reports_handled_rate"]["re_aggregable"] is True
    assert by_metric["social_order_clearance_rate"]["re_aggregable"] is False
    etag = created.headers["etag"]
    read = await admin.get(url)
    assert read.json() == out
    assert read.headers["etag"] == etag

    problem(await admin.put(url, json=BODY), 428, "precondition-required")
    problem(
        await admin.put(url, json=BODY, headers={"If-Match": '"figure_set-1-v9-00-en"'}),
        412,
        "precondition-failed",
    )
    replaced = await admin.put(url, json={**BODY, "values": BODY["values"][:1]}, headers={"If-Match": etag})
    assert replaced.status_code == 200, replaced.text
    assert replaced.json()["version"] == 2
    assert len(replaced.json()["values"]) == 1
    problem(await admin.put(url, json=BODY, headers={"If-Match": etag}), 412, "precondition-failed")

    revisions = (await admin.get(f"{url}/revisions")).json()["items"]
    assert [r["version"] for r in revisions] == [1, 2]
    assert len(revisions[0]["data"]["values"]) == 3
    assert revisions[1]["recorded_by"].startswith("key:")

    listed = (await admin.get("/v1/figures", params={"unit": thai_binh, "year": 2025})).json()["items"]
    assert [(i["metric"], i["value"], i["set_version"]) for i in listed] == [("social_order_crimes", 412, 2)]
    assert (await admin.get("/v1/figures", params={"metric": "drug_cases"})).json()["items"] == []


async def test_idempotent_put_replays(admin: httpx.AsyncClient) -> None:
    thai_binh = await unit_id(admin, "Thái Bình", "2025-01-01")
    url = f"/v1/units/{thai_binh}/figures/{H1}"
    first = await admin.put(url, json=BODY, headers={"Idempotency-Key": "fig-1"})
    again = await admin.put(url, json=BODY, headers={"Idempotency-Key": "fig-1"})
    assert (first.status_code, again.status_code) == (201, 201)
    assert again.headers["idempotent-replayed"] == "true"
    assert again.json() == first.json()
    assert again.headers["etag"] == first.headers["etag"]
    assert len((await admin.get(f"{url}/revisions")).json()["items"]) == 1


async def test_rules_on_values_and_periods(admin: httpx.AsyncClient) -> None:
    hanoi = await unit_id(admin, "Hà Nội", "2025-01-01")
    url = f"/v1/units/{hanoi}/figures/{H1}"
    problem(
        await admin.put(url, json={**BODY, "values": [{"metric": "nope", "value": 1}]}), 422, "unprocessable"
    )
    problem(
        await admin.put(url, json={**BODY, "values": [{"metric": "drug_cases", "value": 1.5}]}),
        422,
        "unprocessable",
    )
    bad = {"metric": "drug_cases", "numerator": 1, "denominator": 2}
    problem(await admin.put(url, json={**BODY, "values": [bad]}), 422, "unprocessable")
    problem(
        await admin.put(url, json={**BODY, "values": [{"metric": "drug_cases", "value": -1}]}),
        422,
        "validation",
    )
    problem(await admin.put(url, json={**BODY, "year": 2023}), 422, "unprocessable")
    problem(
        await admin.put(f"/v1/units/{hanoi}/figures/2025-06-30..2025-01-01", json=BODY), 422, "unprocessable"
    )
    problem(
        await admin.put(f"/v1/units/{hanoi}/figures/2025-02-30..2025-03-01", json=BODY), 422, "unprocessable"
    )
    police_year = await admin.put(f"/v1/units/{hanoi}/figures/2024-12-15..2025-12-14", json=BODY)
    assert police_year.status_code == 201, police_year.text


async def test_a_period_outside_the_units_existence_names_the_successor(admin: httpx.AsyncClient) -> None:
    thai_binh = await unit_id(admin, "Thái Bình", "2025-01-01")
    body = problem(
        await admin.put(f"/v1/units/{thai_binh}/figures/2025-01-01..2025-12-31", json=BODY),
        409,
        "unit-not-in-period",
    )
    assert [s["name"] for s in body["successors"]] == ["Hưng Yên"]
    assert "Hưng Yên" in body["detail"]
    hung_yen = await unit_id(admin, "Hưng Yên", "2025-07-01")
    body = problem(
        await admin.put(f"/v1/units/{hung_yen}/figures/{H1}", json=BODY), 409, "unit-not-in-period"
    )
    assert {p["name"] for p in body["predecessors"]} >= {"Thái Bình", "Hưng Yên"}


async def test_who_may_write(admin: httpx.AsyncClient, client: httpx.AsyncClient, unit_key: UnitKey) -> None:
    thai_binh = await unit_id(admin, "Thái Bình", "2025-01-01")
    hung_yen = await unit_id(admin, "Hưng Yên", "2025-07-01")
    hanoi = await unit_id(admin, "Hà Nội", "2025-07-01")
    own = bearer(await unit_key(hung_yen))
    h2 = "2025-07-01..2025-12-31"
    mine = await client.put(f"/v1/units/{hung_yen}/figures/{h2}", json=BODY, headers=own)
    assert mine.status_code == 201, mine.text
    assert mine.json()["written_by"] is None
    theirs = await client.put(f"/v1/units/{hanoi}/figures/{h2}", json=BODY, headers=own)
    assert set(problem(theirs, 403, "forbidden")) <= PROBLEM_MEMBERS
    missing = await client.put(f"/v1/units/99999/figures/{h2}", json=BODY, headers=own)
    assert problem(missing, 403, "forbidden")["detail"] == problem(theirs, 403, "forbidden")["detail"]
    predecessor = await client.put(f"/v1/units/{thai_binh}/figures/{H1}", json=BODY, headers=own)
    assert predecessor.status_code == 201, predecessor.text
    assert predecessor.json()["written_by"]["id"] == hung_yen
    after_its_end = await client.put(
        f"/v1/units/{thai_binh}/figures/2025-07-01..2025-07-31", json=BODY, headers=own
    )
    problem(after_its_end, 409, "unit-not-in-period")
    predecessor_key = bearer(await unit_key(thai_binh))
    problem(
        await client.put(f"/v1/units/{hung_yen}/figures/{h2}", json=BODY, headers=predecessor_key),
        403,
        "forbidden",
    )


async def test_concurrent_replacements_leave_one_winner(admin: httpx.AsyncClient) -> None:
    hanoi = await unit_id(admin, "Hà Nội", "2025-01-01")
    url = f"/v1/units/{hanoi}/figures/{H1}"
    etag = (await admin.put(url, json=BODY)).headers["etag"]
    bodies = [{**BODY, "note": f"writer {i}"} for i in range(2)]
    answers = await asyncio.gather(*(admin.put(url, json=b, headers={"If-Match": etag}) for b in bodies))
    assert sorted(a.status_code for a in answers) == [200, 412], [a.text for a in answers]
    assert (await admin.get(url)).json()["version"] == 2
