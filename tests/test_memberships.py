"""Versioned memberships: one cluster per unit per day, enforced by PostgreSQL."""

import asyncio

import httpx
import pytest

from tests.helpers import join, problem, unit_id


@pytest.fixture
async def clusters(admin: httpx.AsyncClient) -> None:
    for number in (1, 2):
        assert (await admin.post("/v1/clusters", json={"number": number})).status_code == 201


async def test_create_read_and_filter(admin: httpx.AsyncClient, clusters: None) -> None:
    ha_noi = await unit_id(admin, "Hà Nội", "2025-01-01")
    created = await admin.post(
        "/v1/memberships",
        json={
            "unit_id": ha_noi,
            "cluster": 1,
            "valid_from": "2023-01-01",
            "valid_to": "2024-12-31",
            "source": "Quyết định test",
        },
    )
    assert created.status_code == 201, created.text
    body = created.json()
    assert created.headers["location"] == f"/v1/memberships/{body['id']}"
    assert body["unit"]["name"] == "Hà Nội"
    assert body["cluster"] == 1
    assert body["version"] == 1
    assert body["recorded_by"].endswith("test admin")
    assert (await admin.get(f"/v1/memberships/{body['id']}")).json() == body

    def ids(response: httpx.Response) -> list[int]:
        return [m["id"] for m in response.json()["items"]]

    assert ids(await admin.get("/v1/memberships", params={"cluster": 1, "year": 2024})) == [body["id"]]
    assert ids(await admin.get("/v1/memberships", params={"cluster": 1, "year": 2025})) == []
    assert ids(await admin.get("/v1/memberships", params={"unit": ha_noi, "as_of": "2023-06-01"})) == [
        body["id"]
    ]
    assert ids(await admin.get("/v1/memberships", params={"cluster": 2})) == []
    assert ids(await admin.get("/v1/memberships", params={"year": 2024, "as_of": "2023-06-01"})) == []
    assert ids(await admin.get("/v1/memberships", params={"year": 2023, "as_of": "2023-06-01"})) == [
        body["id"]
    ]


async def test_overlap_is_409_naming_the_conflict(admin: httpx.AsyncClient, clusters: None) -> None:
    ha_noi = await unit_id(admin, "Hà Nội", "2025-01-01")
    first = (await join(admin, ha_noi, 1, "2024-01-01")).json()
    clash = await join(admin, ha_noi, 2, "2026-05-01", "2026-12-31")
    body = problem(clash, 409, "membership-overlap")
    assert body["conflicting_membership_id"] == first["id"]
    assert body["conflicting_membership"]["cluster"] == 1
    assert "Hà Nội" in body["detail"]
    adjacent = await join(admin, ha_noi, 2, "2023-01-01", "2023-12-31")
    assert adjacent.status_code == 201, adjacent.text


async def test_two_concurrent_overlapping_memberships_leave_one(
    admin: httpx.AsyncClient, clusters: None
) -> None:
    ha_noi = await unit_id(admin, "Hà Nội", "2025-01-01")
    responses = await asyncio.gather(
        *(
            admin.post(
                "/v1/memberships",
                json={"unit_id": ha_noi, "cluster": n, "valid_from": "2027-01-01"},
            )
            for n in (1, 2, 1, 2)
        )
    )
    assert sorted(r.status_code for r in responses) == [201, 409, 409, 409]
    stored = (await admin.get("/v1/memberships", params={"unit": ha_noi})).json()["items"]
    assert len(stored) == 1


