"""Who may do what. The matrix is built from the app's routes: a new write endpoint joins it."""

import re

import httpx
import pytest

from app.main import app as assembled
from tests.helpers import Keys, bearer, problem

WRITES = sorted(
    (method.upper(), path)
    for path, operations in assembled.openapi()["paths"].items()
    for method in operations
    if method in {"post", "put", "patch", "delete"}
)
"""Every write operation the app serves, from its own OpenAPI document."""


def concrete(path: str) -> str:
    """Fill path parameters with values of existing records (cluster 5, year 2025, id 1; unit 2,
    which the wrong unit's key, Hà Nội's, may not write for)."""
    values = {"number": "5", "year": "2025", "unit_id": "2", "period": "2025-01-01..2025-06-30"}
    return re.sub(r"\{(\w+)\}", lambda m: values.get(m.group(1), "1"), path)


BODIES = {
    "/v1/figures:batch": {
        "rows": [
            {
                "unit_id": 2,
                "year": 2025,
                "period_start": "2025-01-01",
                "period_end": "2025-01-31",
                "metric": "drug_cases",
                "value": 1,
            }
        ]
    }
}
"""A body where `{}` would be rejected before whose rows it names are known."""

BATCH_MEMBERS = {"forbidden_rows", "forbidden_row_count"}

UNIT_ONLY = {("POST", "/v1/votes/{vote_id}/ballots")}
"""Writes only a `unit` key may make: a ballot is cast with the voting unit's own key, so an
admin key is refused like any other (secrecy: no one casts for a unit)."""
"""A batch's 403 lists the rows it refuses (row numbers of the request, nothing of the target)."""


@pytest.fixture
async def cluster_five(admin: httpx.AsyncClient) -> None:
    assert (await admin.post("/v1/clusters", json={"number": 5})).status_code == 201


def test_the_matrix_covers_every_write() -> None:
    assert len(WRITES) >= 8
    assert ("POST", "/v1/successions") in WRITES
    assert ("PUT", "/v1/clusters/{number}/years/{year}/leadership") in WRITES


@pytest.mark.parametrize(("method", "path"), WRITES)
async def test_anonymous_writes_are_401(client: httpx.AsyncClient, method: str, path: str) -> None:
    response = await client.request(method, concrete(path), json={})
    problem(response, 401, "unauthorized")
    assert response.headers["www-authenticate"].startswith("Bearer")


@pytest.mark.parametrize(("method", "path"), WRITES)
async def test_reader_writes_are_403(
    client: httpx.AsyncClient, keys: Keys, cluster_five: None, method: str, path: str
) -> None:
    response = await client.request(
        method, concrete(path), json=BODIES.get(path, {}), headers=bearer(keys.reader)
    )
    problem(response, 403, "forbidden")


@pytest.mark.parametrize(("method", "path"), WRITES)
async def test_wrong_unit_writes_are_403_and_reveal_nothing(
    client: httpx.AsyncClient, keys: Keys, cluster_five: None, method: str, path: str
) -> None:
    response = await client.request(
        method, concrete(path), json=BODIES.get(path, {}), headers=bearer(keys.unit)
    )
    body = problem(response, 403, "forbidden")
    extra = BATCH_MEMBERS if path in BODIES else set()
    assert set(body) <= {"type", "title", "status", "detail", "instance", "request_id", *extra}


@pytest.mark.parametrize(("method", "path"), WRITES)
async def test_admin_passes_the_access_check(
    client: httpx.AsyncClient, keys: Keys, cluster_five: None, method: str, path: str
) -> None:
    response = await client.request(method, concrete(path), json={}, headers=bearer(keys.admin))
    if (method, path) in UNIT_ONLY:
        problem(response, 403, "forbidden")
        return
    assert response.status_code not in (401, 403), response.text


async def test_reads_need_a_valid_key(client: httpx.AsyncClient, keys: Keys) -> None:
    problem(await client.get("/v1/units"), 401, "unauthorized")
    bad = await client.get("/v1/units", headers=bearer("thd_made-up"))
    problem(bad, 401, "unauthorized")
    assert 'error="invalid_token"' in bad.headers["www-authenticate"]
    problem(await client.get("/v1/units", headers={"Authorization": "Basic abc"}), 401, "unauthorized")
    assert (await client.get("/v1/units", headers=bearer(keys.reader))).status_code == 200
    assert (await client.get("/v1/units", headers=bearer(keys.unit))).status_code == 200


async def test_unit_key_cannot_do_admin_writes(client: httpx.AsyncClient, keys: Keys) -> None:
    response = await client.post("/v1/clusters", json={"number": 9}, headers=bearer(keys.unit))
    problem(response, 403, "forbidden")
    problem(await client.get("/v1/clusters/9", headers=bearer(keys.admin)), 404, "not-found")


async def test_admin_creates_lists_and_revokes_keys(
    admin: httpx.AsyncClient, client: httpx.AsyncClient
) -> None:
    created = await admin.post("/v1/keys", json={"name": "Cục Công tác chính trị", "role": "reader"})
    assert created.status_code == 201, created.text
    body = created.json()
    new_key = body["key"]
    assert new_key.startswith("thd_")
    assert body["key_prefix"] == new_key[:10]
    listed = (await admin.get("/v1/keys")).json()["items"]
    assert body["id"] in [k["id"] for k in listed]
    assert all("key" not in k and "key_hash" not in k for k in listed)
    fresh = {"Authorization": f"Bearer {new_key}"}
    assert (await client.get("/v1/units", headers=fresh)).status_code == 200
    assert (await admin.delete(f"/v1/keys/{body['id']}")).status_code == 204
    problem(await client.get("/v1/units", headers=fresh), 401, "unauthorized")
    revoked = [k for k in (await admin.get("/v1/keys")).json()["items"] if k["id"] == body["id"]]
    assert revoked[0]["revoked_at"] is not None
    own = next(k for k in (await admin.get("/v1/keys")).json()["items"] if k["name"] == "test admin")
    problem(await admin.delete(f"/v1/keys/{own['id']}"), 409, "self-revocation")
    assert (await admin.get("/v1/keys")).status_code == 200


async def test_scoped_keys_need_their_scope(admin: httpx.AsyncClient) -> None:
    problem(await admin.post("/v1/keys", json={"name": "x", "role": "unit"}), 422, "validation")
    problem(
        await admin.post("/v1/keys", json={"name": "x", "role": "cluster", "cluster": 99}), 404, "not-found"
    )
    problem(
        await admin.post("/v1/keys", json={"name": "x", "role": "reader", "unit_id": 1}), 422, "validation"
    )


async def test_cluster_key_writes_only_its_cluster(
    admin: httpx.AsyncClient, client: httpx.AsyncClient, cluster_key, seeded: None
) -> None:
    key5 = await cluster_key(5)
    lead = (await admin.get("/v1/clusters/5/years/2024/leadership")).json()
    current = (await admin.get("/v1/clusters/5/years/2024/leadership")).headers["etag"]
    body = {
        "leader_unit_id": lead["deputy"]["unit"]["id"],
        "deputy_unit_id": lead["leader"]["unit"]["id"],
    }
    own = await client.put(
        "/v1/clusters/5/years/2024/leadership",
        json=body,
        headers={**bearer(key5), "If-Match": current},
    )
    assert own.status_code == 200, own.text
    other = await client.put("/v1/clusters/4/years/2026/leadership", json=body, headers=bearer(key5))
    problem(other, 403, "forbidden")
    problem(await client.post("/v1/clusters", json={"number": 8}, headers=bearer(key5)), 403, "forbidden")
