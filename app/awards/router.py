from typing import Annotated
from urllib.parse import quote

from fastapi import APIRouter, Path, Query, Request, Response, status
from fastapi.responses import Response as RawResponse

from app.auth.dependencies import (
    PUBLIC_VARIANT,
    AdminKey,
    ClusterWriterKey,
    CurrentKey,
    PublicReader,
    ensure_cluster_writer,
)
from app.auth.roles import Role
from app.awards import catalogue, service
from app.awards.eligibility import StatedDecision
from app.awards.models import AwardStatus
from app.awards.schemas import (
    AWARD_TYPE_CODE,
    AwardConflict,
    AwardCreate,
    AwardListItem,
    AwardOut,
    AwardTypeOut,
    DocumentOut,
    DocumentTypeRefusal,
    Fact,
    Statement,
    TransitionIn,
    TransitionOut,
)
from app.awards.tags import AWARD_TYPES, AWARDS
from app.clusters.tags import cluster_tag
from app.clusters.years import GroupingRef, resolve
from app.core.cache import cached, cached_page, json_answer
from app.core.config import DEFAULT_DOCUMENT_TYPES, Settings
from app.core.database import SessionDep
from app.core.deprecation import renamed
from app.core.errors import Forbidden, NotFound, Unprocessable, problem_responses
from app.core.i18n import _
from app.core.idempotency import IdempotencyDep
from app.core.identity import without_people
from app.core.pagination import DEFAULT_LIMIT, Cursor, Limit, Page, decode_cursor, page_headers
from app.core.params import IfMatch, UnitQuery
from app.core.types import PlainDecimal
from app.units.tags import UNITS, unit_tag, units_shown

types_router = APIRouter(
    prefix="/v1/award-types", tags=["awards"], responses=problem_responses(401, 422, 500)
)
router = APIRouter(prefix="/v1/awards", tags=["awards"], responses=problem_responses(401, 422, 500))

_PUBLIC_AWARDS = (
    " **PUBLIC_READS**: on a server that sets it, {what} also readable without a credential "
    "(the published results, counted per client address: `RATE_LIMIT_ANONYMOUS`), {anonymous} A "
    "credential that is sent is checked as always. Off by default: 401 without a credential."
)

AwardTypeCode = Annotated[str, Path(pattern=AWARD_TYPE_CODE, description="The award type's code.")]
AwardId = Annotated[int, Path(ge=1, le=2_147_483_647, description="The award's id."), PlainDecimal]
DocumentId = Annotated[int, Path(ge=1, le=2_147_483_647, description="The document's id."), PlainDecimal]


@types_router.get(
    "",
    operation_id="listAwardTypes",
    summary="The award catalogue",
    description="Each award's kind, recipient, level, deciding authority, whether a vote proposes "
    "it, which approval threshold it needs and which rules apply. Read-only: the catalogue is data "
    "(`data/reference/award_types.yaml`), loaded with the reference data.",
    response_model=Page[AwardTypeOut],
)
async def list_award_types(
    request: Request, session: SessionDep, _: CurrentKey, limit: Limit = DEFAULT_LIMIT, cursor: Cursor = None
) -> Response:
    after = decode_cursor(cursor)
    return await cached_page(
        request,
        tags=[AWARD_TYPES],
        page=lambda: catalogue.list_award_types(session, limit=limit, after=after),
    )


@types_router.get(
    "/{code}",
    operation_id="getAwardType",
    summary="Get an award type",
    responses=problem_responses(404),
    response_model=AwardTypeOut,
)
async def get_award_type(
    request: Request, session: SessionDep, _: CurrentKey, code: AwardTypeCode
) -> Response:
    return await cached(
        request,
        tags=[AWARD_TYPES],
        render=lambda: catalogue.get(session, code=code),
        etag=catalogue.award_type_etag,
    )


