"""The listener: what keeps the store of each instance coherent with the others' commits.

Every instance `LISTEN`s on a dedicated asyncpg connection (not one from the pool) and drops what
each notification names. While it is not listening (not yet connected, connection lost, keep-alive
failed) the cache is empty and every read goes to the database: nothing is served that cannot be
proven current. After `LISTEN` succeeds again the cache is dropped once more, since notifications
may have been missed.

A connection can also stall without closing (a half-open TCP connection after a network
partition, a frozen backend): no termination is ever reported, and notifications silently stop.
So the cache is used, and a cached API key accepted, only while a **heartbeat** on the listening
connection itself has proven it live within `CACHE_STALENESS_BOUND_SECONDS` (see `Listener`);
past that the instance reads through to the database, and when a proof arrives after such a gap
the cache is dropped first. A cached answer is therefore never more than the bound staler than
the database.
"""

import asyncio
import contextlib
import logging
import os
import time
from typing import Any

import asyncpg
from prometheus_client import Counter
from sqlalchemy.engine import make_url

from app.core.cache.invalidation import ANYONE, read_payload
from app.core.cache.store import ReadCache
from app.core.config import Settings

log = logging.getLogger("thidua.cache")

RECONNECTS = Counter("thidua_cache_listener_reconnects_total", "Times the cache listener (re)connected")


def listener_dsn(url: str) -> str:
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


class Listener:
    """LISTENs on a dedicated connection and drops what each notification names.

    Connection lost (termination callback) or heartbeat failed: the cache is dropped and reads go
    to the database until LISTEN succeeds again (backoff between attempts), then the cache is
    dropped once more and used again.

    **The heartbeat.** A connection that stalls without closing reports nothing, so every
    `CACHE_KEEPALIVE_SECONDS` (the interval) the listener sends `SELECT 1` on the listening
    connection itself, and a reply proves the cache current as of the moment it was *sent*:
    PostgreSQL sends a session's pending notifications before it reports the session ready for
    the next query, on the same socket, and asyncpg runs their callbacks before the awaiting
    task resumes; so every notification committed before the heartbeat left has been applied
    when its reply is read. The cache is then usable until `sent + CACHE_STALENESS_BOUND_SECONDS`
    (the bound): a cached answer, or a cached key, is never more than the bound staler than the
    database. A round trip is enough (rather than a NOTIFY to a channel of our own): what could
    stop notifications on a live session (a full queue) fails the notifying commit instead.

    A heartbeat waits until the last proof would lapse (at least one interval), then counts as
    failed: not listening, and the stuck connection is terminated (no waiting on its socket) and
    replaced. Before that, reads already go through once the bound has passed (`usable` reads
    the clock); a proof that arrives after such a gap drops the cache first (`ReadCache.prove`).
    The listening connection's `application_name` is `thidua cache listener <pid>`.
    """

    def __init__(self, cache: ReadCache, dsn: str, settings: Settings) -> None:
        self.cache = cache
        self.dsn = dsn
        self.channel = settings.cache_channel
        self.interval = settings.cache_keepalive_seconds
        self.bound = settings.cache_staleness_bound_seconds
        self.reconnect_min = settings.cache_reconnect_min_seconds
        self.reconnect_max = settings.cache_reconnect_max_seconds
        self.connect_timeout = settings.db_connect_timeout_seconds
        self._lost = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self.connection: asyncpg.Connection | None = None

    def start(self) -> None:
        self._task = asyncio.create_task(self._run())

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        await self._close()
        self.cache.set_listening(False)

    def _notified(self, connection: Any, pid: int, channel: str, payload: object) -> None:
        """`<instance> <tag> <tag> …` (`app.core.cache.invalidation`): another instance's commit
        (ours were dropped after commit). One sent without a cache (`ANYONE`) may be a commit of
        this instance's (a ballot's own connection), which a write here then answers for."""
        sender, tags = read_payload(payload)
        if sender != self.cache.instance:
            self.cache.drop(tags, local=sender == ANYONE)

    def _terminated(self, connection: Any) -> None:
        if connection is self.connection:
            self.cache.set_listening(False)
            self._lost.set()

    async def _close(self) -> None:
        connection, self.connection = self.connection, None
        if connection is not None and not connection.is_closed():
            connection.terminate()

    async def _listen(self) -> None:
        connection = await asyncpg.connect(
            self.dsn,
            timeout=self.connect_timeout,
            server_settings={"application_name": f"thidua cache listener {os.getpid()}"},
        )
        self.connection = connection
        self._lost.clear()
        connection.add_termination_listener(self._terminated)
        sent = time.monotonic()
        async with asyncio.timeout(max(self.bound, self.connect_timeout)):
            await connection.add_listener(self.channel, self._notified)
        RECONNECTS.inc()
        self.cache.set_listening(True, sent + self.bound)

    async def _heartbeat(self) -> None:
        """Proves the connection every interval until it is lost; raises when a proof fails."""
        while True:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._lost.wait(), self.interval)
            connection = self.connection
            if self._lost.is_set() or connection is None:
                return
            sent = time.monotonic()
            async with asyncio.timeout(max(self.cache.proven_until - sent, self.interval)):
                await connection.fetchval("SELECT 1")
            self.cache.prove(sent + self.bound)

    async def _run(self) -> None:
        delay = self.reconnect_min
        while True:
            try:
                await self._listen()
                delay = self.reconnect_min
                await self._heartbeat()
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # any failure means: not listening
                log.warning("cache listener lost (%s); reading through", type(exc).__name__)
            self.cache.set_listening(False)
            await self._close()
            await asyncio.sleep(delay)
            delay = min(delay * 2, self.reconnect_max)
