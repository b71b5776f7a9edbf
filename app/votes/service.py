"""Secret nomination votes: creating one, attendance, closing a round, a second round, reading.

**Which rules**: the rule set of the emulation year (`app.rules.service.rule_set_for_year`: the
one in force on its 31 December), whatever the meeting day. A cluster's own nomination vote needs
the rule set's `cluster_vote_share` (unknown, 4/5 by default), or `approval_threshold_high` where
the award type's class is `high` and that is stricter; the share is counted of all eligible voters
or of those present as `approval_denominator` says; the meeting is valid with `quorum` present
(`3 × present ≥ 2 × eligible`); at most `max_rounds` rounds; ties across the last seat go through
`tie_break` in order. Each parameter is stored with the vote (value, basis, confidence) and shown.

**Candidates** are checked by `app.awards.eligibility.check_nomination` on the meeting day, with
their rank in the standings the vote relies on (the frozen snapshot while a freeze is active, else
the current version; recorded). An award type whose rules need the rank (the Government flag:
first in the cluster's standings) needs frozen standings: 409 `standings-not-frozen` otherwise,
so that the rank a refusal or a seat depends on cannot move under the vote.

**Voters**: the units that are members of the cluster in the emulation year and exist on the
meeting day (a unit that ceased cannot vote; a successor votes if it is a member that year).

**Chair**: the year's leader (Cụm trưởng); if that unit ceased before the meeting day, its
successor when that successor is a voter here, else the deputy (Cụm phó) if it exists that day;
else none (`no_leadership`). The reason is stored and shown.

**Ballots** are in `app/votes/ballots.py` (their own transactions, for secrecy).
"""

from datetime import date

from sqlalchemy import delete, func, insert, select, text, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from app.awards import service as awards
from app.awards.catalogue import get as get_award_type
from app.awards.eligibility import check_nomination, ensure_no_refusal
from app.awards.schemas import AwardTypeOut
from app.clusters.models import Cluster
from app.clusters.tags import cluster_tag
from app.clusters.years import Grouping
from app.conferences.service import check_link
from app.core.cache import invalidate
from app.core.database import table
from app.core.errors import AppError, Conflict, NotFound, Unprocessable
from app.core.etag import record_etag
from app.core.i18n import _
from app.core.identity import Actor
from app.core.pagination import Page, encode_cursor
from app.core.periods import overlaps, year_bounds
from app.core.plans import run
from app.leadership.service import leaderships
from app.memberships.models import Membership
from app.rules.schemas import RuleSet
from app.rules.service import rule_set_for_year
from app.scoring.schemas import Standings
from app.scoring.service import current_standings, rank_of
from app.units.models import Unit
from app.units.service import lineage
from app.votes import counting
from app.votes.models import (
    AttendanceKind,
    ChairReason,
    RoundState,
    Vote,
    VoteAttendance,
    VoteBallotBox,
    VoteCandidate,
    VoteParticipation,
    VoteRound,
    VoteRoundTally,
    VoteSealedBallot,
    VoteState,
    VoteVoter,
)
from app.votes.parameters import counting_rule, parameter_value, vote_parameters
from app.votes.queries import select_votes, vote_outs, votes_of_plan
from app.votes.schemas import AttendanceIn, CloseIn, RoundResult, SeatOut, TallyOut, VoteCreate, VoteOut
from app.votes.seal import BallotSeal, SealBroken, SealKeyMismatch

RESOURCE = "vote"
_LEAD_RULES = ("government_flag_requires_cluster_lead", "ministry_flag_requires_cluster_lead")


class StandingsNotFrozen(Conflict):
    slug = "standings-not-frozen"


class TieUnresolved(Conflict):
    slug = "tie-unresolved"


class BallotCountMismatch(Conflict):
    slug = "ballot-count-mismatch"


_ADD_OPENED = text(
    "UPDATE vote_round_tallies t SET approvals = t.approvals + o.approvals"
    " FROM unnest(CAST(:candidates AS integer[]), CAST(:approvals AS integer[])) AS o(unit_id, approvals)"
    " WHERE t.vote_id = :vote_id AND t.round = :round AND t.candidate_unit_id = o.unit_id"
)


