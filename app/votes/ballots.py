"""Ballots, kept secret against a look at the database.

Who voted and what was voted are stored apart and nothing links them:

- **Who**: `vote_participations` (vote, round, unit, method): no id, no timestamp. Its primary
  key is the one-ballot-per-voter rule: a second ballot of a voter in a round is refused by the
  database (a race between two is decided by the key, not by a pre-check).
- **What**: no ballot row at all. A ballot only adds to the round's sums: `vote_round_tallies`
  (approvals per candidate) and `vote_ballot_boxes` (ballots cast). **Every** tally row of the
  round is rewritten by every ballot (+1 or +0), so the rows' shared `xmin` says nothing about
  which candidates a ballot approved.
- **Not in the same transaction**: the participation is written and committed first (its own
  transaction, tx1), then the sums in another (tx2), each on its own connection from the engine
  (not the request's session: one transaction would give both the same `xmin`). If tx2 fails,
  the participation is deleted again (tx3), so the voter can cast again and nothing is counted
  twice; the request answers 503. Were tx3 to fail too, the round's participations and ballots
  disagree, which closing detects (409 `ballot-count-mismatch`) rather than publishes.
- **Nothing else keeps a ballot**: the cast takes no `Idempotency-Key` (no stored request or
  answer; a retry is a 409 saying the ballot was counted), the answer says only that it was
  received and how many ballots the round holds, a refusal never quotes the approvals, errors in
  tx2 are logged by their type only (SQLAlchemy's message would carry the statement's
  parameters), and there are no revisions of ballots. Metrics are labelled by route template.
- **Closing** reads the sums only; until a round is closed its tallies are not shown.

Residual risks, honestly: an `UPDATE` leaves the previous version of each tally row as a dead
tuple until VACUUM removes it (we VACUUM the two tables after every ballot, best-effort: a
long-running transaction elsewhere can keep them visible); the WAL and any physical replica or
backup hold the sequence of sums, and tx1 and tx2 follow each other in it; transaction ids are
assigned in order, so a participation's `xmin` is usually just below the sums' `xmin` after its
ballot; a database administrator watching the tables over time (or a server logging every
statement with its parameters: `log_statement = all`) can diff consecutive sums and so learn each
ballot of an electronic cast. Paper ballots entered together are summed together, so a batch of
one is as exposed as an electronic ballot. Against an administrator who watches, only
organisational measures help (who holds database access during a vote).

For paper ballots the secretariat cannot check self-approval (the entry knows no caster, by
design): it invalidates such ballots on paper where the rule set forbids it.
"""

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import delete, select, text
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine
from sqlmodel import col

from app.core.cache import cluster_tag
from app.core.database import table
from app.core.errors import AppError, Conflict, NotFound
from app.core.i18n import _
from app.votes.models import (
    BallotMethod,
    RoundState,
    Vote,
    VoteAttendance,
    VoteParticipation,
    VoteRound,
    VoteRoundTally,
    VoteState,
    VoteVoter,
)
from app.votes.schemas import BallotReceipt
from app.votes.service import parameter_value

logger = logging.getLogger(__name__)

_participations = table(VoteParticipation)

_ADD_TO_TALLIES = text(
    "UPDATE vote_round_tallies SET approvals = approvals + ("
    "  SELECT count(*) FROM unnest(CAST(:approved AS integer[])) AS a(id)"
    "  WHERE a.id = vote_round_tallies.candidate_unit_id)"
    " WHERE vote_id = :vote_id AND round = :round"
)
"""Every tally row of the round, +1 or +0 (a candidate approved by several paper ballots: +n)."""
_NOTIFY_CLUSTER = text(
    "SELECT c.number, pg_notify(:channel, '- cluster:' || c.number) FROM votes v"
    " JOIN clusters c ON c.id = v.cluster_id WHERE v.id = :vote_id"
)
"""The read cache's invalidation of the vote's cluster (`app.core.cache`), sent with each of the
ballot's own transactions: the participations and the number of ballots show on the year sheet.
It names the cluster only, never a voter or a ballot."""
_ADD_TO_BOX = text(
    "UPDATE vote_ballot_boxes SET ballots_cast = ballots_cast + :ballots"
    " WHERE vote_id = :vote_id AND round = :round RETURNING ballots_cast"
)


class BallotNotCounted(AppError):
    status, slug = 503, "ballot-not-counted"


