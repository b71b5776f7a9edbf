"""Each thing once (issue 23): a dropped sheet is rendered once however many readers ask for it
meanwhile; while that render revalidates it, readers who have not written get the sheet it
replaces at once, and the writer waits for the one that shows its write.

A lock on `memberships`, taken on a connection of the test's own, holds the render in flight
(every sheet reads its members) while the other readers arrive; the renders are counted by the
cache's own metrics (`thidua_cache_misses_total`: a read that went to the database)."""

import asyncio
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

import asyncpg
import httpx
from fastapi import FastAPI
from prometheus_client import REGISTRY

from app.core.cache import ALL, Entry, ReadCache, listener_dsn
from app.core.config import Settings
from tests.helpers import Keys, bearer, join, unit_id

CLUSTER = 88
SHEET = f"/v1/clusters/{CLUSTER}/years/2024"
KIND = "/v1/clusters/{number}/years/{year}"
FIGURES = f"{SHEET}/reported-figures"


def figures(value: int) -> dict[str, Any]:
    return {"figures": [{"label": "vụ án", "kind": "value", "qualifier": "exact", "value": value}]}


def count(metric: str) -> float:
    return REGISTRY.get_sample_value(metric, {"kind": KIND}) or 0.0


async def until(condition: Callable[[], bool], what: str) -> None:
    for _ in range(5000):
        if condition():
            return
        await asyncio.sleep(0.001)
    raise AssertionError(f"not in time: {what}")


@asynccontextmanager
async def members_locked(settings: Settings) -> AsyncIterator[None]:
    """Every read of `memberships` waits until the block ends."""
    assert settings.database_url is not None
    connection = await asyncpg.connect(listener_dsn(settings.database_url))
    try:
        async with connection.transaction():
            await connection.execute("LOCK TABLE memberships IN ACCESS EXCLUSIVE MODE")
            yield
    finally:
        await connection.close()


async def cluster(admin: httpx.AsyncClient) -> None:
    assert (await admin.post("/v1/clusters", json={"number": CLUSTER})).status_code == 201
    await join(admin, await unit_id(admin, "Hà Nội", "2024-06-01"), CLUSTER, "2024-01-01")
    assert (await admin.put(FIGURES, json=figures(1))).status_code == 201


async def test_eight_readers_of_a_dropped_sheet_share_one_render(
    app: FastAPI, admin: httpx.AsyncClient, keys: Keys, settings: Settings
) -> None:
    await cluster(admin)
    reader = bearer(keys.reader)
    assert (await admin.get("/v1/units/1", headers=reader)).status_code == 200  # the key is known
    cache: ReadCache = app.state.cache
    cache.drop([ALL])  # nothing stale to stand in: every reader waits for the render
    renders, shared = count("thidua_cache_misses_total"), count("thidua_cache_shared_total")
    async with members_locked(settings):
        first = asyncio.create_task(admin.get(SHEET, headers=reader))
        await until(lambda: count("thidua_cache_misses_total") == renders + 1, "the first render began")
        rest = [asyncio.create_task(admin.get(SHEET, headers=reader)) for _ in range(7)]
        await until(lambda: count("thidua_cache_shared_total") == shared + 7, "seven readers wait for it")
        assert not first.done()
    answers = await asyncio.gather(first, *rest)
    assert count("thidua_cache_misses_total") == renders + 1, "one render for eight readers"
    assert {a.status_code for a in answers} == {200}
    assert len({a.content for a in answers}) == 1
    assert len({a.headers["etag"] for a in answers}) == 1
    assert answers[0].json()["reported_figures"]["figures"][0]["value"] == 1


async def test_a_write_answers_once_what_it_dropped_is_rendered_again(
    app: FastAPI, admin: httpx.AsyncClient, keys: Keys, settings: Settings
) -> None:
    """A write renders again what it dropped that readers were reading hard, and answers once
    that render has landed: meanwhile (their reads concurrent with the write) readers get the
    sheet it dropped at once; after its answer, everyone reads the write, with no render of
    their own."""
    await cluster(admin)
    reader = bearer(keys.reader)
    before = await admin.get(SHEET, headers=reader)
    for _ in range(ReadCache().hot_reads_per_second):  # read hard
        assert (await admin.get(SHEET, headers=reader)).content == before.content
    etag = (await admin.get(FIGURES)).headers["etag"]
    renders, stale = count("thidua_cache_misses_total"), count("thidua_cache_stale_total")
    async with members_locked(settings):
        write = asyncio.create_task(admin.put(FIGURES, json=figures(2), headers={"If-Match": etag}))
        await until(lambda: count("thidua_cache_misses_total") == renders + 1, "the write's render began")
        during = await asyncio.gather(*(admin.get(SHEET, headers=reader) for _ in range(8)))
        assert not write.done()
    assert count("thidua_cache_stale_total") == stale + 8
    assert {d.content for d in during} == {before.content}
    assert {d.headers["etag"] for d in during} == {before.headers["etag"]}
    assert (await write).status_code == 200
    after = [await admin.get(SHEET, headers=reader), await admin.get(SHEET)]
    assert count("thidua_cache_misses_total") == renders + 1, "one render, the write's"
    for answer in after:
        assert answer.json()["reported_figures"]["figures"][0]["value"] == 2
        assert answer.headers["etag"] != before.headers["etag"]


async def test_a_stale_entry_keeps_to_its_proof_and_to_its_writers() -> None:
    """Served only to a caller whose last write came before its render began, no longer than the
    proof in force when it was dropped; a raced render replaces it; nothing survives the loss of
    the listener."""
    cache = ReadCache()
    cache.set_listening(True, time.monotonic() + 0.3)
    entry = Entry(b"{}", '"x-vi"', "application/json", frozenset({"cluster:5"}))
    cache.wrote("key:early")
    assert cache.store(("k",), entry, cache.generation())
    cache.drop(["cluster:5"])
    cache.wrote("key:late")  # its write came after the entry's render began
    assert cache.get(("k",)) is None
    assert cache.stale(("k",), None) == entry
    assert cache.stale(("k",), "key:early") == entry
    assert cache.stale(("k",), "key:late") is None
    flight = cache.begin(("k",), cache.generation())
    assert flight is not None
    assert cache.in_flight(("k",))
    assert cache.flight(("k",), "key:late") is flight  # begun after its write: it may wait for it
    newer = Entry(b'{"n":1}', '"y-vi"', "application/json", frozenset({"cluster:5"}))
    cache.drop(["cluster:5"])  # the render raced another write: not stored, held as the stale one
    assert not cache.store(("k",), newer, flight.generation)
    cache.hold(("k",), newer, flight.generation, flight.joinable_until)
    cache.land(("k",), flight, newer)
    assert not cache.in_flight(("k",))
    assert cache.stale(("k",), "key:late") == newer
    cache.prove(time.monotonic() + 60)  # on time: the cache stays usable...
    await asyncio.sleep(max(0.0, flight.joinable_until - time.monotonic()) + 0.01)
    assert cache.usable
    assert cache.stale(("k",), None) is None  # ...but not past the proof in force at the drop
    assert cache.store(("k",), newer, cache.generation())
    cache.drop(["cluster:5"])
    assert cache.stale(("k",), None) == newer
    cache.set_listening(False)
    cache.set_listening(True)
    assert cache.stale(("k",), None) is None