class SealedBallotsUnreadable(AppError):
    """The ballots were sealed with a key this instance does not have: a setting to fix."""

    status, slug = 503, "ballot-seal-key-mismatch"


async def _open_sealed(session: AsyncSession, seal: BallotSeal, vote_id: int, number: int) -> int:
    """Inside the close's transaction (the round locked): open the round's sealed ballots, add
    them to its sums in one statement and delete them. Returns how many were opened."""
    where = (_SEALED.c.vote_id == vote_id) & (_SEALED.c.round == number)
    blobs = list((await session.execute(select(_SEALED.c.sealed).where(where))).scalars())
    if not blobs:
        return 0
    candidates = list(
        (
            await session.execute(
                select(col(VoteRoundTally.candidate_unit_id)).where(
                    col(VoteRoundTally.vote_id) == vote_id, col(VoteRoundTally.round) == number
                )
            )
        ).scalars()
    )
    sums = dict.fromkeys(candidates, 0)
    try:
        for blob in blobs:
            for unit in seal.open(vote_id, number, candidates, blob):
                sums[unit] += 1
    except SealKeyMismatch as exc:
        raise SealedBallotsUnreadable(
            _(
                "Ballots of this round were sealed with a key ({key_id}) this instance does not hold "
                "(its own is {own}): add it to BALLOT_SEAL_PREVIOUS_KEYS (or set BALLOT_SEAL_KEY back), "
                "then close again.",
                key_id=str(exc),
                own=seal.key_id.hex(),
            )
        ) from None
    except SealBroken:
        raise Conflict(
            slug="ballot-seal-broken",
            detail=_(
                "A sealed ballot of this round does not open under the key it names: it was altered "
                "in the database. The round is not counted."
            ),
        ) from None
    await session.execute(
        _ADD_OPENED,
        {"candidates": list(sums), "approvals": list(sums.values()), "vote_id": vote_id, "round": number},
    )
    await session.execute(delete(_SEALED).where(where))
    return len(blobs)


_SEALED = table(VoteSealedBallot)


def vote_etag(out: VoteOut) -> str:
    return record_etag(RESOURCE, out.id, out.version, out)


async def cluster_of(session: AsyncSession, *, vote_id: int) -> int:
    """The id of the vote's cluster, or 404."""
    found = (
        await session.execute(select(col(Vote.cluster_id)).where(col(Vote.id) == vote_id))
    ).scalar_one_or_none()
    if found is None:
        raise NotFound(_("No vote with id {vote_id}.", vote_id=vote_id))
    return found


async def get(session: AsyncSession, *, vote_id: int) -> VoteOut:
    """The vote with its rounds and results, or 404."""
    rows = list(
        await session.execute(
            select_votes().where(col(Vote.id) == vote_id).execution_options(populate_existing=True)
        )
    )
    if not rows:
        raise NotFound(_("No vote with id {vote_id}.", vote_id=vote_id))
    return (await vote_outs(session, rows))[0]


async def list_votes(
    session: AsyncSession,
    *,
    cluster: int | None,
    year: int | None,
    award_type: str | None,
    state: VoteState | None,
    limit: int,
    after: int | None,
) -> Page[VoteOut]:
    """Votes by id, filtered."""
    query = select_votes().order_by(col(Vote.id))
    if cluster is not None:
        query = query.where(col(Cluster.number) == cluster)
    if year is not None:
        query = query.where(col(Vote.emulation_year) == year)
    if award_type is not None:
        query = query.where(col(Vote.award_type) == award_type)
    if state is not None:
        query = query.where(col(Vote.state) == state.value)
    if after is not None:
        query = query.where(col(Vote.id) > after)
    rows = list(await session.execute(query.limit(limit + 1)))
    outs = await vote_outs(session, rows[:limit])
    more = len(rows) > limit and bool(outs)
    return Page[VoteOut](items=outs, next_cursor=encode_cursor(outs[-1].id) if more else None)


