from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query, Request, Response, status
from sqlalchemy.ext.asyncio import AsyncSession

from app.auth.dependencies import ClusterWriterKey, CurrentKey, ensure_cluster_writer
from app.auth.principal import Principal
from app.auth.roles import Role
from app.awards.schemas import AWARD_TYPE_CODE
from app.clusters.years import GroupingRef, resolve
from app.core.cache import ReadCache
from app.core.database import Database, SessionDep
from app.core.errors import Forbidden, problem_responses
from app.core.i18n import _
from app.core.idempotency import IdempotencyDep
from app.core.identity import Actor
from app.core.pagination import DEFAULT_LIMIT, Cursor, Limit, Page, decode_cursor
from app.core.types import PlainDecimal
from app.rules.schemas import RuleRefusal
from app.votes import ballots, service
from app.votes.models import VoteState
from app.votes.schemas import (
    AttendanceIn,
    BallotIn,
    BallotReceipt,
    CloseIn,
    PaperBallotsIn,
    VoteConflict,
    VoteCreate,
    VoteOut,
)

router = APIRouter(prefix="/v1/votes", tags=["votes"], responses=problem_responses(401, 422, 500))

VoteId = Annotated[int, Path(ge=1, le=2_147_483_647, description="The vote's id."), PlainDecimal]


def _database(request: Request) -> Database:
    database: Database = request.app.state.database
    return database


def _invalidation(request: Request) -> ballots.Invalidation:
    """A ballot's own transactions tell every instance's read cache of it (the year sheet shows
    who voted and how many ballots a round holds); this instance drops at once."""
    cache: ReadCache | None = getattr(request.app.state, "cache", None)
    return ballots.Invalidation(
        channel=request.app.state.settings.cache_channel,
        drop=cache.drop if cache is not None else None,
    )


async def ballot_caster(session: SessionDep, key: CurrentKey, vote_id: VoteId) -> Principal:
    """A `unit` key of an eligible voter of this vote; anything else is 403, the same whether the
    vote exists or not."""
    if (
        key.role is not Role.unit
        or key.unit_id is None
        or not await ballots.is_voter(session, vote_id, key.unit_id)
    ):
        raise Forbidden(_("A ballot is cast with the key of a unit that votes in this vote."))
    return key


BallotCaster = Annotated[Principal, Depends(ballot_caster)]


async def vote_writer(session: SessionDep, key: ClusterWriterKey, vote_id: VoteId) -> Actor:
    """An admin key or the key of the vote's cluster (403; another role is 403 before the
    lookup); a vote that does not exist is 404. The actor recorded for the change."""
    ensure_cluster_writer(key, await service.cluster_of(session, vote_id=vote_id))
    return key.actor


VoteWriter = Annotated[Actor, Depends(vote_writer)]
"""Who changes a vote (attendance, paper ballots, closing a round, opening another): admins, or
the secretariat of the vote's cluster."""


async def _end_reads(session: AsyncSession) -> None:
    """End the request's transaction (it only read: the key, the voter, the cluster) before the
    ballot's own: no snapshot stays open beside the ballot, and a ballot's answer is its own."""
    if session.in_transaction():
        await session.commit()


@router.post(
    "",
    operation_id="createVote",
    status_code=status.HTTP_201_CREATED,
    summary="Open a secret nomination vote (admin or the cluster's key)",
    description="A cluster's vote to put units forward for an award type of an emulation year, "
    "with its first round open. The rule set is the emulation year's (in force on its 31 "
    "December, whatever `held_on`): the share a candidate needs is `cluster_vote_share` (or "
    "`approval_threshold_high` for an award of class `high`, where stricter), of all eligible "
    "voters unless the rule set says those present; each parameter is shown with its basis and "
    "confidence. The voters are the cluster's members that year existing on `held_on`; the chair "
    "is the year's leader, else its successor voting here, else the deputy (`chair.reason`). Each "
    "candidate is checked like a nomination (`rule_checks`) with its rank in the standings the vote "
    "relies on (recorded as `standings_version`): a blocked or ineligible candidate is 409 quoting "
    "the rule, its basis and confidence; an award whose rules need the rank (the Government flag) "
    "needs frozen standings (409 `standings-not-frozen`); a year no rule set covers is 409; an "
    "award type no vote proposes is 422.",
    responses=problem_responses(403, 404, 413, models={409: VoteConflict}),
)
async def create_vote(
    session: SessionDep,
    key: ClusterWriterKey,
    idempotency: IdempotencyDep,
    body: VoteCreate,
    response: Response,
) -> VoteOut:
    grouping = await resolve(session, GroupingRef.cluster(body.cluster))
    ensure_cluster_writer(key, grouping.id)
    return await idempotency.run(
        lambda: service.create(session, data=body, grouping=grouping, actor=key.actor),
        response=response,
        headers=lambda out: {"Location": f"/v1/votes/{out.id}", "ETag": service.vote_etag(out)},
    )


