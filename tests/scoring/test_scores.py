"""Score sheets: one per scorer and member, bounds, membership, who writes, every version kept."""

from typing import Any

import httpx
import pytest

from tests.helpers import bearer, problem, unit_id
from tests.scoring.helpers import STANDINGS_URL, items, put_framework, score, sheet_url


@pytest.fixture
async def scored(admin: httpx.AsyncClient, cluster_70: dict[str, int]) -> dict[str, int]:
    assert (await put_framework(admin)).status_code == 201
    return cluster_70


async def test_create_replace_and_keep_every_version(
    admin: httpx.AsyncClient, scored: dict[str, int]
) -> None:
    url = sheet_url("X01", scored["Cao Bằng"])
    problem(await admin.get(url), 404, "not-found")
    created = await admin.put(url, json=items(38.5, 55, bonus=2, pen=1.25))
    assert created.status_code == 201, created.text
    body = created.json()
    assert body["unit"]["name"] == "Cao Bằng"
    assert body["items"] == [
        {"criterion": "A", "points": 38.5},
        {"criterion": "B", "points": 55},
        {"criterion": "BONUS", "points": 2},
        {"criterion": "PEN", "points": 1.25},
    ]
    assert body["total"] == 94.25
    read = await admin.get(url)
    assert read.json() == body
    assert read.headers["etag"] == created.headers["etag"]
    problem(await admin.put(url, json=items(30, 50)), 428, "precondition-required")
    problem(
        await admin.put(url, json=items(30, 50), headers={"If-Match": '"stale"'}), 412, "precondition-failed"
    )
    replaced = await admin.put(url, json=items(30, 50), headers={"If-Match": created.headers["etag"]})
    assert replaced.status_code == 200
    assert replaced.json()["version"] == 2
    assert replaced.json()["total"] == 80
    revisions = (await admin.get(f"{url}/revisions")).json()["items"]
    assert [(r["version"], r["data"]["total"]) for r in revisions] == [(1, 94.25), (2, 80)]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        (items(40.01, 10), "items.0.points"),
        (items(10, 10, bonus=5.5), "items.2.points"),
        (items(10, 10, pen=11), "items.2.points"),
        ({"items": [{"criterion": "Z", "points": 1}]}, "items.0.criterion"),
        ({"items": [{"criterion": "A", "points": 1}, {"criterion": "A", "points": 2}]}, "items.1.criterion"),
    ],
)
async def test_points_within_the_criterion_and_known_criteria_only(
    admin: httpx.AsyncClient, scored: dict[str, int], body: dict[str, Any], field: str
) -> None:
    assert (
        problem(await admin.put(sheet_url("CUM", scored["Lào Cai"]), json=body), 422, "unprocessable")[
            "field"
        ]
        == field
    )


async def test_negative_points_are_422(admin: httpx.AsyncClient, scored: dict[str, int]) -> None:
    problem(await admin.put(sheet_url("CUM", scored["Lào Cai"]), json=items(-1, 10)), 422, "validation")


async def test_points_at_the_maximum_and_zero_are_accepted(
    admin: httpx.AsyncClient, scored: dict[str, int]
) -> None:
    assert (await admin.put(sheet_url("CUM", scored["Lào Cai"]), json=items(40, 0, 5, 10))).status_code == 201


async def test_a_unit_outside_the_cluster_that_year_is_409(
    admin: httpx.AsyncClient, scored: dict[str, int]
) -> None:
    outsider = await unit_id(admin, "Hà Nội", "2024-06-01")
    body = problem(await admin.put(sheet_url("CUM", outsider), json=items(1, 1)), 409, "not-a-member")
    assert body["field"] == "unit_id"
    problem(await admin.put(sheet_url("CUM", 999999), json=items(1, 1)), 404, "not-found")
    problem(await admin.put(sheet_url("NOPE", scored["Lào Cai"]), json=items(1, 1)), 404, "not-found")


async def test_without_a_framework_scores_are_409(
    admin: httpx.AsyncClient, cluster_70: dict[str, int]
) -> None:
    problem(
        await admin.put(sheet_url("CUM", cluster_70["Lào Cai"]), json=items(1, 1)),
        409,
        "no-scoring-framework",
    )


async def test_the_clusters_key_writes_the_clusters_scores_only(
    admin: httpx.AsyncClient, client: httpx.AsyncClient, scored: dict[str, int], cluster_key: Any
) -> None:
    key = bearer(await cluster_key(70))
    unit = scored["Lai Châu"]
    assert (await client.put(sheet_url("CUM", unit), json=items(1, 1), headers=key)).status_code == 201
    problem(await client.put(sheet_url("X01", unit), json=items(1, 1), headers=key), 403, "forbidden")
    assert (await admin.put(sheet_url("X01", unit), json=items(1, 1))).status_code == 201
    assert (await admin.post("/v1/clusters", json={"number": 71})).status_code == 201
    other = bearer(await cluster_key(71))
    problem(await client.put(sheet_url("CUM", unit), json=items(1, 1), headers=other), 403, "forbidden")


async def test_every_score_change_bumps_the_standings_version(
    admin: httpx.AsyncClient, scored: dict[str, int]
) -> None:
    first = (await admin.get(STANDINGS_URL)).json()["version"]
    assert (await score(admin, "CUM", scored["Lào Cai"], items(1, 1))).status_code == 201
    assert (await score(admin, "CUM", scored["Lào Cai"], items(2, 1))).status_code == 200
    assert (await admin.get(STANDINGS_URL)).json()["version"] == first + 2
    assert (await put_framework(admin, note="sửa")).status_code == 200
    assert (await admin.get(STANDINGS_URL)).json()["version"] == first + 3