async def votes_of(session: AsyncSession, cluster_id: int, year: int) -> list[VoteOut]:
    """The votes of a cluster-year, by id: seven queries whatever their number and size."""
    return await run(session, votes_of_plan(cluster_id, year))


# --- Creating a vote ---------------------------------------------------------------------------


async def _standings(
    session: AsyncSession, cluster_id: int, year: int, award_type: AwardTypeOut, rules: RuleSet
) -> Standings | None:
    """The standings the vote relies on; frozen ones where the award's rules need the rank."""
    standings = await current_standings(session, cluster_id, year)
    needs_rank = any(r in award_type.rules and getattr(rules.parameters, r).value for r in _LEAD_RULES)
    if needs_rank and (standings is None or not standings.frozen):
        raise StandingsNotFrozen(
            _(
                "A vote for {award} depends on the candidates' rank in the standings: freeze the "
                "standings of the cluster's {year} first.",
                award=award_type.code,
                year=year,
            ),
            rule=next(r for r in _LEAD_RULES if r in award_type.rules),
        )
    return standings


async def _voters(session: AsyncSession, cluster_id: int, year: int, held_on: date) -> list[int]:
    """Member units of the cluster in `year` that exist on `held_on`."""
    start, end = year_bounds(year)
    query = (
        select(col(Membership.unit_id))
        .join(Unit, col(Unit.id) == col(Membership.unit_id))
        .where(
            col(Membership.cluster_id) == cluster_id,
            overlaps(col(Membership.valid_from), col(Membership.valid_to), start, end),
            overlaps(col(Unit.valid_from), col(Unit.valid_to), held_on, held_on),
        )
        .distinct()
    )
    return sorted((await session.execute(query)).scalars())


async def _chair(
    session: AsyncSession, cluster_id: int, year: int, held_on: date, voters: list[int]
) -> tuple[int | None, ChairReason]:
    """The year's leader; its successor voting here if it ceased; else the deputy; else none."""
    found = await leaderships(session, cluster_id, [year])
    if not found:
        return None, ChairReason.no_leadership
    lead = found[0]
    leader = lead.leader.unit
    if leader.valid_to is None or leader.valid_to >= held_on:
        return leader.id, ChairReason.leader
    heirs = [
        link.unit.id for link in (await lineage(session, leader.id)).successors if link.unit.id in voters
    ]
    if heirs:
        return heirs[0], ChairReason.leader_successor
    deputy = lead.deputy.unit if lead.deputy is not None else None
    if deputy is not None and (deputy.valid_to is None or deputy.valid_to >= held_on):
        return deputy.id, ChairReason.deputy
    return None, ChairReason.no_leadership


