"""Languages: Vietnamese first, English on request.

Texts stay in the code in English, marked for extraction: `_("No unit with id {unit_id}.",
unit_id=…)` translates into the language of the request being served and fills the named
`str.format` placeholders (values never enter the message id); `N_("…")` only marks a text
translated later with `_(text)`. The catalogs are `app/locales/<lang>/LC_MESSAGES/messages.po`
(`make messages` extracts and merges them), read with Babel once per process: no compiled
file to build or keep in step. A missing, empty or fuzzy translation falls back to the English.

`LanguageMiddleware` picks the language from `Accept-Language` (`vi`, `vi-VN`, `en`, `en-US`,
by q-value; anything else, or nothing: `DEFAULT_LOCALE`), keeps it in a context variable for
the whole request (handlers, services, problems raised before routing) and says so on every
response (`Content-Language`, `Vary: Accept-Language`). Outside a request (the CLI, the
importer) texts are in `DEFAULT_LOCALE`.

Localized text in a response model is typed `Localized`: its JSON schema says
`"x-localized": true`, and `localized_exclusions` leaves it out of what identifies a record
(ETag digests, revisions), since it is derived from the other fields in either language.
"""

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import date, datetime
from functools import cache
from pathlib import Path
from typing import Annotated, Any, Final, Literal, get_args, get_origin

from babel.messages.pofile import read_po
from babel.numbers import format_decimal
from pydantic import BaseModel, GetJsonSchemaHandler
from starlette.datastructures import Headers, MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.core.negotiation import preferences

Locale = Literal["vi", "en"]
LOCALES: Final[tuple[Locale, ...]] = ("vi", "en")
_SUPPORTED: Final[dict[str, Locale]] = {locale: locale for locale in LOCALES}
LOCALES_DIR = Path(__file__).resolve().parents[1] / "locales"
DOMAIN = "messages"

_locale: ContextVar[Locale | None] = ContextVar("locale", default=None)
_process_locale: Locale = "vi"
"""The language outside a request and outside `use_locale`: `DEFAULT_LOCALE`, as the process's
entry point read it (`set_process_locale`); Vietnamese until then."""


def current_locale() -> Locale:
    """The language of the request being served (`LanguageMiddleware`), or of the block
    (`use_locale`: the CLI speaks `DEFAULT_LOCALE` so); else the process's (`set_process_locale`)."""
    return _locale.get() or _process_locale


def set_process_locale(locale: Locale) -> None:
    """`DEFAULT_LOCALE` for work done outside any request or block: called once by the process's
    entry point (the server's module-level app), never by code that builds an app of its own."""
    global _process_locale
    _process_locale = locale


@contextmanager
def use_locale(locale: Locale) -> Iterator[None]:
    """Speak `locale` inside the block (tests, and work done outside a request)."""
    token = _locale.set(locale)
    try:
        yield
    finally:
        _locale.reset(token)


def catalog_path(locale: str) -> Path:
    return LOCALES_DIR / locale / "LC_MESSAGES" / f"{DOMAIN}.po"


@cache
def catalog(locale: str) -> dict[str, str]:
    """msgid → translation: the non-empty, non-fuzzy entries of the locale's `.po` file."""
    with catalog_path(locale).open("rb") as f:
        po = read_po(f, locale=locale, domain=DOMAIN)
    return {
        str(m.id): str(m.string)
        for m in po
        if m.id and isinstance(m.id, str) and isinstance(m.string, str) and m.string and not m.fuzzy
    }


def load_catalogs() -> None:
    """Read every catalog now (at start-up), so that a broken one stops the service at once."""
    for locale in LOCALES:
        catalog(locale)


def _(message: str, /, **values: object) -> str:
    """`message` in the current language, its `{placeholders}` filled from `values`."""
    locale = current_locale()
    text = catalog(locale).get(message) or message
    return text.format(**{name: shown(value, locale) for name, value in values.items()})


def N_(message: str) -> str:
    """Marks `message` for extraction only; `_(message)` translates it where it is used."""
    return message


def quantity(count: int) -> str:
    """A count as people read it: `999.950` in Vietnamese, `999,950` in English."""
    return format_decimal(count, locale=current_locale())


def shown(value: object, locale: Locale | None = None) -> object:
    """A value as people of `locale` read it in a sentence: a day is `2025-06-30` in English,
    `30/6/2025` in Vietnamese (as official documents and the press write it). Others as they are."""
    if isinstance(value, date) and not isinstance(value, datetime):
        if (locale or current_locale()) == "vi":
            return f"{value.day}/{value.month}/{value.year}"
        return value.isoformat()
    return value


# --- Negotiation ---------------------------------------------------------------------------


