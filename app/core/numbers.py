"""Exact decimal numbers in JSON: the same digits in and out.

A figure, a threshold or a score is stored as PostgreSQL `numeric`, never as a binary float.
JSON itself has no float: a number is decimal text. Python's `json` and Pydantic read it into a
`float` and write a `Decimal` as a float or a string, so `12345678901234567.89` would come back
as `12345678901234568`. Here:

- **In.** A route of `ExactNumberRoute` parses its JSON body with `parse_float=Decimal`, so the
  text the client sent reaches the model as a `Decimal`; `ExactNumber` accepts a JSON number and
  nothing else (not `"412"`, not `true`), and its schema is `{"type": "number", "format":
  "decimal"}` (the OpenAPI format registry's fixed-point decimal of unspecified precision). Not
  `anyOf [number, string]`, which generated Kotlin, Swift and Dart clients turn into an empty
  class: a number that generators type (Kotlin `BigDecimal`; Swift `Decimal` with
  `--type-mappings number=Decimal`; TypeScript `number`, Python `float`, where a client that needs
  every digit parses the JSON text itself).
- **Out.** A whole number is written as an integer (`-5`, not `-5.0`); a fraction whose shortest
  float text is its own digits (`98.47`) as that float; any other (`12345678901234567.89`, more
  digits than a double holds) as a marked string that `unmark` turns back into the bare number
  wherever JSON bytes leave the process: `ExactNumberMiddleware` for answers, `render_json` for
  the cache and the database's `jsonb`. The mark carries a random per-process token, so no text a
  client stored can forge one.
"""

import json
import re
import secrets
from collections.abc import Callable, Coroutine
from decimal import Decimal, InvalidOperation
from typing import Annotated, Any

from fastapi import Request, Response
from fastapi.responses import JSONResponse
from fastapi.routing import APIRoute
from pydantic import GetCoreSchemaHandler, GetJsonSchemaHandler, PlainSerializer, WithJsonSchema
from pydantic.json_schema import JsonSchemaValue
from pydantic_core import CoreSchema, core_schema
from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.core.buffering import buffering
from app.core.i18n import _

_TOKEN = "\ue000" + secrets.token_hex(8) + ":"
_MARKED = re.compile(rb'"' + re.escape(_TOKEN.encode()) + rb'(-?[0-9]+(?:\.[0-9]+)?(?:E[-+]?[0-9]+)?)"')
_TOKEN_BYTES = _TOKEN.encode()


def as_json(value: Decimal) -> int | float | str:
    """What a JSON serializer writes for `value`: an int, a float that prints as the same
    number, or a marked exact text that `unmark` makes a bare JSON number."""
    if value == value.to_integral_value():
        return int(value)
    as_float = float(value)
    shortest = repr(as_float)
    if "e" not in shortest and Decimal(shortest) == value:  # `1e-21` is not the digits sent
        return as_float
    return _TOKEN + _plain(value)


def _plain(value: Decimal) -> str:
    """The decimal's digits without an exponent when that is short, else `1.5E+30`."""
    text = format(value, "f")
    return text if len(text) <= 60 else str(value).replace("e", "E")


def unmark(body: bytes) -> bytes:
    """JSON bytes with every marked exact number written as a bare JSON number."""
    if _TOKEN_BYTES not in body:
        return body
    return _MARKED.sub(rb"\1", body)


def render_json(value: Any) -> str:
    """`json.dumps` for `jsonb` and cached bodies: exact `Decimal`s, marked numbers unmarked."""
    text = json.dumps(value, ensure_ascii=False, separators=(",", ":"), default=_default)
    return unmark(text.encode()).decode() if _TOKEN in text else text


class DuplicateMember(json.JSONDecodeError):
    """An object naming a member twice: JSON leaves it undefined, Python keeps the last one, so a
    body saying `"value": 5, "value": 9` would be read as 9 without a word. Refused instead."""

    PREFIX = "Duplicate member "

    def __init__(self, name: str) -> None:
        super().__init__(f"{self.PREFIX}{name}", "", 0)
        self.name = name


