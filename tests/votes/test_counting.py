"""The counting of a nomination vote's round: each rule of `app/votes/counting.py`."""

import pytest

from app.votes.counting import (
    ApprovalBase,
    Candidate,
    CountingRule,
    RoundOutcome,
    Seat,
    SeatReason,
    Share,
    TieBreak,
    count_round,
    count_tallies,
)

DECREE_98 = CountingRule(
    approval=Share(4, 5),
    approval_base=ApprovalBase.ELIGIBLE_VOTERS,
    quorum=Share(2, 3),
    tie_break=(TieBreak.WOMEN_PREFERENCE, TieBreak.STRONGER_RECORD, TieBreak.CHAIR_VOTE),
)
A, B, C, E = 1, 2, 3, 5


def ballots(*approved: tuple[int, ...]) -> list[frozenset[int]]:
    return [frozenset(b) for b in approved]


def test_eighty_percent_of_all_eligible_voters_not_of_those_present() -> None:
    # 10 eligible, 8 present: 7 approvals is 87.5% of those present but 70% of all: fails.
    result = count_round(
        DECREE_98,
        eligible=10,
        present=8,
        seats=1,
        candidates=[Candidate(A)],
        ballots=ballots(*[(A,)] * 7, (), ()),
    )
    assert result.outcome is RoundOutcome.COUNTED
    assert result.approval_base == 10
    assert result.approval_minimum == 8
    assert [(t.unit_id, t.approvals, t.passed) for t in result.tallies] == [(A, 7, False)]
    assert result.seats == ()
    assert result.seats_left == 1

    eight = count_round(
        DECREE_98, eligible=10, present=8, seats=1, candidates=[Candidate(A)], ballots=ballots(*[(A,)] * 8)
    )
    assert eight.seats == (Seat(A, SeatReason.APPROVALS),)


def test_a_rule_set_may_count_those_present() -> None:
    present_rule = CountingRule(Share(4, 5), ApprovalBase.PRESENT_VOTERS, Share(2, 3), ())
    result = count_round(
        present_rule, eligible=10, present=8, seats=1, candidates=[Candidate(A)], ballots=ballots(*[(A,)] * 7)
    )
    assert result.approval_base == 8
    assert result.tallies[0].passed


def test_exact_integer_threshold_with_five_members() -> None:
    # Cluster 5 has five members: 4 of 5 is exactly 80%, 3 of 5 is not.
    four = count_round(
        DECREE_98, eligible=5, present=5, seats=1, candidates=[Candidate(A)], ballots=ballots(*[(A,)] * 4, ())
    )
    three = count_round(
        DECREE_98,
        eligible=5,
        present=5,
        seats=1,
        candidates=[Candidate(A)],
        ballots=ballots(*[(A,)] * 3, (), ()),
    )
    assert four.tallies[0].passed
    assert not three.tallies[0].passed
    assert four.approval_minimum == 4


def test_a_meeting_under_two_thirds_present_is_void() -> None:
    # 9 eligible: 6 present is exactly two thirds (valid), 5 is not.
    void = count_round(
        DECREE_98, eligible=9, present=5, seats=1, candidates=[Candidate(A)], ballots=ballots(*[(A,)] * 5)
    )
    assert void.outcome is RoundOutcome.VOID_NO_QUORUM
    assert not void.quorum_met
    assert void.quorum_minimum == 6
    assert void.tallies == ()
    assert void.seats == ()
    valid = count_round(
        DECREE_98, eligible=9, present=6, seats=1, candidates=[Candidate(A)], ballots=ballots(*[(A,)] * 6)
    )
    assert valid.quorum_met
    assert valid.outcome is RoundOutcome.COUNTED


def test_more_passing_than_seats_highest_counts_first() -> None:
    result = count_round(
        DECREE_98,
        eligible=5,
        present=5,
        seats=2,
        candidates=[Candidate(A), Candidate(B), Candidate(C)],
        ballots=ballots((A, B), (A, B), (A, C), (A, C), (B, C)),
    )
    # A 4, B 3 ... nobody but A reaches 4 of 5; B and C have 3 each.
    assert [(t.unit_id, t.approvals, t.passed) for t in result.tallies] == [
        (A, 4, True),
        (B, 3, False),
        (C, 3, False),
    ]
    assert result.seats == (Seat(A, SeatReason.APPROVALS),)
    assert result.seats_left == 1


def test_a_tie_across_the_last_seat_goes_to_the_woman_preference_first() -> None:
    candidates = [Candidate(A, women_preference=False, rank=1), Candidate(B, women_preference=True, rank=2)]
    result = count_round(
        DECREE_98,
        eligible=5,
        present=5,
        seats=1,
        candidates=candidates,
        ballots=ballots(*[(A,), (B,)] * 2, (A,)),
    )
    # 3 and 2: nobody passes (needs 4).
    assert result.seats == ()
    tie = count_round(
        DECREE_98,
        eligible=4,
        present=4,
        seats=1,
        candidates=candidates,
        ballots=ballots((A,), (B,), (A,), (B,)),
    )
    assert tie.seats == ()  # 2 of 4 each: below 80%
    rule = CountingRule(Share(1, 2), ApprovalBase.ELIGIBLE_VOTERS, Share(2, 3), DECREE_98.tie_break)
    decided = count_round(
        rule, eligible=4, present=4, seats=1, candidates=candidates, ballots=ballots((A,), (B,), (A,), (B,))
    )
    assert decided.outcome is RoundOutcome.COUNTED
    assert decided.seats == (Seat(B, SeatReason.WOMEN_PREFERENCE),)
    assert decided.breakers_used == (TieBreak.WOMEN_PREFERENCE,)


