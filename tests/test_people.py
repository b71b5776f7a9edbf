"""The people register (`/v1/people`, issue 20 item 2): people by issuer and subject, their grants
versioned with them, kept by an admin; and, with `OIDC_GRANTS_SOURCE=register`, what a person
signed in with a token may do comes from it (a withdrawn grant stops working at once here, and on
every instance within the bound a revoked key does)."""

import asyncio
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from asgi_lifespan import LifespanManager
from fastapi import FastAPI
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError

from app.core.cache import ReadCache, key_hash
from app.core.config import Settings
from app.core.database import Database
from app.core.identity import Actor
from app.main import create_app
from tests.helpers import Keys, bearer, correct, problem
from tests.oidc_provider import (  # noqa: F401 (oidc_provider_fixture: the fixture oidc_provider)
    MACHINE_CLIENT_ID,
    OidcProvider,
    oidc_provider_fixture,
)

ISSUER = "https://sso.bocongan.gov.vn/realms/thidua"


def person(subject: str, *grants: dict[str, Any], issuer: str = ISSUER, **fields: Any) -> dict[str, Any]:
    return {
        "issuer": issuer,
        "subject": subject,
        "display_name": f"Cán bộ {subject}",
        "grants": list(grants),
        **fields,
    }


async def clusters(client: httpx.AsyncClient, *numbers: int, headers: dict[str, str] | None = None) -> None:
    for number in numbers:
        created = await client.post("/v1/clusters", json={"number": number}, headers=headers)
        assert created.status_code == 201, created.text


# --- the register --------------------------------------------------------------------------------


async def test_an_admin_enters_a_person_changes_their_grants_and_every_version_is_kept(
    admin: httpx.AsyncClient,
) -> None:
    await clusters(admin, 61)
    body = person("binh.tran", {"role": "cluster", "cluster": 61}, note="Thư ký Cụm 61")
    created = await admin.post("/v1/people", json=body, headers={"Idempotency-Key": "people-1"})
    assert created.status_code == 201, created.text
    out = created.json()
    url = created.headers["location"]
    assert url == f"/v1/people/{out['id']}"
    assert {k: out[k] for k in ("issuer", "subject", "display_name", "note", "grants", "version")} == {
        "issuer": ISSUER,
        "subject": "binh.tran",
        "display_name": "Cán bộ binh.tran",
        "note": "Thư ký Cụm 61",
        "grants": [{"role": "cluster", "cluster": 61}],
        "version": 1,
    }
    recorder = Actor.parse(out["recorded_by"])
    assert (recorder.kind, recorder.label) == ("key", "test admin")
    replay = await admin.post("/v1/people", json=body, headers={"Idempotency-Key": "people-1"})
    assert (replay.status_code, replay.json(), replay.headers["idempotent-replayed"]) == (201, out, "true")
    assert replay.headers["location"] == url

    read = await admin.get(url)
    assert read.json() == out
    assert read.headers["etag"] == created.headers["etag"]
    assert read.headers["etag"].startswith(f'"person-{out["id"]}-v1-')

    # A change needs the ETag read: 428 without, 412 when stale.
    problem(await admin.patch(url, json={"grants": []}), 428, "precondition-required")
    problem(await admin.put(url, json={"display_name": "x", "grants": []}), 428, "precondition-required")
    await clusters(admin, 62)
    moved = await correct(admin, url, {"grants": [{"role": "cluster", "cluster": 62}, {"role": "reader"}]})
    assert moved.status_code == 200, moved.text
    assert (moved.json()["version"], moved.json()["grants"]) == (
        2,
        [{"role": "cluster", "cluster": 62}, {"role": "reader"}],
    )
    stale = await admin.patch(url, json={"note": None}, headers={"If-Match": read.headers["etag"]})
    assert problem(stale, 412, "precondition-failed")["current_etag"] == moved.headers["etag"]

    # A PUT replaces the whole record but who the person is; the same body again writes nothing.
    whole = {"display_name": "Trần Thị Bình", "note": None, "grants": []}
    put = await admin.put(url, json=whole, headers={"If-Match": moved.headers["etag"]})
    assert put.status_code == 200, put.text
    assert (put.json()["version"], put.json()["grants"], put.json()["note"]) == (3, [], None)
    again = await admin.put(url, json=whole, headers={"If-Match": put.headers["etag"]})
    assert (again.status_code, again.json()["version"], again.headers["etag"]) == (
        200,
        3,
        put.headers["etag"],
    )
    assert (await admin.get(url)).json()["subject"] == "binh.tran"

    revisions = (await admin.get(f"{url}/revisions")).json()
    assert [(r["version"], r["data"]["grants"]) for r in revisions["items"]] == [
        (1, [{"role": "cluster", "cluster": 61}]),
        (2, [{"role": "cluster", "cluster": 62}, {"role": "reader"}]),
        (3, []),
    ]
    assert revisions["next_cursor"] is None
    # Nothing is deleted: a person with no grant is still listed, with their history.
    listed = (await admin.get("/v1/people", params={"issuer": ISSUER})).json()["items"]
    assert [p["id"] for p in listed] == [out["id"]]


