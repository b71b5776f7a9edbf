"""An in-process read cache with exact, transactional invalidation, coherent across instances.

Entries are rendered responses (body bytes, ETag, content type) per variant (path and query,
`Accept`, the negotiated language, whether gzip is accepted: then the bytes are compressed), each
carrying the **tags** it depends on (`unit:12`, `cluster:5`, `units`, `keys`, …). A write calls
`await invalidate(session, *tags)` inside its transaction: `pg_notify` there is delivered to
every instance only on commit, and the tags are dropped on this instance right after the commit
(a session `after_commit` event), so the instance that wrote serves its own next read fresh at
once.

Every instance `LISTEN`s on a dedicated asyncpg connection (not one from the pool). While it is
not listening (not yet connected, connection lost, keep-alive failed) the cache is empty and
every read goes to the database: nothing is served that cannot be proven current. After
`LISTEN` succeeds again the cache is dropped once more, since notifications may have been missed.

A connection can also stall without closing (a half-open TCP connection after a network
partition, a frozen backend): no termination is ever reported, and notifications silently stop.
So the cache is used, and a cached API key accepted, only while a **heartbeat** on the listening
connection itself has proven it live within `CACHE_STALENESS_BOUND_SECONDS` (see `Listener`);
past that the instance reads through to the database, and when a proof arrives after such a gap
the cache is dropped first. A cached answer is therefore never more than the bound staler than
the database.

Races: a read captures the cache's generation before its queries and stores its result only if
no invalidation (nor loss of the listener) happened in between.
"""

import asyncio
import contextlib
import logging
import math
import os
import time
import uuid
import weakref
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, replace
from typing import Any, TypeVar

import asyncpg
from prometheus_client import Counter, Gauge
from pydantic import BaseModel
from sqlalchemy import event, text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session
from starlette.datastructures import Headers, MutableHeaders
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Receive, Scope, Send

from app.core.compression import GZIP, Gzip, accepts_gzip, compressible
from app.core.config import Settings
from app.core.etag import body_etag, encoded_etag
from app.core.i18n import current_locale, merge_vary
from app.core.identity import IDENTITY, bearer_token, identity_of, key_hash
from app.core.numbers import unmark

log = logging.getLogger("thidua.cache")

HITS = Counter("thidua_cache_hits_total", "Reads answered from the in-process cache", ("kind",))
MISSES = Counter("thidua_cache_misses_total", "Cacheable reads that went to the database", ("kind",))
STORES = Counter("thidua_cache_stores_total", "Rendered reads stored in the cache", ("kind",))
INVALIDATIONS = Counter(
    "thidua_cache_invalidations_total", "Tags invalidated (local commits and notifications)", ("tag_kind",)
)
RECONNECTS = Counter("thidua_cache_listener_reconnects_total", "Times the cache listener (re)connected")
LISTENING = Gauge(
    "thidua_cache_listening",
    "Read caches of this process listening for invalidations, their listener proven live within "
    "the staleness bound, in use (a server has one: 1 or 0)",
)

ALL = "*"
"""The tag of a notification that drops everything (payload too long, or a bulk load)."""
_MAX_PAYLOAD = 7000
_SESSION_TAGS = "cache_tags"
_SESSION_CACHE = "read_cache"
_NOTIFY = text("SELECT pg_notify(:channel, :payload)")


@dataclass(frozen=True, slots=True)
class Entry:
    body: bytes
    etag: str
    content_type: str
    tags: frozenset[str]
    headers: tuple[tuple[str, str], ...] = ()
    """Other representation headers (`Content-Disposition`, `Vary`)."""
    encoding: str = ""
    """`gzip` when `body` is compressed (`Content-Encoding`, on a 200 only); else empty."""
    kind: str = ""
    """The route's path template, for the metrics."""
    route: Any = None
    """The route that rendered it (the metrics middleware labels by it)."""


def _kind(tag: str) -> str:
    return tag.split(":", 1)[0]