async def is_voter(connection: Any, vote_id: int, unit_id: int) -> bool:
    """Whether `unit_id` is an eligible voter of `vote_id` (False also when there is no such vote)."""
    found = await connection.execute(
        select(col(VoteVoter.unit_id)).where(
            col(VoteVoter.vote_id) == vote_id, col(VoteVoter.unit_id) == unit_id
        )
    )
    return found.first() is not None


async def _open_round(
    connection: AsyncConnection, vote_id: int
) -> tuple[int, int, dict[str, Any], list[int]]:
    """The current round's number, seats, the vote's parameters and the round's candidates;
    its row key-share locked, so that closing waits for this transaction (409 if not open)."""
    row = (
        await connection.execute(
            select(
                col(Vote.state),
                col(Vote.current_round),
                col(Vote.parameters),
                col(VoteRound.state).label("round_state"),
                col(VoteRound.seats),
            )
            .join(
                VoteRound,
                (col(VoteRound.vote_id) == col(Vote.id)) & (col(VoteRound.round) == col(Vote.current_round)),
            )
            .where(col(Vote.id) == vote_id)
            .with_for_update(key_share=True, read=True, of=table(VoteRound))
        )
    ).first()
    if row is None:
        raise NotFound(_("No vote with id {vote_id}.", vote_id=vote_id))
    if row.state != VoteState.open.value or row.round_state != RoundState.open.value:
        raise Conflict(slug="round-not-open", detail=_("Vote {vote_id} has no open round.", vote_id=vote_id))
    candidates = list(
        (
            await connection.execute(
                select(col(VoteRoundTally.candidate_unit_id)).where(
                    col(VoteRoundTally.vote_id) == vote_id, col(VoteRoundTally.round) == row.current_round
                )
            )
        ).scalars()
    )
    return row.current_round, row.seats, row.parameters, candidates


def _check_ballots(ballots: Sequence[Sequence[int]], seats: int, candidates: list[int]) -> None:
    """At most `seats` approvals, of the round's candidates only; the refusal quotes no approval."""
    allowed = set(candidates)
    if any(len(b) > seats or not set(b) <= allowed for b in ballots):
        raise Conflict(
            slug="ballot-invalid",
            detail=_(
                "A ballot approves at most {seats} candidates, all of them candidates of this round.",
                seats=seats,
            ),
            field="approvals",
        )


async def _attending(connection: AsyncConnection, vote_id: int, number: int, units: list[int]) -> set[int]:
    rows = await connection.execute(
        select(col(VoteAttendance.unit_id)).where(
            col(VoteAttendance.vote_id) == vote_id,
            col(VoteAttendance.round) == number,
            col(VoteAttendance.unit_id).in_(units),
        )
    )
    return set(rows.scalars())


@dataclass(frozen=True, slots=True)
class Invalidation:
    """Where the read cache hears of a ballot: the channel every instance listens on, and this
    instance's own cache (dropped at once after each commit)."""

    channel: str
    drop: Callable[[set[str]], None] | None = None

    async def send(self, connection: AsyncConnection, vote_id: int) -> set[str]:
        """Inside a transaction: every instance drops the vote's cluster once it commits."""
        number = (
            await connection.execute(_NOTIFY_CLUSTER, {"channel": self.channel, "vote_id": vote_id})
        ).scalar_one_or_none()
        return {cluster_tag(number)} if number is not None else set()

    def committed(self, tags: set[str]) -> None:
        if tags and self.drop is not None:
            self.drop(tags)


async def _record_participations(
    engine: AsyncEngine,
    vote_id: int,
    voters: list[int],
    method: BallotMethod,
    note: str | None,
    ballots: Sequence[Sequence[int]],
    *,
    forbid_self_approval: bool,
    invalidation: Invalidation,
) -> int:
    """tx1: check the round and the ballots, then record who voted; returns the round."""
    async with engine.begin() as connection:
        number, seats, parameters, candidates = await _open_round(connection, vote_id)
        _check_ballots(ballots, seats, candidates)
        self_approving = any(v in b for v in voters for b in ballots)
        if (
            forbid_self_approval
            and self_approving
            and not parameter_value(parameters, "self_approval_allowed")
        ):
            raise Conflict(
                slug="self-approval-refused",
                detail=_("The rule set of this vote does not let a unit approve itself."),
                rule="self_approval_allowed",
            )
        missing = sorted(set(voters) - await _attending(connection, vote_id, number, voters))
        if missing:
            raise Conflict(
                slug="not-present",
                detail=_(
                    "Units {units} are not recorded as present (or voting in writing) for round {round}.",
                    units=", ".join(map(str, missing)),
                    round=number,
                ),
                field="voters",
            )
        inserted = await connection.execute(
            insert(_participations)
            .values(
                [
                    {"vote_id": vote_id, "round": number, "unit_id": v, "method": method.value, "note": note}
                    for v in voters
                ]
            )
            .on_conflict_do_nothing(index_elements=["vote_id", "round", "unit_id"])
            .returning(_participations.c.unit_id)
        )
        recorded = set(inserted.scalars())
        if recorded != set(voters):
            already = sorted(set(voters) - recorded)
            raise Conflict(
                slug="already-voted",
                detail=_(
                    "Units {units} have already voted in round {round}: one ballot per voter, and it "
                    "was counted.",
                    units=", ".join(map(str, already)),
                    round=number,
                ),
                field="voters",
            )
        tags = await invalidation.send(connection, vote_id)
    invalidation.committed(tags)
    return number


