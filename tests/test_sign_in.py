"""People sign in (issue 20): access tokens from a real OpenID provider (`oidc-provider`, run by
`tests/oidc_provider.py`) are accepted beside API keys, scoped by the roles they carry, recorded
as the person who acted, and refused with RFC 6750's `invalid_token` when they are not good."""

from collections.abc import AsyncIterator
from typing import Any
from urllib.parse import quote

import httpx
import pytest
from asgi_lifespan import LifespanManager
from fastapi import FastAPI
from sqlalchemy import text

from app.core.config import Settings
from app.core.database import Database
from app.core.identity import Actor
from app.main import create_app
from tests.helpers import bearer, problem
from tests.oidc_provider import (  # noqa: F401 (oidc_provider_fixture: the fixture oidc_provider)
    MACHINE_CLIENT_ID,
    OTHER_AUDIENCE,
    OidcProvider,
    new_signing_key,
    oidc_provider_fixture,
    public_key_pem,
)
from tests.votes.helpers import attend, close, cluster_with, open_vote, tallies

PEOPLE: dict[str, dict[str, Any]] = {
    "an.nguyen": {
        "name": "Nguyễn Văn An",
        "preferred_username": "an.nguyen",
        "realm_access": {"roles": ["offline_access", "thidua:admin"]},
    },
    "binh.tran": {
        "name": "Trần Thị Bình",
        "preferred_username": "binh.tran",
        "realm_access": {"roles": ["thidua:cluster:61"]},
    },
    "chi.le": {"name": "Lê Minh Chí", "preferred_username": "chi.le", "realm_access": {"roles": []}},
}
"""The provider's accounts for these tests: the Ministry's office, cluster 61's secretariat, and
a person with no grant here."""


@pytest.fixture(scope="module")
async def signed_in(
    settings: Settings, oidc_provider: OidcProvider, database_url: str
) -> AsyncIterator[tuple[httpx.AsyncClient, OidcProvider]]:
    """The app trusting the provider (its machine client may read), and a client for it: one per
    module (each test still starts from the baseline: a restore tells this app's cache too)."""
    configured = settings.model_copy(
        update={
            "oidc_issuers": [oidc_provider.issuer],
            "oidc_audience": oidc_provider.audience,
            "oidc_client_grants": {MACHINE_CLIENT_ID: "reader"},
            # Keys are read again whenever a token's key is not known, and held for no time, so
            # that a removal is seen at once (the defaults: 10 s and 5 min).
            "oidc_jwks_refresh_min_seconds": 0.0,
            "oidc_jwks_max_age_seconds": 0.0,
        }
    )
    application: FastAPI = create_app(configured)
    with oidc_provider.reconfigured(accounts=PEOPLE):
        async with LifespanManager(application):
            transport = httpx.ASGITransport(app=application)
            async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
                yield client, oidc_provider


async def test_a_person_signs_in_writes_and_is_recorded_as_the_actor(
    signed_in: tuple[httpx.AsyncClient, OidcProvider],
) -> None:
    client, provider = signed_in
    token = provider.sign_in_with_pkce("an.nguyen")  # the provider's own pages, in Chromium
    created = await client.post("/v1/clusters", json={"number": 60}, headers=bearer(token))
    assert created.status_code == 201, created.text
    revisions = (await client.get("/v1/clusters/60/revisions", headers=bearer(token))).json()
    recorded_by = revisions["items"][0]["recorded_by"]
    person = f"person:{quote(provider.issuer, safe='')}|an.nguyen:Nguyễn Văn An"
    assert recorded_by == person
    actor = Actor.parse(recorded_by)
    assert (actor.kind, actor.issuer_subject, actor.label) == (
        "person",
        (provider.issuer, "an.nguyen"),
        "Nguyễn Văn An",
    )


async def test_a_machine_token_reads_with_its_clients_grant_and_may_not_write(
    signed_in: tuple[httpx.AsyncClient, OidcProvider],
) -> None:
    client, provider = signed_in
    token = provider.client_credentials_token()
    assert (await client.get("/v1/units?limit=1", headers=bearer(token))).status_code == 200
    refused = await client.post("/v1/clusters", json={"number": 62}, headers=bearer(token))
    problem(refused, 403, "forbidden")