@router.get(
    "",
    operation_id="listVotes",
    summary="List nomination votes",
    description="Votes by id with their rounds and published results, filtered by cluster, "
    "emulation year, award type and state.",
)
async def list_votes(
    session: SessionDep,
    _: CurrentKey,
    cluster: Annotated[
        int | None, Query(ge=1, le=999, description="A cluster's number."), PlainDecimal
    ] = None,
    year: Annotated[
        int | None, Query(ge=2000, le=2100, description="The emulation year."), PlainDecimal
    ] = None,
    award_type: Annotated[
        str | None, Query(pattern=AWARD_TYPE_CODE, description="An award type's code.")
    ] = None,
    state: VoteState | None = None,
    limit: Limit = DEFAULT_LIMIT,
    cursor: Cursor = None,
) -> Page[VoteOut]:
    return await service.list_votes(
        session,
        cluster=cluster,
        year=year,
        award_type=award_type,
        state=state,
        limit=limit,
        after=decode_cursor(cursor),
    )


@router.get(
    "/{vote_id}",
    operation_id="getVote",
    summary="Get a vote, its rounds and their published results",
    description="The result is public: counts per candidate, presence, quorum, the minimums as "
    "integers, seats with their reasons, the rule set and each parameter used. Ballots never: "
    "a round's tallies appear once it is closed; while it is open, only who has voted and how "
    "many ballots the box holds.",
    responses=problem_responses(404),
)
async def get_vote(session: SessionDep, _: CurrentKey, vote_id: VoteId, response: Response) -> VoteOut:
    out = await service.get(session, vote_id=vote_id)
    response.headers["ETag"] = service.vote_etag(out)
    return out


@router.post(
    "/{vote_id}/attendance",
    operation_id="recordVoteAttendance",
    summary="Record who is present for the current round (admin or the cluster's key)",
    description="Replaces the current round's attendance: the voters present and, where the rule "
    "set's `absent_written_votes_count` allows, those absent who vote in writing. Presence decides "
    "the quorum. 409 for a unit that is not a voter, written votes the rule set does not count, "
    "a unit that already voted left out, or a round that is not open.",
    responses=problem_responses(403, 404, 413, models={409: RuleRefusal}),
)
async def record_vote_attendance(
    session: SessionDep, actor: VoteWriter, vote_id: VoteId, body: AttendanceIn, response: Response
) -> VoteOut:
    out = await service.record_attendance(session, vote_id=vote_id, data=body, actor=actor)
    response.headers["ETag"] = service.vote_etag(out)
    return out


@router.post(
    "/{vote_id}/ballots",
    operation_id="castVoteBallot",
    status_code=status.HTTP_201_CREATED,
    summary="Cast the voting unit's secret ballot (the unit's own key)",
    description="At most the round's seats, candidates of the round only. The ballot is sealed "
    "(a fixed-size blob no one can read without the seal key) and written with the voter's "
    "participation in one transaction: after any failure it either counts once or left nothing. "
    "The answer says the ballot was received and how many the round holds, never what it "
    "approves; nothing stores the ballot beside its caster (no `Idempotency-Key`: a retry is 409 "
    "`already-voted`, the ballot was counted). 403 for any key but an eligible voter's unit key "
    "(the same whether the vote exists); 409 for a second ballot in the round (the database's "
    "unique key decides a race), a voter not recorded present or voting in writing, a "
    "self-approval the rule set forbids (`self_approval_allowed`), or a round that is not open; "
    "503 `ballot-not-counted` if it could not be recorded (cast it again).",
    responses=problem_responses(403, 404, 413, 503, models={409: RuleRefusal}),
)
async def cast_vote_ballot(
    request: Request, session: SessionDep, key: BallotCaster, vote_id: VoteId, body: BallotIn
) -> BallotReceipt:
    assert key.unit_id is not None
    await _end_reads(session)
    return await ballots.cast(
        _database(request).engine,
        request.app.state.ballot_seal,
        vote_id=vote_id,
        unit_id=key.unit_id,
        approvals=body.approvals,
        invalidation=_invalidation(request),
    )


