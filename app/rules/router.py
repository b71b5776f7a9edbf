from typing import Annotated

from fastapi import APIRouter, Path, Request, Response

from app.auth.dependencies import CurrentKey
from app.core.cache import cached, cached_page
from app.core.database import SessionDep
from app.core.errors import problem_responses
from app.core.pagination import DEFAULT_LIMIT, Cursor, Limit, Page, decode_cursor
from app.core.params import Year
from app.rules import service
from app.rules.schemas import RuleSet, RuleSetMissing
from app.rules.tags import RULES

router = APIRouter(prefix="/v1/rule-sets", tags=["rules"], responses=problem_responses(401, 422, 500))

RuleSetCode = Annotated[str, Path(pattern=r"^[a-z0-9][a-z0-9-]{0,59}$", description="The rule set's code.")]
_READ_ONLY = (
    " Read-only: rule sets are data (`data/reference/rule_sets.yaml`), changed by a reviewed edit "
    "of that file, loaded with the reference data (`python -m app load-reference`) as a new version."
)


@router.get(
    "",
    operation_id="listRuleSets",
    summary="List the rule sets",
    description="Each rule set's period, its basis (documents) and its parameters, each with its "
    "value, confidence (`text`, `analogue`, `practice`, `unknown`) and basis." + _READ_ONLY,
    response_model=Page[RuleSet],
)
async def list_rule_sets(
    request: Request, session: SessionDep, _: CurrentKey, limit: Limit = DEFAULT_LIMIT, cursor: Cursor = None
) -> Response:
    after = decode_cursor(cursor)
    return await cached_page(
        request, tags=[RULES], page=lambda: service.list_rule_sets(session, limit=limit, after=after)
    )


@router.get(
    "/for-year/{year}",
    operation_id="getRuleSetForYear",
    summary="The rule set that judges an emulation year",
    description="The rule set in force on the year's last day (31 December), whatever the day a "
    "vote or decision is taken: 2024 → Decree 98/2023, 2025 → Decree 152/2025. 404 naming the "
    "year when no rule set covers it (before 2024)." + _READ_ONLY,
    responses=problem_responses(models={404: RuleSetMissing}),
    response_model=RuleSet,
)
async def get_rule_set_for_year(request: Request, session: SessionDep, _: CurrentKey, year: Year) -> Response:
    return await cached(
        request,
        tags=[RULES],
        render=lambda: service.get_for_year(session, emulation_year=year),
        etag=service.rule_set_etag,
    )


@router.get(
    "/{code}",
    operation_id="getRuleSet",
    summary="Get a rule set",
    description="A rule set by its code." + _READ_ONLY,
    responses=problem_responses(404),
    response_model=RuleSet,
)
async def get_rule_set(request: Request, session: SessionDep, _: CurrentKey, code: RuleSetCode) -> Response:
    return await cached(
        request, tags=[RULES], render=lambda: service.get(session, code=code), etag=service.rule_set_etag
    )
