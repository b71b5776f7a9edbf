"""`GET /v1/clusters/{number}/years/{year}/evaluation` end to end: a covenant, members across the
2025 reform, figures pushed over HTTP, and the verdicts the engine gives from the tables."""

from typing import Any

import httpx
import pytest

from tests.helpers import join, problem, unit_id

CLUSTER = 88
URL = f"/v1/clusters/{CLUSTER}/years/2025/evaluation"


async def push(admin: httpx.AsyncClient, unit: int, period: str, year: int, **values: Any) -> None:
    figures = [
        {"metric": metric, **(v if isinstance(v, dict) else {"value": v})} for metric, v in values.items()
    ]
    response = await admin.put(f"/v1/units/{unit}/figures/{period}", json={"year": year, "values": figures})
    assert response.status_code == 201, response.text


@pytest.fixture
async def cluster(admin: httpx.AsyncClient) -> dict[str, int]:
    """Cluster 88 in 2025: Hà Nội all year; old Hưng Yên and Thái Bình until 2025-06-30, then the
    new Hưng Yên. Covenant: cut social-order crimes by at least 5% (each member); handle at least
    90% of crime reports, cluster-wide; and, per member, raise that share by at least 2 points.
    It states the calendar year as its reporting period (the default is the statistical year,
    `tests/test_statistical_year.py`)."""
    assert (await admin.post("/v1/clusters", json={"number": CLUSTER})).status_code == 201
    units = {
        "ha_noi": await unit_id(admin, "Hà Nội", "2025-01-01"),
        "old_hung_yen": await unit_id(admin, "Hưng Yên", "2025-01-01"),
        "thai_binh": await unit_id(admin, "Thái Bình", "2025-01-01"),
        "hung_yen": await unit_id(admin, "Hưng Yên", "2025-07-01"),
    }
    for name, start, end in (
        ("ha_noi", "2024-01-01", None),
        ("old_hung_yen", "2024-01-01", "2025-06-30"),
        ("thai_binh", "2024-01-01", "2025-06-30"),
        ("hung_yen", "2025-07-01", None),
    ):
        assert (await join(admin, units[name], CLUSTER, start, end)).status_code == 201
    covenant = {
        "signed_on": "2025-03-01",
        "period_start": "2025-01-01",
        "period_end": "2025-12-31",
        "key_contents": ["Kéo giảm tội phạm về trật tự xã hội"],
        "targets": [
            {
                "metric": "social_order_crimes",
                "comparator": "le",
                "threshold": -5,
                "basis": "change_vs_previous_period",
                "scope": "each_member",
            },
            {
                "metric": "crime_reports_handled_rate",
                "comparator": "ge",
                "threshold": 90,
                "basis": "absolute",
                "scope": "cluster_total",
            },
            {
                "metric": "crime_reports_handled_rate",
                "comparator": "ge",
                "threshold": 2,
                "basis": "change_vs_previous_period",
                "scope": "each_member",
            },
        ],
    }
    response = await admin.put(f"/v1/clusters/{CLUSTER}/years/2025/covenant", json=covenant)
    assert response.status_code == 201, response.text
    return units


def rate(handled: int, received: int) -> dict[str, int]:
    return {"numerator": handled, "denominator": received}


