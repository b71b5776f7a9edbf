"""Cached reads: a GET answered from the store, or rendered, stored (tagged) and answered.

A route answers through `cached()`: the key of its answer is `scope_key` (path and query,
`Accept`, the negotiated language, whether gzip is accepted, and the route's variant), its
queries run only on a miss, and what it renders is stored as the request's variant stores it
(compressed once when the policy applies). A miss is rendered once however many readers ask
meanwhile: they wait for the first one's render, or get the stale entry it revalidates when they
may (`app.core.cache.store`: no reader gets one older than its own last write).
`CachedReadMiddleware` answers a hit (or such a stale entry) before routing, for a caller known
without I/O, and records who wrote. `json_answer` renders a model the way the cache stores it.
"""

import asyncio
import logging
from collections.abc import Awaitable, Callable, Iterable
from contextlib import nullcontext
from dataclasses import replace
from datetime import UTC, datetime
from email.utils import format_datetime
from typing import Any, TypeVar

from prometheus_client import Counter
from pydantic import BaseModel
from starlette.datastructures import Headers, MutableHeaders
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.core.cache.store import Entry, Flight, ReadCache
from app.core.compression import GZIP, Gzip, accepts_gzip, compressible
from app.core.etag import body_etag, encoded_etag, none_match
from app.core.i18n import LOCALES, current_locale, merge_vary, use_locale
from app.core.identity import IDENTITY, bearer_token, identity_of, key_hash
from app.core.numbers import unmark
from app.core.pagination import Page, page_headers
from app.core.request_session import REQUEST_SESSION

log = logging.getLogger("thidua.cache")

HITS = Counter("thidua_cache_hits_total", "Reads answered from the in-process cache", ("kind",))
MISSES = Counter("thidua_cache_misses_total", "Cacheable reads that went to the database", ("kind",))
STORES = Counter("thidua_cache_stores_total", "Rendered reads stored in the cache", ("kind",))
SHARED = Counter(
    "thidua_cache_shared_total", "Reads that waited for another reader's render of the same miss", ("kind",)
)
STALE = Counter(
    "thidua_cache_stale_total",
    "Reads answered with the entry a render in flight revalidates (never a writer's own)",
    ("kind",),
)

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


_KEPT_HEADERS = ("content-disposition", "vary", "link", "last-modified")  # link: a page's `rel="next"`


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
    hashing. A miss is rendered once: readers asking meanwhile get the stale entry it replaces
    or wait for it, as the store allows (`ReadCache.stale`, `ReadCache.flight`).
    """
    cache: ReadCache | None = getattr(request.app.state, "cache", None)
    route = request.scope.get("route")
    kind = kind or getattr(route, "path", "")
    key = scope_key(request.scope, request.headers, variant)
    if cache is None:
        return _answer(await _rendered(request, tags, render, etag, kind, route))
    entry = cache.get(key)
    if entry is not None:
        HITS.labels(kind).inc()
        return _answer(entry)
    own: tuple[tuple[str, ...], Flight] | None = request.scope.get(REVALIDATES)
    flight: Flight | None
    generation: int | None
    if own is not None and own[0] == key:  # the fast path's revalidation: this render is it
        flight, generation = own[1], own[1].generation
    else:
        who = _caller_key(request.scope)
        for _attempt in range(2):  # a failed render leaves its waiters to render, one of them first
            stale = cache.stale(key, who)
            if stale is not None and cache.in_flight(key):
                STALE.labels(kind).inc()
                return _answer(stale)
            waited = cache.flight(key, who)
            if waited is None:
                break
            SHARED.labels(kind).inc()
            shared = await asyncio.shield(waited.entry)
            if shared is not None:
                return _answer(shared)
        generation = cache.generation()
        flight = cache.begin(key, generation)
    MISSES.labels(kind).inc()
    try:
        entry = await _rendered(request, tags, render, etag, kind, route)
    except BaseException:
        cache.land(key, flight, None)
        raise
    if cache.store(key, entry, generation):
        STORES.labels(kind).inc()
    elif generation is not None and flight is not None:
        cache.hold(key, entry, generation, flight.joinable_until)
    cache.land(key, flight, entry)
    return _answer(entry)


async def _rendered(
    request: Request,
    tags: Iterable[str] | Callable[[Any], Iterable[str]],
    render: Callable[[], Awaitable[M | Response]],
    etag: Callable[[M], str] | None,
    kind: str,
    route: Any,
) -> Entry:
    """What `render` gives, as the request's variant stores it."""
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
            headers=last_modified(model),
            kind=kind,
            route=route,
        )
    gzip: Gzip | None = getattr(request.app.state, "gzip", None)
    return await _encoded(entry, gzip, request.headers.get("accept-encoding"))