@router.post(
    "/{vote_id}/paper-ballots",
    operation_id="recordVotePaperBallots",
    status_code=status.HTTP_201_CREATED,
    summary="Enter paper ballots anonymously (admin or the cluster's key)",
    description="The units who put a paper ballot in the box, and the ballots, as many as the "
    "units, unpaired: the entry links no voter to a ballot. Each ballot at most the round's seats, "
    "candidates only. All or nothing: 409 if a unit already voted in the round, is not recorded "
    "present (or voting in writing), or the round is not open. Self-approval on paper is for the "
    "secretariat to invalidate before entering (the entry knows no caster).",
    responses=problem_responses(403, 404, 413, 503, models={409: RuleRefusal}),
)
async def record_vote_paper_ballots(
    request: Request, session: SessionDep, _: VoteWriter, vote_id: VoteId, body: PaperBallotsIn
) -> BallotReceipt:
    await _end_reads(session)
    return await ballots.enter_paper(
        _database(request).engine,
        request.app.state.ballot_seal,
        vote_id=vote_id,
        voters=body.voters,
        ballots=body.ballots,
        note=body.note,
        invalidation=_invalidation(request),
    )


@router.post(
    "/{vote_id}/close",
    operation_id="closeVoteRound",
    summary="Close the current round and publish its result (admin or the cluster's key)",
    description="Counts in integers: the meeting is valid when `quorum` of the voters are present "
    "(3 × present ≥ 2 × eligible), otherwise the round and the vote are void; a candidate passes "
    "with the threshold of **all** eligible voters (5 × approvals ≥ 4 × eligible) unless the rule "
    "set counts those present; the highest counts take the seats, a tie across the last seat goes "
    "through the rule set's tie-breakers, the last being the chair's vote (`chair_choice`). Each "
    "seated unit becomes a nomination in the awards register linked to the vote and its standings "
    "version (its rules checked again: 409 if one now refuses). Closing opens the round's sealed "
    "ballots into its sums and deletes them. Seats left empty may go to another round while "
    "`max_rounds` allows. 409 when the tie needs the chair's choice (`tied`), or the round is not "
    "open; 503 `ballot-seal-key-mismatch` when the ballots were sealed with another key than this "
    "instance's (`BALLOT_SEAL_KEY`).",
    responses=problem_responses(403, 404, 413, 503, models={409: VoteConflict}),
)
async def close_vote_round(
    request: Request,
    session: SessionDep,
    actor: VoteWriter,
    vote_id: VoteId,
    body: CloseIn,
    response: Response,
) -> VoteOut:
    out = await service.close_round(
        session, vote_id=vote_id, data=body, actor=actor, seal=request.app.state.ballot_seal
    )
    response.headers["ETag"] = service.vote_etag(out)
    return out


@router.post(
    "/{vote_id}/rounds",
    operation_id="createVoteRound",
    status_code=status.HTTP_201_CREATED,
    summary="Open another round for the seats left empty (admin or the cluster's key)",
    description="Among the candidates not yet seated, for the seats left, after a counted round "
    "that left seats empty and while the rule set's `max_rounds` allows; 409 otherwise. Record its "
    "attendance before ballots.",
    responses=problem_responses(403, 404, 409, 413),
)
async def create_vote_round(
    session: SessionDep,
    actor: VoteWriter,
    idempotency: IdempotencyDep,
    vote_id: VoteId,
    response: Response,
) -> VoteOut:
    return await idempotency.run(
        lambda: service.open_round(session, vote_id=vote_id, actor=actor),
        response=response,
        headers=lambda out: {"ETag": service.vote_etag(out)},
    )