async def create(session: AsyncSession, *, data: VoteCreate, grouping: Grouping, actor: Actor) -> VoteOut:
    """Open a vote of `grouping` (the cluster `data.cluster` names) and its first round. 409 when
    a candidate is refused by a nomination rule (quoting it), when the award's rules need frozen
    standings that are not, or when the cluster has no voter that day; 422 for an award type no
    vote proposes."""
    cluster = grouping.row
    assert cluster.id is not None
    await invalidate(session, cluster_tag(cluster.number))
    award_type = await get_award_type(session, code=data.award_type)
    if not award_type.requires_vote or award_type.recipient.value != "collective":
        raise Unprocessable(
            _(
                "Award type {code} is not proposed by a cluster's vote for a collective.",
                code=award_type.code,
            ),
            field="award_type",
        )
    if data.conference_id is not None:
        year = data.emulation_year
        await check_link(session, data.conference_id, cluster_id=cluster.id, number=cluster.number, year=year)
    rules = await rule_set_for_year(session, data.emulation_year)
    standings = await _standings(session, cluster.id, data.emulation_year, award_type, rules)
    voters = await _voters(session, cluster.id, data.emulation_year, data.held_on)
    if not voters:
        raise Conflict(
            slug="no-voters",
            detail=_(
                "Cluster {number} has no member in {year} that exists on {day}: nobody could vote.",
                number=cluster.number,
                year=data.emulation_year,
                day=data.held_on,
            ),
        )
    checked = []
    for candidate in data.candidates:
        rank = rank_of(standings, candidate.unit_id) if standings is not None else None
        checks = await check_nomination(
            session,
            unit_id=candidate.unit_id,
            award_type_code=award_type.code,
            emulation_year=data.emulation_year,
            cluster_id=cluster.id,
            on=data.held_on,
            rank=rank,
            attested=False,
        )
        ensure_no_refusal(checks)
        checked.append((candidate, rank, checks))
    chair_id, chair_reason = await _chair(session, cluster.id, data.emulation_year, data.held_on, voters)
    vote = Vote(
        cluster_id=cluster.id,
        emulation_year=data.emulation_year,
        award_type=award_type.code,
        seats=data.seats,
        held_on=data.held_on,
        rule_set=rules.code,
        rule_set_version=rules.version,
        parameters=vote_parameters(rules, award_type),
        standings_version=standings.version if standings is not None else None,
        standings_frozen=standings is not None and standings.frozen,
        freeze_number=standings.freeze.number if standings is not None and standings.freeze else None,
        chair_unit_id=chair_id,
        chair_reason=chair_reason.value,
        state=VoteState.open.value,
        note=data.note,
        conference_id=data.conference_id,
        recorded_by=actor.recorded_by,
    )
    session.add(vote)
    await session.flush()
    assert vote.id is not None
    await session.execute(
        insert(table(VoteCandidate)),
        [
            {
                "vote_id": vote.id,
                "unit_id": c.unit_id,
                "position": i,
                "women_preference": c.women_preference,
                "rank": rank,
                "rule_checks": [check.model_dump(mode="json", exclude={"message"}) for check in checks],
            }
            for i, (c, rank, checks) in enumerate(checked, start=1)
        ],
    )
    await session.execute(insert(table(VoteVoter)), [{"vote_id": vote.id, "unit_id": u} for u in voters])
    await _open_round(session, vote.id, 1, data.seats, [c.unit_id for c in data.candidates])
    return await get(session, vote_id=vote.id)


async def _open_round(
    session: AsyncSession, vote_id: int, number: int, seats: int, candidates: list[int]
) -> None:
    """The round, its empty ballot box and a zero tally per candidate."""
    await session.execute(
        insert(table(VoteRound)).values(
            vote_id=vote_id, round=number, seats=seats, state=RoundState.open.value
        )
    )
    await session.execute(insert(table(VoteBallotBox)).values(vote_id=vote_id, round=number, ballots_cast=0))
    await session.execute(
        insert(table(VoteRoundTally)),
        [{"vote_id": vote_id, "round": number, "candidate_unit_id": c, "approvals": 0} for c in candidates],
    )


# --- Attendance, closing, rounds ----------------------------------------------------------------


async def _locked_vote(session: AsyncSession, vote_id: int) -> Vote:
    """The vote, locked (`FOR UPDATE`), or 404; its cluster's cached reads dropped on commit."""
    vote = (
        await session.execute(select(Vote).where(col(Vote.id) == vote_id).with_for_update())
    ).scalar_one_or_none()
    if vote is None:
        raise NotFound(_("No vote with id {vote_id}.", vote_id=vote_id))
    number = (
        await session.execute(select(col(Cluster.number)).where(col(Cluster.id) == vote.cluster_id))
    ).scalar_one()
    await invalidate(session, cluster_tag(number))
    return vote


async def _locked_open_round(session: AsyncSession, vote: Vote) -> VoteRound:
    """The vote's current round, locked against ballots (they take a key-share lock on it)."""
    found = (
        await session.execute(
            select(VoteRound)
            .where(col(VoteRound.vote_id) == vote.id, col(VoteRound.round) == vote.current_round)
            .with_for_update()
        )
    ).scalar_one()
    if vote.state != VoteState.open.value or found.state != RoundState.open.value:
        raise Conflict(
            slug="round-not-open",
            detail=_(
                "Round {round} of vote {vote_id} is not open.", round=vote.current_round, vote_id=vote.id
            ),
            field="round",
        )
    return found


