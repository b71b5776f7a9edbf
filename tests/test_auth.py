"""Identity in one place (`app/auth`): the bearer credential is read once, by `AuthMiddleware`,
into the request's `Identity` (`app.core.identity`), which the rate limiter, the cached read
path and the dependencies read; the actor recorded for a write is one typed value."""

import httpx
from fastapi import FastAPI

from app.auth.principal import Principal
from app.auth.roles import Role
from app.core import identity as core_identity
from app.core.identity import CLI, IDENTITY, Actor, Identity
from tests.helpers import Keys, bearer, problem
from tests.queries import counting


def test_the_actor_is_one_typed_value_with_one_text() -> None:
    principal = Principal(7, "Cục Công tác chính trị", Role.admin, None, None)
    assert principal.actor == Actor("key", "7", "Cục Công tác chính trị")
    assert principal.actor.recorded_by == "key:7:Cục Công tác chính trị"
    assert Actor.parse(principal.actor.recorded_by) == principal.actor
    assert CLI.recorded_by == "cli"
    assert Actor.parse("cli") == CLI
    assert Actor.parse("reference").recorded_by == "reference"
    assert (principal.rate_limit_key, principal.rate_limit_group) == ("key:7", "admin")


async def test_the_credential_is_read_once_per_request(
    app: FastAPI, client: httpx.AsyncClient, keys: Keys, monkeypatch: object
) -> None:
    """One request reads `Authorization` once (the middleware), whoever needs the caller after it:
    the rate limiter, the cached read path, the route's dependencies, idempotency."""
    reads: list[str | None] = []
    original = core_identity.bearer_token

    def counted(headers: object) -> str | None:
        token = original(headers)  # type: ignore[arg-type]
        reads.append(token)
        return token

    import app.auth.middleware as middleware

    monkeypatch.setattr(middleware, "bearer_token", counted)  # type: ignore[attr-defined]
    for _ in range(2):  # a cold key, then a known one
        response = await client.get("/v1/units/22", headers=bearer(keys.admin))
        assert response.status_code == 200, response.text
    assert reads == [keys.admin, keys.admin]


async def test_a_known_key_costs_no_query_and_an_unknown_one_is_401(
    app: FastAPI, client: httpx.AsyncClient, keys: Keys
) -> None:
    await client.get("/v1/units/22", headers=bearer(keys.reader))
    with counting(app.state.database) as statements:
        response = await client.get("/v1/units?code=22", headers=bearer(keys.reader))
    assert response.status_code == 200, response.text
    assert not [s for s in statements if "FROM api_keys" in s]
    unknown = await client.get("/v1/units/22", headers=bearer("thd_made-up"))
    body = problem(unknown, 401, "unauthorized")
    assert unknown.headers["www-authenticate"] == 'Bearer realm="thidua", error="invalid_token"', body


async def test_an_identity_is_looked_up_at_most_once() -> None:
    calls: list[object] = []

    async def lookup(connection: object) -> None:
        calls.append(connection)

    identity = Identity(presented=True, pending=lookup)
    assert not identity.is_authenticated
    assert await identity.resolve("session") is None
    assert await identity.resolve("again") is None
    assert calls == ["session"]
    assert IDENTITY.startswith("thidua.")