async def test_a_clusters_secretariat_writes_its_cluster_only(
    signed_in: tuple[httpx.AsyncClient, OidcProvider],
) -> None:
    client, provider = signed_in
    admin = bearer(provider.forge("an.nguyen"))
    for number in (61, 63):
        assert (await client.post("/v1/clusters", json={"number": number}, headers=admin)).status_code == 201
    secretariat = bearer(provider.forge("binh.tran"))
    figures = {"figures": []}
    own = await client.put("/v1/clusters/61/years/2025/reported-figures", json=figures, headers=secretariat)
    assert own.status_code == 201, own.text
    revisions = await client.get("/v1/clusters/61/years/2025/reported-figures/revisions", headers=secretariat)
    assert revisions.json()["items"][0]["recorded_by"].endswith("|binh.tran:Trần Thị Bình")
    other = await client.put("/v1/clusters/63/years/2025/reported-figures", json=figures, headers=secretariat)
    problem(other, 403, "forbidden")


async def test_a_person_with_no_grant_may_do_nothing(
    signed_in: tuple[httpx.AsyncClient, OidcProvider],
) -> None:
    client, provider = signed_in
    body = problem(await client.get("/v1/units", headers=bearer(provider.forge("chi.le"))), 403, "forbidden")
    assert "grant" in body["detail"] or "quyền" in body["detail"]


@pytest.mark.parametrize(
    "case",
    ["expired", "forged", "audience", "issuer", "none", "hmac-with-public-key", "not-yet-valid"],
)
async def test_a_bad_token_is_401_invalid_token(
    signed_in: tuple[httpx.AsyncClient, OidcProvider], case: str
) -> None:
    client, provider = signed_in
    key = provider.signing_key
    tokens = {
        "expired": lambda: provider.forge("an.nguyen", exp=1_000_000_000, iat=999_999_000),
        "forged": lambda: provider.forge("an.nguyen", key=new_signing_key(kid=key["kid"])),
        "audience": lambda: provider.forge("an.nguyen", aud=OTHER_AUDIENCE),
        "issuer": lambda: provider.forge("an.nguyen", iss="https://idp.example.org/realms/other"),
        "none": lambda: provider.forge("an.nguyen", key=None, alg="none"),
        "hmac-with-public-key": lambda: provider.forge(
            "an.nguyen", key=public_key_pem(key), alg="HS256", header={"kid": key["kid"]}
        ),
        "not-yet-valid": lambda: provider.forge("an.nguyen", nbf=4_000_000_000),
    }
    refused = await client.get("/v1/units", headers=bearer(tokens[case]()))
    problem(refused, 401, "unauthorized")
    assert refused.headers["www-authenticate"] == 'Bearer error="invalid_token"'


async def test_a_real_token_for_another_audience_is_refused(
    signed_in: tuple[httpx.AsyncClient, OidcProvider],
) -> None:
    client, provider = signed_in
    token = provider.client_credentials_token(resource=OTHER_AUDIENCE)
    refused = await client.get("/v1/units", headers=bearer(token))
    problem(refused, 401, "unauthorized")
    assert refused.headers["www-authenticate"] == 'Bearer error="invalid_token"'


async def test_a_rotated_key_works_and_a_removed_one_does_not(
    signed_in: tuple[httpx.AsyncClient, OidcProvider],
) -> None:
    client, provider = signed_in
    old = provider.signing_key
    assert (
        await client.get("/v1/units?limit=1", headers=bearer(provider.forge("an.nguyen")))
    ).status_code == 200
    new = new_signing_key()
    with provider.reconfigured(jwks={"keys": [new, old]}):  # rotation: the new key signs, the old stays
        rotated = provider.client_credentials_token()
        assert (await client.get("/v1/units?limit=1", headers=bearer(rotated))).status_code == 200
        still = provider.forge("an.nguyen", key=old)
        assert (await client.get("/v1/units?limit=1", headers=bearer(still))).status_code == 200
    with provider.reconfigured(jwks={"keys": [new]}):  # the old key removed
        gone = provider.forge("an.nguyen", key=old)
        refused = await client.get("/v1/units", headers=bearer(gone))
        problem(refused, 401, "unauthorized")
        assert refused.headers["www-authenticate"] == 'Bearer error="invalid_token"'


