"""Keyset pagination with opaque cursors.

A cursor encodes the last key of the page it ends (or, for a ranked list whose order is not a
key's, the offset of the next page). Every string that matches the documented pattern is a valid
cursor, so a client can never hold one we reject.
"""

import re
from collections.abc import Callable
from typing import Annotated, Any, Generic, TypeVar
from urllib.parse import parse_qsl, urlencode

from fastapi import Query
from pydantic import BaseModel, Field
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.core.config import get_settings
from app.core.types import PlainDecimal

T = TypeVar("T")

_settings = get_settings()
"""Read at import, on purpose: FastAPI takes a query parameter's default and bounds from the
route's signature when the routers are imported, before any app (and the settings it is built
with) exists, and they are what the contract declares. So `PAGE_DEFAULT_LIMIT` and
`PAGE_MAX_LIMIT` are the process environment's, not those given to `create_app(settings)`.

A `Depends` reading `request.app.state.settings` could apply an app's own page sizes within the
declared bounds, but it does not keep the contract: a dependency's query parameters come after the
route's own (in `openapi.json` and in the parameters a refusal lists), so `limit` and `cursor`
would move behind those a dependency declares first (`GET /v1/awards`: `unit`, `unit_id`)."""
DEFAULT_LIMIT = _settings.page_default_limit
_MAX_KEY = 2_147_483_647
_MASK = 0x5A3C96E1

Limit = Annotated[
    int,
    Query(
        ge=1,
        le=_settings.page_max_limit,
        description=f"Page size (default {_settings.page_default_limit}, "
        f"at most {_settings.page_max_limit}).",
    ),
    PlainDecimal,
]
Cursor = Annotated[
    str | None,
    Query(
        pattern=r"^[0-9a-f]{1,8}$",
        description="Opaque: the `next_cursor` of the previous page.",
    ),
]


class Page(BaseModel, Generic[T]):
    """The one list shape: `items`, and the cursor of the next page (null at the end)."""

    items: list[T]
    next_cursor: str | None = Field(description="Pass as `cursor` for the next page; null at the end.")


def encode_cursor(key: int) -> str:
    return format(key ^ _MASK, "x")


def decode_cursor(cursor: str | None) -> int | None:
    """The key after which the page starts (keys beyond the column's range end the list)."""
    if cursor is None:
        return None
    return min(int(cursor, 16) ^ _MASK, _MAX_KEY)


def page_of(rows: list[T], limit: int, key: Callable[[T], int]) -> Page[T]:
    """`rows` were fetched with `limit + 1`; the extra row only says there is a next page."""
    items = rows[:limit]
    next_cursor = encode_cursor(key(items[-1])) if len(rows) > limit and items else None
    return Page[T](items=items, next_cursor=next_cursor)


def page_at(rows: list[T], limit: int, offset: int) -> Page[T]:
    """A page of a ranked list, fetched with `OFFSET offset LIMIT limit + 1`; the cursor of the
    next page is its offset."""
    items = rows[:limit]
    next_cursor = encode_cursor(offset + len(items)) if len(rows) > limit and items else None
    return Page[T](items=items, next_cursor=next_cursor)


_NEXT_CURSOR = re.compile(rb'"next_cursor"\s*:\s*"([0-9a-f]{1,8})"\s*}\s*$')
"""The end of a page's JSON: `Page` declares `next_cursor` last, so it is the last member."""


def next_link(path: str, query_string: bytes, cursor: str) -> str:
    """`<path?…&cursor=…>; rel="next"` (RFC 8288): the request's own query with the next cursor, as
    a reference relative to the request's URI, so it holds behind any proxy."""
    query = [
        (k, v) for k, v in parse_qsl(query_string.decode("latin-1"), keep_blank_values=True) if k != "cursor"
    ]
    return f'<{path}?{urlencode([*query, ("cursor", cursor)])}>; rel="next"'


def page_headers(scope: Scope, page: Page[Any]) -> dict[str, str]:
    """The `Link` of a page a route renders itself (a cached read, which the middleware below
    does not see on a hit)."""
    if page.next_cursor is None:
        return {}
    path = scope.get("root_path", "") + scope["path"]
    return {"Link": next_link(path, scope.get("query_string", b""), page.next_cursor)}


class NextPageLinkMiddleware:
    """Every answer that is a `Page` with a next one also says where that page is, in a
    `Link: <…>; rel="next"` header (RFC 8288): a client follows it without knowing our cursor.

    Innermost, so it sees the matched route (`scope["route"]`, whose `response_model` says a
    `Page`) and the JSON before any encoding; it reads the cursor from the end of the body
    (`Page` declares `next_cursor` last), so that services build pages without any HTTP type. A
    page served through the read cache (`cached()`) sets the header in what it renders
    (`page_headers`): the cache answers hits outside this middleware, and its misses come here
    compressed."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "GET":
            await self.app(scope, receive, send)
            return
        start: Message | None = None

        async def sending(message: Message) -> None:
            nonlocal start
            if (
                message["type"] == "http.response.start"
                and message["status"] == 200
                and not any(name.lower() == b"link" for name, _value in message["headers"])
            ):
                start = message  # (a route that renders its own `Link` is left alone: `page_headers`)
                return
            if start is not None:
                route = scope.get("route")
                match = (
                    _NEXT_CURSOR.search(message.get("body", b"")[-64:])
                    if _answers_page(getattr(route, "response_model", None)) and not message.get("more_body")
                    else None
                )
                if match is not None:
                    path = scope.get("root_path", "") + scope["path"]
                    link = next_link(path, scope.get("query_string", b""), match[1].decode())
                    start = {**start, "headers": [*start["headers"], (b"link", link.encode("latin-1"))]}
                await send(start)
                start = None
            await send(message)

        await self.app(scope, receive, sending)


def _answers_page(model: object) -> bool:
    return isinstance(model, type) and issubclass(model, Page)