def negotiate(accept_language: str | None, default: Locale) -> Locale:
    """The language to answer in: the supported one the client ranks highest (q-value, then
    the order it lists them; `vi-VN` is `vi`, `en-US` is `en`; `*` is `default`), else `default`.
    A range with a malformed `q` is ignored (`app.core.negotiation`)."""
    if not accept_language:
        return default
    ranked: list[tuple[float, int, str]] = []
    refused: set[str] = set()
    for item in preferences(accept_language):
        primary = item.value.split("-", 1)[0]
        if item.q == 0 and item.value == primary:
            refused.add(primary)
        elif item.q and (primary == "*" or primary in _SUPPORTED):
            ranked.append((-item.q, item.position, primary))
    for _rank, _position, primary in sorted(ranked):
        wanted = (default, *LOCALES) if primary == "*" else (primary,)
        for candidate in wanted:
            if candidate not in refused:
                return _SUPPORTED[candidate]
    return default


def merge_vary(headers: MutableHeaders, field: str) -> None:
    """Add `field` to `Vary`, keeping what is there (`Origin`, …) and never twice."""
    present = [v.strip() for v in headers.get("vary", "").split(",") if v.strip()]
    if "*" in present or field.lower() in (v.lower() for v in present):
        return
    headers["Vary"] = ", ".join([*present, field])


class LanguageMiddleware:
    """Negotiates the language of every request, and labels every response with it; it wraps
    whatever may answer (401, 404 for unknown paths, 405, 413 from the body limit: the list in
    `app.main`). The docs and the OpenAPI document follow `?lang=` before it
    (`app.core.openapi_i18n.LanguageQueryMiddleware`).
    """

    def __init__(self, app: ASGIApp, default: Locale) -> None:
        self.app = app
        self.default = default

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        locale: Locale = negotiate(Headers(scope=scope).get("accept-language"), self.default)

        async def send_with_language(message: Message) -> None:
            if message["type"] == "http.response.start":
                label(MutableHeaders(scope=message), locale)
            await send(message)

        token = _locale.set(locale)
        await self.app(scope, receive, send_with_language)
        # Reset only on success, as for the request id: an exception leaves the language set for
        # the server's error handler outside this middleware (its 500 problem).
        _locale.reset(token)


def label(headers: MutableHeaders, locale: Locale) -> None:
    """`Content-Language: <locale>` and `Vary: Accept-Language` on a response (an idempotent
    replay keeps the language of the answer it replays)."""
    headers.setdefault("Content-Language", locale)
    merge_vary(headers, "Accept-Language")


# --- Localized fields ----------------------------------------------------------------------


class _LocalizedMarker:
    """Marks text in the request's language; `"x-localized": true` in the JSON schema."""

    def __get_pydantic_json_schema__(self, core_schema: Any, handler: GetJsonSchemaHandler) -> Any:
        schema = handler(core_schema)
        schema["x-localized"] = True
        return schema

    def __repr__(self) -> str:
        return "Localized"


LOCALIZED = _LocalizedMarker()
Localized = Annotated[str, LOCALIZED]
"""Text people read, in the negotiated language (a remark, a reason, a note, a problem's detail)."""


def _marked(annotation: Any) -> bool:
    if get_origin(annotation) is Annotated:
        base, *metadata = get_args(annotation)
        return any(m is LOCALIZED for m in metadata) or _marked(base)
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return False  # a nested record: its own localized fields are left out, not all of it
    return any(_marked(arg) for arg in get_args(annotation))


@cache
def localized_fields(model: type[BaseModel]) -> frozenset[str]:
    """The fields of `model` that hold localized text (`Localized`, `Localized | None`,
    `list[Localized]`)."""
    return frozenset(
        name
        for name, field in model.model_fields.items()
        if any(m is LOCALIZED for m in field.metadata) or _marked(field.annotation)
    )


def localized_exclusions(model: BaseModel) -> dict[str, Any]:
    """The `exclude=` of `model.model_dump()` that keeps only language-neutral data: every
    localized field, in nested models and lists of them too. Empty when there is none."""
    spec: dict[str, Any] = {}
    localized = localized_fields(type(model))
    for name in type(model).model_fields:
        if name in localized:
            spec[name] = True
        elif (inner := _exclusions_in(getattr(model, name))) is not None:
            spec[name] = inner
    return spec


def _exclusions_in(value: object) -> dict[Any, Any] | None:
    if isinstance(value, BaseModel):
        return localized_exclusions(value) or None
    if isinstance(value, list | tuple):
        items = {i: inner for i, item in enumerate(value) if (inner := _exclusions_in(item)) is not None}
        return items or None
    return None
