"""Rate limits per key: within the budget every answer says what is left (`RateLimit`,
`RateLimit-Policy`), beyond it 429 problem+json with `Retry-After` that changes nothing; budgets are
per key and per role, reads and writes apart, cache hits included; requests without a valid key
share their address's budget; the probes and the metrics are never limited.

The budgets here are per day, so that a test never straddles a window (the sliding window weighs
the previous one) unless it runs across midnight UTC."""

import asyncio
import re
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import httpx
import pytest
from asgi_lifespan import LifespanManager
from fastapi import FastAPI
from limits import parse
from limits.aio.storage import MemoryStorage
from limits.aio.strategies import SlidingWindowCounterRateLimiter
from prometheus_client import REGISTRY
from sqlalchemy import event

from app.core.cache import ReadCache
from app.core.config import Settings
from app.core.ratelimit import SlidingWindowCounters
from app.main import create_app
from tests.helpers import Keys, UnitKey, bearer, problem
from tests.live import serve
from tests.queries import counting

DAY = 86_400
LIMITS = {
    "rate_limit_enabled": True,
    "rate_limit_admin_reads": "4/day",
    "rate_limit_admin_writes": "2/day",
    "rate_limit_cluster_reads": "4/day",
    "rate_limit_cluster_writes": "2/day",
    "rate_limit_unit_reads": "3/day",
    "rate_limit_unit_writes": "2/day",
    "rate_limit_reader": "5/day",
    "rate_limit_anonymous": "2/day",
}
UNIT_POLICY = f'"reads";q=3;w={DAY}, "writes";q=2;w={DAY}'
FIELD = re.compile(r'^"(?P<policy>[a-z]+)";r=(?P<r>\d+);t=(?P<t>\d+)$')


@pytest.fixture
async def limited(settings: Settings) -> AsyncIterator[FastAPI]:
    """An instance of its own (its own counters) with small budgets, its cache in use."""
    application = create_app(settings.model_copy(update=LIMITS))
    async with LifespanManager(application):
        cache: ReadCache = application.state.cache
        for _ in range(10_000):
            if cache.listening:
                break
            await asyncio.sleep(0.001)
        assert cache.listening
        yield application


Client = Callable[..., Awaitable[httpx.AsyncClient]]


@pytest.fixture
async def client_of(limited: FastAPI) -> AsyncIterator[Client]:
    """Clients of the limited instance: `await client_of(key=…, address=…)`."""
    opened: list[httpx.AsyncClient] = []

    async def make(key: str | None = None, address: str = "10.0.0.1") -> httpx.AsyncClient:
        transport = httpx.ASGITransport(app=limited, client=(address, 40_000))
        headers = {"Accept-Language": "en", **(bearer(key) if key else {})}
        client = httpx.AsyncClient(transport=transport, base_url="http://thidua.test", headers=headers)
        opened.append(client)
        return client

    yield make
    for client in opened:
        await client.aclose()


def left(response: httpx.Response) -> tuple[str, int, int]:
    """The `RateLimit` field: (policy, remaining, seconds)."""
    match = FIELD.match(response.headers["ratelimit"])
    assert match, response.headers["ratelimit"]
    return match["policy"], int(match["r"]), int(match["t"])


def refused(response: httpx.Response, policy: str) -> dict[str, Any]:
    """Assert a 429 problem for `policy` with its fields, and return its body."""
    body = problem(response, 429, "rate-limited")
    assert body["type"] == "/problems/rate-limited"
    assert body["request_id"] == response.headers["x-request-id"]
    retry = response.headers["retry-after"]
    assert retry.isdigit(), retry
    assert 1 <= int(retry) <= DAY, retry
    assert left(response) == (policy, 0, int(retry)), "Retry-After is the end of the effective window"
    assert response.headers["ratelimit-policy"]
    return body


def refusals(role: str, policy: str) -> float:
    return REGISTRY.get_sample_value("thidua_rate_limited_total", {"role": role, "policy": policy}) or 0.0


