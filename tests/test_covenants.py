"""A cluster's covenant for a year and the figures its conferences report: versioned, If-Match."""

from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml

from app.core.config import Settings
from app.core.database import Database
from app.core.i18n import use_locale
from app.history.importer import HistoryImportError, _Loader
from tests.helpers import bearer, problem, run_import, unit_id


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
    problem(await admin.get(URL), 404, "not-found")
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
    problem(await admin.put(URL, json=covenant(cluster_70["Cao Bằng"])), 428, "precondition-required")
    replacement = {**covenant(cluster_70["Cao Bằng"], threshold=-7.25), "key_contents": ["Một nội dung"]}
    replaced = await admin.put(URL, json=replacement, headers={"If-Match": created.headers["etag"]})
    assert replaced.status_code == 200, replaced.text
    assert replaced.json()["version"] == 2
    assert replaced.json()["targets"][0]["threshold"] == -7.25
    assert replaced.json()["key_contents"] == ["Một nội dung"]
    stale = problem(
        await admin.put(URL, json=covenant(None), headers={"If-Match": created.headers["etag"]}),
        412,
        "precondition-failed",
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
        "precondition-failed",
    )
    problem(await admin.get("/v1/clusters/70/years/2025/covenant/revisions"), 404, "not-found")


async def test_rules(admin: httpx.AsyncClient, cluster_70: dict[str, int]) -> None:
    unknown = problem(
        await admin.put(URL, json=covenant(None, metric="no_such_metric")), 422, "unprocessable"
    )
    assert unknown["field"] == "targets.0.metric"
    assert "no_such_metric" in unknown["detail"]
    son_la = await unit_id(admin, "Sơn La", "2024-06-01")
    outsider = problem(await admin.put(URL, json=covenant(son_la)), 409, "not-a-member")
    assert "not a member of cluster 70 in 2024" in outsider["detail"]
    problem(
        await admin.put(URL, json={**covenant(None), "targets": [{"metric": "social_order_crimes"}]}),
        422,
        "validation",
    )
    problem(await admin.put(URL, json={**covenant(None), "key_contents": [""]}), 422, "validation")
    bad = covenant(None)
    bad["targets"][0]["threshold"] = "5"
    problem(await admin.put(URL, json=bad), 422, "validation")
    problem(await admin.get(URL), 404, "not-found")


