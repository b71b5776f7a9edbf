"""Reading votes: a fixed number of queries for any number of votes (the year sheet is a hot path)."""

from collections.abc import Callable
from typing import Any

from sqlalchemy import ARRAY, Integer, Select, bindparam, func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased
from sqlmodel import col

from app.awards.eligibility import with_message
from app.awards.schemas import RuleCheck
from app.clusters.models import Cluster
from app.core.i18n import _
from app.core.plans import Id, Plan, Read, one, run
from app.units.models import Unit
from app.units.schemas import UnitRef
from app.units.service import unit_columns
from app.votes.models import (
    ChairReason,
    RoundState,
    Vote,
    VoteAttendance,
    VoteBallotBox,
    VoteCandidate,
    VoteParticipation,
    VoteRound,
    VoteRoundTally,
    VoteState,
    VoteVoter,
)
from app.votes.schemas import (
    ChairOut,
    ParameterUsed,
    ParticipationOut,
    RoundOut,
    RoundResult,
    VoteCandidateOut,
    VoteOut,
)

_CHAIR = aliased(Unit, name="chair")


def select_votes() -> Select[Any]:
    """Votes with their cluster's number and their chair."""
    return (
        select(Vote, col(Cluster.number).label("cluster_number"), *unit_columns(_CHAIR, "c_"))
        .join(Cluster, col(Cluster.id) == col(Vote.cluster_id))
        .outerjoin(_CHAIR, col(_CHAIR.id) == col(Vote.chair_unit_id))
    )


def chair_remark(reason: ChairReason, name: str | None) -> str:
    """Why the chair chairs, in the request's language."""
    if reason is ChairReason.leader:
        return _("{name} chairs as the year's leader (Cụm trưởng).", name=name)
    if reason is ChairReason.leader_successor:
        return _(
            "{name} chairs as the successor of the year's leader, which had ceased by the meeting day.",
            name=name,
        )
    if reason is ChairReason.deputy:
        return _(
            "{name} chairs as the year's deputy (Cụm phó): the leader had ceased by the meeting day "
            "and no successor of it votes here.",
            name=name,
        )
    return _("No leader or deputy recorded for the year can chair: the meeting names its chair.")


def parameters_used(stored: dict[str, Any]) -> tuple[ParameterUsed, list[ParameterUsed]]:
    """The threshold and every parameter, from `votes.parameters`."""
    used = [ParameterUsed.model_validate(p) for p in stored["used"]]
    threshold = next(p for p in used if p.name == stored["threshold"])
    return threshold, used


_IDS = func.any(bindparam("ids", type_=ARRAY(Integer)))
"""`= _IDS`: any of the votes' ids (an array: batched statements take no expanding `IN`)."""
_CANDIDATES = (
    select(VoteCandidate, *unit_columns(Unit))
    .join(Unit, col(Unit.id) == col(VoteCandidate.unit_id))
    .where(col(VoteCandidate.vote_id) == _IDS)
    .order_by(col(VoteCandidate.vote_id), col(VoteCandidate.position))
)
_VOTERS = (
    select(col(VoteVoter.vote_id), *unit_columns(Unit))
    .join(Unit, col(Unit.id) == col(VoteVoter.unit_id))
    .where(col(VoteVoter.vote_id) == _IDS)
    .order_by(col(VoteVoter.vote_id), col(Unit.name), col(Unit.id))
)
_ROUNDS = (
    select(VoteRound, col(VoteBallotBox.ballots_cast))
    .join(
        VoteBallotBox,
        (col(VoteBallotBox.vote_id) == col(VoteRound.vote_id))
        & (col(VoteBallotBox.round) == col(VoteRound.round)),
    )
    .where(col(VoteRound.vote_id) == _IDS)
    .order_by(col(VoteRound.vote_id), col(VoteRound.round))
)
_ROUND_CANDIDATES = (
    select(col(VoteRoundTally.vote_id), col(VoteRoundTally.round), col(VoteRoundTally.candidate_unit_id))
    .join(
        VoteCandidate,
        (col(VoteCandidate.vote_id) == col(VoteRoundTally.vote_id))
        & (col(VoteCandidate.unit_id) == col(VoteRoundTally.candidate_unit_id)),
    )
    .where(col(VoteRoundTally.vote_id) == _IDS)
    .order_by(col(VoteRoundTally.vote_id), col(VoteRoundTally.round), col(VoteCandidate.position))
)
_ATTENDANCE = (
    select(VoteAttendance).where(col(VoteAttendance.vote_id) == _IDS).order_by(col(VoteAttendance.unit_id))
)
_PARTICIPATIONS = (
    select(VoteParticipation)
    .where(col(VoteParticipation.vote_id) == _IDS)
    .order_by(col(VoteParticipation.unit_id))
)
"""A vote's parts, for the votes whose ids are given: built once (the year sheet is a hot path)."""
_OF_YEAR = (
    select_votes()
    .where(col(Vote.cluster_id) == bindparam("cluster_id"), col(Vote.emulation_year) == bindparam("year"))
    .order_by(col(Vote.id))
)


