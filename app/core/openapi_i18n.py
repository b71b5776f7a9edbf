"""The OpenAPI document in Vietnamese and English, from the catalogs the messages use (issue 22,
item 6).

What is translated: the API's description (line by line: each line of `app.main.DESCRIPTION` is
one message, a list item's `* ` kept), each tag's description and each operation's summary. What
is not: tag names and operation ids (generators name classes and methods after them, so they stay
ASCII), operation and schema descriptions (English), field names, enum values, examples.

- **Built once, translated per language**: `localized` wraps `build_openapi`, which builds (and
  caches on the app) the English document from the code; each other language's copy is made once
  from it and kept beside it. The language is the request's (`current_locale()`), or the block's
  (`use_locale`: `python -m app openapi` and the test comparing the committed document pin
  `COMMITTED_LOCALE`, Vietnamese), or `DEFAULT_LOCALE`.
- **Extracted like every message**: the English texts stay in the code (`summary="…"` on each
  route, `N_("…")` around the description's lines and the tags' descriptions); `extract` is the
  Babel method of `babel.cfg`, so `make messages` puts the summaries into the catalogs beside the
  `_()`/`N_()` texts.
- **Chosen by `?lang=`** on the docs page, the document and the problem pages
  (`LanguageQueryMiddleware`, before `LanguageMiddleware`): `lang=vi|en` stands for
  `Accept-Language`. Without it the document and the problem pages follow `Accept-Language`, as
  every answer does, and the docs page is in `DEFAULT_LOCALE`: browsers send the language of
  their interface (Chromium: `en-US`), which says little about what their user reads; the page
  then loads the document in its own language, and links the other.
"""

import ast
import copy
from collections.abc import Callable, Iterator
from functools import wraps
from typing import IO, Any, Concatenate, ParamSpec
from urllib.parse import parse_qsl

from babel.messages.extract import extract_python
from fastapi import FastAPI
from starlette.types import ASGIApp, Receive, Scope, Send

from app.core.i18n import Locale, catalog, current_locale

COMMITTED_LOCALE: Locale = "vi"
"""The language of the committed document (`openapi/openapi.json`): the default one. `python -m app
openapi` writes it so, and the test comparing it with the served one reads it so."""
P = ParamSpec("P")
Document = dict[str, Any]
_LIST_ITEM = "* "


def translate(text: str, locale: Locale) -> str:
    """`text` (a message id) in `locale`: its translation, else itself. Never formatted: a
    summary may hold braces (`{number}`) that are not placeholders."""
    return catalog(locale).get(text) or text


def _description(text: str, locale: Locale) -> str:
    """Line by line; a list item's marker is kept outside the message."""
    lines = []
    for line in text.split("\n"):
        marker = _LIST_ITEM if line.startswith(_LIST_ITEM) else ""
        content = line.removeprefix(marker)
        lines.append(marker + translate(content, locale) if content.strip() else line)
    return "\n".join(lines)


def translated(document: Document, locale: Locale) -> Document:
    """A copy of the English `document` in `locale` (the document itself for English)."""
    if locale == "en":
        return document
    done = copy.deepcopy(document)
    info = done.get("info", {})
    if "description" in info:
        info["description"] = _description(info["description"], locale)
    for tag in done.get("tags", []):
        if "description" in tag:
            tag["description"] = translate(tag["description"], locale)
    for item in done.get("paths", {}).values():
        for operation in item.values():
            if isinstance(operation, dict) and "summary" in operation:
                operation["summary"] = translate(operation["summary"], locale)
    return done


def localized(
    build: Callable[Concatenate[FastAPI, P], Document],
) -> Callable[Concatenate[FastAPI, P], Document]:
    """`build_openapi` in the current language: the English document it builds (and caches on the
    app), translated once per language and kept on the app beside it."""

    @wraps(build)
    def in_language(app: FastAPI, /, *args: P.args, **kwargs: P.kwargs) -> Document:
        english = build(app, *args, **kwargs)
        locale = current_locale()
        if locale == "en":
            return english
        kept: dict[Locale, tuple[Document, Document]] | None = getattr(
            app.state, "openapi_translations", None
        )
        if kept is None:
            kept = app.state.openapi_translations = {}
        held = kept.get(locale)
        if held is None or held[0] is not english:  # none yet, or the English one was rebuilt
            held = kept[locale] = (english, translated(english, locale))
        return held[1]

    return in_language


# --- `?lang=` ------------------------------------------------------------------------------


class LanguageQueryMiddleware:
    """`?lang=vi|en` on `docs`, `document` and the paths under `prefixes`: the language asked there
    (for a link to share, and for the docs page to load its document in its own language), in
    place of `Accept-Language`, for `LanguageMiddleware` inside it to read. On `docs` without
    `lang`, `Accept-Language` is set aside: the page is in the default language."""

    def __init__(
        self, app: ASGIApp, *, docs: str, document: str | None, prefixes: tuple[str, ...] = ()
    ) -> None:
        self.app = app
        self.docs = docs
        self.paths = {docs, document} - {None}
        self.prefixes = prefixes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = scope.get("path", "") if scope["type"] == "http" else ""
        if path and (path in self.paths or path.startswith(self.prefixes)):
            asked = [v for k, v in parse_qsl(scope.get("query_string", b"").decode("latin-1")) if k == "lang"]
            if asked or path == self.docs:
                headers = [(k, v) for k, v in scope["headers"] if k != b"accept-language"]
                if asked:
                    headers.append((b"accept-language", asked[-1].encode("latin-1")))
                scope = {**scope, "headers": headers}
        await self.app(scope, receive, send)


# --- Extraction ----------------------------------------------------------------------------


def extract(fileobj: IO[bytes], keywords: Any, comment_tags: Any, options: Any) -> Iterator[tuple[Any, ...]]:
    """Babel's extraction method for `app/**.py` (`babel.cfg`): the `_()`/`N_()` texts, as Babel's
    own Python method finds them, and every operation's summary (a `summary="…"` string given to a
    call: the route decorators), as if marked `N_()`."""
    yield from extract_python(fileobj, keywords, comment_tags, options)
    fileobj.seek(0)
    tree = ast.parse(fileobj.read().decode(options.get("encoding", "utf-8")))
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call):
            continue
        for keyword in node.keywords:
            value = keyword.value
            if keyword.arg == "summary" and isinstance(value, ast.Constant) and isinstance(value.value, str):
                yield value.lineno, "N_", value.value, []