async def test_only_admin_or_this_clusters_key_writes(
    admin: httpx.AsyncClient, client: httpx.AsyncClient, cluster_70: dict[str, int], cluster_key
) -> None:
    await admin.post("/v1/clusters", json={"number": 71})
    own_key, other_key = await cluster_key(70), await cluster_key(71)
    other = await client.put(URL, json=covenant(None), headers=bearer(other_key))
    problem(other, 403, "forbidden")
    problem(
        await client.put(
            URL.replace("covenant", "reported-figures"), json={"figures": []}, headers=bearer(other_key)
        ),
        403,
        "forbidden",
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
    problem(await admin.put(FIGURES, json={"figures": figures[:1]}), 428, "precondition-required")
    replaced = await admin.put(
        FIGURES, json={"figures": figures[:1]}, headers={"If-Match": created.headers["etag"]}
    )
    assert replaced.status_code == 200
    assert len(replaced.json()["figures"]) == 1
    problem(
        await admin.put(FIGURES, json={"figures": []}, headers={"If-Match": created.headers["etag"]}),
        412,
        "precondition-failed",
    )
    revisions = (await admin.get(f"{FIGURES}/revisions")).json()["items"]
    assert [len(r["data"]["figures"]) for r in revisions] == [3, 1]
    rate_as_value = {**figures[0], "metric": "serious_crimes_clearance_rate"}
    problem(
        await admin.put(
            FIGURES, json={"figures": [rate_as_value]}, headers={"If-Match": replaced.headers["etag"]}
        ),
        422,
        "unprocessable",
    )
    negative = {**figures[0], "value": -1}
    problem(
        await admin.put(
            FIGURES, json={"figures": [negative]}, headers={"If-Match": replaced.headers["etag"]}
        ),
        422,
        "validation",
    )
    unknown = {**figures[0], "metric": "nothing_like_it"}
    problem(
        await admin.put(FIGURES, json={"figures": [unknown]}, headers={"If-Match": replaced.headers["etag"]}),
        422,
        "unprocessable",
    )


async def test_seed_history_loads_the_covenant_and_the_reported_figures(
    admin: httpx.AsyncClient, database: Database, settings: Settings
) -> None:
    first = await run_import(database, settings.history_file)
    assert first.covenants_created == 1
    assert first.reported_figure_sets_created == 3
    covenant = (await admin.get("/v1/clusters/4/years/2024/covenant")).json()
    assert covenant["signed_on"] == "2024-03-01"
    assert covenant["host"]["name"] == "Quảng Ninh"
    assert covenant["source"].startswith("[seed-004]")
    assert len(covenant["key_contents"]) == 7  # the 180 million pledged are its pledge (test_pledges.py)
    assert not any("180 triệu" in c for c in covenant["key_contents"])
    targets = [
        (t["metric"], t["comparator"], t["threshold"], t["basis"], t["scope"]) for t in covenant["targets"]
    ]
    assert targets == [
        ("social_order_crimes", "le", -5, "change_vs_previous_period", "each_member"),
        ("crime_reports_processed_rate", "eq", 100, "absolute", "each_member"),
        ("crime_reports_handled_rate", "gt", 90, "absolute", "each_member"),
    ]

    def figures(number: int, year: int) -> Any:
        return admin.get(f"/v1/clusters/{number}/years/{year}/reported-figures")

    c3_2022 = (await figures(3, 2022)).json()["figures"]
    assert [(f["metric"], f["qualifier"], f["value"]) for f in c3_2022] == [
        ("commended_collectives", "approximately", 2600),
        ("commended_individuals", "over", 5900),
        (None, "over", 500000000),
    ]
    assert all(f["source"].startswith("[seed-003]") for f in c3_2022)
    c3_2025 = {f["metric"]: f for f in (await figures(3, 2025)).json()["figures"] if f["metric"]}
    assert (c3_2025["commended_collectives"]["value"], c3_2025["commended_individuals"]["value"]) == (
        1616,
        7186,
    )
    assert (c3_2025["thank_you_letters"]["qualifier"], c3_2025["thank_you_letters"]["value"]) == ("over", 248)
    assert c3_2025["housing_support_vnd"]["value"] == 120000000
    c4_2025 = (await figures(4, 2025)).json()["figures"]
    assert [(f["metric"], f["kind"], f["qualifier"], f["value"]) for f in c4_2025] == [
        ("social_order_crimes", "change", "exact", -14.8),
        ("serious_crimes_clearance_rate", "rate", "exact", 98.47),
    ]
    assert c4_2025[0]["compared_with"] == "cùng kỳ năm 2024"
    sheet = (await admin.get("/v1/clusters/4/years/2024")).json()
    assert len(sheet["covenant"]["targets"]) == 3
    before = [(await admin.get(u)).headers["etag"] for u in ("/v1/clusters/4/years/2024/covenant",)]
    again = await run_import(database, settings.history_file)
    assert again.covenants_created == again.reported_figure_sets_created == 0
    assert again.covenants_unchanged == 1
    assert again.reported_figure_sets_unchanged == 3
    after = [(await admin.get(u)).headers["etag"] for u in ("/v1/clusters/4/years/2024/covenant",)]
    assert after == before
    assert len((await admin.get("/v1/clusters/3/years/2022/reported-figures/revisions")).json()["items"]) == 1


async def test_a_different_covenant_in_a_file_is_a_problem(
    admin: httpx.AsyncClient, database: Database, settings: Settings, tmp_path: Path
) -> None:
    await run_import(database, settings.history_file)
    document = yaml.load(settings.history_file.read_text(encoding="utf-8"), Loader=_Loader)
    year = document["clusters"][1]["years"][0]
    year["covenant"]["targets"][0]["threshold"] = -6
    year["reported_figures"] = [
        {"label": "x", "kind": "value", "qualifier": "exact", "value": 1, "metric": "nope"}
    ]
    path = tmp_path / "history.yaml"
    path.write_text(yaml.safe_dump(document, allow_unicode=True), encoding="utf-8")
    with pytest.raises(HistoryImportError) as failure, use_locale("en"):
        await run_import(database, path)
    problems = failure.value.problems
    assert any("covenant: A different covenant is already recorded" in p for p in problems), problems
    assert any("reported_figures: No metric with key nope" in p for p in problems), problems
    targets = (await admin.get("/v1/clusters/4/years/2024/covenant")).json()["targets"]
    assert targets[0]["threshold"] == -5
