"""Keyset pagination with opaque cursors."""

import base64
import binascii
import json
from typing import Annotated, Any, Generic, TypeVar

from fastapi import Query
from pydantic import BaseModel, Field

from app.core.config import get_settings
from app.core.errors import BadRequest

T = TypeVar("T")

_settings = get_settings()

Limit = Annotated[
    int,
    Query(
        ge=1,
        le=_settings.page_max_limit,
        description=f"Page size (default {_settings.page_default_limit}, "
        f"at most {_settings.page_max_limit}).",
    ),
]
Cursor = Annotated[
    str | None,
    Query(max_length=200, description="The `next_cursor` of the previous page."),
]


class Page(BaseModel, Generic[T]):
    items: list[T]
    next_cursor: str | None = Field(description="Pass as `cursor` for the next page; null at the end.")


def encode_cursor(position: dict[str, Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(position, separators=(",", ":")).encode()).decode().rstrip("=")


def decode_cursor(cursor: str | None, *keys: str) -> dict[str, Any] | None:
    if cursor is None:
        return None
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        position = json.loads(base64.urlsafe_b64decode(padded.encode()))
    except (ValueError, binascii.Error, UnicodeDecodeError) as exc:
        raise BadRequest("The cursor is not one this API gave out.") from exc
    if not isinstance(position, dict) or set(position) != set(keys):
        raise BadRequest("The cursor is not one this API gave out.")
    return position


def page_of(rows: list[T], limit: int, position: Any) -> Page[T]:
    """`rows` were fetched with limit + 1; `position(last)` gives the next cursor's keys."""
    has_more = len(rows) > limit
    items = rows[:limit]
    next_cursor = encode_cursor(position(items[-1])) if has_more and items else None
    return Page[T](items=items, next_cursor=next_cursor)


DEFAULT_LIMIT = _settings.page_default_limit
