"""Keyset pagination with opaque cursors.

A cursor encodes the last key of the page it ends (or, for a ranked list whose order is not a
key's, the offset of the next page). Every string that matches the documented pattern is a valid
cursor, so a client can never hold one we reject.
"""

from collections.abc import Callable
from typing import Annotated, Generic, TypeVar

from fastapi import Query
from pydantic import BaseModel, Field

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
