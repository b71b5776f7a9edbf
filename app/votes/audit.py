"""The audit of the awards register (`python -m app awards audit`): every stored award whose vote,
rank or standings version does not match the vote and the frozen standings it names, and every
award of a type a vote proposes that is neither attested nor linked to a vote (recorded before
2.0.0 refused such nominations). Refused and revoked awards are left out: they are settled.

Each finding is the award and what is wrong, in words (the current language); nothing is changed.
Review each: revoke it through its transitions (`POST /v1/awards/{id}/transitions`, with a
reason), or re-record it as an attested record citing its source.
"""

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from app.awards.models import Award, AwardStatus, AwardType
from app.clusters.models import Cluster
from app.core.i18n import _
from app.scoring.models import ScoringFramework, StandingsFreeze
from app.votes.models import Vote, VoteCandidate, VoteRound

_CLUSTER_LEAD_RULES = ("government_flag_requires_cluster_lead", "ministry_flag_requires_cluster_lead")
_SETTLED = (AwardStatus.refused.value, AwardStatus.revoked.value)
_NONE = "—"


@dataclass
class Finding:
    """An award that does not match what it names, and each thing wrong with it."""

    award_id: int
    award_type: str
    unit_id: int
    emulation_year: int
    problems: list[str] = field(default_factory=list)

    def line(self) -> str:
        return _(
            "award {award_id} ({award_type}, unit {unit_id}, {year}): {problems}",
            award_id=self.award_id,
            award_type=self.award_type,
            unit_id=self.unit_id,
            year=self.emulation_year,
            problems="; ".join(self.problems),
        )


def _recorded_rank(award: Award) -> tuple[bool, int | None]:
    """Whether the award's checks used a rank (a cluster-lead rule), and which."""
    for check in award.rule_checks:
        if check.get("rule") in _CLUSTER_LEAD_RULES and "rank" in check.get("facts", {}):
            rank = check["facts"]["rank"]
            return True, rank if isinstance(rank, int) else None
    return False, None


async def _seated(session: AsyncSession, vote_ids: list[int]) -> set[tuple[int, int]]:
    """(vote, unit) for every seat a counted round of these votes published."""
    rows = await session.execute(
        select(col(VoteRound.vote_id), col(VoteRound.result)).where(
            col(VoteRound.vote_id).in_(vote_ids), col(VoteRound.state) == "counted"
        )
    )
    return {
        (r.vote_id, seat["unit_id"])
        for r in rows
        if r.result is not None
        for seat in r.result.get("seats", [])
    }


async def _frozen_ranks(session: AsyncSession, votes: list[Vote]) -> dict[int, dict[int, int | None]]:
    """Per vote, the ranks of the frozen standings snapshot it relied on (its freeze, else a
    freeze of its standings version); a vote with no such snapshot is left out."""
    found: dict[int, dict[int, int | None]] = {}
    for vote in votes:
        if vote.standings_version is None:
            continue
        assert vote.id is not None
        query = (
            select(col(StandingsFreeze.snapshot))
            .join(ScoringFramework, col(ScoringFramework.id) == col(StandingsFreeze.framework_id))
            .where(
                col(ScoringFramework.cluster_id) == vote.cluster_id,
                col(ScoringFramework.year) == vote.emulation_year,
            )
        )
        if vote.freeze_number is not None:
            query = query.where(col(StandingsFreeze.number) == vote.freeze_number)
        else:
            query = query.where(col(StandingsFreeze.standings_version) == vote.standings_version)
        snapshot: dict[str, Any] | None = (
            await session.execute(query.order_by(col(StandingsFreeze.number).desc()).limit(1))
        ).scalar_one_or_none()
        if snapshot is not None:
            found[vote.id] = {row["unit_id"]: row.get("rank") for row in snapshot.get("rows", [])}
    return found


