"""Counting a round of a secret nomination vote: pure integer arithmetic, no database.

The rules come from the rule set the vote applies (issue 9; `shared/design/rules.md`):
- the meeting is valid when `quorum.denominator × present ≥ quorum.numerator × eligible`
  (two thirds: `3 × present ≥ 2 × eligible`); below it the round is void and nothing is counted;
- a candidate passes when `threshold.denominator × approvals ≥ threshold.numerator × base`,
  where the base is **every eligible voter** (Decree 98/2023 art. 30(7): 80% of the total, not of
  those present) or, where a rule set says so, those present;
- more passing candidates than seats: the highest counts take the seats; a tie across the last
  seat is broken by the rule set's ordered `tie_break` (a woman or a collective with ≥ 70% women,
  the stronger record, i.e. the better rank in the standings, then the chair's vote); a tie the
  breakers cannot settle is reported, never guessed;
- seats left empty may go to another round while the rule set allows one.

Ballots arrive without their casters: the caller checks who may vote, once, before a ballot is
stored, so nothing here needs to know who cast what. `count_tallies` counts from the aggregates
alone (what `app/votes/service.py` keeps: approvals per candidate and the number of ballots);
`count_round` counts individual ballots through it.
"""

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from enum import StrEnum


@dataclass(frozen=True, slots=True)
class Share:
    """A share as integers (4/5), compared by cross-multiplying: no floats, no rounding."""

    numerator: int
    denominator: int

    def __post_init__(self) -> None:
        if self.denominator <= 0 or not 0 <= self.numerator <= self.denominator:
            raise ValueError(f"not a share: {self.numerator}/{self.denominator}")

    def reached(self, count: int, base: int) -> bool:
        """`count / base ≥ numerator / denominator`, exactly."""
        return self.denominator * count >= self.numerator * base

    def minimum(self, base: int) -> int:
        """The least count that reaches the share of `base` (ceiling division)."""
        return -(-self.numerator * base // self.denominator)


class ApprovalBase(StrEnum):
    ELIGIBLE_VOTERS = "eligible_voters"
    PRESENT_VOTERS = "present_voters"


class TieBreak(StrEnum):
    WOMEN_PREFERENCE = "women_preference"
    """Decree 152/2025 art. 4: a woman, or a collective with at least 70% women."""
    STRONGER_RECORD = "stronger_record"
    """The better rank in the standings the vote relied on."""
    CHAIR_VOTE = "chair_vote"
    """The chair decides among those still tied (analogue)."""


class SeatReason(StrEnum):
    APPROVALS = "approvals"
    WOMEN_PREFERENCE = "women_preference"
    STRONGER_RECORD = "stronger_record"
    CHAIR_VOTE = "chair_vote"


class RoundOutcome(StrEnum):
    COUNTED = "counted"
    VOID_NO_QUORUM = "void_no_quorum"
    TIE_UNRESOLVED = "tie_unresolved"
    """The breakers left a tie across the last seat and the chair has not decided."""


@dataclass(frozen=True, slots=True)
class CountingRule:
    approval: Share
    approval_base: ApprovalBase
    quorum: Share
    tie_break: tuple[TieBreak, ...]


@dataclass(frozen=True, slots=True)
class Candidate:
    unit_id: int
    women_preference: bool | None = None
    """True when the collective qualifies for the preference; None when not known."""
    rank: int | None = None
    """Rank in the standings the vote relied on; None when the standings do not rank it."""


@dataclass(frozen=True, slots=True)
class Tally:
    unit_id: int
    approvals: int
    passed: bool


@dataclass(frozen=True, slots=True)
class Seat:
    unit_id: int
    reason: SeatReason


@dataclass(frozen=True, slots=True)
class RoundResult:
    outcome: RoundOutcome
    eligible: int
    present: int
    ballots: int
    quorum_met: bool
    quorum_minimum: int
    approval_base: int
    approval_minimum: int
    tallies: tuple[Tally, ...] = ()
    seats: tuple[Seat, ...] = ()
    tied: tuple[int, ...] = ()
    """Candidates still tied across the last seat (outcome `tie_unresolved`)."""
    seats_left: int = 0
    breakers_used: tuple[TieBreak, ...] = field(default=())


def count_round(
    rule: CountingRule,
    *,
    eligible: int,
    present: int,
    seats: int,
    candidates: Sequence[Candidate],
    ballots: Iterable[frozenset[int]],
    chair_choice: Sequence[int] = (),
) -> RoundResult:
    """Count one round. `ballots` are the approved candidate ids of each ballot that counts."""
    ballot_list = list(ballots)
    known = {c.unit_id for c in candidates}
    for ballot in ballot_list:
        if len(ballot) > seats or not ballot <= known:
            raise ValueError("a ballot approves more candidates than seats, or a non-candidate")
    approvals = {c.unit_id: 0 for c in candidates}
    for ballot in ballot_list:
        for unit_id in ballot:
            approvals[unit_id] += 1
    return count_tallies(
        rule,
        eligible=eligible,
        present=present,
        seats=seats,
        candidates=candidates,
        approvals=approvals,
        ballots=len(ballot_list),
        chair_choice=chair_choice,
    )


def count_tallies(
    rule: CountingRule,
    *,
    eligible: int,
    present: int,
    seats: int,
    candidates: Sequence[Candidate],
    approvals: Mapping[int, int],
    ballots: int,
    chair_choice: Sequence[int] = (),
) -> RoundResult:
    """Count one round from its aggregate tallies (approvals per candidate and the number of
    ballots), which is all a secret vote keeps: no ballot is stored on its own."""
    if eligible < 1 or not 0 <= present <= eligible:
        raise ValueError("a vote needs eligible voters, and at most that many present")
    if seats < 1:
        raise ValueError("a vote has at least one seat")
    if not 0 <= ballots <= eligible:
        raise ValueError("more ballots than eligible voters")
    counts = {c.unit_id: approvals.get(c.unit_id, 0) for c in candidates}
    if set(approvals) - set(counts) or any(n < 0 or n > ballots for n in counts.values()):
        raise ValueError("approvals for a non-candidate, or more approvals than ballots")
    if sum(counts.values()) > ballots * seats:
        raise ValueError("more approvals than the ballots could hold")

    base = eligible if rule.approval_base is ApprovalBase.ELIGIBLE_VOTERS else present
    quorum_met = rule.quorum.reached(present, eligible)
    void = RoundResult(
        outcome=RoundOutcome.VOID_NO_QUORUM,
        eligible=eligible,
        present=present,
        ballots=ballots,
        quorum_met=quorum_met,
        quorum_minimum=rule.quorum.minimum(eligible),
        approval_base=base,
        approval_minimum=rule.approval.minimum(base),
        seats_left=seats,
    )
    if not quorum_met:
        return void

    tallies = tuple(
        Tally(c.unit_id, n, base > 0 and rule.approval.reached(n, base))
        for c in candidates
        for n in (counts[c.unit_id],)
    )
    passed = [c for c, t in zip(candidates, tallies, strict=True) if t.passed]
    allocation = _allocate(rule.tie_break, passed, counts, seats, chair_choice)
    return replace(
        void,
        outcome=RoundOutcome.TIE_UNRESOLVED if allocation.tied else RoundOutcome.COUNTED,
        tallies=tallies,
        seats=allocation.seats,
        tied=allocation.tied,
        seats_left=seats - len(allocation.seats),
        breakers_used=allocation.breakers_used,
    )


@dataclass(frozen=True, slots=True)
class _Allocation:
    seats: tuple[Seat, ...]
    tied: tuple[int, ...]
    breakers_used: tuple[TieBreak, ...]


def _allocate(
    order: Sequence[TieBreak],
    passed: Sequence[Candidate],
    approvals: Mapping[int, int],
    seats: int,
    chair_choice: Sequence[int],
) -> _Allocation:
    """Highest counts first; a group that straddles the last seat goes through the breakers."""
    taken: list[Seat] = []
    used: list[TieBreak] = []
    for count in sorted({approvals[c.unit_id] for c in passed}, reverse=True):
        group = [c for c in passed if approvals[c.unit_id] == count]
        room = seats - len(taken)
        if room <= 0:
            break
        if len(group) <= room:
            taken.extend(Seat(c.unit_id, SeatReason.APPROVALS) for c in group)
            continue
        chosen, tied = _break_tie(order, group, room, chair_choice, used)
        taken.extend(chosen)
        return _Allocation(tuple(taken), tuple(c.unit_id for c in tied), tuple(used))
    return _Allocation(tuple(taken), (), tuple(used))


def _break_tie(
    order: Sequence[TieBreak],
    group: list[Candidate],
    room: int,
    chair_choice: Sequence[int],
    used: list[TieBreak],
) -> tuple[list[Seat], list[Candidate]]:
    """Choose `room` of `group`, tier by tier of each breaker in turn; what stays tied is returned."""
    chosen: list[Seat] = []
    for breaker in order:
        if room == 0:
            return chosen, []
        used.append(breaker)
        if breaker is TieBreak.CHAIR_VOTE:
            picks = [c for c in group if c.unit_id in set(chair_choice)]
            if len(picks) != room:
                return chosen, group
            chosen.extend(Seat(c.unit_id, SeatReason.CHAIR_VOTE) for c in picks)
            return chosen, []
        for tier in _tiers(breaker, group):
            if len(tier) <= room:
                chosen.extend(Seat(c.unit_id, SeatReason(breaker.value)) for c in tier)
                room -= len(tier)
                continue
            group = tier
            break
        else:
            return chosen, []
    return (chosen, []) if room == 0 else (chosen, group)


def _tiers(breaker: TieBreak, group: list[Candidate]) -> list[list[Candidate]]:
    """The group split into tiers, best first, by one breaker."""
    if breaker is TieBreak.WOMEN_PREFERENCE:
        keys = [0 if c.women_preference else 1 for c in group]
    else:
        keys = [c.rank if c.rank is not None else 1 << 30 for c in group]
    return [[c for c, k in zip(group, keys, strict=True) if k == key] for key in sorted(set(keys))]
