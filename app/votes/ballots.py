"""Ballots: counted exactly once, and unreadable at rest until their round closes.

- **Who**: `vote_participations` (vote, round, unit, method): no id, no timestamp. Its primary
  key is the one-ballot-per-voter rule: a second ballot of a voter in a round is refused by the
  database (a race between two is decided by the key, not by a pre-check).
- **What**: a sealed ballot (`vote_sealed_ballots`, `app/votes/seal.py`): a fixed-size blob,
  AES-GCM under a key kept outside the database, with no caster, no id and no timestamp. Paper
  ballots entered together are shuffled before they are sealed.
- **One transaction**: the participation, the sealed ballot and the box's count are written
  together, on a connection of the ballot's own (the request's session is not used). A crash,
  a kill or a PostgreSQL restart at any point either leaves all three (the ballot counts once;
  a retry is 409 `already-voted`) or none (the voter casts again). Nothing is ever half-done, so
  the round can always be closed: `ballot-count-mismatch` can no longer arise from a ballot.
- **Closing** opens the round's sealed ballots, adds them to the round's sums
  (`vote_round_tallies`) in one statement and deletes them, inside the close's transaction.
  Until then no sum moves: the pages and the WAL hold no +1 or +0 per ballot.
- **Nothing else keeps a ballot**: the cast takes no `Idempotency-Key` (no stored request or
  answer; a retry is a 409 saying the ballot was counted), the answer says only that it was
  received and how many ballots the round holds, a refusal never quotes the approvals, database
  errors are logged by their type only (SQLAlchemy's message would carry the statement's
  parameters), and there are no revisions of ballots. Metrics are labelled by route template.

The threat model (README, "Secret ballots"): without the seal key, nobody can tell what any
ballot approves, from the tables, their pages, the WAL or a backup. Whoever holds the seal key
**and** the database as it was while the round was open (the pages before the close deletes the
sealed ballots and VACUUM reclaims them, or the WAL or a backup of that time) can pair a
participation with the sealed ballot written in the same transaction, and so read it. After the
close only the sums remain in the tables.

For paper ballots the secretariat cannot check self-approval (the entry knows no caster, by
design): it invalidates such ballots on paper where the rule set forbids it.
"""

import logging
import secrets
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select, text
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine
from sqlmodel import col

from app.clusters.models import Cluster
from app.clusters.tags import cluster_tag
from app.core.cache import notify
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
    VoteSealedBallot,
    VoteState,
    VoteVoter,
)
from app.votes.parameters import parameter_value
from app.votes.schemas import BallotReceipt
from app.votes.seal import BallotSeal

logger = logging.getLogger(__name__)

_participations = table(VoteParticipation)
_sealed = table(VoteSealedBallot)