async def vote_outs(session: AsyncSession, rows: list[Any]) -> list[VoteOut]:
    """The votes of `rows` (from `select_votes`) with their parts: six more queries, whatever
    the number of votes, candidates, voters or rounds."""
    return await run(session, vote_outs_plan(rows))


def votes_of_plan(cluster_id: Id, year: int) -> Plan[list[VoteOut]]:
    """The votes of a cluster-year, by id, with their parts: two steps (the year sheet reads them
    with the rest of the sheet)."""
    rows = yield from one(Read(_OF_YEAR, {"cluster_id": cluster_id, "year": year}))
    return (yield from vote_outs_plan(rows))


def vote_outs_plan(rows: list[Any]) -> Plan[list[VoteOut]]:
    """`vote_outs` as a plan: its six reads in one step."""
    ids = [r.Vote.id for r in rows]
    if not ids:
        return []
    parts = yield [
        Read(statement, {"ids": ids})
        for statement in (_CANDIDATES, _VOTERS, _ROUNDS, _ROUND_CANDIDATES, _ATTENDANCE, _PARTICIPATIONS)
    ]
    candidates = _grouped(parts[0], lambda r: r.VoteCandidate.vote_id)
    voters = _grouped(parts[1], lambda r: r.vote_id)
    rounds = _grouped(parts[2], lambda r: r.VoteRound.vote_id)
    round_candidates = _grouped(parts[3], lambda r: (r.vote_id, r.round))
    attendance = _grouped(parts[4], lambda r: (r.VoteAttendance.vote_id, r.VoteAttendance.round))
    participations = _grouped(parts[5], lambda r: (r.VoteParticipation.vote_id, r.VoteParticipation.round))

    def round_out(r: Any) -> RoundOut:
        row: VoteRound = r.VoteRound
        key = (row.vote_id, row.round)
        present = [
            a.VoteAttendance.unit_id for a in attendance.get(key, []) if a.VoteAttendance.kind == "present"
        ]
        written = [
            a.VoteAttendance.unit_id for a in attendance.get(key, []) if a.VoteAttendance.kind == "written"
        ]
        return RoundOut(
            round=row.round,
            seats=row.seats,
            state=RoundState(row.state),
            candidates=[c.candidate_unit_id for c in round_candidates.get(key, [])],
            present=present,
            written=written,
            participations=[
                ParticipationOut(unit_id=p.VoteParticipation.unit_id, method=p.VoteParticipation.method)
                for p in participations.get(key, [])
            ],
            ballots_cast=r.ballots_cast,
            result=RoundResult.model_validate(row.result) if row.result is not None else None,
        )

    outs = []
    for r in rows:
        vote: Vote = r.Vote
        assert vote.id is not None
        threshold, used = parameters_used(vote.parameters)
        chair = UnitRef.from_row(r, "c_") if vote.chair_unit_id is not None else None
        reason = ChairReason(vote.chair_reason)
        outs.append(
            VoteOut(
                id=vote.id,
                cluster=r.cluster_number,
                emulation_year=vote.emulation_year,
                award_type=vote.award_type,
                seats=vote.seats,
                held_on=vote.held_on,
                rule_set=vote.rule_set,
                rule_set_version=vote.rule_set_version,
                threshold=threshold,
                parameters=used,
                standings_version=vote.standings_version,
                standings_frozen=vote.standings_frozen,
                freeze_number=vote.freeze_number,
                chair=ChairOut(
                    unit=chair, reason=reason, remark=chair_remark(reason, chair.name if chair else None)
                ),
                state=VoteState(vote.state),
                state_reason=vote.state_reason,
                current_round=vote.current_round,
                candidates=[
                    VoteCandidateOut(
                        unit=UnitRef.from_row(c),
                        women_preference=c.VoteCandidate.women_preference,
                        rank=c.VoteCandidate.rank,
                        rule_checks=[
                            with_message(RuleCheck.model_validate(check))
                            for check in c.VoteCandidate.rule_checks
                        ],
                    )
                    for c in candidates.get(vote.id, [])
                ],
                voters=[UnitRef.from_row(v) for v in voters.get(vote.id, [])],
                rounds=[round_out(x) for x in rounds.get(vote.id, [])],
                note=vote.note,
                conference_id=vote.conference_id,
                version=vote.version,
                recorded_by=vote.recorded_by,
                recorded_at=vote.recorded_at,
            )
        )
    return outs


def _grouped(rows: list[Any], key: Callable[[Any], Any]) -> dict[Any, list[Any]]:
    groups: dict[Any, list[Any]] = {}
    for row in rows:
        groups.setdefault(key(row), []).append(row)
    return groups