async def test_a_key_reads_its_budget_then_gets_429(client_of: Client, unit_key: UnitKey) -> None:
    unit = await client_of(await unit_key(22))
    before = refusals("unit", "reads")
    for remaining in (2, 1, 0):
        response = await unit.get("/v1/units/22")
        assert response.status_code == 200, response.text
        assert response.headers["ratelimit-policy"] == UNIT_POLICY
        policy, r, t = left(response)
        assert (policy, r) == ("reads", remaining)
        assert 0 <= t <= DAY

    over = await unit.get("/v1/units/22", headers={"X-Request-ID": "over-the-budget"})
    body = refused(over, "reads")
    assert over.headers["x-request-id"] == "over-the-budget"
    assert over.headers["ratelimit-policy"] == UNIT_POLICY
    assert "3 requests per 86400 s" in body["detail"]
    assert refusals("unit", "reads") == before + 1

    vietnamese = await unit.get("/v1/units/22", headers={"Accept-Language": "vi"})
    body = refused(vietnamese, "reads")
    assert vietnamese.headers["content-language"] == "vi"
    assert body["title"] == "Quá nhiều yêu cầu"
    assert "hạn mức `reads`" in body["detail"]


async def test_budgets_are_per_key(client_of: Client, unit_key: UnitKey) -> None:
    first = await client_of(await unit_key(22))
    second = await client_of(await unit_key(23))
    for _ in range(3):
        assert (await first.get("/v1/units/22")).status_code == 200
    refused(await first.get("/v1/units/22"), "reads")

    other = await second.get("/v1/units/22")
    assert other.status_code == 200, other.text
    assert left(other)[:2] == ("reads", 2), "the other key's budget is whole"


@pytest.fixture
async def made_before(unit_key: UnitKey) -> str:
    """A unit key made before the instance listens: no invalidation of it reaches a read."""
    return await unit_key(22)


async def test_cache_hits_are_limited_too(made_before: str, client_of: Client) -> None:
    unit = await client_of(made_before)
    hits = {"kind": "/v1/units/{unit_id}"}
    assert (await unit.get("/v1/units/22")).status_code == 200  # rendered and stored
    before = REGISTRY.get_sample_value("thidua_cache_hits_total", hits) or 0.0
    for remaining in (1, 0):
        response = await unit.get("/v1/units/22")
        assert response.status_code == 200
        assert left(response)[1] == remaining
    assert REGISTRY.get_sample_value("thidua_cache_hits_total", hits) == before + 2, "answered from the cache"

    refused(await unit.get("/v1/units/22"), "reads")
    after = REGISTRY.get_sample_value("thidua_cache_hits_total", hits)
    assert after == before + 2, "refused before the cache"


async def test_roles_have_their_own_budgets(client_of: Client, keys: Keys, unit_key: UnitKey) -> None:
    reader = await client_of(keys.reader)
    unit = await client_of(await unit_key(22))
    first = await reader.get("/v1/units/22")
    assert first.headers["ratelimit-policy"] == f'"reads";q=5;w={DAY}', "a reader has one budget"
    assert left(first)[:2] == ("reads", 4)
    for _ in range(4):
        assert (await reader.get("/v1/units/22")).status_code == 200
    refused(await reader.get("/v1/units/22"), "reads")

    for _ in range(3):
        assert (await unit.get("/v1/units/22")).status_code == 200
    refused(await unit.get("/v1/units/22"), "reads")