class ReadCache:
    """Rendered entries (LRU, bounded) and the principals of API keys, both dropped by tag."""

    def __init__(self, *, enabled: bool = True, max_entries: int = 10_000) -> None:
        self.enabled = enabled
        self.max_entries = max_entries
        self.instance = uuid.uuid4().hex[:16]
        """Names this process's notifications, which it has dropped already (after its commit)."""
        self.listening = False
        """LISTEN established and its heartbeat not (yet) failed; `usable` also needs a recent proof."""
        self._proven_until = -math.inf
        """The monotonic time until which the listener's last heartbeat vouches for the cache."""
        self._generation = 0
        self._entries: OrderedDict[tuple[str, ...], Entry] = OrderedDict()
        self._by_tag: dict[str, set[tuple[str, ...]]] = {}
        self._keys: dict[str, Any] = {}
        _CACHES.add(self)

    # --- state -----------------------------------------------------------------------------

    @property
    def usable(self) -> bool:
        """Whether entries and keys may be served: on, and the listener proven live recently
        enough (one clock read and a compare; not listening means a proof time of -inf)."""
        return self.enabled and time.monotonic() <= self._proven_until

    @property
    def proven_until(self) -> float:
        """The monotonic time until which the cache may be used (-inf: not listening)."""
        return self._proven_until

    def generation(self) -> int | None:
        """The token a read captures before its queries; None when nothing may be cached."""
        return self._generation if self.usable else None

    def __len__(self) -> int:
        return len(self._entries)

    # --- entries ---------------------------------------------------------------------------

    def get(self, key: tuple[str, ...]) -> Entry | None:
        if not self.usable:
            return None
        entry = self._entries.get(key)
        if entry is not None:
            self._entries.move_to_end(key)
        return entry

    def store(self, key: tuple[str, ...], entry: Entry, generation: int | None) -> bool:
        """Keeps `entry` unless something was invalidated since `generation` was captured."""
        if generation is None or not self.usable or generation != self._generation:
            return False
        self._unlink(key)
        self._entries[key] = entry
        for tag in entry.tags:
            self._by_tag.setdefault(tag, set()).add(key)
        while len(self._entries) > self.max_entries:
            self._unlink(next(iter(self._entries)))
        return True

    def _unlink(self, key: tuple[str, ...]) -> None:
        entry = self._entries.pop(key, None)
        if entry is None:
            return
        for tag in entry.tags:
            keys = self._by_tag.get(tag)
            if keys is not None:
                keys.discard(key)
                if not keys:
                    del self._by_tag[tag]

    # --- API keys --------------------------------------------------------------------------

    def key(self, key_hash: str) -> Any | None:
        return self._keys.get(key_hash) if self.usable else None

    def store_key(self, key_hash: str, principal: Any, generation: int | None) -> None:
        if generation is None or not self.usable or generation != self._generation:
            return
        if len(self._keys) >= self.max_entries:
            self._keys.clear()
        self._keys[key_hash] = principal

    # --- invalidation ----------------------------------------------------------------------

    def drop(self, tags: Iterable[str]) -> None:
        """Drops every entry carrying one of `tags` (`*`: everything)."""
        self._generation += 1
        for tag in tags:
            INVALIDATIONS.labels(_kind(tag)).inc()
            if tag == ALL:
                self.clear()
                return
            if tag == "keys":
                self._keys.clear()
            for key in list(self._by_tag.get(tag, ())):
                self._unlink(key)

    def clear(self) -> None:
        self._generation += 1
        self._entries.clear()
        self._by_tag.clear()
        self._keys.clear()

    def set_listening(self, listening: bool, until: float = math.inf) -> None:
        """Listening (LISTEN just succeeded; usable until the monotonic time `until`, which the
        listener always gives: without one, as in a unit test, a cache listens for good) or not.
        Either way the cache is dropped: notifications may have been missed."""
        self.clear()
        self.listening = listening
        self._proven_until = until if listening else -math.inf

    def prove(self, until: float) -> None:
        """A heartbeat came back: usable until the monotonic time `until`. If the last proof had
        lapsed meanwhile (reads went through), the cache is dropped first, as after a reconnect."""
        if not self.listening:
            return
        if time.monotonic() > self._proven_until:
            log.info("cache listener proven live again after a gap; cache dropped")
            self.clear()
        self._proven_until = max(self._proven_until, until)


_CACHES: weakref.WeakSet[ReadCache] = weakref.WeakSet()
"""Every read cache of this process, for the `thidua_cache_listening` gauge."""
LISTENING.set_function(lambda: sum(1 for cache in list(_CACHES) if cache.usable))
"""Evaluated at each scrape, so a listener whose proof has lapsed counts 0 at once."""


# --- writes ----------------------------------------------------------------------------------