async def record_attendance(
    session: AsyncSession, *, vote_id: int, data: AttendanceIn, actor: Actor
) -> VoteOut:
    """Replace the current round's attendance: voters only (409), written votes only where the
    rule set counts them (409), and every unit that already voted stays recorded (409)."""
    vote = await _locked_vote(session, vote_id)
    await _locked_open_round(session, vote)
    voters = set(
        (
            await session.execute(select(col(VoteVoter.unit_id)).where(col(VoteVoter.vote_id) == vote_id))
        ).scalars()
    )
    strangers = sorted((set(data.present) | set(data.written)) - voters)
    if strangers:
        raise Conflict(
            slug="not-a-voter",
            detail=_("Units {units} are not voters of this vote.", units=", ".join(map(str, strangers))),
            field="present",
        )
    if data.written and not parameter_value(vote.parameters, "absent_written_votes_count"):
        raise Conflict(
            slug="written-votes-not-counted",
            detail=_("The rule set of this vote does not count written votes of absent voters."),
            field="written",
            rule="absent_written_votes_count",
        )
    voted = set(
        (
            await session.execute(
                select(col(VoteParticipation.unit_id)).where(
                    col(VoteParticipation.vote_id) == vote_id,
                    col(VoteParticipation.round) == vote.current_round,
                )
            )
        ).scalars()
    )
    dropped = sorted(voted - set(data.present) - set(data.written))
    if dropped:
        raise Conflict(
            slug="already-voted",
            detail=_("Units {units} have already voted in this round.", units=", ".join(map(str, dropped))),
            field="present",
        )
    attendance = table(VoteAttendance)
    round_rows = (attendance.c.vote_id == vote_id) & (attendance.c.round == vote.current_round)
    kinds = dict.fromkeys(data.present, AttendanceKind.present)
    kinds.update(dict.fromkeys(data.written, AttendanceKind.written))
    stored = {r.unit_id: r.kind for r in await session.execute(select(attendance).where(round_rows))}
    gone = [u for u in stored if u not in kinds]
    if gone:
        await session.execute(attendance.delete().where(round_rows, attendance.c.unit_id.in_(gone)))
    for unit, kind in kinds.items():
        if unit not in stored:
            await session.execute(
                insert(attendance).values(
                    vote_id=vote_id, round=vote.current_round, unit_id=unit, kind=kind.value
                )
            )
        elif stored[unit] != kind.value:
            await session.execute(
                update(attendance).where(round_rows, attendance.c.unit_id == unit).values(kind=kind.value)
            )
    vote.stamp(actor)
    session.add(vote)
    await session.flush()
    return await get(session, vote_id=vote_id)


