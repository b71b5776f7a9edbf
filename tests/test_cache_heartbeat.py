"""Issue 18, item 4: a listener that stalls without closing (a half-open connection after a
network partition, here its PostgreSQL backend frozen with SIGSTOP) lets an instance serve stale
reads, or accept a revoked key, only within `CACHE_STALENESS_BOUND_SECONDS` of the last heartbeat
that proved the listening connection live; then it reads through, says so in its metrics, and
caches again once a listener is proven live.

The served test runs a uvicorn instance of its own with a small bound and a heartbeat close to it,
so that the 1.2.0 listener (stale for a heartbeat interval plus its timeout, 2 × 1.2 s here) fails
where the bound (1.5 s) holds, with room for a loaded machine: the backend is frozen just after a
heartbeat came back, which is when the bound is longest."""

import asyncio
import math
import os
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import dataclass

import asyncpg
import httpx
import psutil
import pytest
from pydantic import ValidationError

from app.core.cache import Entry, ReadCache, listener_dsn
from app.core.config import Settings
from tests.helpers import Keys, bearer, problem, unit_id
from tests.live import Uvicorn, start, stop

BOUND = 1.5
"""The instance's `CACHE_STALENESS_BOUND_SECONDS`."""
HEARTBEAT = 1.2
"""Its `CACHE_KEEPALIVE_SECONDS`: below the bound, by more than a loaded machine's round trip."""
MARGIN = 0.5
"""What a loaded machine may add to the bound: the polling request's own latency."""


@dataclass
class Instance:
    server: Uvicorn
    client: httpx.AsyncClient

    @property
    def listener_name(self) -> str:
        return f"thidua cache listener {self.server.process.pid}"


@pytest.fixture
def uvicorn(database_url: str) -> Iterator[Uvicorn]:
    server = start(
        database_url,
        CACHE_STALENESS_BOUND_SECONDS=str(BOUND),
        CACHE_KEEPALIVE_SECONDS=str(HEARTBEAT),
    )
    try:
        yield server
    finally:
        stop(server)


@pytest.fixture
async def instance(uvicorn: Uvicorn, keys: Keys) -> AsyncIterator[Instance]:
    headers = {"Accept-Language": "en", **bearer(keys.admin)}
    async with httpx.AsyncClient(base_url=uvicorn.base, headers=headers, timeout=10) as client:
        yield Instance(uvicorn, client)


@pytest.fixture
async def probe(database_url: str) -> AsyncIterator[asyncpg.Connection]:
    """A connection of the test's own, to watch the listener's backend (each query a transaction
    of its own, so `pg_stat_activity` is read afresh)."""
    connection = await asyncpg.connect(listener_dsn(database_url))
    try:
        yield connection
    finally:
        await connection.close()


async def until(condition: Callable[[], Awaitable[bool]], within: float, what: str) -> float:
    """The monotonic time `condition()` first held (polled); fails after `within` seconds."""
    deadline = time.monotonic() + within
    while not await condition():
        assert time.monotonic() < deadline, f"{what}: not within {within:g} s"
        await asyncio.sleep(0.01)
    return time.monotonic()


def metric(body: str, name: str) -> float:
    return sum(
        float(line.rsplit(" ", 1)[1])
        for line in body.splitlines()
        if line.startswith(name) and not line.startswith("#")
    )


async def metrics(instance: Instance) -> str:
    response = await instance.client.get("/metrics")
    assert response.status_code == 200
    return response.text


async def listener_pids(instance: Instance, probe: asyncpg.Connection) -> set[int]:
    """The backends of the instance's listening connections (by their `application_name`)."""
    rows = await probe.fetch(
        "SELECT pid FROM pg_stat_activity WHERE application_name = $1 AND datname = current_database()",
        instance.listener_name,
    )
    return {row["pid"] for row in rows}


async def listener_pid(instance: Instance, probe: asyncpg.Connection, *, frozen: int = 0) -> int:
    """The backend of the instance's listening connection, once the instance says its cache is in
    use (besides a `frozen` one, which cannot notice that its client has gone)."""
    found: set[int] = set()

    async def listening() -> bool:
        found.clear()
        found.update(await listener_pids(instance, probe) - {frozen})
        return len(found) == 1 and metric(await metrics(instance), "thidua_cache_listening") == 1

    await until(listening, 15, "the instance listening")
    return found.pop()


def local_backend(pid: int) -> psutil.Process:
    """The backend's process, if PostgreSQL runs on this machine where the tests may signal it."""
    try:
        process = psutil.Process(pid)
        if "postgres" not in " ".join([process.name(), *process.cmdline()]):
            pytest.skip("the database's backends are not processes of this machine")
        os.kill(pid, 0)
    except (psutil.NoSuchProcess, psutil.AccessDenied, PermissionError, ProcessLookupError):
        pytest.skip("the database's backends are not processes this test may signal")
    return process


async def just_after_a_heartbeat(probe: asyncpg.Connection, pid: int) -> None:
    """Returns as soon as the listener's backend has answered a new query (a heartbeat), so that
    freezing it now leaves the instance the whole bound from that proof."""
    query = "SELECT query_start, state FROM pg_stat_activity WHERE pid = $1"
    row = await probe.fetchrow(query, pid)
    assert row is not None
    last = row["query_start"]

    async def answered() -> bool:
        row = await probe.fetchrow(query, pid)
        assert row is not None
        return bool(row["query_start"] > last and row["state"] == "idle")

    await until(answered, 4 * HEARTBEAT, "a heartbeat")
    await asyncio.sleep(0.02)  # its reply written to the socket