async def test_a_person_is_entered_once_per_issuer_and_subject(admin: httpx.AsyncClient) -> None:
    first = await admin.post("/v1/people", json=person("an.nguyen", {"role": "admin"}))
    assert first.status_code == 201, first.text
    twice = await admin.post("/v1/people", json=person("an.nguyen", {"role": "reader"}))
    assert problem(twice, 409, "person-exists")["existing_person_id"] == first.json()["id"]
    elsewhere = await admin.post("/v1/people", json=person("an.nguyen", issuer="https://idp.example.org"))
    assert elsewhere.status_code == 201, elsewhere.text
    assert len((await admin.get("/v1/people")).json()["items"]) == 2


async def test_grants_name_what_exists_and_fit_their_role(admin: httpx.AsyncClient) -> None:
    await clusters(admin, 61)
    missing_cluster = await admin.post(
        "/v1/people", json=person("a", {"role": "reader"}, {"role": "cluster", "cluster": 99})
    )
    assert problem(missing_cluster, 404, "not-found")["field"] == "grants.1.cluster"
    missing_unit = await admin.post("/v1/people", json=person("a", {"role": "unit", "unit_id": 99999}))
    assert problem(missing_unit, 404, "not-found")["field"] == "grants.0.unit_id"
    for grants in (
        [{"role": "cluster"}],  # a cluster grant without its cluster
        [{"role": "unit", "cluster": 61}],  # a unit grant scoped to a cluster
        [{"role": "admin", "cluster": 61}],  # an admin grant scoped at all
        [{"role": "owner"}],
        [{"role": "cluster", "cluster": 61}, {"role": "cluster", "cluster": 61}],  # twice
        [{"role": "cluster", "cluster": "61"}],  # not a JSON integer
    ):
        problem(await admin.post("/v1/people", json=person("a", *grants)), 422, "validation")
    problem(await admin.post("/v1/people", json={**person("a"), "id": 1}), 422, "validation")
    problem(await admin.post("/v1/people", json=person("a", issuer="not a url")), 422, "validation")
    created = await admin.post("/v1/people", json=person("a", {"role": "unit", "unit_id": 2}))
    assert created.status_code == 201, created.text
    url = created.headers["location"]
    problem(await correct(admin, url, {"grants": None}), 422, "validation")
    problem(await correct(admin, url, {"subject": "b"}), 422, "validation")
    problem(await correct(admin, url, {}), 422, "validation")
    unknown = await correct(admin, url, {"grants": [{"role": "cluster", "cluster": 98}]})
    assert problem(unknown, 404, "not-found")["field"] == "grants.0.cluster"
    assert (await admin.get(url)).json()["version"] == 1
    problem(await admin.get("/v1/people/99999"), 404, "not-found")
    problem(await admin.get("/v1/people/99999/revisions"), 404, "not-found")


async def test_the_database_checks_a_grants_scope_fits_its_role(
    admin: httpx.AsyncClient, database: Database
) -> None:
    created = await admin.post("/v1/people", json=person("a"))
    person_id = created.json()["id"]
    insert = text(
        "INSERT INTO person_grants (person_id, position, role, cluster_id, unit_id) "
        "VALUES (:person_id, 1, :role, NULL, :unit_id)"
    )
    for role, unit_id, constraint in (
        ("cluster", None, "person_grants_cluster_scope"),
        ("reader", 2, "person_grants_unit_scope"),
        ("owner", None, "person_grants_role_known"),
    ):
        with pytest.raises(IntegrityError, match=constraint):
            async with database.sessionmaker() as session, session.begin():
                await session.execute(insert, {"person_id": person_id, "role": role, "unit_id": unit_id})


async def test_the_register_is_listed_a_page_at_a_time_and_by_issuer(admin: httpx.AsyncClient) -> None:
    for subject in ("a", "b", "c"):
        assert (await admin.post("/v1/people", json=person(subject))).status_code == 201
    other = "https://idp.example.org"
    assert (await admin.post("/v1/people", json=person("a", issuer=other))).status_code == 201
    first = (await admin.get("/v1/people", params={"limit": 2})).json()
    assert [p["subject"] for p in first["items"]] == ["a", "b"]
    rest = (await admin.get("/v1/people", params={"limit": 2, "cursor": first["next_cursor"]})).json()
    assert ([p["subject"] for p in rest["items"]], rest["next_cursor"]) == (["c", "a"], None)
    mine = (await admin.get("/v1/people", params={"issuer": other})).json()["items"]
    assert [(p["issuer"], p["subject"]) for p in mine] == [(other, "a")]