async def close_round(
    session: AsyncSession, *, vote_id: int, data: CloseIn, actor: Actor, seal: BallotSeal
) -> VoteOut:
    """Count the current round (integer arithmetic, `app.votes.counting`) and publish its result;
    each seated candidate becomes a nomination in the awards register, linked to the vote and its
    standings version. Under quorum the round and the vote are void. The round's sealed ballots
    are opened into its sums first. 409 when a tie across the last seat needs the chair's choice
    (`tied`); `ballot-count-mismatch` guards a round whose ballots were cast before 2.0.0 (two
    transactions then, which a crash could split): a ballot now counts in the same transaction
    as its participation."""
    vote = await _locked_vote(session, vote_id)
    assert vote.id is not None
    current = await _locked_open_round(session, vote)
    number = vote.current_round
    kinds = list(
        (
            await session.execute(
                select(col(VoteAttendance.kind)).where(
                    col(VoteAttendance.vote_id) == vote_id, col(VoteAttendance.round) == number
                )
            )
        ).scalars()
    )
    opened = await _open_sealed(session, seal, vote_id, number)
    voted = (
        await session.execute(
            select(func.count())
            .select_from(VoteParticipation)
            .where(col(VoteParticipation.vote_id) == vote_id, col(VoteParticipation.round) == number)
        )
    ).scalar_one()
    box, sealed = (
        await session.execute(
            select(col(VoteBallotBox.ballots_cast), col(VoteBallotBox.ballots_sealed)).where(
                col(VoteBallotBox.vote_id) == vote_id, col(VoteBallotBox.round) == number
            )
        )
    ).one()
    if opened != sealed:
        raise BallotCountMismatch(
            _(
                "{sealed} sealed ballots were cast in this round but {opened} are stored: a ballot was "
                "removed from the database. The round is not counted.",
                sealed=sealed,
                opened=opened,
            )
        )
    if voted != box:
        raise BallotCountMismatch(
            _(
                "{voted} voters took part but the box holds {ballots} ballots: a ballot is still being "
                "counted. Close again in a moment.",
                voted=voted,
                ballots=box,
            )
        )
    tallies = await _tallies(session, vote_id, number)
    candidates = [
        counting.Candidate(r.unit_id, r.women_preference, r.rank)
        for r in (
            await session.execute(
                select(VoteCandidate)
                .where(col(VoteCandidate.vote_id) == vote_id, col(VoteCandidate.unit_id).in_(list(tallies)))
                .order_by(col(VoteCandidate.position))
            )
        ).scalars()
    ]
    eligible = (
        await session.execute(
            select(func.count()).select_from(VoteVoter).where(col(VoteVoter.vote_id) == vote_id)
        )
    ).scalar_one()
    unknown = sorted(set(data.chair_choice) - set(tallies))
    if unknown:
        raise Unprocessable(
            _("The chair may only choose among this round's candidates."), field="chair_choice"
        )
    result = counting.count_tallies(
        counting_rule(vote.parameters),
        eligible=eligible,
        present=kinds.count(AttendanceKind.present.value),
        seats=current.seats,
        candidates=candidates,
        approvals=tallies,
        ballots=box,
        chair_choice=data.chair_choice,
    )
    if result.outcome is counting.RoundOutcome.TIE_UNRESOLVED:
        raise TieUnresolved(
            _(
                "Candidates {units} are tied across the last seat and the rule set's tie-breakers do "
                "not settle it: the chair's choice is needed (`chair_choice`).",
                units=", ".join(map(str, result.tied)),
            ),
            tied=list(result.tied),
        )
    nominations = await _nominate(session, vote, result, actor)
    published = _published(result, kinds.count(AttendanceKind.written.value), data, nominations)
    current.state = (
        RoundState.void.value
        if result.outcome is counting.RoundOutcome.VOID_NO_QUORUM
        else RoundState.counted.value
    )
    current.result = published.model_dump(mode="json")
    session.add(current)
    vote.state, vote.state_reason = _after(vote, result)
    vote.stamp(actor)
    session.add(vote)
    await session.flush()
    return await get(session, vote_id=vote_id)


async def _tallies(session: AsyncSession, vote_id: int, number: int) -> dict[int, int]:
    rows = await session.execute(
        select(col(VoteRoundTally.candidate_unit_id), col(VoteRoundTally.approvals)).where(
            col(VoteRoundTally.vote_id) == vote_id, col(VoteRoundTally.round) == number
        )
    )
    return {r.candidate_unit_id: r.approvals for r in rows}


def _after(vote: Vote, result: counting.RoundResult) -> tuple[str, str]:
    if result.outcome is counting.RoundOutcome.VOID_NO_QUORUM:
        return VoteState.void.value, "no_quorum"
    if result.seats_left == 0:
        return VoteState.closed.value, "seats_filled"
    if vote.current_round >= parameter_value(vote.parameters, "max_rounds"):
        return VoteState.closed.value, "no_rounds_left"
    return VoteState.open.value, "next_round_possible"


def cited_vote_of(vote: Vote, candidates: set[int]) -> awards.CitedVote:
    assert vote.id is not None
    return awards.CitedVote(
        id=vote.id,
        cluster_id=vote.cluster_id,
        award_type=vote.award_type,
        emulation_year=vote.emulation_year,
        standings_version=vote.standings_version,
        candidates=frozenset(candidates),
    )