async def invalidate(session: AsyncSession, *tags: str) -> None:
    """Inside a write's transaction: every instance drops `tags` once (and only if) it commits.

    The notification goes out with the commit; this instance drops them right after the commit.
    """
    wanted = {t for t in tags if t}
    if not wanted:
        return
    pending: set[str] = session.info.setdefault(_SESSION_TAGS, set())
    new = wanted - pending
    if not new:
        return
    pending.update(new)
    payload = " ".join(sorted(new))
    if len(payload) > _MAX_PAYLOAD:
        payload = ALL
    cache = session.info.get(_SESSION_CACHE)
    payload = f"{cache.instance if isinstance(cache, ReadCache) else '-'} {payload}"
    channel = session.info.get("cache_channel", "thidua_cache")
    await session.execute(_NOTIFY, {"channel": channel, "payload": payload})


@event.listens_for(Session, "after_commit")
def _dropped_after_commit(session: Session) -> None:
    tags = session.info.pop(_SESSION_TAGS, None)
    cache = session.info.get(_SESSION_CACHE)
    if tags and isinstance(cache, ReadCache):
        cache.drop(tags)


@event.listens_for(Session, "after_rollback")
def _forgotten_after_rollback(session: Session) -> None:
    session.info.pop(_SESSION_TAGS, None)


def session_info(cache: ReadCache | None, settings: Settings) -> dict[str, Any]:
    """What every session of a database carries: the cache to drop from after a commit, and the
    channel to notify."""
    return {_SESSION_CACHE: cache, "cache_channel": settings.cache_channel}


# --- reads -----------------------------------------------------------------------------------

M = TypeVar("M", bound=BaseModel)


def scope_key(scope: Scope, headers: Headers, variant: str = "") -> tuple[str, ...]:
    """What a rendered answer depends on: path and query, `Accept`, the negotiated language,
    whether `Accept-Encoding` admits gzip (not its spelling), and the route's `variant`."""
    return (
        scope["path"],
        scope["query_string"].decode("latin-1"),
        headers.get("accept", ""),
        current_locale(),
        GZIP if accepts_gzip(headers.get("accept-encoding")) else "",
        variant,
    )


_KEPT_HEADERS = ("content-disposition", "vary")


def _answer(entry: Entry) -> Response:
    """The stored answer, always a 200: `If-None-Match` is compared once, on the way out, by the
    representation layer (`app.core.representation`), which makes it a 304."""
    headers = {"ETag": entry.etag, **dict(entry.headers)}
    if entry.encoding:
        headers["Content-Encoding"] = entry.encoding
    return Response(entry.body, headers={**headers, "Content-Type": entry.content_type})


async def _encoded(entry: Entry, gzip: Gzip | None, accept_encoding: str | None) -> Entry:
    """The entry as this request's variant stores it: compressed once here when the policy
    applies (the ETag then the gzip one), and saying `Vary: Accept-Encoding` if compressible."""
    if gzip is None or not compressible(entry.content_type):
        return entry
    headers = MutableHeaders(raw=[(k.encode("latin-1"), v.encode("latin-1")) for k, v in entry.headers])
    merge_vary(headers, "Accept-Encoding")
    entry = replace(entry, headers=tuple(headers.items()))
    if not gzip.applies(accept_encoding, entry.content_type, len(entry.body)):
        return entry
    body = await gzip.compress(entry.body)
    return replace(entry, body=body, etag=encoded_etag(entry.etag), encoding=GZIP)


async def cached(
    request: Request,
    *,
    tags: Iterable[str] | Callable[[Any], Iterable[str]],
    render: Callable[[], Awaitable[M | Response]],
    etag: Callable[[M], str] | None = None,
    kind: str = "",
    variant: str = "",
) -> Response:
    """A GET answered from the cache, or rendered, stored (tagged) and answered.

    `render` builds the response model, or a whole `Response` (an export: its body, media
    type, ETag, `Content-Disposition` and `Vary` are kept); its queries run only on a miss; `etag` gives a
    versioned record's ETag (else a hash of the body); `tags` are what the entry depends on,
    or a function of the rendered model (e.g. the units a list names); `variant` is whatever
    else the answer depends on beyond the URL and the negotiated headers (the day a default
    `as_of` stands for). A `304` for a cached entry compares the stored ETag: no rendering, no
    hashing.
    """
    cache: ReadCache | None = getattr(request.app.state, "cache", None)
    route = request.scope.get("route")
    kind = kind or getattr(route, "path", "")
    key = scope_key(request.scope, request.headers, variant)
    if cache is not None:
        entry = cache.get(key)
        if entry is not None:
            HITS.labels(kind).inc()
            return _answer(entry)
        MISSES.labels(kind).inc()
    generation = cache.generation() if cache is not None else None
    model = await render()
    if isinstance(model, Response):
        body = bytes(model.body)
        entry = Entry(
            body=body,
            etag=model.headers.get("etag") or body_etag(body),
            content_type=model.headers.get("content-type", "application/octet-stream"),
            tags=frozenset(tags(model) if callable(tags) else tags),
            headers=tuple((k, v) for k, v in model.headers.items() if k in _KEPT_HEADERS),
            kind=kind,
            route=route,
        )
    else:
        body = unmark(model.model_dump_json(by_alias=True).encode())
        entry = Entry(
            body=body,
            etag=etag(model) if etag is not None else body_etag(body),
            content_type="application/json",
            tags=frozenset(tags(model) if callable(tags) else tags),
            kind=kind,
            route=route,
        )
    gzip: Gzip | None = getattr(request.app.state, "gzip", None)
    entry = await _encoded(entry, gzip, request.headers.get("accept-encoding"))
    if cache is not None and cache.store(key, entry, generation):
        STORES.labels(kind).inc()
    return _answer(entry)