def last_modified(model: object) -> tuple[tuple[str, str], ...]:
    """`Last-Modified` (RFC 9110 §8.8.2) where it is known: a versioned record's `recorded_at`,
    when its current version was recorded. The ETag stays the validator clients send back."""
    recorded_at = getattr(model, "recorded_at", None)
    if not isinstance(recorded_at, datetime):
        return ()
    return (("last-modified", format_datetime(recorded_at.astimezone(UTC), usegmt=True)),)


def _caller_key(scope: Scope) -> str | None:
    """Whose writes an answer must show (`Caller.rate_limit_key`); None for no valid caller."""
    caller = identity_of(scope).caller
    return caller.rate_limit_key if caller is not None else None


async def cached_page(
    request: Request,
    *,
    tags: Iterable[str],
    page: Callable[[], Awaitable[Page[Any]]],
    variant: str = "",
) -> Response:
    """A list read through the cache (`cached`): `page()` loads the page on a miss, stored with
    its `Link: rel="next"` header (`page_headers`), which a hit then answers too."""

    async def render() -> Response:
        loaded = await page()
        return json_answer(loaded, page_headers(request.scope, loaded))

    return await cached(request, tags=tags, render=render, variant=variant)


def json_answer(model: BaseModel, headers: dict[str, str] | None = None) -> Response:
    """A model rendered as the cache stores it, with extra representation headers (`Vary`)."""
    body = unmark(model.model_dump_json(by_alias=True).encode())
    return Response(body, media_type="application/json", headers=headers)


# --- the fast path -----------------------------------------------------------------------------