async def test_only_an_admin_keeps_or_reads_the_register(
    client: httpx.AsyncClient, keys: Keys, cluster_key: Any
) -> None:
    created = await client.post("/v1/people", json=person("a"), headers=bearer(keys.admin))
    url = created.headers["location"]
    etag = created.headers["etag"]
    await clusters(client, 61, headers=bearer(keys.admin))
    for key in (keys.reader, keys.unit, await cluster_key(61)):
        headers = bearer(key)
        problem(await client.get("/v1/people", headers=headers), 403, "forbidden")
        problem(await client.post("/v1/people", json=person("b"), headers=headers), 403, "forbidden")
        problem(await client.get(url, headers=headers), 403, "forbidden")
        problem(await client.get(f"{url}/revisions", headers=headers), 403, "forbidden")
        changed = {"grants": [{"role": "admin"}]}
        problem(
            await client.patch(url, json=changed, headers={**headers, "If-Match": etag}), 403, "forbidden"
        )
        whole = {"display_name": "x", "grants": [{"role": "admin"}]}
        problem(await client.put(url, json=whole, headers={**headers, "If-Match": etag}), 403, "forbidden")
    problem(await client.get("/v1/people"), 401, "unauthorized")
    assert (await client.get(url, headers=bearer(keys.admin))).json()["grants"] == []


# --- signing in with grants from the register ----------------------------------------------------

ACCOUNTS: dict[str, dict[str, Any]] = {
    "an.nguyen": {"name": "Nguyễn Văn An", "preferred_username": "an.nguyen", "realm_access": {"roles": []}},
    "binh.tran": {
        "name": "Binh T.",
        "preferred_username": "binh.tran",
        # Ignored in register mode: the register gives her cluster 61 only.
        "realm_access": {"roles": ["thidua:admin"]},
    },
    "chi.le": {
        "name": "Lê Minh Chí",
        "preferred_username": "chi.le",
        "realm_access": {"roles": ["thidua:admin"]},
    },
}


@dataclass
class Register:
    client: httpx.AsyncClient
    """A client of the app whose grants come from the register (no credentials of its own)."""
    app: FastAPI
    provider: OidcProvider

    def token(self, username: str) -> dict[str, str]:
        return bearer(self.provider.forge(username))


@pytest.fixture
async def register(
    settings: Settings, oidc_provider: OidcProvider, database_url: str
) -> AsyncIterator[Register]:
    """An app trusting the provider, its people's grants from the register (its machine client
    may read), its read cache listening (so that principals are cached and must be dropped)."""
    configured = settings.model_copy(
        update={
            "oidc_issuers": [oidc_provider.issuer],
            "oidc_audience": oidc_provider.audience,
            "oidc_grants_source": "register",
            "oidc_ungranted": "none",
            "oidc_client_grants": {MACHINE_CLIENT_ID: "reader"},
        }
    )
    application = create_app(configured)
    with oidc_provider.reconfigured(accounts=ACCOUNTS):
        async with LifespanManager(application):
            cache: ReadCache = application.state.cache
            deadline = time.monotonic() + 10
            while not cache.usable:
                assert time.monotonic() < deadline, "the cache listener did not start"
                await asyncio.sleep(0.01)
            transport = httpx.ASGITransport(app=application)
            async with httpx.AsyncClient(
                transport=transport, base_url="http://test", headers={"Accept-Language": "en"}
            ) as client:
                yield Register(client, application, oidc_provider)


async def _enter(register: Register, keys: Keys, username: str, *grants: dict[str, Any]) -> str:
    body = person(username, *grants, issuer=register.provider.issuer, display_name=f"Register: {username}")
    created = await register.client.post("/v1/people", json=body, headers=bearer(keys.admin))
    assert created.status_code == 201, created.text
    return str(created.headers["location"])


FIGURES = {"figures": []}


