from typing import Annotated

from fastapi import APIRouter, Path, Query, Response, status

from app.auth.dependencies import AdminKey
from app.core.database import SessionDep
from app.core.errors import problem_responses
from app.core.idempotency import IdempotencyDep
from app.core.pagination import DEFAULT_LIMIT, Cursor, Limit, Page, decode_cursor
from app.core.params import IfMatch
from app.core.revisions import RevisionOut, list_revisions
from app.core.types import PlainDecimal
from app.people import service
from app.people.models import ISSUER_LENGTH
from app.people.schemas import PersonConflict, PersonCreate, PersonOut, PersonPut, PersonUpdate

router = APIRouter(prefix="/v1/people", tags=["people"], responses=problem_responses(401, 403, 422, 500))

PersonId = Annotated[
    int, Path(ge=1, le=2_147_483_647, description="The person's id in the register."), PlainDecimal
]
IssuerQuery = Annotated[
    str | None,
    Query(
        max_length=ISSUER_LENGTH, description="Only the people of this issuer (as tokens' `iss` spell it)."
    ),
]

_GRANTS_TAKE_EFFECT = (
    " With `OIDC_GRANTS_SOURCE=register` the change takes effect on the person's next request, on "
    "every instance within the bound a revoked key's does (the cached principals are dropped)."
)


def _location(out: PersonOut) -> str:
    return f"/v1/people/{out.id}"


@router.get(
    "",
    operation_id="listPeople",
    summary="List the people register (admin)",
    description="Everyone entered in the register, by id, those without grants included; "
    "`issuer` keeps one identity provider's.",
)
async def list_people(
    session: SessionDep,
    _: AdminKey,
    issuer: IssuerQuery = None,
    limit: Limit = DEFAULT_LIMIT,
    cursor: Cursor = None,
) -> Page[PersonOut]:
    return await service.list_people(session, issuer=issuer, limit=limit, after=decode_cursor(cursor))


@router.post(
    "",
    operation_id="createPerson",
    status_code=status.HTTP_201_CREATED,
    summary="Enter a person in the register, with their grants (admin)",
    description="A person is who their identity provider says (`issuer` and `subject`: the `iss` "
    "and `sub` of their tokens); the register says what they may do when `OIDC_GRANTS_SOURCE` is "
    "`register`. Someone already entered with the same issuer and subject is 409 "
    "(`person-exists`, naming them); a cluster or unit a grant names that does not exist is 404."
    + _GRANTS_TAKE_EFFECT,
    responses=problem_responses(404, 413, models={409: PersonConflict}),
)
async def create_person(
    session: SessionDep,
    key: AdminKey,
    idempotency: IdempotencyDep,
    body: PersonCreate,
    response: Response,
) -> PersonOut:
    return await idempotency.run(
        lambda: service.create(session, body, key.actor),
        response=response,
        headers=lambda out: {"Location": _location(out), "ETag": service.person_etag(out)},
    )


@router.get(
    "/{person_id}",
    operation_id="getPerson",
    summary="Get a person of the register, with their grants (admin)",
    responses=problem_responses(404),
)
async def get_person(session: SessionDep, _: AdminKey, person_id: PersonId, response: Response) -> PersonOut:
    out = await service.read_person(session, await service.person_row(session, person_id))
    response.headers["ETag"] = service.person_etag(out)
    return out


@router.put(
    "/{person_id}",
    operation_id="putPerson",
    summary="Replace a person's display name, note and grants (admin, If-Match)",
    description="Who the person is (issuer and subject) never changes. The grants are replaced "
    "whole (`[]` withdraws every grant; the person and their history stay). Each change is a new "
    "version, every version kept under `/revisions`; a body that changes nothing answers 200 with "
    "the current version and ETag and writes nothing. A cluster or unit a grant names that does "
    "not exist is 404." + _GRANTS_TAKE_EFFECT,
    responses=problem_responses(404, 412, 413, 428),
)
async def put_person(
    session: SessionDep,
    key: AdminKey,
    person_id: PersonId,
    body: PersonPut,
    response: Response,
    if_match: IfMatch = None,
) -> PersonOut:
    written = await service.replace(session, person_id, body, if_match, key.actor)
    return written.answer(response)


@router.patch(
    "/{person_id}",
    operation_id="updatePerson",
    summary="Correct a person's display name or note, or replace their grants (admin, If-Match)",
    description="Only the fields given change; `grants`, when given, replaces the list whole "
    "(`[]` withdraws every grant). Each change is a new version, every version kept under "
    "`/revisions`." + _GRANTS_TAKE_EFFECT,
    responses=problem_responses(404, 412, 413, 428),
)
async def update_person(
    session: SessionDep,
    key: AdminKey,
    person_id: PersonId,
    body: PersonUpdate,
    response: Response,
    if_match: IfMatch = None,
) -> PersonOut:
    out = await service.update(session, person_id, body, if_match, key.actor)
    response.headers["ETag"] = service.person_etag(out)
    return out


@router.get(
    "/{person_id}/revisions",
    operation_id="listPersonRevisions",
    summary="Every version of a person, grants included, with who recorded it and when (admin)",
    responses=problem_responses(404),
)
async def person_revisions(
    session: SessionDep,
    _: AdminKey,
    person_id: PersonId,
    limit: Limit = DEFAULT_LIMIT,
    cursor: Cursor = None,
) -> Page[RevisionOut[PersonOut]]:
    await service.person_row(session, person_id)
    return await list_revisions(
        session, service.RESOURCE, person_id, PersonOut, limit=limit, after=decode_cursor(cursor)
    )