async def test_writes_have_a_budget_of_their_own_and_a_refused_write_changes_nothing(
    client_of: Client, keys: Keys
) -> None:
    admin = await client_of(keys.admin)
    for number, remaining in ((20, 1), (21, 0)):
        created = await admin.post("/v1/clusters", json={"number": number})
        assert created.status_code == 201, created.text
        assert left(created)[:2] == ("writes", remaining)

    before = refusals("admin", "writes")
    refused(await admin.post("/v1/clusters", json={"number": 22}), "writes")
    refused(await admin.patch("/v1/clusters/20", json={"note": "x"}, headers={"If-Match": "*"}), "writes")
    assert refusals("admin", "writes") == before + 2

    read = await admin.get("/v1/clusters/22")
    problem(read, 404, "not-found")  # the refused write left no row; the key's reads are whole
    assert left(read)[:2] == ("reads", 3)
    unchanged = await admin.get("/v1/clusters/20")
    assert unchanged.json()["note"] is None


async def test_requests_without_a_valid_key_share_their_address_budget(client_of: Client, keys: Keys) -> None:
    nobody = await client_of(address="10.0.0.7")
    forged = await client_of("thd_not-a-key", address="10.0.0.7")
    elsewhere = await client_of(address="10.0.0.8")
    valid = await client_of(keys.reader, address="10.0.0.7")

    first = await nobody.get("/v1/units/22")
    problem(first, 401, "unauthorized")
    assert first.headers["ratelimit-policy"] == f'"anonymous";q=2;w={DAY}'
    assert left(first)[:2] == ("anonymous", 1)
    problem(await forged.get("/v1/units/22"), 401, "unauthorized")  # an unknown key counts the same
    before = refusals("anonymous", "anonymous")
    refused(await forged.get("/v1/units/22"), "anonymous")
    refused(await nobody.get("/v1/units/22"), "anonymous")
    assert refusals("anonymous", "anonymous") == before + 2

    problem(await elsewhere.get("/v1/units/22"), 401, "unauthorized")  # another address: its own budget
    # A key the instance does not know yet is counted against its address before it is looked up:
    # from a spent address it is refused unread. Once known (used from elsewhere), its own budget.
    refused(await valid.get("/v1/units/22"), "anonymous")
    valid_elsewhere = await client_of(keys.reader, address="10.0.0.9")
    assert (await valid_elsewhere.get("/v1/units/22")).status_code == 200
    response = await valid.get("/v1/units/22")
    assert response.status_code == 200, response.text
    assert left(response)[:2] == ("reads", 3)


async def test_an_unknown_key_from_a_spent_address_costs_no_query(
    limited: FastAPI, client_of: Client
) -> None:
    """Made-up keys are counted against the address first: once its budget is spent, a flood of
    them never reaches the database (before, each one was looked up, then refused)."""
    forged = await client_of("thd_made-up", address="10.0.1.1")
    with counting(limited.state.database) as statements:
        for _ in range(2):
            problem(await forged.get("/v1/units"), 401, "unauthorized")
    assert len([s for s in statements if "FROM api_keys" in s]) == 2
    with counting(limited.state.database) as statements:
        for n in range(5):
            flood = await client_of(f"thd_guess-{n}", address="10.0.1.1")
            refused(await flood.get("/v1/units"), "anonymous")
    assert statements == [], statements


async def test_a_valid_key_looked_up_takes_its_address_count_back(client_of: Client, keys: Keys) -> None:
    """A key not yet in the key cache is counted against its address until it is found valid; then
    it spends its own budget and the address's is as it was."""
    for role in ("admin", "reader"):
        valid = await client_of(getattr(keys, role), address="10.0.2.1")
        response = await valid.get("/v1/units/22")
        assert response.status_code == 200, response.text
        assert left(response)[0] == "reads"
    nobody = await client_of(address="10.0.2.1")
    first = await nobody.get("/v1/units/22")
    problem(first, 401, "unauthorized")
    assert left(first)[:2] == ("anonymous", 1), "the valid keys left the address's budget whole"


