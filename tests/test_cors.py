"""A web app on a configured origin can call the API; other origins get nothing extra."""

from collections.abc import AsyncIterator

import httpx
import pytest
from asgi_lifespan import LifespanManager

from app.core.config import Settings
from app.main import create_app
from tests.helpers import Keys, bearer, problem

ORIGIN = "https://thidua.example"


@pytest.fixture
async def web(settings: Settings) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(settings.model_copy(update={"cors_origins": [ORIGIN, "http://localhost:5173"]}))
    async with LifespanManager(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://thidua.test") as client:
            yield client


async def test_a_preflight_from_a_configured_origin_is_allowed(web: httpx.AsyncClient) -> None:
    response = await web.options(
        "/v1/memberships/1",
        headers={
            "Origin": ORIGIN,
            "Access-Control-Request-Method": "PATCH",
            "Access-Control-Request-Headers": "authorization, content-type, if-match, idempotency-key",
        },
    )
    assert response.status_code == 200, response.text
    assert response.headers["access-control-allow-origin"] == ORIGIN
    assert "PATCH" in response.headers["access-control-allow-methods"]
    allowed = response.headers["access-control-allow-headers"].lower()
    for header in ("authorization", "if-match", "idempotency-key"):
        assert header in allowed
    assert response.headers["access-control-max-age"] == "600"


async def test_answers_expose_the_headers_clients_need(web: httpx.AsyncClient, keys: Keys) -> None:
    response = await web.get("/v1/units/1", headers={"Origin": ORIGIN, **bearer(keys.reader)})
    assert response.status_code == 200
    assert response.headers["access-control-allow-origin"] == ORIGIN
    exposed = {h.strip().lower() for h in response.headers["access-control-expose-headers"].split(",")}
    assert {"etag", "location", "x-request-id", "idempotent-replayed"} <= exposed
    assert {"ratelimit", "ratelimit-policy", "retry-after"} <= exposed, "a browser app can pace itself"
    assert response.headers["ratelimit"].startswith('"reads";r=')
    refused = await web.get("/v1/units/1", headers={"Origin": ORIGIN})
    problem(refused, 401, "unauthorized")
    assert refused.headers["access-control-allow-origin"] == ORIGIN, "errors are readable too"


async def test_another_origin_is_refused_as_a_problem(web: httpx.AsyncClient) -> None:
    response = await web.options(
        "/v1/units", headers={"Origin": "https://evil.example", "Access-Control-Request-Method": "GET"}
    )
    body = problem(response, 400, "cors-refused")
    assert body["type"] == "/problems/cors-refused"
    assert "access-control-allow-origin" not in response.headers
    plain = await web.get("/healthz", headers={"Origin": "https://evil.example"})
    assert "access-control-allow-origin" not in plain.headers


async def test_no_cors_unless_configured(client: httpx.AsyncClient) -> None:
    response = await client.options(
        "/v1/units", headers={"Origin": ORIGIN, "Access-Control-Request-Method": "GET"}
    )
    assert "access-control-allow-origin" not in response.headers