def _vote_problems(
    award: Award,
    vote: Vote,
    numbers: dict[int, int],
    seated: set[tuple[int, int]],
    frozen: dict[int, dict[int, int | None]],
    candidate_ranks: dict[tuple[int, int], int | None],
) -> list[str]:
    assert vote.id is not None
    problems = []
    if vote.cluster_id != award.cluster_id:
        problems.append(
            _(
                "vote {vote_id} was held by cluster {vote_cluster}, not by cluster {cluster}",
                vote_id=vote.id,
                vote_cluster=numbers.get(vote.cluster_id, _NONE),
                cluster=numbers.get(award.cluster_id, _NONE) if award.cluster_id is not None else _NONE,
            )
        )
    if vote.award_type != award.award_type:
        problems.append(
            _(
                "vote {vote_id} was held for {vote_award}, not for {award}",
                vote_id=vote.id,
                vote_award=vote.award_type,
                award=award.award_type,
            )
        )
    if vote.emulation_year != award.emulation_year:
        problems.append(
            _(
                "vote {vote_id} was held for {vote_year}, not for {year}",
                vote_id=vote.id,
                vote_year=vote.emulation_year,
                year=award.emulation_year,
            )
        )
    if (vote.id, award.unit_id) not in seated:
        problems.append(
            _(
                "the result of vote {vote_id} did not seat unit {unit_id}",
                vote_id=vote.id,
                unit_id=award.unit_id,
            )
        )
    if award.standings_version != vote.standings_version:
        problems.append(
            _(
                "standings version {version} is not the one vote {vote_id} relied on ({vote_version})",
                version=award.standings_version if award.standings_version is not None else _NONE,
                vote_id=vote.id,
                vote_version=vote.standings_version if vote.standings_version is not None else _NONE,
            )
        )
    used, rank = _recorded_rank(award)
    shown = rank if rank is not None else _NONE
    if used and vote.id in frozen:
        expected = frozen[vote.id].get(award.unit_id)
        if rank != expected:
            problems.append(
                _(
                    "rank {rank} is not the unit's rank in the frozen standings vote {vote_id} "
                    "relied on ({expected})",
                    rank=shown,
                    vote_id=vote.id,
                    expected=expected if expected is not None else _NONE,
                )
            )
    elif used and (vote.id, award.unit_id) in candidate_ranks:
        expected = candidate_ranks[(vote.id, award.unit_id)]
        if rank != expected:
            problems.append(
                _(
                    "rank {rank} is not the rank vote {vote_id} recorded for the unit ({expected})",
                    rank=shown,
                    vote_id=vote.id,
                    expected=expected if expected is not None else _NONE,
                )
            )
    return problems


async def audit_awards(session: AsyncSession) -> list[Finding]:
    """Every stored award (refused and revoked aside) that does not match the vote and frozen
    standings it names, by id: a vote of another cluster, award type or year; a vote whose
    result did not seat the unit; a standings version not the vote's; a rank that differs from
    the frozen snapshot's (or, without one, the vote's record of its candidates). Also an award
    of a type a vote proposes that is neither attested nor linked to a vote, a standings version
    named without a vote, and a cluster-lead check that passed on a rank no vote recorded (an
    attested record made before 2.0.0 took the caller's rank for it). A fixed number of queries,
    plus one per vote with standings."""
    rows = (
        await session.execute(
            select(Award, col(AwardType.requires_vote))
            .join(AwardType, col(AwardType.code) == col(Award.award_type))
            .where(col(Award.status).not_in(_SETTLED))
            .order_by(col(Award.id))
        )
    ).all()
    vote_ids = sorted({r.Award.vote_id for r in rows if r.Award.vote_id is not None})
    votes = {
        v.id: v for v in (await session.execute(select(Vote).where(col(Vote.id).in_(vote_ids)))).scalars()
    }
    numbers = {r.id: r.number for r in await session.execute(select(col(Cluster.id), col(Cluster.number)))}
    seated = await _seated(session, vote_ids)
    frozen = await _frozen_ranks(session, list(votes.values()))
    candidate_ranks = {
        (c.vote_id, c.unit_id): c.rank
        for c in (
            await session.execute(
                select(col(VoteCandidate.vote_id), col(VoteCandidate.unit_id), col(VoteCandidate.rank)).where(
                    col(VoteCandidate.vote_id).in_(vote_ids)
                )
            )
        )
    }
    findings = []
    for row in rows:
        award: Award = row.Award
        assert award.id is not None
        problems: list[str] = []
        if award.vote_id is not None:
            problems = _vote_problems(award, votes[award.vote_id], numbers, seated, frozen, candidate_ranks)
        else:
            if row.requires_vote and not award.attested:
                problems.append(
                    _(
                        "{award_type} is proposed by a vote, and this award is neither linked to a "
                        "vote nor attested",
                        award_type=award.award_type,
                    )
                )
            if award.standings_version is not None:
                problems.append(
                    _(
                        "standings version {version} is named without a vote",
                        version=award.standings_version,
                    )
                )
            for check in award.rule_checks:
                if check.get("rule") in _CLUSTER_LEAD_RULES and check.get("outcome") == "passed":
                    problems.append(
                        _(
                            "{rule} passed on a rank no vote recorded (rank {rank}): the caller's word",
                            rule=check["rule"],
                            rank=check.get("facts", {}).get("rank"),
                        )
                    )
        if problems:
            findings.append(
                Finding(award.id, award.award_type, award.unit_id, award.emulation_year, problems)
            )
    return findings
