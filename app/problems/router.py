"""`GET /problems` and `GET /problems/{slug}`: what each problem `type` means (RFC 9457 §3.1.1: a
type URI, dereferenced, documents the problem for people). HTML by default, JSON when `Accept`
prefers it; in the request's language. Documentation like `/docs`: no credential, and outside the
OpenAPI document."""

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, JSONResponse, Response

from app.core.errors import NotFound
from app.core.i18n import _
from app.core.negotiation import preferences
from app.problems import pages
from app.problems.registry import PROBLEM_TYPES

router = APIRouter(prefix="/problems", include_in_schema=False)

_HEADERS = {"Vary": "Accept", "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'"}


def _quality(offer: str, accept: str | None) -> float:
    """The q-value `Accept` gives `offer` (the most specific range that matches it)."""
    if not accept:
        return 0.0
    main = offer.split("/", 1)[0]
    best: tuple[int, float] = (-1, 0.0)
    for item in preferences(accept):
        rank = (
            2 if item.value == offer else 1 if item.value == f"{main}/*" else 0 if item.value == "*/*" else -1
        )
        if rank > best[0]:
            best = (rank, item.q)
    return best[1]


def _wants_json(request: Request) -> bool:
    """JSON when `Accept` ranks it above HTML; HTML otherwise (a browser, or no preference)."""
    accept = request.headers.get("accept")
    json = max(_quality("application/json", accept), _quality("application/problem+json", accept))
    return json > 0 and json > _quality("text/html", accept)


@router.get("")
async def list_problem_types(request: Request) -> Response:
    if _wants_json(request):
        return JSONResponse(pages.index_json(), headers=_HEADERS)
    return HTMLResponse(pages.index_html(root=request.scope.get("root_path", "")), headers=_HEADERS)


@router.get("/{slug}")
async def get_problem_type(request: Request, slug: str) -> Response:
    problem = PROBLEM_TYPES.get(slug)
    if problem is None:
        raise NotFound(_("No problem type {slug}; the list is at /problems.", slug=slug))
    if _wants_json(request):
        return JSONResponse(pages.as_json(problem), headers=_HEADERS)
    return HTMLResponse(
        pages.problem_html(problem, root=request.scope.get("root_path", "")), headers=_HEADERS
    )