async def test_a_stalled_listener_serves_stale_reads_and_keys_only_within_the_bound(
    instance: Instance, admin: httpx.AsyncClient, probe: asyncpg.Connection
) -> None:
    unit = await unit_id(admin, "Sơn La", "2024-01-01")
    url = f"/v1/units/{unit}"
    created = await admin.post("/v1/keys", json={"name": "doomed", "role": "reader"})
    assert created.status_code == 201, created.text
    doomed, doomed_id = bearer(created.json()["key"]), created.json()["id"]
    pid = await listener_pid(instance, probe)
    backend = local_backend(pid)

    # Both cached on the instance: the unit's answer and the key.
    async def cached() -> bool:
        before = metric(await metrics(instance), "thidua_cache_hits_total")
        for headers in ({}, doomed, doomed):
            assert (await instance.client.get(url, headers=headers)).status_code == 200
        return metric(await metrics(instance), "thidua_cache_hits_total") >= before + 2

    await until(cached, 10, "reads answered from the cache")

    await just_after_a_heartbeat(probe, pid)
    backend.suspend()  # SIGSTOP: the connection stays open, nothing answers on it
    frozen = time.monotonic()
    try:
        etag = (await admin.get(url)).headers["etag"]
        renamed = await admin.patch(url, json={"name": "Sơn La (sửa)"}, headers={"If-Match": etag})
        assert renamed.status_code == 200, renamed.text
        assert (await admin.delete(f"/v1/keys/{doomed_id}")).status_code == 204

        seen: dict[str, float] = {}

        async def fresh() -> bool:
            now = time.monotonic()
            if "name" not in seen and (await instance.client.get(url)).json()["name"] == "Sơn La (sửa)":
                seen["name"] = now
            if "key" not in seen:
                refused = await instance.client.get(url, headers=doomed)
                if refused.status_code != 200:
                    problem(refused, 401, "unauthorized")
                    seen["key"] = now
            if "gauge" not in seen and metric(await metrics(instance), "thidua_cache_listening") == 0:
                seen["gauge"] = now
            return len(seen) == 3

        await until(fresh, BOUND + MARGIN + 5, "fresh answers")
        print(
            "\nwith its listener frozen, the instance served the new name after "
            f"{seen['name'] - frozen:.2f} s, refused the revoked key after {seen['key'] - frozen:.2f} s "
            f"and reported not listening after {seen['gauge'] - frozen:.2f} s (bound {BOUND:g} s)"
        )
        for what, at in seen.items():
            assert at - frozen <= BOUND + MARGIN, what

        # The heartbeat gave up on the stuck connection without hanging on it, and a new one
        # listens while the old backend is still frozen.
        assert await listener_pid(instance, probe, frozen=pid) != pid
        assert backend.status() == psutil.STATUS_STOPPED  # the stall lasted throughout
    finally:
        backend.resume()  # SIGCONT

    async def gone() -> bool:
        return pid not in await listener_pids(instance, probe)

    await until(gone, 10, "the stuck backend gone once thawed")

    # The cache is in use again, fresh.
    async def hit() -> bool:
        before = metric(await metrics(instance), "thidua_cache_hits_total")
        for _ in range(2):
            answer = await instance.client.get(url)
            assert answer.json()["name"] == "Sơn La (sửa)"
        return metric(await metrics(instance), "thidua_cache_hits_total") > before

    await until(hit, 10, "reads answered from the cache again")
    problem(await instance.client.get(url, headers=doomed), 401, "unauthorized")


def test_past_the_bound_nothing_is_served_and_a_late_proof_drops_the_cache() -> None:
    cache = ReadCache()
    entry = Entry(b"{}", '"x-en"', "application/json", frozenset({"unit:1"}))
    cache.set_listening(True, time.monotonic() + 0.2)
    assert cache.store(("k",), entry, cache.generation())
    cache.store_key("hash", "principal", cache.generation())
    assert cache.get(("k",)) == entry
    assert cache.key("hash") == "principal"
    generation = cache.generation()
    while time.monotonic() <= cache.proven_until:
        time.sleep(0.01)
    assert not cache.usable
    assert cache.get(("k",)) is None
    assert cache.key("hash") is None
    assert cache.generation() is None
    assert cache.listening  # the heartbeat has not failed yet: only late
    cache.prove(time.monotonic() + 10)  # proven again after the gap: notifications may be missed
    assert cache.usable
    assert cache.get(("k",)) is None
    assert cache.key("hash") is None
    assert not cache.store(("k",), entry, generation)  # a read begun before the gap
    assert cache.store(("k",), entry, cache.generation())
    cache.prove(time.monotonic() + 20)  # on time: nothing dropped
    assert cache.get(("k",)) == entry
    cache.set_listening(False)
    cache.prove(time.monotonic() + 30)  # a heartbeat answering after the listener gave up
    assert not cache.usable
    assert cache.proven_until == -math.inf


def test_the_bound_must_exceed_the_heartbeat_interval() -> None:
    with pytest.raises(ValidationError, match="CACHE_STALENESS_BOUND_SECONDS"):
        Settings(cache_keepalive_seconds=3, cache_staleness_bound_seconds=3)
    settings = Settings(cache_keepalive_seconds=0.5, cache_staleness_bound_seconds=2)
    assert settings.cache_staleness_bound_seconds == 2