async def test_an_unreachable_provider_is_503_never_a_pass(
    settings: Settings, oidc_provider: OidcProvider, database_url: str
) -> None:
    down = "http://127.0.0.1:9"  # discard: nothing answers
    configured = settings.model_copy(
        update={
            "oidc_issuers": [down],
            "oidc_audience": oidc_provider.audience,
            "oidc_http_timeout_seconds": 0.5,
        }
    )
    application = create_app(configured)
    async with LifespanManager(application):
        transport = httpx.ASGITransport(app=application)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
            token = oidc_provider.forge("an.nguyen", iss=down)
            answer = await client.get("/v1/units", headers=bearer(token))
    problem(answer, 503, "identity-provider-unavailable")
    assert int(answer.headers["retry-after"]) > 0


async def test_two_peoples_phones_spend_separate_budgets(
    settings: Settings, oidc_provider: OidcProvider, database_url: str
) -> None:
    """Each signed-in person has a budget of their own, as each key has: one person spending all
    of theirs leaves the other's whole."""
    configured = settings.model_copy(
        update={
            "oidc_issuers": [oidc_provider.issuer],
            "oidc_audience": oidc_provider.audience,
            "rate_limit_enabled": True,
            "rate_limit_reader": "3/day",
        }
    )
    people = {
        name: {**claims, "realm_access": {"roles": ["thidua:reader"]}} for name, claims in PEOPLE.items()
    }
    application = create_app(configured)
    with oidc_provider.reconfigured(accounts=people):
        async with LifespanManager(application):
            transport = httpx.ASGITransport(app=application)
            async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
                an, binh = (bearer(oidc_provider.forge(name)) for name in ("an.nguyen", "binh.tran"))
                for _ in range(3):
                    assert (await client.get("/v1/units?limit=1", headers=an)).status_code == 200
                problem(await client.get("/v1/units?limit=1", headers=an), 429, "rate-limited")
                answer = await client.get("/v1/units?limit=1", headers=binh)
                assert answer.status_code == 200
                assert answer.headers["ratelimit"].startswith('"reads";r=2;')


async def test_a_units_delegate_casts_its_ballot_and_it_counts(
    signed_in: tuple[httpx.AsyncClient, OidcProvider], database: Database
) -> None:
    """A person holding a unit's grant votes for the unit, once; another unit's ballot is not
    theirs to cast. What is recorded of the ballot is the unit's participation, never the person."""
    shared, provider = signed_in
    client = httpx.AsyncClient(  # the Ministry's office sets up, on the module's app
        transport=shared._transport, base_url=shared.base_url, headers=bearer(provider.forge("an.nguyen"))
    )
    voters = await cluster_with(client, 64, 3)
    vote = await open_vote(client, 64, [voters[0]])
    assert (await attend(client, vote["id"], voters)).status_code == 200

    def delegate(unit: int) -> dict[str, str]:
        return bearer(provider.forge("chi.le", realm_access={"roles": [f"thidua:unit:{unit}"]}))

    ballot = {"approvals": [voters[0]]}
    for voter in voters:
        cast = await client.post(f"/v1/votes/{vote['id']}/ballots", json=ballot, headers=delegate(voter))
        assert cast.status_code == 201, cast.text
    again = await client.post(f"/v1/votes/{vote['id']}/ballots", json=ballot, headers=delegate(voters[0]))
    problem(again, 409, "already-voted")
    outsider = next(unit for unit in range(1, 200) if unit not in voters)
    stranger = await client.post(f"/v1/votes/{vote['id']}/ballots", json=ballot, headers=delegate(outsider))
    problem(stranger, 403, "forbidden")
    closed = await close(client, vote["id"])
    assert closed.status_code == 200, closed.text
    assert tallies(closed.json()) == {voters[0]: (3, True)}
    async with database.engine.connect() as connection:  # the delegate is named nowhere near a ballot
        for table in (
            "vote_participations",
            "vote_sealed_ballots",
            "vote_ballot_boxes",
            "vote_round_tallies",
        ):
            rows = (await connection.execute(text(f"SELECT row_to_json(t)::text FROM {table} t"))).scalars()
            assert not [row for row in rows if "chi.le" in row or "Lê Minh Chí" in row], table
        stored = (await connection.execute(text("SELECT body::text FROM idempotency_records"))).scalars()
        assert not [body for body in stored if "approvals" in (body or "")]


