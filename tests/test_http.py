"""HTTP behaviour every resource shares: problem details, ETags, size limits, idempotency,
health and metrics."""

import asyncio
import inspect
from collections.abc import Iterator, Sequence
from contextlib import contextmanager

import asyncpg
import httpx
import pytest
from fastapi import FastAPI
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute
from sqlalchemy import text
from starlette.routing import BaseRoute

from app.core.config import Settings
from app.core.database import Database
from app.core.read_only import WriteOnRead
from app.main import app as assembled
from tests.helpers import problem
from tests.queries import counting


async def test_unknown_route_is_a_404_problem(admin: httpx.AsyncClient) -> None:
    body = problem(await admin.get("/v1/nothing-here"), 404, "about:blank")
    assert body["instance"] == "/v1/nothing-here"


async def test_wrong_method_is_405_with_allow(admin: httpx.AsyncClient) -> None:
    response = await admin.delete("/v1/units")
    problem(response, 405, "about:blank")
    assert response.headers["allow"] == "GET, HEAD"


async def test_validation_errors_name_their_fields(admin: httpx.AsyncClient) -> None:
    body = problem(await admin.post("/v1/clusters", json={"number": 0, "colour": "red"}), 422, "validation")
    locations = {tuple(e["loc"]) for e in body["errors"]}
    assert ("body", "number") in locations
    assert ("body", "colour") in locations


async def test_an_undecodable_body_is_a_400_problem(admin: httpx.AsyncClient) -> None:
    for content in (b"{not json", b'{"number": 5', b'{"number": "\xff"}'):
        response = await admin.post(
            "/v1/clusters", content=content, headers={"content-type": "application/json"}
        )
        body = problem(response, 400, "malformed-body")
        assert body["type"] == "/problems/malformed-body", content
    problem(await admin.get("/v1/clusters/5"), 404, "not-found")


async def test_oversized_body_is_413_and_changes_nothing(admin: httpx.AsyncClient) -> None:
    huge = {"number": 77, "note": "x" * 2_000_000}
    problem(await admin.post("/v1/clusters", json=huge), 413, "payload-too-large")
    problem(await admin.get("/v1/clusters/77"), 404, "not-found")


async def test_unexpected_error_is_500_without_internals(app: FastAPI, admin: httpx.AsyncClient) -> None:
    async def explode() -> None:
        raise RuntimeError("secret connection string postgres://x")

    app.add_api_route("/test-only/explode", explode)
    try:
        transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
        async with httpx.AsyncClient(transport=transport, base_url="http://thidua.test") as c:
            body = problem(await c.get("/test-only/explode"), 500, "internal")
    finally:
        app.router.routes.pop()
    assert "secret" not in str(body)
    assert "Traceback" not in str(body)


async def test_etag_and_304(admin: httpx.AsyncClient) -> None:
    first = await admin.get("/v1/units", params={"as_of": "2025-07-01"})
    etag = first.headers["etag"]
    assert etag.startswith('"')
    again = await admin.get("/v1/units", params={"as_of": "2025-07-01"}, headers={"If-None-Match": etag})
    assert again.status_code == 304
    assert again.content == b""
    assert again.headers["etag"] == etag
    other = await admin.get("/v1/units", params={"as_of": "2025-06-30"}, headers={"If-None-Match": etag})
    assert other.status_code == 200
    assert other.headers["etag"] != etag


async def test_versioned_records_carry_their_version_in_the_etag(admin: httpx.AsyncClient) -> None:
    created = await admin.post("/v1/clusters", json={"number": 41})
    assert created.headers["etag"].startswith('"cluster-41-v1-')
    read = await admin.get("/v1/clusters/41")
    assert read.headers["etag"] == created.headers["etag"]
    assert (
        await admin.get("/v1/clusters/41", headers={"If-None-Match": read.headers["etag"]})
    ).status_code == 304