_ADD_TO_BOX = text(
    "UPDATE vote_ballot_boxes SET ballots_cast = ballots_cast + :ballots,"
    " ballots_sealed = ballots_sealed + :ballots"
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
) -> tuple[int, int, dict[str, Any], list[int], int]:
    """The current round's number, seats, the vote's parameters, the round's candidates and the
    number of the vote's cluster (for the read cache); the round's row key-share locked, so that
    closing waits for this transaction (409 if not open)."""
    row = (
        await connection.execute(
            select(
                col(Vote.state),
                col(Vote.current_round),
                col(Vote.parameters),
                col(VoteRound.state).label("round_state"),
                col(VoteRound.seats),
                col(Cluster.number).label("cluster"),
            )
            .join(
                VoteRound,
                (col(VoteRound.vote_id) == col(Vote.id)) & (col(VoteRound.round) == col(Vote.current_round)),
            )
            .join(Cluster, col(Cluster.id) == col(Vote.cluster_id))
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
    return row.current_round, row.seats, row.parameters, candidates, row.cluster


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
    instance's own cache (dropped at once after each commit).

    The ballot's own transaction is on a connection, not a session, so it notifies through the
    cache's connection-level path (`app.core.cache.notify`): the notification names the vote's
    cluster only, never a voter or a ballot, and goes out with the ballot's commit (none if it
    rolls back). The participations and the number of ballots show on the year sheet."""

    channel: str
    drop: Callable[[set[str]], None] | None = None

    async def send(self, connection: AsyncConnection, cluster: int) -> set[str]:
        """Inside a transaction: every instance drops the cluster once it commits."""
        return set(await notify(connection, {cluster_tag(cluster)}, channel=self.channel))

    def committed(self, tags: set[str]) -> None:
        if tags and self.drop is not None:
            self.drop(tags)


async def _record(
    engine: AsyncEngine,
    seal: BallotSeal,
    vote_id: int,
    voters: list[int],
    method: BallotMethod,
    note: str | None,
    ballots: Sequence[Sequence[int]],
    *,
    forbid_self_approval: bool,
    invalidation: Invalidation,
) -> tuple[int, int]:
    """One transaction: check the round and the ballots, record who voted, store the sealed
    ballots and count them in the box. Returns the round and the ballots it now holds."""
    try:
        async with engine.begin() as connection:
            number, seats, parameters, candidates, cluster = await _open_round(connection, vote_id)
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
                        {
                            "vote_id": vote_id,
                            "round": number,
                            "unit_id": v,
                            "method": method.value,
                            "note": note,
                        }
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
                        "Units {units} have already voted in round {round}: one ballot per voter, and "
                        "it was counted.",
                        units=", ".join(map(str, already)),
                        round=number,
                    ),
                    field="voters",
                )
            sealed = [seal.seal(vote_id, number, candidates, b) for b in ballots]
            _shuffle(sealed)
            await connection.execute(
                insert(_sealed), [{"vote_id": vote_id, "round": number, "sealed": s} for s in sealed]
            )
            cast = (
                await connection.execute(
                    _ADD_TO_BOX, {"ballots": len(ballots), "vote_id": vote_id, "round": number}
                )
            ).scalar_one()
            tags = await invalidation.send(connection, cluster)
    except DBAPIError as exc:
        logger.warning("a ballot was not recorded (%s)", type(exc).__name__)
        raise BallotNotCounted(
            _(
                "The ballot could not be recorded: cast it again (had it been recorded after all, "
                "the answer says so)."
            ),
            headers={"Retry-After": "1"},
        ) from None
    invalidation.committed(tags)
    return number, int(cast)


async def cast(
    engine: AsyncEngine,
    seal: BallotSeal,
    *,
    vote_id: int,
    unit_id: int,
    approvals: list[int],
    invalidation: Invalidation,
) -> BallotReceipt:
    """A voter's own ballot (its unit key): 409 for a second ballot in the round, a voter not
    recorded present (or voting in writing), self-approval the rule set forbids, or a ballot
    approving more than the seats or a non-candidate (without quoting the ballot)."""
    number, total = await _record(
        engine,
        seal,
        vote_id,
        [unit_id],
        BallotMethod.electronic,
        None,
        [approvals],
        forbid_self_approval=True,
        invalidation=invalidation,
    )
    return BallotReceipt(vote_id=vote_id, round=number, received=1, ballots_cast=total)


async def enter_paper(
    engine: AsyncEngine,
    seal: BallotSeal,
    *,
    vote_id: int,
    voters: list[int],
    ballots: list[list[int]],
    note: str | None,
    invalidation: Invalidation,
) -> BallotReceipt:
    """Paper ballots from the box, entered by the secretariat: who put one in, and the ballots,
    unpaired; all or nothing (409 if any voter already voted)."""
    number, total = await _record(
        engine,
        seal,
        vote_id,
        voters,
        BallotMethod.paper,
        note,
        ballots,
        forbid_self_approval=False,
        invalidation=invalidation,
    )
    return BallotReceipt(vote_id=vote_id, round=number, received=len(ballots), ballots_cast=total)


def _shuffle(items: list[bytes]) -> None:
    """Paper ballots stored in no order the entry had (a CSPRNG, not `random`)."""
    secrets.SystemRandom().shuffle(items)
