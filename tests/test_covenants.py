"""A cluster's covenant for a year and the figures its conferences report: versioned, If-Match."""

import httpx
import pytest

from tests.conftest import bearer, problem, unit_id


@pytest.fixture
async def cluster_70(admin: httpx.AsyncClient) -> dict[str, int]:
    """Cluster 70 with two members over 2024: Hà Nội and Cao Bằng."""
    assert (await admin.post("/v1/clusters", json={"number": 70})).status_code == 201
    units = {}
    for name in ("Hà Nội", "Cao Bằng"):
        units[name] = await unit_id(admin, name, "2024-06-01")
        body = {"unit_id": units[name], "cluster": 70, "valid_from": "2024-01-01", "valid_to": "2024-12-31"}
        assert (await admin.post("/v1/memberships", json=body)).status_code == 201
    return units


def covenant(host: int | None, threshold: float = -5, metric: str = "social_order_crimes") -> dict:
    return {
        "signed_on": "2024-03-01",
        "host_unit_id": host,
        "source": "test",
        "key_contents": ["Giữ vững an ninh", "Kéo giảm ít nhất 5% số vụ phạm tội về trật tự xã hội"],
        "targets": [
            {
                "metric": metric,
                "comparator": "le",
                "threshold": threshold,
                "basis": "change_vs_previous_period",
                "scope": "each_member",
                "label": "kéo giảm ít nhất 5%",
            },
            {
                "metric": "social_order_clearance_rate",
                "comparator": "gt",
                "threshold": 90.5,
                "basis": "absolute",
                "scope": "cluster_total",
            },
        ],
    }


URL = "/v1/clusters/70/years/2024/covenant"


async def test_create_replace_and_keep_every_version(
    admin: httpx.AsyncClient, cluster_70: dict[str, int]
) -> None:
    problem(await admin.get(URL), 404)
    created = await admin.put(URL, json=covenant(cluster_70["Hà Nội"]))
    assert created.status_code == 201, created.text
    body = created.json()
    assert body["host"]["name"] == "Hà Nội"
    assert body["key_contents"][1].startswith("Kéo giảm")
    assert [(t["position"], t["metric"], t["comparator"], t["threshold"]) for t in body["targets"]] == [
        (1, "social_order_crimes", "le", -5),
        (2, "social_order_clearance_rate", "gt", 90.5),
    ]
    assert body["targets"][1]["label"] is None
    read = await admin.get(URL)
    assert read.json() == body
    assert read.headers["etag"] == created.headers["etag"]
    problem(await admin.put(URL, json=covenant(cluster_70["Cao Bằng"])), 428)
    replacement = {**covenant(cluster_70["Cao Bằng"], threshold=-7.25), "key_contents": ["Một nội dung"]}
    replaced = await admin.put(URL, json=replacement, headers={"If-Match": created.headers["etag"]})
    assert replaced.status_code == 200, replaced.text
    assert replaced.json()["version"] == 2
    assert replaced.json()["targets"][0]["threshold"] == -7.25
    assert replaced.json()["key_contents"] == ["Một nội dung"]
    stale = problem(
        await admin.put(URL, json=covenant(None), headers={"If-Match": created.headers["etag"]}), 412
    )
    assert stale["current_etag"] == replaced.headers["etag"]
    emptied = await admin.put(
        URL, json={"targets": [], "key_contents": []}, headers={"If-Match": replaced.headers["etag"]}
    )
    assert emptied.status_code == 200
    assert emptied.json()["targets"] == []
    assert emptied.json()["host"] is None
    revisions = (await admin.get(f"{URL}/revisions")).json()
    assert [r["version"] for r in revisions["items"]] == [1, 2, 3]
    assert [len(r["data"]["targets"]) for r in revisions["items"]] == [2, 2, 0]
    assert revisions["items"][0]["data"]["host"]["name"] == "Hà Nội"
    problem(
        await admin.put(
            "/v1/clusters/70/years/2025/covenant", json=covenant(None), headers={"If-Match": '"x"'}
        ),
        412,
    )
    problem(await admin.get("/v1/clusters/70/years/2025/covenant/revisions"), 404)


