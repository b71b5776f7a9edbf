"""A problem type as people and programs read it: an HTML page (a browser's) or JSON, in the
request's language (the registry's texts are message ids, translated here)."""

import re
from html import escape
from http import HTTPStatus
from typing import Any

from app.core.errors import PROBLEM_BASE, TITLES
from app.core.i18n import N_, _, catalog, current_locale
from app.problems.registry import PROBLEM_TYPES, ProblemType

INDEX_INTRO = N_(
    "Every error answer of this API is `application/problem+json` (RFC 9457), and its `type` names "
    "one of the problem types below. Programs tell problems apart by `type` and `status`, never by "
    "`title` or `detail`, which are written for people, in the request's language. Every problem "
    "carries `type`, `title`, `status` and `request_id` (quote it when reporting a problem), most a "
    "`detail` and an `instance`; the members listed for a type are those it may add."
)
BLANK_NOTE = N_(
    "A path that does not exist (404) and a method the path does not take (405, with `Allow`) "
    "answer `type: about:blank`: their status says it all."
)

_CODE = re.compile(r"`([^`]+)`")
_STYLE = (
    "body{font:16px/1.55 system-ui,sans-serif;max-width:48rem;margin:2rem auto;padding:0 1rem;"
    "color:#1b1b1b}code{background:#f1f1f1;padding:0 .25em;border-radius:3px}dt{font-weight:600;"
    "margin-top:1rem}dd{margin-left:1.5rem}nav{font-size:.9rem;margin-bottom:1.5rem}"
    "table{border-collapse:collapse;width:100%}td,th{text-align:left;padding:.3rem .5rem;"
    "border-bottom:1px solid #ddd;vertical-align:top}"
)
OTHER_LANGUAGE = {"vi": ("en", "English"), "en": ("vi", "Tiếng Việt")}


def _t(text: str) -> str:
    """A registry text in the request's language, as written: never formatted, since a text may
    quote a path template (`/v1/awards/{id}/transitions`)."""
    return catalog(current_locale()).get(text) or text


def type_uri(slug: str) -> str:
    return PROBLEM_BASE + slug


def status_line(status: int) -> str:
    """`409 Xung đột`: the status and its title, as problems say it."""
    title = _(TITLES[status]) if status in TITLES else HTTPStatus(status).phrase
    return f"{status} {title}"


def as_json(problem: ProblemType) -> dict[str, Any]:
    return {
        "type": type_uri(problem.slug),
        "title": _t(problem.title),
        "statuses": list(problem.statuses),
        "description": _t(problem.meaning),
        "members": list(problem.members),
        "action": _t(problem.action),
    }


def index_json() -> dict[str, Any]:
    return {"items": [as_json(p) for p in PROBLEM_TYPES.values()], "next_cursor": None}


def _text(text: str) -> str:
    """Escaped, with `code` spans as <code>."""
    return _CODE.sub(r"<code>\1</code>", escape(text, quote=False))


def _page(title: str, body: str, *, root: str, here: str) -> str:
    locale = current_locale()
    other, other_name = OTHER_LANGUAGE[locale]
    index, docs = escape(_("Problem types")), escape(_("API documentation"))
    nav = (
        f'<nav><a href="{root}/problems?lang={locale}">{index}</a> · '
        f'<a href="{root}/docs?lang={locale}">{docs}</a> · '
        f'<a href="{root}{here}?lang={other}" hreflang="{other}" lang="{other}">{other_name}</a></nav>'
    )
    return (
        f'<!doctype html>\n<html lang="{locale}">\n<head>\n<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f"<title>{escape(title)} · thidua</title>\n<style>{_STYLE}</style>\n</head>\n"
        f"<body>\n{nav}\n<main>\n{body}\n</main>\n</body>\n</html>\n"
    )


def problem_html(problem: ProblemType, *, root: str) -> str:
    members = ", ".join(f"<code>{m}</code>" for m in problem.members) or escape(
        _("none beyond the common ones")
    )
    rows = (
        (_("HTTP status"), escape(", ".join(map(status_line, problem.statuses)))),
        (_("What it means"), _text(_t(problem.meaning))),
        (_("Members it may carry"), members),
        (_("What to do"), _text(_t(problem.action))),
    )
    listed = "\n".join(f"<dt>{escape(label)}</dt><dd>{value}</dd>" for label, value in rows)
    body = (
        f"<h1>{escape(_t(problem.title))}</h1>\n"
        f"<p><code>type</code>: <code>{type_uri(problem.slug)}</code></p>\n<dl>\n{listed}\n</dl>"
    )
    return _page(_t(problem.title), body, root=root, here=type_uri(problem.slug))


def index_html(*, root: str) -> str:
    locale = current_locale()
    rows = "\n".join(
        f'<tr><td><a href="{root}{type_uri(p.slug)}?lang={locale}"><code>{type_uri(p.slug)}</code></a></td>'
        f"<td>{', '.join(map(str, p.statuses))}</td><td>{escape(_t(p.title))}</td></tr>"
        for p in PROBLEM_TYPES.values()
    )
    title, status, named = _("Problem types"), _("HTTP status"), _("Problem type")
    body = (
        f"<h1>{escape(title)}</h1>\n<p>{_text(_t(INDEX_INTRO))}</p>\n<p>{_text(_t(BLANK_NOTE))}</p>\n"
        f"<table>\n<thead><tr><th><code>type</code></th><th>{escape(status)}</th>"
        f"<th>{escape(named)}</th></tr></thead>\n<tbody>\n{rows}\n</tbody>\n</table>"
    )
    return _page(title, body, root=root, here="/problems")