async def test_a_service_accounts_token_is_its_clients_as_keycloak_issues_it(
    signed_in: tuple[httpx.AsyncClient, OidcProvider],
) -> None:
    """Keycloak's client-credentials tokens name the service account's own user as `sub`, and the
    client as `azp`: a client `OIDC_CLIENT_GRANTS` lists is a machine whatever its `sub`."""
    client, provider = signed_in
    token = provider.forge(
        None, sub="6f1c2b9e-7a40-4c1e-9d8b-3f5a2e1d0c7b", client_id=None, azp=MACHINE_CLIENT_ID
    )
    assert (await client.get("/v1/units?limit=1", headers=bearer(token))).status_code == 200
    refused = await client.post("/v1/clusters", json={"number": 65}, headers=bearer(token))
    problem(refused, 403, "forbidden")


async def test_the_spec_names_the_provider_where_sign_in_is_configured(
    signed_in: tuple[httpx.AsyncClient, OidcProvider], client: httpx.AsyncClient
) -> None:
    app_client, provider = signed_in
    spec = (await app_client.get("/openapi.json")).json()
    scheme = spec["components"]["securitySchemes"]["OpenIdConnect"]
    assert (scheme["type"], scheme["openIdConnectUrl"]) == ("openIdConnect", "/v1/auth/openid-configuration")
    assert {"OpenIdConnect": []} in spec["paths"]["/v1/units"]["get"]["security"]
    found = await app_client.get("/v1/auth/openid-configuration")
    assert found.status_code == 307
    assert found.headers["location"] == provider.issuer + "/.well-known/openid-configuration"
    keys_only = await client.get("/openapi.json")  # the default server: keys only
    assert "OpenIdConnect" not in keys_only.json()["components"]["securitySchemes"]
    problem(await client.get("/v1/auth/openid-configuration"), 404, "not-found")


async def test_refused_tokens_are_counted_by_reason(
    signed_in: tuple[httpx.AsyncClient, OidcProvider],
) -> None:
    client, provider = signed_in

    async def refused(reason: str) -> float:
        text = (await client.get("/metrics")).text
        line = next(
            (
                line
                for line in text.splitlines()
                if line.startswith(f'thidua_tokens_refused_total{{reason="{reason}"}}')
            ),
            None,
        )
        return float(line.split()[-1]) if line else 0.0

    before = await refused("expired")
    expired = provider.forge("an.nguyen", exp=1_000_000_000, iat=999_999_000)
    problem(await client.get("/v1/units", headers=bearer(expired)), 401, "unauthorized")
    assert await refused("expired") == before + 1
    assert expired not in (await client.get("/metrics")).text


async def test_the_docs_sign_in_with_pkce_through_the_docs_client(
    settings: Settings, oidc_provider: OidcProvider, database_url: str, client: httpx.AsyncClient
) -> None:
    """With `OIDC_DOCS_CLIENT_ID`, /docs' Authorize uses that public client with PKCE and comes back
    to /docs/oauth2-redirect; without, the page has no sign-in client."""
    configured = settings.model_copy(
        update={
            "oidc_issuers": [oidc_provider.issuer],
            "oidc_audience": oidc_provider.audience,
            "oidc_docs_client_id": oidc_provider.public_client.client_id,
        }
    )
    application = create_app(configured)
    async with LifespanManager(application):
        transport = httpx.ASGITransport(app=application)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as docs_client:
            page = (await docs_client.get("/docs")).text
            redirect = await docs_client.get("/docs/oauth2-redirect")
    assert f'"clientId": "{oidc_provider.public_client.client_id}"' in page
    assert '"usePkceWithAuthorizationCodeGrant": true' in page
    assert "/docs/oauth2-redirect" in page
    assert redirect.status_code == 200
    assert "oauth2" in redirect.text
    assert "clientId" not in (await client.get("/docs")).text


async def test_with_ungranted_read_a_person_without_a_grant_reads_and_writes_nothing(
    settings: Settings, oidc_provider: OidcProvider, database_url: str
) -> None:
    configured = settings.model_copy(
        update={
            "oidc_issuers": [oidc_provider.issuer],
            "oidc_audience": oidc_provider.audience,
            "oidc_ungranted": "read",
        }
    )
    application = create_app(configured)
    with oidc_provider.reconfigured(accounts=PEOPLE):
        async with LifespanManager(application):
            transport = httpx.ASGITransport(app=application)
            async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
                chi = bearer(oidc_provider.forge("chi.le"))
                assert (await client.get("/v1/units?limit=1", headers=chi)).status_code == 200
                written = await client.post("/v1/clusters", json={"number": 66}, headers=chi)
    problem(written, 403, "forbidden")
