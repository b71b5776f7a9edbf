"""A query parameter an operation does not take is refused, never ignored (issue 18, item 5).

`GET /v1/awards?unit=70` once answered every award, and `GET /v1/memberships?unit_id=70` every
membership: a misspelt or foreign filter was dropped, and the client took the whole list for the
filtered one. Every operation now answers a query parameter it does not declare with 400
`/problems/unknown-parameter`, naming it (`parameters`) and the ones the operation takes
(`accepted_parameters`, deprecated names left out).

`known_parameters` is one dependency of the whole app (`FastAPI(dependencies=…)`), so it runs on
every operation before its other dependencies: like an undecodable body, a request of the wrong
shape is refused before its key is checked, and before anything is read or written. What a route
takes is what its dependant declares, its dependencies' included (`Limit`, `Cursor`, the deprecated
names `app.core.deprecation.renamed` adds), worked out once per route. Routes outside the
document (`/docs`) are left alone.

The read cache cannot answer such a request first: its entries are keyed by the whole query
string (`app.core.cache.scope_key`) and stored only by a handler, which never runs for a refused
request; so no entry has a query string with a parameter its route does not take.
"""

from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from fastapi import Request
from fastapi._compat import field_annotation_is_sequence
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute
from pydantic import BaseModel

from app.core.errors import BadRequest
from app.core.i18n import _

UNKNOWN_PARAMETER = "unknown-parameter"
REPEATED_PARAMETER = "repeated-parameter"


@dataclass(frozen=True, slots=True)
class Accepted:
    names: frozenset[str]
    """Every query parameter the operation takes, deprecated names included."""
    shown: tuple[str, ...]
    """Those a problem names: in declaration order, deprecated names left out."""
    many: frozenset[str] = frozenset()
    """Those that take several values (a list); any other may be given once."""


_ACCEPTED: dict[int, tuple[APIRoute, Accepted]] = {}
"""By the route's id, with the route (routes are not hashable; holding it keeps its id its own)."""


def _query_names(dependant: Dependant) -> Iterator[tuple[str, bool, bool]]:
    """(name, deprecated, takes several values) of every query parameter of `dependant` and its
    dependencies."""
    pending = [dependant]
    seen: set[int] = set()
    while pending:
        current = pending.pop(0)
        if id(current) in seen:
            continue
        seen.add(id(current))
        for field in current.query_params:
            info = field.field_info
            model: Any = info.annotation
            if isinstance(model, type) and issubclass(model, BaseModel):  # a query parameter model
                for name, inner in model.model_fields.items():
                    yield inner.alias or name, bool(inner.deprecated), _is_list(inner.annotation)
            else:
                yield field.alias, bool(info.deprecated), _is_list(info.annotation)
        pending.extend(current.dependencies)


def _is_list(annotation: Any) -> bool:
    return field_annotation_is_sequence(annotation) and annotation is not str


def accepted(route: APIRoute) -> Accepted:
    """The query parameters `route` takes (worked out on its first request)."""
    held = _ACCEPTED.get(id(route))
    if held is not None and held[0] is route:
        return held[1]
    declared = list(_query_names(route.dependant))
    found = Accepted(
        names=frozenset(name for name, _deprecated, _many in declared),
        shown=tuple(dict.fromkeys(name for name, deprecated, _many in declared if not deprecated)),
        many=frozenset(name for name, _deprecated, many in declared if many),
    )
    _ACCEPTED[id(route)] = (route, found)
    return found


def _listed(names: Iterable[str]) -> str:
    return ", ".join(f"`{name}`" for name in names)


async def known_parameters(request: Request) -> None:
    """400 `unknown-parameter` when the query string names a parameter the operation does not take."""
    route = request.scope.get("route")
    if not isinstance(route, APIRoute) or not route.include_in_schema:
        return
    known = accepted(route)
    given = [name for name, _value in request.query_params.multi_items()]
    unknown = [name for name in dict.fromkeys(given) if name not in known.names]
    if not unknown:
        repeated = [name for name, count in Counter(given).items() if count > 1 and name not in known.many]
        if repeated:
            raise BadRequest(
                _(
                    "The query parameter(s) {repeated} are given more than once; give each once.",
                    repeated=_listed(repeated),
                ),
                slug=REPEATED_PARAMETER,
                parameters=repeated,
            )
        return
    if known.shown:
        detail = _(
            "This operation does not take the query parameter(s) {unknown}; it takes {accepted}.",
            unknown=_listed(unknown),
            accepted=_listed(known.shown),
        )
    else:
        detail = _("This operation takes no query parameters; remove {unknown}.", unknown=_listed(unknown))
    raise BadRequest(
        detail, slug=UNKNOWN_PARAMETER, parameters=unknown, accepted_parameters=list(known.shown)
    )


UNKNOWN_PARAMETER_DESCRIPTION = (
    "a query parameter the operation does not take (`/problems/unknown-parameter`, naming it in "
    "`parameters` and what the operation takes in `accepted_parameters`), or one given twice "
    "(`/problems/repeated-parameter`)"
)
"""The 400 every operation documents (`app.core.openapi`)."""
UNKNOWN_PARAMETER_EXAMPLE = {
    "type": f"/problems/{UNKNOWN_PARAMETER}",
    "title": "Yêu cầu không hợp lệ",
    "status": 400,
    "detail": "Thao tác này không nhận tham số truy vấn `page`; các tham số được nhận: `limit`, `cursor`.",
    "instance": "/v1/units",
    "parameters": ["page"],
    "accepted_parameters": ["limit", "cursor"],
    "request_id": "0f5c2a7e9b3d4c1a8e6f2b9d7c4a1e3f",
}
"""The example of that 400 (in Vietnamese, the default language)."""