async def cited_vote(session: AsyncSession, vote_id: int) -> awards.CitedVote:
    """A vote as a nomination cites it (404 for no such vote)."""
    vote = await session.get(Vote, vote_id)
    if vote is None:
        raise NotFound(_("No vote with id {vote_id}.", vote_id=vote_id), field="vote_id")
    candidates = await session.execute(
        select(col(VoteCandidate.unit_id)).where(col(VoteCandidate.vote_id) == vote_id)
    )
    return cited_vote_of(vote, set(candidates.scalars()))


async def _nominate(
    session: AsyncSession, vote: Vote, result: counting.RoundResult, actor: Actor
) -> list[int]:
    """Each seat becomes a nomination in the awards register (its rules are checked again)."""
    assert vote.id is not None
    ranks = {
        r.unit_id: r.rank
        for r in (
            await session.execute(select(VoteCandidate).where(col(VoteCandidate.vote_id) == vote.id))
        ).scalars()
    }
    made = []
    cited = cited_vote_of(vote, set(ranks))
    for seat in result.seats:
        award = await awards.nominate(
            session,
            award_type_code=vote.award_type,
            unit_id=seat.unit_id,
            emulation_year=vote.emulation_year,
            cluster_id=vote.cluster_id,
            vote=cited,
            standings_version=vote.standings_version,
            on=vote.held_on,
            actor=actor,
            rank=ranks.get(seat.unit_id),
        )
        made.append(award.id)
    return made


def _published(
    result: counting.RoundResult, written: int, data: CloseIn, nominations: list[int]
) -> RoundResult:
    return RoundResult(
        outcome=result.outcome.value,
        eligible=result.eligible,
        present=result.present,
        written=written,
        ballots=result.ballots,
        quorum_met=result.quorum_met,
        quorum_minimum=result.quorum_minimum,
        approval_base=result.approval_base,
        approval_minimum=result.approval_minimum,
        tallies=[TallyOut(unit_id=t.unit_id, approvals=t.approvals, passed=t.passed) for t in result.tallies],
        seats=[SeatOut(unit_id=s.unit_id, reason=s.reason.value) for s in result.seats],
        seats_left=result.seats_left,
        breakers_used=[b.value for b in result.breakers_used],
        chair_choice=list(data.chair_choice),
        nominations=nominations,
    )


async def open_round(session: AsyncSession, *, vote_id: int, actor: Actor) -> VoteOut:
    """A further round among the candidates not yet seated, for the seats left: only after a
    counted round that left seats empty, and while the rule set's `max_rounds` allows (409)."""
    vote = await _locked_vote(session, vote_id)
    assert vote.id is not None
    if vote.state != VoteState.open.value or vote.state_reason != "next_round_possible":
        raise Conflict(
            slug="no-further-round",
            detail=_(
                "Vote {vote_id} cannot have another round: its last round is open, void, or the last "
                "allowed.",
                vote_id=vote_id,
            ),
        )
    rounds = list(
        (
            await session.execute(
                select(VoteRound).where(col(VoteRound.vote_id) == vote_id).order_by(col(VoteRound.round))
            )
        ).scalars()
    )
    seated = {s["unit_id"] for r in rounds if r.result for s in r.result["seats"]}
    last = rounds[-1]
    assert last.result is not None
    remaining = [
        unit
        for unit in (
            await session.execute(
                select(col(VoteCandidate.unit_id))
                .where(col(VoteCandidate.vote_id) == vote_id)
                .order_by(col(VoteCandidate.position))
            )
        ).scalars()
        if unit not in seated
    ]
    seats = min(last.result["seats_left"], len(remaining))
    if seats < 1:
        raise Conflict(
            slug="no-candidate-left",
            detail=_("No candidate is left for another round of vote {vote_id}.", vote_id=vote_id),
        )
    vote.current_round += 1
    vote.state_reason = None
    vote.stamp(actor)
    session.add(vote)
    await session.flush()
    await _open_round(session, vote.id, vote.current_round, seats, remaining)
    return await get(session, vote_id=vote_id)