async def test_a_successor_is_judged_on_its_predecessors_baseline(
    admin: httpx.AsyncClient, cluster: dict[str, int]
) -> None:
    u = cluster
    # 2024: old Hưng Yên 95/100 handled (95%), Thái Bình 10/20 (50%): the average of the
    # percentages is 72.5%, the ratio of the sums 105/120 = 87.5%.
    await push(
        admin,
        u["old_hung_yen"],
        "2024-01-01..2024-12-31",
        2024,
        social_order_crimes=100,
        crime_reports_handled_rate=rate(95, 100),
    )
    await push(
        admin,
        u["thai_binh"],
        "2024-01-01..2024-12-31",
        2024,
        social_order_crimes=40,
        crime_reports_handled_rate=rate(10, 20),
    )
    await push(
        admin,
        u["ha_noi"],
        "2024-01-01..2024-12-31",
        2024,
        social_order_crimes=300,
        crime_reports_handled_rate=rate(270, 300),
    )
    # 2025: the predecessors' first half, the successor's second half; Hà Nội all year.
    await push(
        admin,
        u["old_hung_yen"],
        "2025-01-01..2025-06-30",
        2025,
        social_order_crimes=50,
        crime_reports_handled_rate=rate(45, 50),
    )
    await push(
        admin,
        u["thai_binh"],
        "2025-01-01..2025-06-30",
        2025,
        social_order_crimes=20,
        crime_reports_handled_rate=rate(9, 10),
    )
    await push(
        admin,
        u["hung_yen"],
        "2025-07-01..2025-12-31",
        2025,
        social_order_crimes=60,
        crime_reports_handled_rate=rate(54, 60),
    )
    await push(
        admin,
        u["ha_noi"],
        "2025-01-01..2025-12-31",
        2025,
        social_order_crimes=290,
        crime_reports_handled_rate=rate(280, 300),
    )

    answer = await admin.get(URL)
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert (body["baseline_start"], body["baseline_end"]) == ("2024-01-01", "2024-12-31")
    rows = {(r["target_index"], r["unit_id"]): r for r in body["rows"]}
    # Members at the end of 2025: Hà Nội and the new Hưng Yên.
    assert {unit for _, unit in rows if unit is not None} == {u["ha_noi"], u["hung_yen"]}

    crimes = rows[(0, u["hung_yen"])]
    # 50 + 20 + 60 = 130 against 100 + 40 = 140: −7.14%, cut by more than 5%.
    assert (crimes["value"], crimes["baseline"], crimes["verdict"]) == ("130", "140", "met")
    assert crimes["change"].startswith("-7.142857")
    used = {(c["unit_id"], c["start"], c["end"], c["role"]) for c in crimes["combined"]}
    assert (u["thai_binh"], "2024-01-01", "2024-12-31", "baseline") in used
    assert (u["hung_yen"], "2025-07-01", "2025-12-31", "value") in used
    assert "Thái Bình" in crimes["why"]
    assert rows[(0, u["ha_noi"])]["verdict"] == "not_met"  # 290 vs 300: −3.3%

    handled = rows[(2, u["hung_yen"])]
    # 2025: (45 + 9 + 54) / (50 + 10 + 60) = 90%; baseline by the ratio of sums 87.5%: +2.5
    # points, met; the average of percentages (72.5%) would give +17.5 and hide nothing here,
    # but with a ≥ 20 point target the two would disagree: the endpoint uses the ratio.
    assert (handled["value"], handled["baseline"], handled["change"]) == ("90", "87.5", "2.5")
    assert handled["verdict"] == "met"

    total = rows[(1, None)]
    # (280 + 108) / (300 + 120) = 92.38% ≥ 90%.
    assert total["verdict"] == "met"
    assert total["value"].startswith("92.38")


async def test_missing_predecessor_figures_make_the_row_unknown(
    admin: httpx.AsyncClient, cluster: dict[str, int]
) -> None:
    u = cluster
    await push(admin, u["old_hung_yen"], "2024-01-01..2024-12-31", 2024, social_order_crimes=100)
    await push(admin, u["hung_yen"], "2025-07-01..2025-12-31", 2025, social_order_crimes=60)
    await push(admin, u["old_hung_yen"], "2025-01-01..2025-06-30", 2025, social_order_crimes=50)
    body = (await admin.get(URL, headers={"Accept-Language": "en"})).json()
    row = next(r for r in body["rows"] if r["target_index"] == 0 and r["unit_id"] == u["hung_yen"])
    assert row["verdict"] == "unknown"
    assert {(m["unit_id"], m["problem"]) for m in row["missing"]} >= {(u["thai_binh"], "no_figures")}
    assert "Thái Bình" in row["why"]


async def test_no_covenant_is_404_and_a_backwards_period_422(admin: httpx.AsyncClient) -> None:
    await admin.post("/v1/clusters", json={"number": 89})
    problem(await admin.get("/v1/clusters/89/years/2025/evaluation"), 404, "not-found")
    problem(
        await admin.get(
            "/v1/clusters/89/years/2025/evaluation",
            params={"period_start": "2025-12-31", "period_end": "2025-01-01"},
        ),
        422,
        "unprocessable",
    )


async def test_the_sheet_counts_the_verdicts_and_changes_with_a_figure(
    admin: httpx.AsyncClient, cluster: dict[str, int]
) -> None:
    u = cluster
    await push(admin, u["ha_noi"], "2024-01-01..2024-12-31", 2024, social_order_crimes=300)
    await push(admin, u["ha_noi"], "2025-01-01..2025-12-31", 2025, social_order_crimes=280)
    sheet_url = f"/v1/clusters/{CLUSTER}/years/2025"
    first = await admin.get(sheet_url)
    summary = first.json()["evaluation"]
    assert summary["href"] == URL
    assert (summary["period_start"], summary["period_end"], summary["period_basis"]) == (
        "2025-01-01",
        "2025-12-31",
        "covenant",
    )
    assert summary["met"] == 1  # Hà Nội: 280 vs 300, −6.7%
    assert summary["met"] + summary["not_met"] + summary["unknown"] == len(
        (await admin.get(URL)).json()["rows"]
    )
    figures = f"/v1/units/{u['ha_noi']}/figures/2025-01-01..2025-12-31"
    etag = (await admin.get(figures)).headers["etag"]
    replaced = await admin.put(
        figures,
        json={"year": 2025, "values": [{"metric": "social_order_crimes", "value": 281}]},
        headers={"If-Match": etag},
    )
    assert replaced.status_code == 200, replaced.text
    again = await admin.get(sheet_url, headers={"If-None-Match": first.headers["etag"]})
    assert again.status_code == 200, "a figure changed: the sheet's ETag changes"