async def test_a_cold_key_is_looked_up_on_the_requests_own_connection(
    limited: FastAPI, client_of: Client, keys: Keys
) -> None:
    """The limiter looks a key it does not know up on the session the route then uses: one
    connection taken from the pool for the whole request, and the lookup's statement in the
    request's own transaction (before, a connection and a transaction of its own, then another)."""
    engine = limited.state.database.engine
    for _ in range(5_000):  # the idempotency sweep, run as the app starts, has put its connection back
        if engine.sync_engine.pool.checkedout() == 0:  # type: ignore[attr-defined]
            break
        await asyncio.sleep(0.001)
    taken: list[int] = []

    request_task = asyncio.current_task()  # ASGITransport runs the app in the test's own task

    def checkout(_: Any, record: Any, __: Any) -> None:
        if asyncio.current_task() is request_task:  # not the idempotency sweep's, say
            taken.append(id(record))

    event.listen(engine.sync_engine, "checkout", checkout)
    try:
        unit = await client_of(keys.unit, address="10.0.3.1")
        with counting(limited.state.database) as statements:
            response = await unit.get("/v1/units/22")
        assert response.status_code == 200, response.text
    finally:
        event.remove(engine.sync_engine, "checkout", checkout)
    assert len(taken) == 1, taken
    assert "FROM api_keys" in statements[0], statements
    assert "FROM units" in statements[-1], statements


async def test_probes_and_metrics_are_never_limited(client_of: Client) -> None:
    nobody = await client_of()
    for _ in range(5):
        for path in ("/healthz", "/readyz", "/metrics"):
            response = await nobody.get(path)
            assert response.status_code == 200, (path, response.text)
            assert "ratelimit" not in response.headers
    problem(await nobody.get("/v1/units/22"), 401, "unauthorized")  # the budget was untouched
    problem(await nobody.get("/v1/units/22"), 401, "unauthorized")
    refused(await nobody.get("/v1/units/22"), "anonymous")


async def test_a_request_looks_its_key_up_once(limited: FastAPI, client_of: Client, keys: Keys) -> None:
    admin = await client_of(keys.admin)
    with counting(limited.state.database) as statements:
        response = await admin.get("/v1/units/22")  # a new key: not in the key cache yet
    assert response.status_code == 200, response.text
    lookups = [s for s in statements if "FROM api_keys" in s]
    assert len(lookups) == 1, lookups  # by the limiter; the route's `current_key` takes its finding

    forged = await client_of("thd_not-a-key")
    with counting(limited.state.database) as statements:
        problem(await forged.get("/v1/units/22"), 401, "unauthorized")
    lookups = [s for s in statements if "FROM api_keys" in s]
    assert len(lookups) == 1, lookups


def test_every_limited_operation_documents_429_and_the_fields(limited: FastAPI) -> None:
    document = limited.openapi()
    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            responses = operation["responses"]
            if path in ("/healthz", "/readyz", "/metrics"):
                assert "429" not in responses, path
                continue
            too_many = responses["429"]
            assert "application/problem+json" in too_many["content"], (method, path)
            named = set(too_many["headers"])
            assert {"Retry-After", "RateLimit", "RateLimit-Policy", "X-Request-ID"} <= named
            for status, response in responses.items():
                assert {"RateLimit", "RateLimit-Policy"} <= set(response["headers"]), (method, path, status)


def test_the_live_server_limits_with_budgets_no_test_reaches(settings: Settings, keys: Keys) -> None:
    assert settings.database_url is not None
    with serve(settings.database_url) as base:
        response = httpx.get(f"{base}/v1/units/22", headers=bearer(keys.admin))
    assert response.status_code == 200, response.text
    assert response.headers["ratelimit-policy"] == '"reads";q=1000000;w=60, "writes";q=1000000;w=60'
    assert left(response)[:2] == ("reads", 999_999)


async def test_switched_off_nothing_is_counted(settings: Settings, unit_key: UnitKey) -> None:
    application = create_app(settings.model_copy(update={**LIMITS, "rate_limit_enabled": False}))
    async with LifespanManager(application):
        transport = httpx.ASGITransport(app=application)
        async with httpx.AsyncClient(
            transport=transport, base_url="http://thidua.test", headers=bearer(await unit_key(22))
        ) as unit:
            for _ in range(5):
                response = await unit.get("/v1/units/22")
                assert response.status_code == 200, response.text
                assert "ratelimit" not in response.headers
                assert "ratelimit-policy" not in response.headers


