"""The scoring framework of a cluster-year: PUT with If-Match, revisions, the cross-field rules."""

from typing import Any

import httpx
import pytest

from tests.helpers import bearer, problem
from tests.scoring.helpers import FRAMEWORK_URL, framework, items, put_framework, score

pytestmark = pytest.mark.usefixtures("cluster_70")


async def test_create_read_replace_and_keep_every_version(admin: httpx.AsyncClient) -> None:
    problem(await admin.get(FRAMEWORK_URL), 404, "not-found")
    created = await admin.put(FRAMEWORK_URL, json=framework())
    assert created.status_code == 201, created.text
    body = created.json()
    assert [c["code"] for c in body["criteria"]] == ["A", "B", "BONUS", "PEN"]
    assert body["criteria"][0] == {
        "position": 1,
        "code": "A",
        "name": "Xây dựng lực lượng",
        "group": "Xây dựng lực lượng",
        "max_points": 40,
        "kind": "criterion",
    }
    assert body["classes"][-1]["min_points"] is None
    assert body["version"] == 1
    read = await admin.get(FRAMEWORK_URL)
    assert read.json() == body
    assert read.headers["etag"] == created.headers["etag"]

    problem(await admin.put(FRAMEWORK_URL, json=framework(combination="mean")), 428, "precondition-required")
    problem(
        await admin.put(FRAMEWORK_URL, json=framework(), headers={"If-Match": '"stale"'}),
        412,
        "precondition-failed",
    )
    replaced = await admin.put(
        FRAMEWORK_URL, json=framework(combination="mean"), headers={"If-Match": created.headers["etag"]}
    )
    assert replaced.status_code == 200, replaced.text
    assert replaced.json()["version"] == 2
    assert replaced.json()["combination"] == "mean"
    revisions = (await admin.get(f"{FRAMEWORK_URL}/revisions")).json()["items"]
    assert [(r["version"], r["data"]["combination"]) for r in revisions] == [(1, "sum"), (2, "mean")]


async def test_a_second_create_without_if_match_is_428(admin: httpx.AsyncClient) -> None:
    assert (await admin.put(FRAMEWORK_URL, json=framework())).status_code == 201
    problem(await admin.put(FRAMEWORK_URL, json=framework()), 428, "precondition-required")


def _classes(*thresholds: float | None) -> list[dict[str, Any]]:
    return [{"code": f"C{i}", "name": f"Loại {i}", "min_points": t} for i, t in enumerate(thresholds)]


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"criteria": [framework()["criteria"][0]] * 2}, "criteria.1.code"),
        ({"scorers": [framework()["scorers"][0]] * 2}, "scorers.1.code"),
        ({"classes": _classes(90, 90, None)}, "classes.1.min_points"),
        ({"classes": _classes(80, 90)}, "classes.1.min_points"),
        ({"classes": _classes(None, 50)}, "classes.0.min_points"),
        ({"combination": "weighted"}, "scorers.0.weight"),
        ({"tie_break": "by_criteria_then_shared"}, "tie_break_order"),
        ({"tie_break": "by_criteria_then_shared", "tie_break_order": ["A", "Z"]}, "tie_break_order.1"),
        ({"tie_break": "by_criteria_then_shared", "tie_break_order": ["A", "A"]}, "tie_break_order.1"),
        ({"tie_break_order": ["A"]}, "tie_break_order"),
    ],
)
async def test_cross_field_rules_are_422_naming_the_field(
    admin: httpx.AsyncClient, changes: dict[str, Any], field: str
) -> None:
    body = problem(await admin.put(FRAMEWORK_URL, json=framework(**changes)), 422, "unprocessable")
    assert body["field"] == field, body


async def test_weighted_with_every_weight_and_tie_break_by_group_are_accepted(
    admin: httpx.AsyncClient,
) -> None:
    scorers = [{**s, "weight": w} for s, w in zip(framework()["scorers"], (2, 1), strict=True)]
    response = await admin.put(
        FRAMEWORK_URL,
        json=framework(
            combination="weighted",
            scorers=scorers,
            tie_break="by_criteria_then_shared",
            tie_break_order=["Nghiệp vụ", "A"],
        ),
    )
    assert response.status_code == 201, response.text
    assert [s["weight"] for s in response.json()["scorers"]] == [2, 1]


async def test_schema_rules(admin: httpx.AsyncClient) -> None:
    criterion = framework()["criteria"][0]
    for bad in ({**criterion, "max_points": 0}, {**criterion, "max_points": "40"}, {**criterion, "extra": 1}):
        problem(await admin.put(FRAMEWORK_URL, json=framework(criteria=[bad])), 422, "validation")
    problem(await admin.put(FRAMEWORK_URL, json=framework(scorers=[])), 422, "validation")


async def test_a_replacement_keeps_what_scores_use(
    admin: httpx.AsyncClient, cluster_70: dict[str, int]
) -> None:
    assert (await put_framework(admin)).status_code == 201
    assert (await score(admin, "X01", cluster_70["Cao Bằng"], items(38, 55))).status_code == 201
    criteria = framework()["criteria"]
    body = problem(await put_framework(admin, criteria=[criteria[1], *criteria[2:]]), 409, "scores-recorded")
    assert body["field"] == "criteria"
    assert "A" in body["detail"]
    problem(
        await put_framework(admin, criteria=[{**criteria[0], "max_points": 30}, *criteria[1:]]),
        409,
        "scores-recorded",
    )
    body = problem(await put_framework(admin, scorers=[framework()["scorers"][0]]), 409, "scores-recorded")
    assert body["field"] == "scorers"
    renamed = [{**criteria[0], "name": "Xây dựng Đảng, lực lượng", "max_points": 45}, *criteria[1:]]
    assert (await put_framework(admin, criteria=renamed)).status_code == 200


async def test_only_the_clusters_key_or_admin_writes(
    admin: httpx.AsyncClient, client: httpx.AsyncClient, cluster_key: Any
) -> None:
    key70 = await cluster_key(70)
    assert (await client.put(FRAMEWORK_URL, json=framework(), headers=bearer(key70))).status_code == 201
    assert (await admin.post("/v1/clusters", json={"number": 71})).status_code == 201
    key71 = await cluster_key(71)
    problem(await client.put(FRAMEWORK_URL, json=framework(), headers=bearer(key71)), 403, "forbidden")