async def test_rules(admin: httpx.AsyncClient, cluster_70: dict[str, int]) -> None:
    unknown = problem(await admin.put(URL, json=covenant(None, metric="no_such_metric")), 422)
    assert unknown["field"] == "targets.0.metric"
    assert "no_such_metric" in unknown["detail"]
    son_la = await unit_id(admin, "Sơn La", "2024-06-01")
    outsider = problem(await admin.put(URL, json=covenant(son_la)), 409)
    assert "not a member of cluster 70 in 2024" in outsider["detail"]
    problem(
        await admin.put(URL, json={**covenant(None), "targets": [{"metric": "social_order_crimes"}]}), 422
    )
    problem(await admin.put(URL, json={**covenant(None), "key_contents": [""]}), 422)
    bad = covenant(None)
    bad["targets"][0]["threshold"] = "5"
    problem(await admin.put(URL, json=bad), 422)
    problem(await admin.get(URL), 404)


async def test_only_admin_or_this_clusters_key_writes(
    admin: httpx.AsyncClient, client: httpx.AsyncClient, cluster_70: dict[str, int], cluster_key
) -> None:
    await admin.post("/v1/clusters", json={"number": 71})
    own_key, other_key = await cluster_key(70), await cluster_key(71)
    other = await client.put(URL, json=covenant(None), headers=bearer(other_key))
    problem(other, 403)
    problem(
        await client.put(
            URL.replace("covenant", "reported-figures"), json={"figures": []}, headers=bearer(other_key)
        ),
        403,
    )
    own = await client.put(URL, json=covenant(None), headers=bearer(own_key))
    assert own.status_code == 201, own.text


FIGURES = "/v1/clusters/70/years/2024/reported-figures"


async def test_reported_figures_round_trip(admin: httpx.AsyncClient, cluster_70: dict[str, int]) -> None:
    figures = [
        {
            "label": "lượt tập thể được khen thưởng",
            "metric": "commended_collectives",
            "kind": "value",
            "qualifier": "approximately",
            "value": 2600,
            "unit_of_measure": "collectives",
            "source": "test",
            "note": "gần 2.600",
        },
        {
            "label": "tội phạm về trật tự xã hội",
            "metric": "social_order_crimes",
            "kind": "change",
            "qualifier": "exact",
            "value": -14.8,
            "compared_with": "cùng kỳ năm 2023",
            "period_start": "2023-12-15",
            "period_end": "2024-11-14",
        },
        {
            "label": "tiền xây nhà đa năng",
            "kind": "value",
            "qualifier": "over",
            "value": 500000000,
            "unit_of_measure": "vnd",
        },
    ]
    created = await admin.put(FIGURES, json={"figures": figures})
    assert created.status_code == 201, created.text
    out = created.json()["figures"]
    assert [(f["position"], f["qualifier"], f["value"]) for f in out] == [
        (1, "approximately", 2600),
        (2, "exact", -14.8),
        (3, "over", 500000000),
    ]
    assert out[1]["period_start"] == "2023-12-15"
    assert out[1]["compared_with"] == "cùng kỳ năm 2023"
    assert out[2]["metric"] is None
    assert out[2]["unit_of_measure"] == "vnd"
    assert (await admin.get(FIGURES)).json() == created.json()
    problem(await admin.put(FIGURES, json={"figures": figures[:1]}), 428)
    replaced = await admin.put(
        FIGURES, json={"figures": figures[:1]}, headers={"If-Match": created.headers["etag"]}
    )
    assert replaced.status_code == 200
    assert len(replaced.json()["figures"]) == 1
    problem(
        await admin.put(FIGURES, json={"figures": []}, headers={"If-Match": created.headers["etag"]}), 412
    )
    revisions = (await admin.get(f"{FIGURES}/revisions")).json()["items"]
    assert [len(r["data"]["figures"]) for r in revisions] == [3, 1]
    rate_as_value = {**figures[0], "metric": "serious_crimes_clearance_rate"}
    problem(
        await admin.put(
            FIGURES, json={"figures": [rate_as_value]}, headers={"If-Match": replaced.headers["etag"]}
        ),
        422,
    )
    negative = {**figures[0], "value": -1}
    problem(
        await admin.put(
            FIGURES, json={"figures": [negative]}, headers={"If-Match": replaced.headers["etag"]}
        ),
        422,
    )
    unknown = {**figures[0], "metric": "nothing_like_it"}
    problem(
        await admin.put(FIGURES, json={"figures": [unknown]}, headers={"If-Match": replaced.headers["etag"]}),
        422,
    )