# --- the listener ----------------------------------------------------------------------------


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
        """`<instance> <tag> <tag> …`: another instance's commit (ours were dropped after commit)."""
        sender, *tags = str(payload).split()
        if sender != self.cache.instance:
            self.cache.drop(tags)

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


# --- tags ------------------------------------------------------------------------------------

UNITS = "units"
"""The unit list and name search (every unit, every alias)."""
KEYS = "keys"
METRICS = "metrics"
RULES = "rules"


def unit_tag(unit_id: int) -> str:
    """A unit's record, and everything that shows it or counts its figures."""
    return f"unit:{unit_id}"


def units_shown(data: Any) -> set[int]:
    """Every unit a rendered read names (a `UnitRef`-shaped object, or a `unit_id`): its tags
    make a rename, a succession or a figure push of any of them drop the read."""
    found: set[int] = set()
    stack = [data]
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            if {"id", "code", "name", "valid_to"} <= item.keys() and isinstance(item["id"], int):
                found.add(item["id"])
            unit_id = item.get("unit_id")
            if isinstance(unit_id, int):
                found.add(unit_id)
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
    return found


def json_answer(model: BaseModel, headers: dict[str, str] | None = None) -> Response:
    """A model rendered as the cache stores it, with extra representation headers (`Vary`)."""
    body = unmark(model.model_dump_json(by_alias=True).encode())
    return Response(body, media_type="application/json", headers=headers)


def cluster_tag(number: int) -> str:
    """A cluster's record and everything of its years (members, leadership, covenant, …)."""
    return f"cluster:{number}"


# --- the fast path -----------------------------------------------------------------------------


class CachedReadMiddleware:
    """Answers a GET whose rendered entry is cached, for a key the cache knows, before routing:
    no route matching, no dependencies, no session. Everything else (a miss, an unknown or
    missing key, a read whose answer depends on more than its URL and headers) goes on to the
    app, which renders, stores and answers through `cached()`. Sits inside the request-id,
    language and metrics middleware, so its answers carry the same headers and are counted."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "GET":
            await self.app(scope, receive, send)
            return
        cache: ReadCache | None = getattr(scope["app"].state, "cache", None)
        if cache is None or not cache.usable:
            await self.app(scope, receive, send)
            return
        headers = Headers(scope=scope)
        entry = cache.get(scope_key(scope, headers)) if _known(scope, headers, cache) else None
        if entry is None:
            await self.app(scope, receive, send)
            return
        HITS.labels(entry.kind).inc()
        if entry.route is not None:
            scope["route"] = entry.route
        answer = _answer_headers(entry)  # a 200: the representation layer outside makes it a 304
        answer.append((b"content-type", entry.content_type.encode("latin-1")))
        if entry.encoding:
            answer.append((b"content-encoding", entry.encoding.encode("latin-1")))
        answer.append((b"content-length", str(len(entry.body)).encode("latin-1")))
        await send({"type": "http.response.start", "status": 200, "headers": answer})
        await send({"type": "http.response.body", "body": entry.body})


def _known(scope: Scope, headers: Headers, cache: ReadCache) -> bool:
    """Whether the request's caller is valid and known without I/O: the identity the auth
    middleware left (`app.core.identity`); an app without it (a bare test app) asks the key cache."""
    if IDENTITY in scope:
        return identity_of(scope).is_authenticated
    token = bearer_token(headers)
    return token is not None and cache.key(key_hash(token)) is not None


def _answer_headers(entry: Entry) -> list[tuple[bytes, bytes]]:
    return [
        (b"etag", entry.etag.encode("latin-1")),
        *((k.encode("latin-1"), v.encode("latin-1")) for k, v in entry.headers),
    ]
