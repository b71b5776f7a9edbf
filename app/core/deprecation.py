"""Renamed query parameters: the old name stays accepted, deprecated, until its sunset.

A filter has one name across the API (issue 18, item 5): the unit filter is `unit` (a unit's
id), as `GET /v1/memberships` and `GET /v1/figures` name it; `GET /v1/awards` called it
`unit_id`. Renaming a parameter is not a break here: the old name keeps working.

`renamed(UnitQuery, name="unit", old="unit_id")`, as a handler parameter's `Depends`, declares
both names with the same type and bounds, the old one `deprecated: true` in the OpenAPI document
(its description names the new one), and gives the handler one value: the new name's, else the
old one's. Both sent with different values is 400 `/problems/conflicting-parameters` naming the
two (`parameters`); both with the same value is that value. Only optional filters (no value:
`None`) are renamed this way.

Every answer to a request that uses an old name says so (cache hits too), with the fields of
RFC 9745 and RFC 8594:

- `Deprecation: @<unix seconds>`: since when the name is deprecated (a structured-field date);
- `Sunset: <HTTP-date>`: from when the old name may be refused;
- `Link: </docs#/<tag>/<operationId>>; rel="deprecation"; type="text/html"`: the operation's
  documentation, which names the new parameter.

`DeprecationMiddleware` adds them, from the route the request matched (routing and a cache hit
both set `scope["route"]`, so it wraps the read cache, whose hits never reach the handler: see the
list in `app.main`) and the names in the query string.
"""

import inspect
import weakref
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import format_datetime
from typing import Annotated, Any
from urllib.parse import parse_qsl

from fastapi import Depends, Query
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute
from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.core.errors import BadRequest
from app.core.i18n import _

CONFLICTING_PARAMETERS = "conflicting-parameters"

RENAMED_AT = datetime(2026, 12, 7, tzinfo=UTC)
"""When the renames of issue 18 (item 5) deprecated the old names: the day of that change."""
SUNSET_AT = datetime(2028, 1, 1, tzinfo=UTC)
"""From when an old name may be refused: after the whole 2027 emulation year. The provincial
systems that call this API change with the movement's yearly cycle (covenants early in the year,
figures through it, the conferences, votes and nominations at its end), so each gets one full
cycle to move to the new name. Refusing the old name is a breaking change, so it also waits for a
major release (CHANGELOG.md: a change that can break a client bumps the major version)."""
DOCS_PATH = "/docs"


@dataclass(frozen=True, slots=True)
class Renamed:
    name: str
    old: str
    deprecated_at: datetime
    sunset_at: datetime


_RENAMES: "weakref.WeakKeyDictionary[Callable[..., Any], Renamed]" = weakref.WeakKeyDictionary()
"""The dependency `renamed` made → the rename it stands for (read by the middleware)."""


def renamed(
    annotation: Any,
    *,
    name: str,
    old: str,
    deprecated_at: datetime = RENAMED_AT,
    sunset_at: datetime = SUNSET_AT,
) -> Any:
    """A `Depends` declaring the query parameter `name` typed `annotation` (an `Annotated[… |
    None, Query(…), …]`) and its former name `old`, deprecated; its value is the one given."""
    rename = Renamed(name=name, old=old, deprecated_at=deprecated_at, sunset_at=sunset_at)
    deprecated = Query(
        deprecated=True,
        description=f"Deprecated since {deprecated_at:%Y-%m-%d}: the former name of `{name}`, "
        f"with the same meaning; it may be refused from {sunset_at:%Y-%m-%d} (`Sunset`). Answers to a "
        f"request using it carry `Deprecation`, `Sunset` and `Link` headers; `{name}` and "
        f"`{old}` with different values are 400 `/problems/{CONFLICTING_PARAMETERS}`.",
    )

    async def value(**given: Any) -> Any:
        new, former = given[name], given[old]
        if new is not None and former is not None and new != former:
            raise BadRequest(
                _(
                    "`{old}` is the former name of `{name}`: send `{name}` alone "
                    "(they were given different values).",
                    old=old,
                    name=name,
                ),
                slug=CONFLICTING_PARAMETERS,
                parameters=[name, old],
            )
        return new if new is not None else former

    value.__signature__ = inspect.Signature(  # type: ignore[attr-defined]
        [
            inspect.Parameter(name, inspect.Parameter.KEYWORD_ONLY, annotation=annotation, default=None),
            inspect.Parameter(
                old,
                inspect.Parameter.KEYWORD_ONLY,
                annotation=Annotated[annotation, deprecated],
                default=None,
            ),
        ]
    )
    value.__name__ = value.__qualname__ = f"renamed_{old}_to_{name}"
    _RENAMES[value] = rename
    return Depends(value)