class CachedReadMiddleware:
    """Answers a GET whose rendered entry is cached, for a key the cache knows, before routing:
    no route matching, no dependencies, no session; and a dropped entry, while it is rendered
    again, to a caller who may have it (`ReadCache.stale`), having it rendered again behind it
    if nobody is (a replay of the request inside this middleware, its answer thrown away).
    Everything else (a miss, an unknown or missing key, a read whose answer depends on more than
    its URL and headers) goes on to the app, which renders, stores and answers through
    `cached()`. Sits inside the request-id, language and metrics middleware, so its answers
    carry the same headers and are counted.

    As a write's answer starts (it has committed, and its drops are done), it records that its
    caller wrote (`ReadCache.wrote`), and renders again what the write dropped here that was
    being read hard (`ReadCache.settle`), waiting for it (at most `WRITE_WAITS_SECONDS`) before
    the answer goes out: so whoever reads after the write reads it, and no reader waits.

    It sits outside the representation layer (`app.core.representation`), which would have
    nothing to do to a stored entry but its 304: the entry was compressed, its ETag made the
    gzip one and `Vary: Accept-Encoding` merged when `cached()` stored it for this variant, so
    this path compares `If-None-Match` with the stored ETag itself (`etag.none_match`, as that
    layer does) and answers the 304 without `Content-Type`, `Content-Encoding` or
    `Content-Length`, as that layer does.

    A request without a credential never takes this path, not even for a published read that
    `PUBLIC_READS` opens to it: it knows no route, and what such a route answers an anonymous
    caller is another representation (only what is published), cached under a variant of its own
    (`app.auth.dependencies.PUBLIC_VARIANT`) that this path's key never names. So an anonymous
    request always reaches its route, whose dependency decides (401, or the published answer,
    itself a cache hit in `cached()`), and no entry read with a credential is ever its answer."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self._revalidations: set[asyncio.Task[None]] = set()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        method = scope["method"]
        cache: ReadCache | None = getattr(scope["app"].state, "cache", None)
        if method != "GET" or cache is None or not cache.usable:
            if method in _WRITES and cache is not None:
                send = self._answering_write(scope, send, cache)
            await self.app(scope, receive, send)
            return
        headers = Headers(scope=scope)
        if not _known(scope, headers, cache):
            await self.app(scope, receive, send)
            return
        key = scope_key(scope, headers)
        entry = cache.get(key)
        if entry is not None:
            _counted(HITS, entry.kind).inc()
        elif (entry := cache.stale(key, _caller_key(scope))) is not None:
            if not cache.in_flight(key):
                self._revalidate(scope, key, cache)
            _counted(STALE, entry.kind).inc()
        else:
            await self.app(scope, receive, send)
            return
        if entry.route is not None:
            scope["route"] = entry.route
        if none_match(headers.get("if-none-match"), entry.etag):  # as the representation layer would
            await send({"type": "http.response.start", "status": 304, "headers": list(entry.wire_304)})
            await send({"type": "http.response.body", "body": b""})
            return
        await send({"type": "http.response.start", "status": 200, "headers": list(entry.wire)})
        await send({"type": "http.response.body", "body": entry.body})

    def _answering_write(self, scope: Scope, send: Send, cache: ReadCache) -> Send:
        """`send`, which, as a write's answer starts (its commit and its drops done), notes that
        its caller wrote, and renders again what it dropped here that readers were reading
        (`ReadCache.settle`), waiting for it: meanwhile readers get what it dropped (their reads
        are concurrent with the write), and once it has answered nobody does."""
        since = cache.mark()

        async def answered(message: Message) -> None:
            if message["type"] == "http.response.start":
                if (who := _caller_key(scope)) is not None:
                    cache.wrote(who)
                dropped = cache.settle(since)
                if dropped:
                    await self._revalidated(scope, dropped, cache)
            await send(message)

        return answered

    async def _revalidated(
        self, scope: Scope, dropped: list[tuple[tuple[str, ...], int]], cache: ReadCache
    ) -> None:
        """Renders each of `dropped` (a key, the generation of its drop) again, as the writer
        would read it (or waits for the render begun after its drop), for at most
        `WRITE_WAITS_SECONDS`; then retires what it dropped."""
        flights = []
        for key, generation in dropped:
            flight = cache.revalidation(key, generation)
            if flight is None:
                flight = self._revalidate(_as_read(scope, key), key, cache, locale=key[3])
            if flight is not None:
                flights.append(flight.entry)
        if flights:
            await asyncio.wait(flights, timeout=WRITE_WAITS_SECONDS)
        cache.retire(dropped)

    def _revalidate(
        self, scope: Scope, key: tuple[str, ...], cache: ReadCache, locale: str | None = None
    ) -> Flight | None:
        """Renders `key` again in the background, as the app would answer `scope` (routing,
        its dependencies, `cached()`), its answer thrown away: the stale entry is replaced as
        soon as it lands, and no reader waits for it."""
        flight = cache.begin(key, cache.generation())
        if flight is None:
            return None
        replay = {**scope, "state": {}, REVALIDATES: (key, flight)}
        replay.pop("route", None)
        replay.pop(REQUEST_SESSION, None)  # the request's, closed when it ends: the replay opens its own
        task = asyncio.create_task(self._replay(replay, key, flight, cache, locale))
        self._revalidations.add(task)
        task.add_done_callback(self._revalidations.discard)
        return flight

    async def _replay(
        self, scope: Scope, key: tuple[str, ...], flight: Flight, cache: ReadCache, locale: str | None
    ) -> None:
        try:
            with use_locale(locale) if locale in LOCALES else nullcontext():
                await self.app(scope, _no_body, _thrown_away)
        except Exception:
            log.exception("revalidating %s failed", scope.get("path"))
        finally:
            cache.land(key, flight, None)  # if `cached()` did not land it (no such route, a 404)


WRITE_WAITS_SECONDS = 2.0
"""How long a write's answer waits for what it renders again; past that, readers who missed it
render it themselves."""
_AS_READ = frozenset({b"authorization", b"host"})


def _as_read(scope: Scope, key: tuple[str, ...]) -> Scope:
    """`scope` (a write's) as the GET whose answer `key` names: its path and query, `Accept` and
    gzip or not as the key says, the writer's credential (what the cache holds, every key may
    read); its language is the key's (set around the replay)."""
    path, query, accept, _locale, coding, _variant = key
    headers = [(name, value) for name, value in scope["headers"] if name in _AS_READ]
    if accept:
        headers.append((b"accept", accept.encode("latin-1")))
    headers.append((b"accept-encoding", GZIP.encode() if coding else b"identity"))
    return {
        **scope,
        "method": "GET",
        "path": path,
        "raw_path": path.encode(),
        "query_string": query.encode("latin-1"),
        "headers": headers,
    }


REVALIDATES = "thidua.cache.revalidates"
"""`scope[REVALIDATES]`: the key and the flight a background revalidation renders (`cached()`
leads that flight rather than waiting for it)."""


async def _no_body() -> Message:
    return {"type": "http.request", "body": b"", "more_body": False}


async def _thrown_away(message: Message) -> None:
    return None


_WRITES = frozenset({"POST", "PUT", "PATCH", "DELETE"})


_CHILDREN: dict[tuple[Counter, str], Any] = {}
"""The labelled counters of the fast path, looked up once (`labels()` locks and builds a key)."""


def _counted(counter: Counter, kind: str) -> Any:
    child = _CHILDREN.get((counter, kind))
    if child is None:
        child = _CHILDREN[(counter, kind)] = counter.labels(kind)
    return child


def _known(scope: Scope, headers: Headers, cache: ReadCache) -> bool:
    """Whether the request's caller is valid and known without I/O: the identity the auth
    middleware left (`app.core.identity`); an app without it (a bare test app) asks the key cache."""
    if IDENTITY in scope:
        return identity_of(scope).is_authenticated
    token = bearer_token(headers)
    return token is not None and cache.key(key_hash(token)) is not None
