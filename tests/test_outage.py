"""PostgreSQL stopped or frozen under the running app: 503 problems with `Retry-After`, one log
line each, and recovery without a restart. The module runs its own embedded server, so it can
stop it whatever DATABASE_URL names."""

import asyncio
import logging
from collections.abc import AsyncIterator, Awaitable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from asgi_lifespan import LifespanManager
from fastapi import FastAPI
from pydantic import TypeAdapter
from sqlalchemy import text

from app.clusters.schemas import ClusterCreate
from app.clusters.service import create_cluster
from app.core.config import get_settings
from app.core.database import Database, SessionDep
from app.core.embedded import stop as stop_embedded
from app.core.logs import RequestIdFilter
from app.keys.schemas import KeyCreate
from app.keys.service import create_key
from app.main import create_app
from tests.helpers import TEST_ACTOR, bearer, problem
from tests.private_postgres import Server, prepare

pytestmark = pytest.mark.xdist_group("private-postgres")

RETRY_AFTER = 7
"""Not the default, so that the header is seen to come from the settings."""


@pytest.fixture(scope="module")
def server(private_data_dir: Path) -> Iterator[Server]:
    server = Server(private_data_dir / "pg")
    try:
        prepare(server.url)
        yield server
    finally:
        stop_embedded(private_data_dir)  # and forget its holders, so that the next module starts it


@pytest.fixture(autouse=True)
def clean() -> None:
    """This module's server is its own: nothing of the shared test database to reset."""


@pytest.fixture
async def app(server: Server) -> AsyncIterator[FastAPI]:
    settings = get_settings().model_copy(
        update={
            "database_url": server.url,
            "db_pool_size": 2,
            "db_max_overflow": 1,
            "db_connect_timeout_seconds": 0.5,
            "db_pool_timeout_seconds": 0.5,
            "db_statement_timeout_seconds": 1.0,
            "readiness_timeout_seconds": 0.5,
            "retry_after_seconds": RETRY_AFTER,
        }
    )
    application = create_app(settings)
    async with LifespanManager(application):
        yield application


@pytest.fixture
async def admin(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    database: Database = app.state.database
    async with database.sessionmaker() as session, session.begin():
        data = TypeAdapter(KeyCreate).validate_python({"name": "outage admin", "role": "admin"})
        key = (await create_key(session, data, TEST_ACTOR)).key
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://thidua.test") as client:
        client.headers.update(bearer(key))
        yield client


@pytest.fixture
def outage_log(caplog: pytest.LogCaptureFixture) -> Iterator[pytest.LogCaptureFixture]:
    """The app's warnings, each stamped with its request id as the served log lines are."""
    stamp = RequestIdFilter()
    caplog.set_level(logging.WARNING, logger="app")
    caplog.handler.addFilter(stamp)
    yield caplog
    caplog.handler.removeFilter(stamp)


async def within(call: Awaitable[httpx.Response]) -> httpx.Response:
    """Fail rather than hang if a timeout were not applied."""
    return await asyncio.wait_for(call, timeout=30)


def unavailable(response: httpx.Response) -> dict[str, Any]:
    """Assert a 503 problem with `Retry-After` that reveals nothing of the connection."""
    body = problem(response, 503, "database-unavailable")
    assert body["type"] == "/problems/database-unavailable"
    assert response.headers["retry-after"] == str(RETRY_AFTER)
    assert body["request_id"] == response.headers["x-request-id"]
    for secret in ("postgres", "asyncpg", ".s.PGSQL", "Traceback", "Error"):
        assert secret not in response.text
    return body


async def read_and_write(admin: httpx.AsyncClient, number: int) -> list[httpx.Response]:
    return [
        await within(admin.get("/v1/clusters/9")),
        await within(admin.get("/v1/units", params={"as_of": "2025-07-01"})),
        await within(admin.get("/v1/clusters/5/years/2025")),
        await within(admin.post("/v1/clusters", json={"number": number})),
        await within(admin.patch("/v1/clusters/9", json={"note": "x"}, headers={"If-Match": "*"})),
    ]


async def test_stopped_database_answers_503_then_recovers(
    server: Server, admin: httpx.AsyncClient, outage_log: pytest.LogCaptureFixture
) -> None:
    created = await admin.post("/v1/clusters", json={"number": 9})
    assert created.status_code == 201, created.text
    await asyncio.gather(*(admin.get("/v1/clusters/9") for _ in range(3)))  # a full pool, soon stale

    await asyncio.to_thread(server.stop)
    try:
        failed = await read_and_write(admin, 10)
        for response in failed:
            unavailable(response)
        unavailable(await within(admin.get("/readyz")))
        assert (await within(admin.get("/healthz"))).status_code == 200
    finally:
        await asyncio.to_thread(server.start)

    again = await admin.get("/v1/clusters/9")
    assert again.status_code == 200, again.text
    assert again.json() == created.json()
    assert (await admin.get("/readyz")).json() == {"status": "ready"}
    assert (await admin.post("/v1/clusters", json={"number": 10})).status_code == 201

    lines = [r for r in outage_log.records if r.name == "app.core.errors"]
    assert len(lines) == len(failed)
    for record, response in zip(lines, failed, strict=True):
        assert record.levelno == logging.WARNING
        assert record.exc_info is None
        assert record.request_id == response.headers["x-request-id"]  # type: ignore[attr-defined]
        assert response.request.method in record.getMessage()
        assert response.request.url.path in record.getMessage()
        assert "Error" in record.getMessage()  # the cause's class
    assert [r.name for r in outage_log.records].count("app.health.router") == 1


async def test_a_commit_that_fails_is_503_and_writes_nothing(
    server: Server, app: FastAPI, admin: httpx.AsyncClient
) -> None:
    async def lose_the_server_before_commit(session: SessionDep) -> dict[str, int]:
        out = await create_cluster(session, ClusterCreate(number=11), TEST_ACTOR)
        await asyncio.to_thread(server.stop)
        return {"number": out.number}

    app.add_api_route("/test-only/lose-the-server", lose_the_server_before_commit, methods=["POST"])
    try:
        unavailable(await within(admin.post("/test-only/lose-the-server")))
    finally:
        await asyncio.to_thread(server.start)
    problem(await admin.get("/v1/clusters/11"), 404, "not-found")


async def test_statement_timeout_is_503(app: FastAPI, admin: httpx.AsyncClient) -> None:
    async def sleep(session: SessionDep) -> None:
        await session.execute(text("SELECT pg_sleep(30)"))

    app.add_api_route("/test-only/sleep", sleep)
    unavailable(await within(admin.get("/test-only/sleep")))
    assert (await admin.get("/readyz")).status_code == 200


async def test_frozen_database_answers_503_within_the_timeouts_then_recovers(
    server: Server, admin: httpx.AsyncClient
) -> None:
    created = await admin.post("/v1/clusters", json={"number": 12})
    assert created.status_code == 201, created.text
    await asyncio.gather(*(admin.get("/v1/clusters/12") for _ in range(3)))

    server.freeze()
    try:
        for response in await read_and_write(admin, 13):
            unavailable(response)
        unavailable(await within(admin.get("/readyz")))
        assert (await within(admin.get("/healthz"))).status_code == 200
    finally:
        server.thaw()

    again = await admin.get("/v1/clusters/12")
    assert again.status_code == 200, again.text
    assert (await admin.get("/readyz")).json() == {"status": "ready"}
    assert (await admin.post("/v1/clusters", json={"number": 13})).status_code == 201