_ROUTE_RENAMES: dict[int, tuple[APIRoute, tuple[Renamed, ...]]] = {}
"""By the route's id, with the route (routes are not hashable; holding it keeps its id its own)."""


def renames(route: APIRoute) -> tuple[Renamed, ...]:
    """The renamed parameters of `route` (worked out on its first request)."""
    held = _ROUTE_RENAMES.get(id(route))
    if held is not None and held[0] is route:
        return held[1]
    collected: list[Renamed] = []
    pending: list[Dependant] = [route.dependant]
    while pending:
        current = pending.pop()
        call = current.call
        if call is not None and call in _RENAMES:
            collected.append(_RENAMES[call])
        pending.extend(current.dependencies)
    found = tuple(dict.fromkeys(collected))
    _ROUTE_RENAMES[id(route)] = (route, found)
    return found


def deprecation_headers(used: list[Renamed], docs: str | None) -> list[tuple[str, str]]:
    """The fields announcing that the request used the old names `used` (none when empty)."""
    if not used:
        return []
    deprecated_at = min(r.deprecated_at for r in used)
    sunset_at = min(r.sunset_at for r in used)
    headers = [
        ("Deprecation", f"@{int(deprecated_at.timestamp())}"),
        ("Sunset", format_datetime(sunset_at.astimezone(UTC), usegmt=True)),
    ]
    if docs is not None:
        headers.append(("Link", f'<{docs}>; rel="deprecation"; type="text/html"'))
    return headers


def _docs(scope: Scope, route: APIRoute) -> str | None:
    """Where `/docs` shows the operation (Swagger UI's deep link `#/<tag>/<operationId>`)."""
    if not route.operation_id:
        return None
    tag = str(route.tags[0]) if route.tags else "default"
    return f"{scope.get('root_path', '')}{DOCS_PATH}#/{tag}/{route.operation_id}"


class DeprecationMiddleware:
    """Adds `Deprecation`, `Sunset` and `Link` to every answer of a request that names a
    deprecated parameter of the route it matched."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not scope.get("query_string"):
            await self.app(scope, receive, send)
            return

        async def announced(message: Message) -> None:
            if message["type"] == "http.response.start":
                route = scope.get("route")
                if isinstance(route, APIRoute) and (known := renames(route)):
                    query = scope["query_string"].decode("latin-1")
                    names = {name for name, _value in parse_qsl(query, keep_blank_values=True)}
                    used = [r for r in known if r.old in names]
                    headers = MutableHeaders(scope=message)
                    for field, field_value in deprecation_headers(used, _docs(scope, route)):
                        headers.append(field, field_value)
            await send(message)

        await self.app(scope, receive, announced)


DEPRECATION_HEADERS: dict[str, dict[str, Any]] = {
    "Deprecation": {
        "description": "On answers to a request that used a deprecated parameter (RFC 9745): "
        "since when it is deprecated, `@<unix seconds>`.",
        "schema": {"type": "string", "example": f"@{int(RENAMED_AT.timestamp())}"},
    },
    "Sunset": {
        "description": "On answers to a request that used a deprecated parameter (RFC 8594): "
        "from when it may be refused (an HTTP-date).",
        "schema": {"type": "string", "example": format_datetime(SUNSET_AT, usegmt=True)},
    },
    "Link": {
        "description": 'On answers to a request that used a deprecated parameter: `rel="deprecation"` '
        "to the operation's documentation (RFC 9745).",
        "schema": {"type": "string"},
    },
}
"""Documented on every answer of an operation with a deprecated parameter (`app.core.openapi`)."""