async def _count(
    engine: AsyncEngine,
    vote_id: int,
    number: int,
    voters: list[int],
    ballots: Sequence[Sequence[int]],
    invalidation: Invalidation,
) -> int:
    """tx2: add the ballots to the round's sums; on failure, tx3 takes the participations back."""
    approved = [unit for ballot in ballots for unit in ballot]
    try:
        async with engine.begin() as connection:
            await connection.execute(
                _ADD_TO_TALLIES, {"approved": approved, "vote_id": vote_id, "round": number}
            )
            cast = (
                await connection.execute(
                    _ADD_TO_BOX, {"ballots": len(ballots), "vote_id": vote_id, "round": number}
                )
            ).scalar_one()
            tags = await invalidation.send(connection, vote_id)
    except DBAPIError as exc:
        logger.warning(
            "a ballot could not be counted (%s); taking its participation back", type(exc).__name__
        )
        await _take_back(engine, vote_id, number, voters, invalidation)
        raise BallotNotCounted(
            _("The ballot could not be counted, so it was not recorded: cast it again."),
            headers={"Retry-After": "1"},
        ) from None
    invalidation.committed(tags)
    await _vacuum(engine)
    return int(cast)


async def _take_back(
    engine: AsyncEngine, vote_id: int, number: int, voters: list[int], invalidation: Invalidation
) -> None:
    try:
        async with engine.begin() as connection:
            await connection.execute(
                delete(_participations).where(
                    _participations.c.vote_id == vote_id,
                    _participations.c.round == number,
                    _participations.c.unit_id.in_(voters),
                )
            )
            tags = await invalidation.send(connection, vote_id)
        invalidation.committed(tags)
    except DBAPIError as exc:
        logger.error(
            "a participation without its ballot remains (%s): closing will refuse", type(exc).__name__
        )


async def _vacuum(engine: AsyncEngine) -> None:
    """Remove the dead versions of the sums (the previous totals), best-effort."""
    try:
        async with engine.connect() as connection:
            autocommit = await connection.execution_options(isolation_level="AUTOCOMMIT")
            await autocommit.execute(text("VACUUM vote_round_tallies, vote_ballot_boxes"))
    except DBAPIError as exc:
        logger.info("vacuum of the vote tallies skipped (%s)", type(exc).__name__)


async def cast(
    engine: AsyncEngine, *, vote_id: int, unit_id: int, approvals: list[int], invalidation: Invalidation
) -> BallotReceipt:
    """A voter's own ballot (its unit key): 409 for a second ballot in the round, a voter not
    recorded present (or voting in writing), self-approval the rule set forbids, or a ballot
    approving more than the seats or a non-candidate (without quoting the ballot)."""
    number = await _record_participations(
        engine,
        vote_id,
        [unit_id],
        BallotMethod.electronic,
        None,
        [approvals],
        forbid_self_approval=True,
        invalidation=invalidation,
    )
    total = await _count(engine, vote_id, number, [unit_id], [approvals], invalidation)
    return BallotReceipt(vote_id=vote_id, round=number, received=1, ballots_cast=total)


async def enter_paper(
    engine: AsyncEngine,
    *,
    vote_id: int,
    voters: list[int],
    ballots: list[list[int]],
    note: str | None,
    invalidation: Invalidation,
) -> BallotReceipt:
    """Paper ballots from the box, entered by the secretariat: who put one in, and the ballots,
    unpaired; all or nothing (409 if any voter already voted)."""
    number = await _record_participations(
        engine,
        vote_id,
        voters,
        BallotMethod.paper,
        note,
        ballots,
        forbid_self_approval=False,
        invalidation=invalidation,
    )
    total = await _count(engine, vote_id, number, voters, ballots, invalidation)
    return BallotReceipt(vote_id=vote_id, round=number, received=len(ballots), ballots_cast=total)