async def test_a_membership_may_not_outlive_its_unit(admin: httpx.AsyncClient, clusters: None) -> None:
    thai_binh = await unit_id(admin, "Thái Bình", "2025-01-01")
    open_ended = await join(admin, thai_binh, 1, "2025-01-01")
    body = problem(open_ended, 409, "unit-not-in-period")
    assert body["unit_valid_to"] == "2025-06-30"
    new_hung_yen = await unit_id(admin, "Hưng Yên", "2025-07-01")
    early = await join(admin, new_hung_yen, 1, "2025-01-01")
    problem(early, 409, "unit-not-in-period")
    problem(
        await join(admin, 99999, 1, "2025-01-01"),
        404,
        "not-found",
    )
    problem(
        await join(admin, thai_binh, 99, "2025-01-01"),
        404,
        "not-found",
    )
    assert (await admin.get("/v1/memberships")).json()["items"] == []


async def test_corrections_keep_the_old_version(admin: httpx.AsyncClient, clusters: None) -> None:
    ha_noi = await unit_id(admin, "Hà Nội", "2025-01-01")
    created = await join(admin, ha_noi, 1, "2024-01-01")
    membership = created.json()
    url = f"/v1/memberships/{membership['id']}"
    problem(await admin.patch(url, json={"valid_to": "2024-12-31"}), 428, "precondition-required")
    corrected = await admin.patch(
        url,
        json={"valid_to": "2024-12-31", "cluster": 2},
        headers={"If-Match": created.headers["etag"]},
    )
    assert corrected.status_code == 200, corrected.text
    assert corrected.json()["version"] == 2
    assert corrected.json()["cluster"] == 2
    problem(
        await admin.patch(url, json={"note": "x"}, headers={"If-Match": created.headers["etag"]}),
        412,
        "precondition-failed",
    )
    revisions = (await admin.get(f"{url}/revisions")).json()["items"]
    assert [(r["version"], r["data"]["cluster"], r["data"]["valid_to"]) for r in revisions] == [
        (1, 1, None),
        (2, 2, "2024-12-31"),
    ]
    assert all(r["recorded_by"].endswith("test admin") and r["recorded_at"] for r in revisions)


async def test_a_correction_cannot_create_an_overlap(admin: httpx.AsyncClient, clusters: None) -> None:
    ha_noi = await unit_id(admin, "Hà Nội", "2025-01-01")
    a = await join(admin, ha_noi, 1, "2020-01-01", "2020-12-31")
    b = (await join(admin, ha_noi, 2, "2021-01-01")).json()
    widened = await admin.patch(
        f"/v1/memberships/{a.json()['id']}",
        json={"valid_to": "2021-06-30"},
        headers={"If-Match": a.headers["etag"]},
    )
    assert problem(widened, 409, "membership-overlap")["conflicting_membership_id"] == b["id"]
    assert (await admin.get(f"/v1/memberships/{a.json()['id']}")).json()["version"] == 1


async def test_members_by_year_and_by_day(admin: httpx.AsyncClient, clusters: None) -> None:
    thai_binh = await unit_id(admin, "Thái Bình", "2025-01-01")
    hung_yen = await unit_id(admin, "Hưng Yên", "2025-07-01")
    for unit, start, end in (
        (thai_binh, "2024-01-01", "2025-06-30"),
        (hung_yen, "2025-07-01", None),
    ):
        body = {"unit_id": unit, "cluster": 1, "valid_from": start, "valid_to": end}
        assert (await admin.post("/v1/memberships", json=body)).status_code == 201
    year = (await admin.get("/v1/clusters/1/members", params={"year": 2025})).json()
    assert [(m["unit"]["name"], m["valid_from"], m["valid_to"]) for m in year["items"]] == [
        ("Thái Bình", "2024-01-01", "2025-06-30"),
        ("Hưng Yên", "2025-07-01", None),
    ]
    assert year["items"][0]["successors"][0]["name"] == "Hưng Yên"
    assert {p["name"] for p in year["items"][1]["predecessors"]} == {"Hưng Yên", "Thái Bình"}
    on_day = (await admin.get("/v1/clusters/1/members", params={"as_of": "2025-07-01"})).json()
    assert [m["unit"]["id"] for m in on_day["items"]] == [hung_yen]
    problem(await admin.get("/v1/clusters/9/members", params={"year": 2025}), 404, "not-found")