class CountingSweeps(SlidingWindowCounters):
    """Counts the sweeps of expired counters."""

    def __init__(self, sweep_every: float) -> None:
        super().__init__(sweep_every)
        self.sweeps = 0

    def sweep(self) -> None:
        self.sweeps += 1
        super().sweep()


@pytest.mark.parametrize(("sweep_every", "sweeps"), [(3600.0, 1), (0.0, 50)])
def test_expired_counters_are_swept_once_a_while_not_after_every_hit(sweep_every: float, sweeps: int) -> None:
    storage = CountingSweeps(sweep_every)
    rate = parse("1000/day")
    for n in range(50):
        assert storage.hit(rate, rate.key_for("reads", f"key:{n}")).allowed
    assert storage.sweeps == sweeps


async def test_one_hit_counts_as_limits_sliding_window_counter_does() -> None:
    """`SlidingWindowCounters.hit` is limits' strategy (`hit`, then `get_window_stats`) in one
    call: the same decisions, the same remaining budget and reset, on the same counters (a
    take-back lowers what a hit raised)."""
    ours, theirs = SlidingWindowCounters(), MemoryStorage()
    limiter = SlidingWindowCounterRateLimiter(theirs)
    rate = parse("3/hour")
    key = rate.key_for("reads", "key:1")
    for _ in range(5):
        hit = ours.hit(rate, key)
        allowed = await limiter.hit(rate, "reads", "key:1")
        stats = await limiter.get_window_stats(rate, "reads", "key:1")
        assert (hit.allowed, hit.remaining) == (allowed, stats.remaining)
        assert abs(hit.reset - (stats.reset_time - time.time())) <= 1
        assert (hit.counter is None) is not allowed
    assert [h.allowed for h in (ours.hit(rate, rate.key_for("reads", "key:2")) for _ in range(4))] == [
        True,
        True,
        True,
        False,
    ]
    taken = ours.hit(rate, rate.key_for("reads", "key:3"))
    assert taken.counter is not None
    await ours.decr(taken.counter)
    assert ours.hit(rate, rate.key_for("reads", "key:3")).remaining == 2


async def test_a_cold_key_writing_is_looked_up_on_a_connection_of_its_own(
    limited: FastAPI, client_of: Client, keys: Keys
) -> None:
    """A request with a body is not given the lookup's session: the lookup's connection goes back
    at once (none is held while a body uploads), and the write's transaction is its own."""
    engine = limited.state.database.engine
    for _ in range(5_000):
        if engine.sync_engine.pool.checkedout() == 0:  # type: ignore[attr-defined]
            break
        await asyncio.sleep(0.001)
    events: list[str] = []

    request_task = asyncio.current_task()  # ASGITransport runs the app in the test's own task

    ours: set[int] = set()

    def checkout(_: Any, record: Any, __: Any) -> None:
        if asyncio.current_task() is request_task:  # not the idempotency sweep's, say
            ours.add(id(record))
            events.append("out")

    def checkin(_: Any, record: Any) -> None:
        if id(record) in ours:  # (a connection closed shielded is checked in by another task)
            ours.discard(id(record))
            events.append("in")

    event.listen(engine.sync_engine, "checkout", checkout)
    event.listen(engine.sync_engine, "checkin", checkin)
    try:
        admin = await client_of(keys.admin, address="10.0.3.2")
        response = await admin.post("/v1/clusters", json={"number": 97})
        assert response.status_code == 201, response.text
    finally:
        event.remove(engine.sync_engine, "checkout", checkout)
        event.remove(engine.sync_engine, "checkin", checkin)
    assert events == ["out", "in", "out", "in"], events
