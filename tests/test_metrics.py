"""The metric catalogue: it ships with the reference data and admins extend it."""

import httpx

from tests.helpers import problem


async def test_the_catalogue_ships_the_seeds_figures(admin: httpx.AsyncClient) -> None:
    items = (await admin.get("/v1/metrics", params={"limit": 200})).json()["items"]
    keys = {m["key"] for m in items}
    assert {
        "social_order_crimes",
        "serious_crimes_clearance_rate",
        "crime_reports_handled_rate",
        "commended_collectives",
        "commended_individuals",
        "thank_you_letters",
        "housing_support_vnd",
        "traffic_deaths",
        "drug_cases",
        "disciplinary_violations",
    } <= keys
    rate = (await admin.get("/v1/metrics/crime_reports_handled_rate")).json()
    assert (rate["kind"], rate["numerator"], rate["denominator"]) == (
        "rate",
        "crime_reports_handled",
        "crime_reports_received",
    )
    assert rate["unit_of_measure"] == "percent"


async def test_an_admin_adds_a_rate_and_keys_are_unique(admin: httpx.AsyncClient) -> None:
    body = {
        "key": "drug_cases_per_report",
        "name_vi": "Tỷ lệ thử nghiệm",
        "name_en": "A test rate",
        "unit_of_measure": "percent",
        "kind": "rate",
        "numerator": "drug_cases",
        "denominator": "crime_reports_received",
    }
    created = await admin.post("/v1/metrics", json=body)
    assert created.status_code == 201, created.text
    assert created.headers["location"] == "/v1/metrics/drug_cases_per_report"
    assert created.headers["etag"] == (await admin.get(created.headers["location"])).headers["etag"]
    problem(await admin.post("/v1/metrics", json=body), 409, "metric-exists")
    problem(
        await admin.post("/v1/metrics", json={**body, "key": "other", "numerator": "nothing"}),
        422,
        "unprocessable",
    )
    problem(
        await admin.post("/v1/metrics", json={**body, "key": "other2", "numerator": None}), 422, "validation"
    )
    count = {**body, "key": "plain", "kind": "count", "numerator": None, "denominator": None}
    assert (await admin.post("/v1/metrics", json=count)).status_code == 201
    problem(await admin.get("/v1/metrics/nothing_here"), 404, "not-found")
    first_page = (await admin.get("/v1/metrics", params={"limit": 1})).json()
    assert len(first_page["items"]) == 1
    assert first_page["next_cursor"] is not None