@router.get(
    "",
    operation_id="listAwards",
    summary="List awards",
    description="Awards by id with their whole history, filtered by emulation year, unit, award "
    "type, status, cluster and whether they are attested. `attested=true`: only the historical "
    "records a cited source attests (in the status it states, granted ones with their decision "
    "number and authority possibly not stated); `attested=false`: only nominations and decisions "
    "recorded here as they happened; `status=granted` finds both. `include_predecessors=true` "
    "(with `unit`) adds the awards of the unit's predecessors, transitively through the "
    "successions: a post-2025 unit's whole record (404 if that unit does not exist; 422 without "
    "`unit`). The unit filter was `unit_id` until 2.0.0; it is `unit` now, as in every other "
    "list, and `unit_id` still works, deprecated. Each item counts its rule checks by outcome "
    "(`rule_outcomes`); the checks themselves are on the award (`href`). Served from the read "
    "cache until an award, a unit it names or a cluster changes."
    + _PUBLIC_AWARDS.format(
        what="this list is",
        anonymous="granted awards only: an anonymous caller's list is filtered to `status=granted` "
        "whatever the filters (with `status` another one, an empty page).",
    ),
    responses=problem_responses(404),
    response_model=Page[AwardListItem],
)
async def list_awards(
    request: Request,
    session: SessionDep,
    reader: PublicReader,
    unit: Annotated[int | None, renamed(UnitQuery, name="unit", old="unit_id")],
    year: Annotated[
        int | None, Query(ge=2000, le=2100, description="The emulation year."), PlainDecimal
    ] = None,
    award_type: Annotated[
        str | None, Query(pattern=AWARD_TYPE_CODE, description="An award type's code.")
    ] = None,
    status: AwardStatus | None = None,
    cluster: Annotated[
        int | None, Query(ge=1, le=999, description="A cluster's number."), PlainDecimal
    ] = None,
    include_predecessors: Annotated[
        bool, Query(description="With `unit`: the predecessors' awards too (transitively).")
    ] = False,
    attested: Annotated[
        bool | None,
        Query(
            description="`true`: only records a cited source attests; `false`: only those recorded "
            "here as they happened; left out: both."
        ),
    ] = None,
    limit: Limit = DEFAULT_LIMIT,
    cursor: Cursor = None,
) -> Response:
    async def render() -> Response:
        if reader is None and status not in (None, AwardStatus.granted):
            await service.list_awards(  # checked as any list (422, 404), then none visible
                session,
                year=year,
                unit_id=unit,
                award_type=award_type,
                status=AwardStatus.granted,
                cluster=cluster,
                include_predecessors=include_predecessors,
                limit=1,
                after=None,
                attested=attested,
            )
            return json_answer(Page[AwardListItem](items=[], next_cursor=None))
        page = await service.list_awards(
            session,
            year=year,
            unit_id=unit,
            award_type=award_type,
            status=status if reader is not None else AwardStatus.granted,  # anonymous: granted only
            cluster=cluster,
            include_predecessors=include_predecessors,
            limit=limit,
            after=decode_cursor(cursor),
            attested=attested,
        )
        listed = Page[AwardListItem](
            items=[AwardListItem.of(a) for a in page.items], next_cursor=page.next_cursor
        )
        if reader is None:
            listed = Page[AwardListItem].model_validate(without_people(listed.model_dump()))
        shown.update(units_shown(listed.model_dump(mode="json")))
        clusters.update(a.cluster for a in listed.items if a.cluster is not None)
        return json_answer(listed, page_headers(request.scope, listed))

    shown: set[int] = set()
    clusters: set[int] = set()
    return await cached(
        request,
        tags=lambda _: [AWARDS, UNITS, *map(unit_tag, shown), *map(cluster_tag, clusters)],
        render=render,
        variant=PUBLIC_VARIANT if reader is None else "",
    )


