"""Cached reads: a GET answered from the store, or rendered, stored (tagged) and answered.

A route answers through `cached()`: the key of its answer is `scope_key` (path and query,
`Accept`, the negotiated language, whether gzip is accepted, and the route's variant), its
queries run only on a miss, and what it renders is stored as the request's variant stores it
(compressed once when the policy applies). `CachedReadMiddleware` answers a hit before routing,
for a caller known without I/O. `json_answer` renders a model the way the cache stores it.
"""

from collections.abc import Awaitable, Callable, Iterable
from dataclasses import replace
from typing import Any, TypeVar

from prometheus_client import Counter
from pydantic import BaseModel
from starlette.datastructures import Headers, MutableHeaders
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Receive, Scope, Send

from app.core.cache.store import Entry, ReadCache
from app.core.compression import GZIP, Gzip, accepts_gzip, compressible
from app.core.etag import body_etag, encoded_etag
from app.core.i18n import current_locale, merge_vary
from app.core.identity import IDENTITY, bearer_token, identity_of, key_hash
from app.core.numbers import unmark

HITS = Counter("thidua_cache_hits_total", "Reads answered from the in-process cache", ("kind",))
MISSES = Counter("thidua_cache_misses_total", "Cacheable reads that went to the database", ("kind",))
STORES = Counter("thidua_cache_stores_total", "Rendered reads stored in the cache", ("kind",))

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


_KEPT_HEADERS = ("content-disposition", "vary", "link")  # link: a page's `rel="next"`


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


def json_answer(model: BaseModel, headers: dict[str, str] | None = None) -> Response:
    """A model rendered as the cache stores it, with extra representation headers (`Vary`)."""
    body = unmark(model.model_dump_json(by_alias=True).encode())
    return Response(body, media_type="application/json", headers=headers)


# --- the fast path -----------------------------------------------------------------------------


class CachedReadMiddleware:
    """Answers a GET whose rendered entry is cached, for a key the cache knows, before routing:
    no route matching, no dependencies, no session. Everything else (a miss, an unknown or
    missing key, a read whose answer depends on more than its URL and headers) goes on to the
    app, which renders, stores and answers through `cached()`. Sits inside the request-id,
    language and metrics middleware, so its answers carry the same headers and are counted.

    A request without a credential never takes this path, not even for a published read that
    `PUBLIC_READS` opens to it: it knows no route, and what such a route answers an anonymous
    caller is another representation (only what is published), cached under a variant of its own
    (`app.auth.dependencies.PUBLIC_VARIANT`) that this path's key never names. So an anonymous
    request always reaches its route, whose dependency decides (401, or the published answer,
    itself a cache hit in `cached()`), and no entry read with a credential is ever its answer."""

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