def _unique_members(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    found: dict[str, Any] = {}
    for name, value in pairs:
        if name in found:
            raise DuplicateMember(name)
        found[name] = value
    return found


def json_decoder() -> json.JSONDecoder:
    """A decoder keeping numbers exact and refusing an object that names a member twice."""
    return json.JSONDecoder(parse_float=Decimal, object_pairs_hook=_unique_members)


def parse_json(text: str | bytes) -> Any:
    """`json.loads` keeping every non-integer number as the exact `Decimal` it was written as, and
    refusing a member named twice (`DuplicateMember`)."""
    return json.loads(text, parse_float=Decimal, object_pairs_hook=_unique_members)


def json_problem(message: str, position: int | None) -> str:
    """What is wrong with an undecodable JSON body, in the request's language (the decoder's own
    message is English)."""
    if message.startswith(DuplicateMember.PREFIX):
        return _(
            "The body is not valid JSON: the member {name} is given twice.",
            name=message.removeprefix(DuplicateMember.PREFIX),
        )
    if position is not None:
        return _("The body is not valid JSON (at character {position}).", position=position)
    return _("The body is not valid JSON.")


def _default(value: Any) -> Any:
    if isinstance(value, Decimal):
        return as_json(value)
    raise TypeError(f"{type(value).__name__} is not JSON serializable")


MAX_DECIMALS = 30
"""Decimal places a number may carry: `1e-999999` is a JSON number, but no figure, and the
database would refuse it only when written (a dry run would pass it)."""


def precise_enough(number: Decimal) -> bool:
    exponent = number.as_tuple().exponent
    return isinstance(exponent, int) and exponent >= -MAX_DECIMALS and len(number.as_tuple().digits) <= 60


def _json_number(value: Any) -> Decimal:
    """A JSON number (not a string, not a boolean), as the exact decimal it was written as."""
    if isinstance(value, bool) or not isinstance(value, (int, float, Decimal)):
        raise ValueError(_("Must be a number."))
    try:
        number = (
            value
            if isinstance(value, Decimal)
            else Decimal(repr(value) if isinstance(value, float) else value)
        )
    except InvalidOperation:
        raise ValueError(_("Must be a number.")) from None
    if not number.is_finite():
        raise ValueError(_("Must be a number."))
    if not precise_enough(number):
        raise ValueError(_("Must be a number with at most {places} decimal places.", places=MAX_DECIMALS))
    return number


DECIMAL_SCHEMA: dict[str, Any] = {"type": "number", "format": "decimal"}
"""An exact number's schema: a JSON number, read as a decimal (the format registry's `decimal`)."""


class exact_number:
    """`Annotated[Decimal, exact_number(0, 10**18)]`: a JSON number (not a string, not a boolean)
    kept exactly, within the bounds; its schema is `DECIMAL_SCHEMA` with them."""

    def __init__(
        self,
        minimum: Decimal | int | None = None,
        maximum: Decimal | int | None = None,
        *,
        exclusive_minimum: bool = False,
    ) -> None:
        self.minimum = None if minimum is None else Decimal(minimum)
        self.maximum = None if maximum is None else Decimal(maximum)
        self.exclusive_minimum = exclusive_minimum

    def validate(self, value: Any) -> Decimal:
        number = _json_number(value)
        low = self.minimum
        if (low is not None and (number < low or (self.exclusive_minimum and number == low))) or (
            self.maximum is not None and number > self.maximum
        ):
            raise ValueError(
                _("Must be a number from {minimum} to {maximum}.", minimum=self.minimum, maximum=self.maximum)
            )
        return number

    def __get_pydantic_core_schema__(self, source: Any, handler: GetCoreSchemaHandler) -> CoreSchema:
        return core_schema.no_info_plain_validator_function(
            self.validate,
            serialization=core_schema.plain_serializer_function_ser_schema(
                as_json, when_used="json", return_schema=core_schema.any_schema()
            ),
        )

    def __get_pydantic_json_schema__(
        self, schema: CoreSchema, handler: GetJsonSchemaHandler
    ) -> JsonSchemaValue:
        out: dict[str, Any] = dict(DECIMAL_SCHEMA)
        if self.minimum is not None:
            out["exclusiveMinimum" if self.exclusive_minimum else "minimum"] = as_json(self.minimum)
        if self.maximum is not None:
            out["maximum"] = as_json(self.maximum)
        return out


ExactNumber = Annotated[Decimal, exact_number()]
"""Any finite JSON number, kept exactly (an input: a JSON number and nothing else)."""

ExactDecimal = Annotated[
    Decimal,
    PlainSerializer(as_json, return_type=Any, when_used="json"),
    WithJsonSchema(DECIMAL_SCHEMA),
]
"""A number in an answer, written exactly (read from the database as `numeric` or its text)."""


class ExactJSONResponse(JSONResponse):
    """A JSON answer from plain data that may hold `Decimal`s (a stored body replayed)."""

    def render(self, content: Any) -> bytes:
        return render_json(content).encode()


class ExactJSONRequest(Request):
    async def json(self) -> Any:
        if not hasattr(self, "_json"):
            self._json = parse_json(await self.body())
        return self._json


class ExactNumberRoute(APIRoute):
    """A route whose JSON body keeps its numbers' exact digits (`parse_float=Decimal`)."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def exact(request: Request) -> Response:
            return await handler(ExactJSONRequest(request.scope, request.receive))

        return exact


class ExactNumberMiddleware:
    """Writes the marked exact numbers of a JSON answer as bare JSON numbers (see the module)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def finish(start: Message, body: bytes) -> None:
            exact = unmark(body)
            if exact is not body:
                headers = MutableHeaders(scope=start)
                headers["content-length"] = str(len(exact))
            await send(start)
            await send({"type": "http.response.body", "body": exact})

        await self.app(scope, receive, buffering(send, _is_json, finish))


def _is_json(start: Message) -> bool:
    for name, value in start.get("headers", ()):
        if name == b"content-type":
            return bool(value.startswith((b"application/json", b"application/problem+json")))
    return False