@router.post(
    "",
    operation_id="createAward",
    status_code=status.HTTP_201_CREATED,
    summary="Nominate a unit for an award (admin or the nominating cluster's key)",
    description="Records a nomination the caller may make directly; checks every rule of the "
    "emulation year's rule set (the one in force on 31 December of that year, whatever the day) and "
    "answers them in `rule_checks`: the unit existed that year and is a member of the cluster; no "
    "disciplinary review, investigation, inspection or complaint is open on `nominated_on` (Decree "
    "152/2025 art. 4); for the Government flag (and the Ministry flag) the unit ranks first in its "
    "cluster's standings (Thông tư 12/2019/TT-BCA art. 18(1)(a)); one achievement, one award (Law "
    "06/2022 art. 5). A refusal is 409 quoting the rule, its basis and confidence (`rule`, `basis`, "
    "`confidence`, `rule_checks`); a year no rule set covers is 409 naming it.\n\n"
    "**Refused** (since 2.0.0): an award type a vote proposes (`requires_vote` in "
    "`GET /v1/award-types`: the Government flag, the Ministry flag) is nominated only by closing "
    "its vote (`POST /v1/votes/{vote_id}/close`), which records the vote, the rank and the "
    "standings version from the frozen standings: a direct nomination of it is 409 "
    "`/problems/vote-required`, unless it is an attested record. `rank`, `vote_id` and "
    "`standings_version` are never taken from the caller: sent on a nomination that is not "
    "attested they are 422 `/problems/set-by-vote` naming the field (`vote_id` and "
    "`standings_version` on an attested record too).\n\n"
    "`attested: true` (admin, with `source`): a record a public source attests, stored and shown "
    "with `attested: true`; what cannot be verified is `cannot_be_verified`, never a refusal. Its "
    "`rank` is allowed only when `source.facts.rank` is `stated` (422 `/problems/rank-not-stated` "
    "otherwise), and the cluster-lead check then answers `cannot_be_verified` (`rank_stated`), "
    "never `passed`. Only collective awards; a unit that has since ceased is fine.\n\n"
    "**Historical decisions**: an attested record is created in the `status` its source states "
    "(`nominated`, `granted`, `refused` or `revoked`), without a dossier step; its history's first "
    "step goes there from none, dated `decided_on` (default `nominated_on`), with the "
    "`decision_number` and `authority` only when the source states the decision "
    "(`source.facts.decision: stated`, else 422 `/problems/decision-not-stated`): null says not "
    "stated. Its `decision` check cites the source (`decision_stated` or `decision_not_stated`), "
    "always `cannot_be_verified`; a refused or revoked record does not count for one achievement, "
    "one award. A nomination that is not attested is `nominated`, and its decisions come by its "
    "transitions: another `status`, or a decision's field, is 422 `/problems/set-by-transition` "
    "naming the field.",
    responses=problem_responses(403, 404, 413, models={409: AwardConflict}),
)
async def create_award(
    session: SessionDep,
    key: ClusterWriterKey,
    idempotency: IdempotencyDep,
    body: AwardCreate,
    response: Response,
) -> AwardOut:
    cluster_id = None
    if body.cluster is not None:
        cluster_id = (await resolve(session, GroupingRef.cluster(body.cluster))).id
        ensure_cluster_writer(key, cluster_id)
    if (body.cluster is None or body.attested) and key.role is not Role.admin:
        raise Forbidden(_("This operation needs an admin key."))
    _refuse_claims(body)
    return await idempotency.run(
        lambda: service.nominate(
            session,
            award_type_code=body.award_type,
            unit_id=body.unit_id,
            emulation_year=body.emulation_year,
            cluster_id=cluster_id,
            vote=None,  # a vote's nominations come from closing it (`_refuse_claims`)
            standings_version=body.standings_version,
            on=body.nominated_on,
            actor=key.actor,
            source=body.source,
            attested=body.attested,
            rank=body.rank,
            stated=StatedDecision(
                status=AwardStatus(body.status.value),
                decided_on=body.decided_on,
                decision_number=body.decision_number,
                authority=body.authority,
                reason=body.reason,
            ),
        ),
        response=response,
        headers=lambda out: {"Location": f"/v1/awards/{out.id}", "ETag": service.award_etag(out)},
    )


