from dataclasses import dataclass
from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query, Response, status

from app.auth.dependencies import ClusterWriterKey, CurrentKey, ensure_cluster_writer
from app.clusters.years import ClusterWriter, ClusterYear, ClusterYearDep
from app.conferences import service
from app.conferences.models import ConferenceKind
from app.conferences.schemas import ConferenceCreate, ConferenceOut, ConferenceUpdate
from app.core.database import SessionDep
from app.core.errors import problem_responses
from app.core.idempotency import IdempotencyDep
from app.core.identity import Actor
from app.core.pagination import DEFAULT_LIMIT, Cursor, Limit, Page, decode_cursor
from app.core.params import IfMatch
from app.core.revisions import RevisionOut, list_revisions
from app.core.types import IsoDate, PlainDecimal

ConferenceId = Annotated[int, Path(ge=1, le=2_147_483_647, description="The conference's id."), PlainDecimal]

conferences_router = APIRouter(
    prefix="/v1/conferences", tags=["conferences"], responses=problem_responses(401, 422, 500)
)
cluster_conferences_router = APIRouter(
    prefix="/v1/clusters/{number}/years/{year}/conferences",
    tags=["conferences"],
    responses=problem_responses(401, 404, 422, 500),
)

_RULES = (
    "The host and each chair must be members of the cluster on the day (on some day of the "
    "month, for a date known only to its month): 409 `not-a-member` naming the field. A "
    "month-only date is its month's first day with `held_on_precision: month` (422 otherwise); "
    "a conference of a year is held in that year, the year before or the year after (422 "
    "`conference-outside-its-year`)."
)


def _location(out: ConferenceOut) -> str:
    return f"/v1/conferences/{out.id}"


@dataclass(frozen=True, slots=True)
class ConferenceWrite:
    """Who corrects a conference, and the cluster-year it belongs to."""

    actor: Actor
    at: ClusterYear


async def _conference_writer(
    session: SessionDep, key: ClusterWriterKey, conference_id: ConferenceId
) -> ConferenceWrite:
    """An admin key or the key of the conference's cluster (403; another role is 403 before the
    lookup); a conference that does not exist is 404."""
    at = await service.year_of(session, conference_id)
    ensure_cluster_writer(key, at.id)
    return ConferenceWrite(key.actor, at)


ConferenceWriter = Annotated[ConferenceWrite, Depends(_conference_writer)]
"""Who corrects a conference: admins, or the secretariat of the conference's cluster."""


@cluster_conferences_router.get(
    "",
    operation_id="listClusterYearConferences",
    summary="The conferences of a cluster-year, by date",
    description="The covenant signing, the mid-year and nine-month reviews, the year-end summary "
    "and any other, by date then id: the year's timeline.",
)
async def list_cluster_year_conferences(
    session: SessionDep,
    _: CurrentKey,
    at: ClusterYearDep,
    limit: Limit = DEFAULT_LIMIT,
    cursor: Cursor = None,
) -> Page[ConferenceOut]:
    return await service.list_conferences(
        session,
        start=None,
        end=None,
        cluster=None,
        kind=None,
        cluster_id=at.id,
        year=at.year,
        limit=limit,
        after=decode_cursor(cursor),
    )


@cluster_conferences_router.post(
    "",
    operation_id="createConference",
    status_code=status.HTTP_201_CREATED,
    summary="Record a conference of a cluster-year (admin or the cluster's key)",
    description="Its kind, its day (or only its month), the host (null: the source does not "
    "state it), the chairs, the guests and the source. " + _RULES + " `Idempotency-Key`: a retry "
    "replays the first answer. The covenant, the reported figures and the votes of the "
    "cluster-year, and the next year's leadership, name the conference they were decided at "
    "(`conference_id`).",
    responses=problem_responses(403, 409, 413),
)
async def create_conference(
    session: SessionDep,
    writer: ClusterWriter,
    idempotency: IdempotencyDep,
    at: ClusterYearDep,
    body: ConferenceCreate,
    response: Response,
) -> ConferenceOut:
    return await idempotency.run(
        lambda: service.create(session, at, body, writer.actor),
        response=response,
        headers=lambda out: {"Location": _location(out), "ETag": service.conference_etag(out)},
    )


@conferences_router.get(
    "",
    operation_id="listConferences",
    summary="Conferences across clusters, by date",
    description="By date then id, filtered by a window of days (`from`, `to`, inclusive: a "
    "conference known only to its month is in a window that overlaps its month), a cluster's "
    "number and a kind. `to` before `from` is 422.",
)
async def list_conferences(
    session: SessionDep,
    _: CurrentKey,
    start: Annotated[IsoDate | None, Query(alias="from", description="First day, `YYYY-MM-DD`.")] = None,
    end: Annotated[IsoDate | None, Query(alias="to", description="Last day, `YYYY-MM-DD`.")] = None,
    cluster: Annotated[
        int | None, Query(ge=1, le=999, description="A cluster's number."), PlainDecimal
    ] = None,
    kind: Annotated[ConferenceKind | None, Query(description="A kind of conference.")] = None,
    limit: Limit = DEFAULT_LIMIT,
    cursor: Cursor = None,
) -> Page[ConferenceOut]:
    return await service.list_conferences(
        session, start=start, end=end, cluster=cluster, kind=kind, limit=limit, after=decode_cursor(cursor)
    )


@conferences_router.get(
    "/{conference_id}",
    operation_id="getConference",
    summary="Get a conference",
    responses=problem_responses(404),
)
async def get_conference(
    session: SessionDep, _: CurrentKey, conference_id: ConferenceId, response: Response
) -> ConferenceOut:
    out = await service.get(session, conference_id)
    response.headers["ETag"] = service.conference_etag(out)
    return out


@conferences_router.patch(
    "/{conference_id}",
    operation_id="updateConference",
    summary="Correct a conference (admin or the cluster's key, If-Match)",
    description="Its kind, day, precision, host, chairs, guests, source or note; its cluster and "
    "year stay. Each change is a new version; every version stays under `/revisions`. "
    + _RULES
    + " Without `If-Match` 428, stale 412.",
    responses=problem_responses(403, 404, 409, 412, 413, 428),
)
async def update_conference(
    session: SessionDep,
    writer: ConferenceWriter,
    conference_id: ConferenceId,
    body: ConferenceUpdate,
    response: Response,
    if_match: IfMatch = None,
) -> ConferenceOut:
    out = await service.update(
        session, writer.at, conference_id=conference_id, data=body, if_match=if_match, actor=writer.actor
    )
    response.headers["ETag"] = service.conference_etag(out)
    return out


@conferences_router.get(
    "/{conference_id}/revisions",
    operation_id="listConferenceRevisions",
    summary="Every version of a conference, with who recorded it and when",
    responses=problem_responses(404),
)
async def conference_revisions(
    session: SessionDep,
    _: CurrentKey,
    conference_id: ConferenceId,
    limit: Limit = DEFAULT_LIMIT,
    cursor: Cursor = None,
) -> Page[RevisionOut[ConferenceOut]]:
    await service.year_of(session, conference_id)
    return await list_revisions(
        session, service.RESOURCE, conference_id, ConferenceOut, limit=limit, after=decode_cursor(cursor)
    )


router = APIRouter()
"""What `app.main` registers: a cluster-year's conferences, then the conferences across clusters."""
router.include_router(cluster_conferences_router)
router.include_router(conferences_router)
