"""ETags change exactly when the representation changes, and every version stays readable."""

import httpx
import pytest

from tests.helpers import join, problem, unit_id


@pytest.fixture
async def cluster_90(admin: httpx.AsyncClient) -> dict[str, int]:
    """Cluster 90 from 2026: Sơn La leads 2027 with Lai Châu as deputy."""
    await admin.post("/v1/clusters", json={"number": 90})
    units = {name: await unit_id(admin, name, "2026-01-01") for name in ("Sơn La", "Lai Châu")}
    for unit in units.values():
        assert (await join(admin, unit, 90, "2026-01-01")).status_code == 201
    lead = {"leader_unit_id": units["Sơn La"], "deputy_unit_id": units["Lai Châu"]}
    assert (await admin.put("/v1/clusters/90/years/2027/leadership", json=lead)).status_code == 201
    return units


async def test_a_succession_makes_a_new_unit_version(
    admin: httpx.AsyncClient, cluster_90: dict[str, int]
) -> None:
    son_la = cluster_90["Sơn La"]
    before = await admin.get(f"/v1/units/{son_la}")
    merged = await admin.post(
        "/v1/successions",
        json={
            "kind": "rename",
            "effective_date": "2031-01-01",
            "legal_basis": "Nghị quyết thử nghiệm",
            "predecessor_id": son_la,
            "new_unit": {"code": "14", "name": "Sơn La mới", "kind": "tinh"},
        },
    )
    assert merged.status_code == 201, merged.text
    after = await admin.get(f"/v1/units/{son_la}", headers={"If-None-Match": before.headers["etag"]})
    assert after.status_code == 200
    assert (after.json()["valid_to"], after.json()["version"]) == ("2030-12-31", 2)
    stale = await admin.patch(
        f"/v1/units/{son_la}", json={"name": "Sơn La"}, headers={"If-Match": before.headers["etag"]}
    )
    problem(stale, 412, "precondition-failed")
    revisions = (await admin.get(f"/v1/units/{son_la}/revisions")).json()["items"]
    assert [(r["version"], r["data"]["valid_to"]) for r in revisions] == [(1, None), (2, "2030-12-31")]
    new_id = merged.json()["opened_units"][0]["id"]
    opened = (await admin.get(f"/v1/units/{new_id}/revisions")).json()["items"]
    assert [(r["version"], r["data"]["name"]) for r in opened] == [(1, "Sơn La mới")]


async def test_renaming_a_unit_changes_the_etags_of_what_embeds_it(
    admin: httpx.AsyncClient, cluster_90: dict[str, int]
) -> None:
    son_la = cluster_90["Sơn La"]
    membership = (await admin.get("/v1/memberships", params={"unit": son_la})).json()["items"][0]
    member_url = f"/v1/memberships/{membership['id']}"
    lead_url = "/v1/clusters/90/years/2027/leadership"
    read = {url: await admin.get(url) for url in (member_url, lead_url)}

    unit = await admin.get(f"/v1/units/{son_la}")
    renamed = await admin.patch(
        f"/v1/units/{son_la}", json={"name": "Sơn La (sửa)"}, headers={"If-Match": unit.headers["etag"]}
    )
    assert renamed.status_code == 200, renamed.text

    for url, first in read.items():
        again = await admin.get(url, headers={"If-None-Match": first.headers["etag"]})
        assert again.status_code == 200, url
        assert again.headers["etag"] != first.headers["etag"]
        assert "Sơn La (sửa)" in again.text
    # An ETag read before the rename is stale for writes too; the one just read works.
    problem(
        await admin.patch(
            member_url, json={"note": "x"}, headers={"If-Match": read[member_url].headers["etag"]}
        ),
        412,
        "precondition-failed",
    )
    fresh = (await admin.get(member_url)).headers["etag"]
    corrected = await admin.patch(member_url, json={"note": "x"}, headers={"If-Match": fresh})
    assert corrected.status_code == 200, corrected.text
    assert corrected.headers["etag"] == (await admin.get(member_url)).headers["etag"]


async def test_an_etag_just_read_always_works_for_a_write(
    admin: httpx.AsyncClient, cluster_90: dict[str, int]
) -> None:
    lead_url = "/v1/clusters/90/years/2027/leadership"
    body = {"leader_unit_id": cluster_90["Lai Châu"], "deputy_unit_id": cluster_90["Sơn La"]}
    etag = (await admin.get(lead_url)).headers["etag"]
    replaced = await admin.put(lead_url, json=body, headers={"If-Match": etag})
    assert replaced.status_code == 200, replaced.text
    assert replaced.headers["etag"] == (await admin.get(lead_url)).headers["etag"]
    unchanged = await admin.get(lead_url, headers={"If-None-Match": replaced.headers["etag"]})
    assert unchanged.status_code == 304