def _refuse_claims(body: AwardCreate) -> None:
    """What only a vote records is not taken from the request (422 `set-by-vote`, naming the
    field): the vote and its standings version always, the rank unless an attested record's
    source states it (else 422 `rank-not-stated`)."""
    for field, value in (("vote_id", body.vote_id), ("standings_version", body.standings_version)):
        if value is not None:
            raise Unprocessable(
                _(
                    "{field} is not taken from the request: closing a vote records its nominations "
                    "with the vote and the standings it relied on.",
                    field=field,
                ),
                slug="set-by-vote",
                field=field,
            )
    if body.rank is None:
        return
    if not body.attested:
        raise Unprocessable(
            _(
                "rank is not taken from the request: a nomination's rank comes from the frozen "
                "standings its vote relied on."
            ),
            slug="set-by-vote",
            field="rank",
        )
    assert body.source is not None  # AwardCreate: an attested award has its source
    if body.source.facts.get(Fact.rank) is not Statement.stated:
        raise Unprocessable(
            _("An attested record gives a rank only when its source states it (source.facts.rank)."),
            slug="rank-not-stated",
            field="rank",
        )


@router.get(
    "/{award_id}",
    operation_id="getAward",
    summary="Get an award with its whole history",
    description="The award, its rule checks and every transition."
    + _PUBLIC_AWARDS.format(
        what="an award is",
        anonymous="once granted (`status: granted`): any other award is 404 to an anonymous "
        "caller, as one that does not exist.",
    ),
    responses=problem_responses(404),
)
async def get_award(
    session: SessionDep, reader: PublicReader, award_id: AwardId, response: Response
) -> AwardOut:
    out = await service.get(session, award_id=award_id)
    if reader is None and out.status is not AwardStatus.granted:
        raise NotFound(_("No award with id {award_id}.", award_id=award_id))  # as service.get says it
    if reader is None:
        out = AwardOut.model_validate(without_people(out.model_dump()))
    response.headers["ETag"] = service.award_etag(out)
    return out


@router.post(
    "/{award_id}/transitions",
    operation_id="recordAwardTransition",
    summary="Move an award one step in its lifecycle (admin, If-Match)",
    description="nominated → proposed (with its dossier: each item an uploaded document of the "
    "award or a reference, and its due date; for the Government flag the due date defaults to the "
    "rule set's `government_flag_dossier_due`, 30 June of the next year) or refused; proposed → "
    "returned (for more documents), granted or refused; returned → proposed or refused; granted → "
    "revoked (Law 06/2022 ch. VII: fraud, a false dossier, an unlawful appraisal). Each step "
    "records its date, decision number, authority, reason and who recorded it. Another step is "
    "409 naming the allowed ones (`allowed_transitions`); a step dated before the previous one is "
    "409. A reason is needed to return, refuse or revoke, a decision number and authority to grant "
    "or revoke, and a dossier with (only) a proposal: 422 otherwise.",
    responses=problem_responses(403, 404, 412, 413, 428, models={409: AwardConflict}),
)
async def record_award_transition(
    session: SessionDep,
    key: AdminKey,
    award_id: AwardId,
    body: TransitionIn,
    response: Response,
    if_match: IfMatch = None,
) -> AwardOut:
    out = await service.record_transition(
        session, award_id=award_id, data=body, if_match=if_match, actor=key.actor
    )
    response.headers["ETag"] = service.award_etag(out)
    return out


@router.get(
    "/{award_id}/transitions",
    operation_id="listAwardTransitions",
    summary="An award's history, in order",
    responses=problem_responses(404),
)
async def list_award_transitions(
    session: SessionDep, _: CurrentKey, award_id: AwardId, limit: Limit = DEFAULT_LIMIT, cursor: Cursor = None
) -> Page[TransitionOut]:
    return await service.transitions(session, award_id=award_id, limit=limit, after=decode_cursor(cursor))