def test_then_the_stronger_record_then_the_chair() -> None:
    rule = CountingRule(Share(1, 2), ApprovalBase.ELIGIBLE_VOTERS, Share(2, 3), DECREE_98.tie_break)
    votes = ballots((A, B), (A, B), (C,), (C,))
    ranked = [Candidate(A, rank=3), Candidate(B, rank=1), Candidate(C, rank=2)]
    # A, B, C: 2 of 4 each, all pass; 2 seats; no woman preference known; B and C rank better.
    result = count_round(rule, eligible=4, present=4, seats=2, candidates=ranked, ballots=votes)
    assert result.seats == (Seat(B, SeatReason.STRONGER_RECORD), Seat(C, SeatReason.STRONGER_RECORD))

    unranked = [Candidate(A), Candidate(B), Candidate(C)]
    tied = count_round(rule, eligible=4, present=4, seats=2, candidates=unranked, ballots=votes)
    assert tied.outcome is RoundOutcome.TIE_UNRESOLVED
    assert set(tied.tied) == {A, B, C}
    assert tied.seats == ()

    chaired = count_round(
        rule, eligible=4, present=4, seats=2, candidates=unranked, ballots=votes, chair_choice=[C, A]
    )
    assert chaired.outcome is RoundOutcome.COUNTED
    assert chaired.seats == (Seat(A, SeatReason.CHAIR_VOTE), Seat(C, SeatReason.CHAIR_VOTE))


def test_a_rule_set_without_breakers_reports_the_tie() -> None:
    rule = CountingRule(Share(1, 2), ApprovalBase.ELIGIBLE_VOTERS, Share(2, 3), ())
    result = count_round(
        rule,
        eligible=4,
        present=4,
        seats=1,
        candidates=[Candidate(A, rank=1), Candidate(B, rank=2)],
        ballots=ballots((A,), (B,), (A,), (B,)),
    )
    assert result.outcome is RoundOutcome.TIE_UNRESOLVED
    assert set(result.tied) == {A, B}


def test_a_clear_winner_is_seated_before_the_tied_ones() -> None:
    rule = CountingRule(Share(1, 2), ApprovalBase.ELIGIBLE_VOTERS, Share(2, 3), (TieBreak.STRONGER_RECORD,))
    result = count_round(
        rule,
        eligible=4,
        present=4,
        seats=2,
        candidates=[Candidate(A, rank=2), Candidate(B, rank=1), Candidate(C, rank=3)],
        ballots=ballots((A, C), (A, B), (A, C), (B,)),
    )
    # A 3, B 2, C 2: A by approvals, then B over C by rank.
    assert result.seats == (Seat(A, SeatReason.APPROVALS), Seat(B, SeatReason.STRONGER_RECORD))


@pytest.mark.parametrize(
    ("eligible", "present", "seats", "ballot"),
    [(0, 0, 1, ()), (5, 6, 1, ()), (5, 5, 0, ()), (5, 5, 1, (A, B)), (5, 5, 2, (E,))],
)
def test_impossible_inputs_are_refused(
    eligible: int, present: int, seats: int, ballot: tuple[int, ...]
) -> None:
    with pytest.raises(ValueError, match=r"eligible|seat|ballot"):
        count_round(
            DECREE_98,
            eligible=eligible,
            present=present,
            seats=seats,
            candidates=[Candidate(A), Candidate(B)],
            ballots=[frozenset(ballot)],
        )


def test_shares_compare_exactly() -> None:
    assert Share(4, 5).minimum(5) == 4
    assert Share(4, 5).minimum(6) == 5
    assert Share(2, 3).minimum(9) == 6
    assert Share(9, 10).reached(9, 10)
    assert not Share(9, 10).reached(8, 9)
    with pytest.raises(ValueError, match="not a share"):
        Share(6, 5)


def test_counting_the_tallies_equals_counting_the_ballots() -> None:
    cast = ballots((A, B), (A,), (A, C), (B,), ())
    one_by_one = count_round(
        DECREE_98,
        eligible=5,
        present=5,
        seats=2,
        candidates=[Candidate(A), Candidate(B, rank=1), Candidate(C)],
        ballots=cast,
    )
    from_tallies = count_tallies(
        DECREE_98,
        eligible=5,
        present=5,
        seats=2,
        candidates=[Candidate(A), Candidate(B, rank=1), Candidate(C)],
        approvals={A: 3, B: 2, C: 1},
        ballots=5,
    )
    assert from_tallies == one_by_one


@pytest.mark.parametrize(
    ("approvals", "ballots_cast"),
    [({A: 6}, 5), ({E: 1}, 5), ({A: -1}, 5), ({A: 1}, 6), ({A: 3, B: 3}, 2)],
)
def test_impossible_tallies_are_refused(approvals: dict[int, int], ballots_cast: int) -> None:
    with pytest.raises(ValueError, match=r"approvals|ballots"):
        count_tallies(
            DECREE_98,
            eligible=5,
            present=5,
            seats=1,
            candidates=[Candidate(A), Candidate(B)],
            approvals=approvals,
            ballots=ballots_cast,
        )
