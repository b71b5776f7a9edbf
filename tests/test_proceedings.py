"""Proceedings that block a nomination while open (Decree 152/2025 art. 4)."""

import httpx
import pytest

from tests.awards_helpers import check, cluster5_2024, nominate
from tests.helpers import correct, problem


async def test_create_close_and_keep_every_version(admin: httpx.AsyncClient) -> None:
    body = {"kind": "inspection", "opened_on": "2025-09-01", "reference": "QĐ 12/QĐ-TTr"}
    created = await admin.post("/v1/units/21/proceedings", json=body, headers={"Idempotency-Key": "p1"})
    assert created.status_code == 201, created.text
    out = created.json()
    assert (out["kind"], out["closed_on"], out["version"]) == ("inspection", None, 1)
    url = created.headers["location"]
    assert url == f"/v1/units/21/proceedings/{out['id']}"
    replay = await admin.post("/v1/units/21/proceedings", json=body, headers={"Idempotency-Key": "p1"})
    assert replay.json() == out
    assert len((await admin.get("/v1/units/21/proceedings")).json()["items"]) == 1

    problem(await admin.patch(url, json={"closed_on": "2025-10-01"}), 428, "precondition-required")
    closed = await correct(admin, url, {"closed_on": "2025-10-01"})
    assert closed.status_code == 200, closed.text
    assert (closed.json()["closed_on"], closed.json()["version"]) == ("2025-10-01", 2)
    revisions = (await admin.get(f"{url}/revisions")).json()["items"]
    assert [(r["version"], r["data"]["closed_on"]) for r in revisions] == [(1, None), (2, "2025-10-01")]


async def test_a_period_ending_before_it_starts_is_422(admin: httpx.AsyncClient) -> None:
    body = {"kind": "complaint", "opened_on": "2025-09-01", "closed_on": "2025-08-01"}
    problem(await admin.post("/v1/units/21/proceedings", json=body), 422, "validation")
    created = await admin.post(
        "/v1/units/21/proceedings", json={"kind": "complaint", "opened_on": "2025-09-01"}
    )
    body = problem(
        await correct(admin, created.headers["location"], {"closed_on": "2025-08-01"}), 422, "unprocessable"
    )
    assert body["field"] == "closed_on"
    problem(
        await admin.post(
            "/v1/units/99999/proceedings", json={"kind": "complaint", "opened_on": "2025-09-01"}
        ),
        404,
        "not-found",
    )


@pytest.mark.usefixtures("seeded_without_awards")
async def test_an_open_proceeding_blocks_a_nomination_with_the_reason(admin: httpx.AsyncClient) -> None:
    units = await cluster5_2024(admin)
    hung_yen = units["Hưng Yên"]
    opened = await admin.post(
        f"/v1/units/{hung_yen}/proceedings",
        json={"kind": "disciplinary_review", "opened_on": "2024-10-01", "reference": "Số 7/QĐ-KL"},
    )
    refused = problem(await nominate(admin, hung_yen, "minister_certificate_of_merit"), 409, "rule-refused")
    assert refused["type"] == "/problems/rule-refused"
    assert refused["rule"] == "blocking_proceeding_kinds"
    assert refused["basis"]["document"] == "Nghị định 152/2025/NĐ-CP"
    assert refused["basis"]["article"] == "art. 4"
    assert refused["confidence"] == "unknown", (
        "2024 is judged by Decree 98/2023, where the rule is carried over"
    )
    assert refused["facts"]["proceeding_id"] == opened.json()["id"]
    assert f"Proceeding {opened.json()['id']} (disciplinary_review" in refused["detail"]
    assert "Nghị định 152/2025/NĐ-CP art. 4" in refused["detail"]
    assert check(refused, "blocking_proceeding_kinds")["outcome"] == "refused"
    assert (await admin.get("/v1/awards")).json()["items"] == []

    # Closed the day before the conference: no longer open on the nomination's day.
    closed = await correct(admin, opened.headers["location"], {"closed_on": "2024-11-24"})
    assert closed.status_code == 200
    created = await nominate(admin, hung_yen, "minister_certificate_of_merit")
    assert created.status_code == 201, created.text
    assert check(created.json(), "blocking_proceeding_kinds")["outcome"] == "passed"


@pytest.mark.usefixtures("seeded_without_awards")
async def test_a_proceeding_of_another_unit_or_not_open_that_day_does_not_block(
    admin: httpx.AsyncClient,
) -> None:
    units = await cluster5_2024(admin)
    await admin.post(
        f"/v1/units/{units['Hà Nam']}/proceedings", json={"kind": "investigation", "opened_on": "2024-01-01"}
    )
    await admin.post(
        f"/v1/units/{units['Nam Định']}/proceedings",
        json={"kind": "investigation", "opened_on": "2024-12-01"},
    )
    created = await nominate(admin, units["Nam Định"], "minister_certificate_of_merit")
    assert created.status_code == 201, created.text