Filename = Annotated[
    str,
    Query(
        pattern=r"^[^/\\\x00-\x1f]{1,200}$", description="The document's file name.", examples=["bao-cao.pdf"]
    ),
]


_BINARY = {"schema": {"type": "string", "format": "binary"}}


@router.post(
    "/{award_id}/documents",
    operation_id="createAwardDocument",
    status_code=status.HTTP_201_CREATED,
    summary="Upload a dossier document for an award (admin or the nominating cluster's key)",
    description="The body is the document itself, its media type named by `Content-Type`: one of "
    "`DOCUMENT_TYPES`, by default PDF, PNG, JPEG, Word (`.docx`, `.doc`), Excel (`.xlsx`, `.xls`) "
    "and OpenDocument text and spreadsheet (`.odt`, `.ods`); any other is 415 "
    "`/problems/unsupported-document-type` naming the accepted ones (`allowed_media_types`). Up "
    "to `MAX_REQUEST_BYTES`; kept with its SHA-256, size and type. A proposal's dossier item then "
    "names it by `document_id`. `Idempotency-Key`: a retry replays the first answer.",
    openapi_extra={
        "requestBody": {"required": True, "content": dict.fromkeys(DEFAULT_DOCUMENT_TYPES, _BINARY)}
    },
    responses=problem_responses(403, 404, 413, models={415: DocumentTypeRefusal}),
)
async def create_award_document(
    request: Request,
    session: SessionDep,
    key: ClusterWriterKey,
    idempotency: IdempotencyDep,
    award_id: AwardId,
    filename: Filename,
    response: Response,
) -> DocumentOut:
    cluster_id = await service.award_cluster(session, award_id)
    if cluster_id is None:
        if key.role is not Role.admin:
            raise Forbidden(_("This operation needs an admin key."))
    else:
        ensure_cluster_writer(key, cluster_id)
    settings: Settings = request.app.state.settings
    content_type = service.document_type(request.headers.get("content-type"), settings.document_types)
    content = await request.body()
    return await idempotency.run(
        lambda: service.add_document(
            session,
            award_id=award_id,
            filename=filename,
            content_type=content_type[:120],
            content=content,
            actor=key.actor,
        ),
        response=response,
        headers=lambda out: {"Location": f"/v1/awards/{award_id}/documents/{out.id}"},
    )


@router.get(
    "/{award_id}/documents/{document_id}",
    operation_id="getAwardDocument",
    summary="Download a dossier document",
    description="The bytes as uploaded, with their media type (`application/octet-stream` for a "
    "type `DOCUMENT_TYPES` no longer allows); `Digest`-like integrity: the `sha256` of its record. "
    "Always an attachment (`Content-Disposition`), never to be sniffed as another type "
    "(`X-Content-Type-Options: nosniff`) nor run (`Content-Security-Policy: sandbox`).",
    response_class=RawResponse,
    responses={
        200: {
            "content": dict.fromkeys((*DEFAULT_DOCUMENT_TYPES, "application/octet-stream"), _BINARY),
            "description": "The document",
        },
        **problem_responses(404),
    },
)
async def get_award_document(
    request: Request, session: SessionDep, _: CurrentKey, award_id: AwardId, document_id: DocumentId
) -> RawResponse:
    document = await service.get_document(session, award_id=award_id, document_id=document_id)
    settings: Settings = request.app.state.settings
    return RawResponse(
        document.content,
        media_type=service.served_type(document.content_type, settings.document_types),
        headers={
            "Content-Disposition": f"attachment; filename*=UTF-8''{quote(document.filename)}",
            "X-Content-Type-Options": "nosniff",
            "Content-Security-Policy": "default-src 'none'; sandbox",
        },
    )