async def test_a_person_writes_for_the_cluster_the_register_grants_and_no_other(
    register: Register, keys: Keys
) -> None:
    client = register.client
    await clusters(client, 61, 63, headers=bearer(keys.admin))
    await _enter(register, keys, "binh.tran", {"role": "reader"}, {"role": "cluster", "cluster": 61})
    binh = register.token("binh.tran")
    own = await client.put("/v1/clusters/61/years/2025/reported-figures", json=FIGURES, headers=binh)
    assert own.status_code == 201, own.text
    revisions = await client.get("/v1/clusters/61/years/2025/reported-figures/revisions", headers=binh)
    recorded_by = revisions.json()["items"][0]["recorded_by"]
    actor = Actor.parse(recorded_by)
    assert (actor.kind, actor.issuer_subject, actor.label) == (
        "person",
        (register.provider.issuer, "binh.tran"),
        "Register: binh.tran",  # the register's display name, not the token's
    )
    other = await client.put("/v1/clusters/63/years/2025/reported-figures", json=FIGURES, headers=binh)
    problem(other, 403, "forbidden")
    # Her token says `thidua:admin`; in register mode only the register counts.
    problem(await client.post("/v1/clusters", json={"number": 64}, headers=binh), 403, "forbidden")
    problem(await client.get("/v1/people", headers=binh), 403, "forbidden")


async def test_a_person_not_in_the_register_may_do_nothing(register: Register, keys: Keys) -> None:
    chi = register.token("chi.le")  # `thidua:admin` in the token, absent from the register
    body = problem(await register.client.get("/v1/units", headers=chi), 403, "forbidden")
    assert "grant" in body["detail"]
    await _enter(register, keys, "chi.le")  # entered, without grants
    problem(await register.client.get("/v1/units", headers=chi), 403, "forbidden")


async def test_an_admin_person_keeps_the_register_and_a_machine_maps_through_its_client(
    register: Register, keys: Keys
) -> None:
    client = register.client
    await _enter(register, keys, "an.nguyen", {"role": "admin"})
    an = register.token("an.nguyen")
    created = await client.post("/v1/people", json=person("someone"), headers=an)
    assert created.status_code == 201, created.text
    assert created.json()["recorded_by"].endswith("|an.nguyen:Register: an.nguyen")
    machine = bearer(register.provider.forge())  # client credentials: OIDC_CLIENT_GRANTS, reader
    assert (await client.get("/v1/units?limit=1", headers=machine)).status_code == 200
    problem(await client.get("/v1/people", headers=machine), 403, "forbidden")


async def test_withdrawing_a_grant_stops_the_same_token_at_its_next_request(
    register: Register, keys: Keys
) -> None:
    client = register.client
    await clusters(client, 61, headers=bearer(keys.admin))
    url = await _enter(register, keys, "binh.tran", {"role": "cluster", "cluster": 61})
    binh = register.token("binh.tran")
    written = await client.put("/v1/clusters/61/years/2025/reported-figures", json=FIGURES, headers=binh)
    assert written.status_code == 201, written.text
    cache: ReadCache = register.app.state.cache
    token_hash = key_hash(binh["Authorization"].removeprefix("Bearer "))
    assert cache.key(token_hash) is not None, "the principal is cached: the register is not read again"

    etag = (await client.get(url, headers=bearer(keys.admin))).headers["etag"]
    same = {"display_name": "Register: binh.tran", "grants": [{"role": "cluster", "cluster": 61}]}
    unchanged = await client.put(url, json=same, headers={**bearer(keys.admin), "If-Match": etag})
    assert (unchanged.status_code, unchanged.headers["etag"]) == (200, etag)
    assert cache.key(token_hash) is not None, "a write that changes nothing drops nothing"
    whole = {"display_name": "Register: binh.tran", "grants": []}
    withdrawn = await client.put(url, json=whole, headers={**bearer(keys.admin), "If-Match": etag})
    assert withdrawn.status_code == 200, withdrawn.text
    assert cache.key(token_hash) is None
    problem(await client.get("/v1/clusters/61/years/2025/reported-figures", headers=binh), 403, "forbidden")


async def test_a_grant_withdrawn_on_another_instance_stops_within_the_bound(
    register: Register, keys: Keys, admin: httpx.AsyncClient, settings: Settings
) -> None:
    """The write goes through another app (another instance, as far as the caches know): its
    NOTIFY drops the principal here within the bound a revoked key's is dropped."""
    client = register.client
    await clusters(admin, 61)
    url = await _enter(register, keys, "binh.tran", {"role": "cluster", "cluster": 61})
    binh = register.token("binh.tran")
    read = "/v1/clusters/61/years/2025/reported-figures"
    problem(await client.get(read, headers=binh), 404, "not-found")  # allowed; none recorded yet
    withdrawn = await correct(admin, url, {"grants": []})
    assert withdrawn.status_code == 200, withdrawn.text
    deadline = time.monotonic() + settings.cache_staleness_bound_seconds + 1
    while (answer := await client.get(read, headers=binh)).status_code != 403:
        assert time.monotonic() < deadline, answer.text
        await asyncio.sleep(0.05)
    problem(answer, 403, "forbidden")