async def test_if_match_is_required_then_checked(admin: httpx.AsyncClient) -> None:
    v1 = (await admin.post("/v1/clusters", json={"number": 42})).headers["etag"]
    problem(await admin.patch("/v1/clusters/42", json={"note": "a"}), 428, "precondition-required")
    problem(
        await admin.patch("/v1/clusters/42", json={"note": "a"}, headers={"If-Match": '"cluster-42-v9"'}),
        412,
        "precondition-failed",
    )
    ok = await admin.patch("/v1/clusters/42", json={"note": "a"}, headers={"If-Match": v1})
    assert ok.status_code == 200
    assert ok.json()["version"] == 2
    assert ok.headers["etag"].startswith('"cluster-42-v2-')
    assert ok.headers["etag"] == (await admin.get("/v1/clusters/42")).headers["etag"]
    stale = await admin.patch("/v1/clusters/42", json={"note": "b"}, headers={"If-Match": v1})
    problem(stale, 412, "precondition-failed")
    revisions = (await admin.get("/v1/clusters/42/revisions")).json()["items"]
    assert [(r["version"], r["data"]["note"]) for r in revisions] == [(1, None), (2, "a")]


async def test_idempotent_create_replays_the_first_answer(admin: httpx.AsyncClient) -> None:
    headers = {"Idempotency-Key": "create-cluster-43"}
    first = await admin.post("/v1/clusters", json={"number": 43}, headers=headers)
    again = await admin.post("/v1/clusters", json={"number": 43}, headers=headers)
    assert first.status_code == again.status_code == 201
    assert again.json() == first.json()
    assert again.headers["idempotent-replayed"] == "true"
    revisions = (await admin.get("/v1/clusters/43/revisions")).json()["items"]
    assert len(revisions) == 1


async def test_idempotency_key_reused_with_another_body_is_422(admin: httpx.AsyncClient) -> None:
    headers = {"Idempotency-Key": "create-cluster-44"}
    assert (await admin.post("/v1/clusters", json={"number": 44}, headers=headers)).status_code == 201
    body = problem(
        await admin.post("/v1/clusters", json={"number": 45}, headers=headers), 422, "unprocessable"
    )
    assert "Idempotency-Key" in body["detail"]
    problem(await admin.get("/v1/clusters/45"), 404, "not-found")


async def test_concurrent_retries_write_once(admin: httpx.AsyncClient) -> None:
    headers = {"Idempotency-Key": "race-46"}
    responses = await asyncio.gather(
        *(admin.post("/v1/clusters", json={"number": 46}, headers=headers) for _ in range(4))
    )
    assert {r.status_code for r in responses} == {201}
    assert len({r.text for r in responses}) == 1
    assert len((await admin.get("/v1/clusters/46/revisions")).json()["items"]) == 1


async def test_failed_request_leaves_its_idempotency_key_free(admin: httpx.AsyncClient) -> None:
    headers = {"Idempotency-Key": "retry-after-fix"}
    problem(
        await admin.post(
            "/v1/memberships",
            json={"unit_id": 1, "cluster": 47, "valid_from": "2030-01-01"},
            headers=headers,
        ),
        404,
        "not-found",
    )
    await admin.post("/v1/clusters", json={"number": 47})
    retry = await admin.post(
        "/v1/memberships",
        json={"unit_id": 1, "cluster": 47, "valid_from": "2030-01-01"},
        headers=headers,
    )
    assert retry.status_code == 201, retry.text


async def test_health_readiness_and_metrics(client: httpx.AsyncClient) -> None:
    assert (await client.get("/healthz")).json() == {"status": "ok"}
    assert (await client.get("/readyz")).json() == {"status": "ready"}
    await client.get("/v1/units")
    metrics = await client.get("/metrics")
    assert metrics.status_code == 200
    assert 'thidua_http_requests_total{method="GET",route="/v1/units",status="401"}' in metrics.text


async def test_docs_are_served_without_internet(client: httpx.AsyncClient) -> None:
    page = await client.get("/docs")
    assert page.status_code == 200
    assert "cdn" not in page.text.lower()
    assert (await client.get("/static-offline-docs/swagger-ui-bundle.js")).status_code == 200


