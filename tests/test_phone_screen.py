"""A phone's results screen in one small call (issue 22, item 4): a cluster's years with the
ETags of their sheets, and each year's summary, on the seeds' real history."""

import gzip
from datetime import datetime
from email.utils import parsedate_to_datetime

import httpx

from app.core.text import fold
from app.main import app
from app.sheets.schemas import EXAMPLE, ClusterYearSheet
from tests.helpers import problem


async def test_the_years_of_a_cluster_carry_their_sheets_etags(
    admin: httpx.AsyncClient, seeded: None
) -> None:
    listed = await admin.get("/v1/clusters/5/years")
    assert listed.status_code == 200, listed.text
    years = {item["year"]: item for item in listed.json()["items"]}
    assert {2024, 2025} <= years.keys()
    assert list(years) == sorted(years, reverse=True)
    for year in (2024, 2025):
        item = years[year]
        assert item["href"] == f"/v1/clusters/5/years/{year}"
        sheet = await admin.get(item["href"])  # as the list was asked: gzip accepted
        assert sheet.headers["etag"] == item["etag"]
        assert (await admin.get(item["href"], headers={"If-None-Match": item["etag"]})).status_code == 304
        summary = await admin.get(item["summary_href"])
        assert summary.headers["etag"] == item["summary_etag"]
        unchanged = await admin.get(item["summary_href"], headers={"If-None-Match": item["summary_etag"]})
        assert unchanged.status_code == 304
    plain = (await admin.get("/v1/clusters/5/years", headers={"Accept-Encoding": "identity"})).json()
    sheet = await admin.get(plain["items"][0]["href"], headers={"Accept-Encoding": "identity"})
    assert sheet.headers["etag"] == plain["items"][0]["etag"]
    problem(await admin.get("/v1/clusters/999/years"), 404, "not-found")


async def test_the_summary_says_what_the_sheet_says_in_a_kilobyte(
    admin: httpx.AsyncClient, seeded: None
) -> None:
    sheet = (await admin.get("/v1/clusters/4/years/2024")).json()
    response = await admin.get("/v1/clusters/4/years/2024/summary")
    assert response.status_code == 200, response.text
    summary = response.json()
    members = {m["unit"]["id"]: m["unit"]["name"] for m in sheet["members"]}
    assert len(members) == 6
    assert {m["unit_id"]: m["name"] for m in summary["members"]} == members
    lead = sheet["leadership"]
    assert summary["leader"] == (lead["leader"]["unit"]["name"] if lead else None)
    assert summary["cluster_name"] == sheet["cluster"]["name"]
    assert [a["unit_name"] for a in summary["awards"]] == [a["unit"]["name"] for a in sheet["awards"]]
    assert summary["href"] == "/v1/clusters/4/years/2024"
    assert len(gzip.compress(response.content)) <= 1024
    assert len(response.content) < len((await admin.get("/v1/clusters/4/years/2024")).content) / 3
    problem(await admin.get("/v1/clusters/4/years/1999/summary"), 422, "validation")
    problem(await admin.get("/v1/clusters/999/years/2024/summary"), 404, "not-found")


async def test_award_lists_are_light_and_current(admin: httpx.AsyncClient, seeded: None) -> None:
    """List items count their rule checks (the checks stay on the award), and a cached list
    follows a transition at once."""
    listed = await admin.get("/v1/awards", params={"cluster": "5"})
    assert listed.status_code == 200, listed.text
    items = listed.json()["items"]
    assert items
    first = items[0]
    assert "rule_checks" not in first
    award = (await admin.get(first["href"])).json()
    outcomes = {o: sum(1 for c in award["rule_checks"] if c["outcome"] == o) for o in first["rule_outcomes"]}
    assert first["rule_outcomes"] == outcomes
    assert sum(outcomes.values()) == len(award["rule_checks"]) > 0
    assert len(listed.content) / len(items) < len((await admin.get(first["href"])).content)

    etag = (await admin.get(first["href"])).headers["etag"]
    refused = await admin.post(
        f"{first['href']}/transitions",
        json={"to": "refused", "decided_on": "2025-01-10", "reason": "thử"},
        headers={"If-Match": etag},
    )
    assert refused.status_code == 200, refused.text
    again = (await admin.get("/v1/awards", params={"cluster": "5"})).json()["items"]
    assert next(a for a in again if a["id"] == first["id"])["status"] == "refused"


async def test_every_answer_says_how_long_it_may_be_kept(admin: httpx.AsyncClient, seeded: None) -> None:
    """`Cache-Control` (RFC 9111): records revalidated with their ETag, reference data kept an
    hour, public pages kept by anyone, errors and writes never stored."""
    sheet = await admin.get("/v1/clusters/5/years/2024")
    assert sheet.headers["cache-control"] == "private, no-cache"
    again = await admin.get("/v1/clusters/5/years/2024", headers={"If-None-Match": sheet.headers["etag"]})
    assert again.status_code == 304
    assert again.headers["cache-control"] == "private, no-cache"
    assert (await admin.get("/v1/metrics")).headers["cache-control"] == "private, max-age=3600"
    for _ in range(2):  # rendered, then from the cache: a record says when it was last recorded
        record = await admin.get("/v1/clusters/5/years/2024/leadership")
        recorded_at = datetime.fromisoformat(record.json()["recorded_at"])
        assert parsedate_to_datetime(record.headers["last-modified"]) == recorded_at.replace(microsecond=0)
    assert (await admin.get("/v1/rule-sets")).headers["cache-control"] == "private, max-age=3600"
    assert (await admin.get("/problems/not-found")).headers["cache-control"] == "public, max-age=3600"
    missing = await admin.get("/v1/units/999999")
    problem(missing, 404, "not-found")
    assert missing.headers["cache-control"] == "no-store"
    unauthorized = await admin.get("/v1/clusters/5/years/2024", headers={"Authorization": "Bearer nope"})
    problem(unauthorized, 401, "unauthorized")
    assert unauthorized.headers["cache-control"] == "no-store"
    written = await admin.post("/v1/clusters", json={"number": 77, "name": "Cụm thi đua số 77"})
    assert written.status_code == 201, written.text
    assert written.headers["cache-control"] == "no-store"


def test_the_sheet_s_documented_example_is_a_real_sheet() -> None:
    """The contract's 200 example of the year sheet is one the service serves (cluster 5, 2024,
    from the seeds), valid against its schema, not an empty shell (issue 22)."""
    sheet = ClusterYearSheet.model_validate(EXAMPLE)
    assert (sheet.cluster.number, sheet.year) == (5, 2024)
    assert len(sheet.members) == 5
    assert sheet.leadership is not None
    assert sheet.awards
    assert app.openapi()["components"]["schemas"]["ClusterYearSheet"]["example"] == EXAMPLE


async def test_unranked_members_are_in_vietnamese_order_as_on_the_sheet(
    admin: httpx.AsyncClient, seeded: None
) -> None:
    """Without standings the summary lists members by name as a Vietnamese reader orders them
    (Hải Dương before Hưng Yên, Điện Biên among the Ds), the sheet's own order."""
    for number, year in ((5, 2024), (3, 2025)):
        sheet = (await admin.get(f"/v1/clusters/{number}/years/{year}")).json()
        summary = (await admin.get(f"/v1/clusters/{number}/years/{year}/summary")).json()
        assert all(m["rank"] is None for m in summary["members"])
        by_name = [m["unit"]["name"] for m in sorted(sheet["members"], key=lambda m: fold(m["unit"]["name"]))]
        assert [m["name"] for m in summary["members"]] == by_name
    assert by_name.index("Điện Biên") < len(by_name) - 1