def test_every_endpoint_and_dependency_runs_on_the_event_loop() -> None:
    """FastAPI runs a plain `def` endpoint or dependency in its thread pool: a hop to a thread
    and back on every request (about 100 µs of CPU, measured on the cold sheet). Every one is
    `async def`, so none pays it."""

    def routes(candidates: Sequence[BaseRoute]) -> Iterator[APIRoute]:
        for route in candidates:
            if isinstance(route, APIRoute):
                yield route
            elif (router := getattr(route, "original_router", None)) is not None:  # an include
                yield from routes(router.routes)

    def synchronous(dependant: Dependant) -> Iterator[str]:
        for dependency in dependant.dependencies:
            call = dependency.call
            target = call if inspect.isroutine(call) else getattr(call, "__call__", call)  # noqa: B004
            if not (inspect.iscoroutinefunction(target) or inspect.isasyncgenfunction(target)):
                yield getattr(call, "__qualname__", type(call).__qualname__)
            yield from synchronous(dependency)

    every = list(routes(assembled.router.routes))
    assert len(every) > 100  # the walk reaches the included routers
    found = {
        f"{sorted(route.methods)} {route.path}: {name}"
        for route in every
        for name in [
            *synchronous(route.dependant),
            *([] if inspect.iscoroutinefunction(route.endpoint) else ["the endpoint"]),
        ]
    }
    assert found == set()


@contextmanager
def transactions_begun() -> Iterator[list[str]]:
    """Every transaction asyncpg begins while the block runs (SQLAlchemy begins each with it)."""
    begun: list[str] = []
    start = asyncpg.transaction.Transaction.start

    async def counted(transaction: asyncpg.transaction.Transaction) -> None:
        begun.append(transaction._isolation or "default")
        await start(transaction)

    asyncpg.transaction.Transaction.start = counted  # type: ignore[method-assign]
    try:
        yield begun
    finally:
        asyncpg.transaction.Transaction.start = start  # type: ignore[method-assign]


@pytest.mark.usefixtures("seeded")
async def test_a_read_runs_its_statements_without_a_transaction(
    admin: httpx.AsyncClient, database: Database
) -> None:
    """A GET's statements each run on their own (READ COMMITTED reads a snapshot per statement
    anyway): no `BEGIN`, no `COMMIT`. A write is one transaction."""
    with transactions_begun() as begun, counting(database) as statements:
        sheet = await admin.get("/v1/clusters/5/years/2025", params={"format": "json"})
    assert sheet.status_code == 200, sheet.text
    assert statements != []  # it was rendered, not answered from the cache
    assert begun == []
    with transactions_begun() as begun:
        created = await admin.post("/v1/clusters", json={"number": 90, "name": "Cụm thi đua số 90"})
    assert created.status_code == 201, created.text
    assert len(begun) == 1


@pytest.mark.usefixtures("restored")
async def test_a_statement_that_writes_is_refused_on_a_read(database: Database) -> None:
    """A read's session writes nothing: each of its statements would be a transaction of its own,
    so a write of several could land half done. It is refused before it runs."""
    insert = text(
        "INSERT INTO clusters (number, name, rotation_custom, recorded_by, recorded_at, version) "
        "VALUES (91, 'x', 'least_recent', 't', now(), 1)"
    )
    for statement in (insert, text("SELECT id FROM clusters FOR UPDATE"), text("DELETE FROM clusters")):
        async with database.session_for("GET") as session:
            with pytest.raises(WriteOnRead):
                await session.execute(statement)
    async with database.session_for("HEAD") as session:
        assert (await session.execute(text("SELECT count(*) FROM clusters WHERE number = 91"))).scalar() == 0
    async with database.session_for("POST") as session:
        await session.execute(insert)  # a write's session is a transaction: rolled back unless committed
        assert (await session.execute(text("SELECT count(*) FROM clusters WHERE number = 91"))).scalar() == 1


async def test_a_connection_a_read_used_is_a_transaction_again_for_a_write(settings: Settings) -> None:
    """One pooled connection, read on then written on: the read's statements each stand alone
    (two `now()`s differ), the write's share one transaction (one `now()`)."""
    one = Database(
        settings.database_url, settings.model_copy(update={"db_pool_size": 1, "db_max_overflow": 0})
    )
    now = text("SELECT pg_backend_pid(), now(), pg_sleep(0.002)")
    try:
        for method, alone in (("GET", True), ("POST", False), ("HEAD", True), ("PUT", False)):
            async with one.session_for(method) as session:
                (pid, first, _), (again, second, _) = [(await session.execute(now)).one() for _ in range(2)]
            assert pid == again
            assert (first != second) is alone, method
            if method == "GET":
                read_on = pid
            assert pid == read_on  # the same connection throughout
    finally:
        await one.dispose()
