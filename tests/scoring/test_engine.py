"""The standings arithmetic on its own: totals, combinations, ties, classes, missing scores."""

from decimal import Decimal as D
from fractions import Fraction

from app.scoring import engine
from app.scoring.engine import Class, Criterion, Framework, Scorer
from app.scoring.models import Combination, CriterionKind, TieBreak

CRITERIA = [
    Criterion("A", "Xây dựng lực lượng", D(40), CriterionKind.criterion),
    Criterion("B", "Nghiệp vụ", D(60), CriterionKind.criterion),
    Criterion("BONUS", None, D(5), CriterionKind.bonus),
    Criterion("PEN", None, D(10), CriterionKind.penalty),
]
CLASSES = [
    Class("XS", "Xuất sắc", D(95)),
    Class("T", "Tốt", D(85)),
    Class("K", "Khá", D(70)),
    Class("TB", "Trung bình", None),
]


def framework(
    combination: Combination = Combination.sum,
    scorers: list[Scorer] | None = None,
    tie_break: TieBreak = TieBreak.shared,
    order: tuple[str, ...] = (),
) -> Framework:
    return Framework(CRITERIA, CLASSES, scorers or [Scorer("C", None)], combination, tie_break, order)


def sheet(a: str, b: str, bonus: str | None = None, pen: str | None = None) -> dict[str, D]:
    points = {"A": D(a), "B": D(b)}
    if bonus is not None:
        points["BONUS"] = D(bonus)
    if pen is not None:
        points["PEN"] = D(pen)
    return points


def test_a_total_adds_criteria_and_bonus_and_deducts_penalties() -> None:
    assert engine.sheet_total(framework(), sheet("38.5", "55", "2", "1.25")) == D("94.25")


def test_bonus_and_penalty_left_out_count_zero_but_criteria_are_missing() -> None:
    fw = framework(scorers=[Scorer("C", None), Scorer("X", None)])
    assert engine.missing(fw, {"C": sheet("1", "2"), "X": {"A": D(3)}}) == [("X", "B")]
    assert engine.missing(fw, {"C": sheet("1", "2")}) == [("X", "A"), ("X", "B")]


def test_sum_mean_and_weighted_mean() -> None:
    values = {"C": D(90), "X": D(80), "Y": D(71)}
    scorers = [Scorer("C", D(2)), Scorer("X", D(1)), Scorer("Y", D(1))]
    assert engine.combine(framework(Combination.sum, scorers), values) == 241
    assert engine.combine(framework(Combination.mean, scorers), values) == Fraction(241, 3)
    assert engine.combine(framework(Combination.weighted, scorers), values) == Fraction(331, 4)


def test_shown_is_exact_or_rounded_to_four_decimals() -> None:
    assert engine.shown(Fraction(331, 4)) == D("82.75")
    assert engine.shown(Fraction(241, 3)) == D("80.3333")
    assert engine.shown(Fraction(2, 3)) == D("0.6667")
    assert engine.shown(Fraction(90)) == D(90)
    assert str(engine.shown(Fraction(90))) == "90"


def test_shared_ties_rank_one_one_three() -> None:
    scores = {1: {"C": sheet("40", "50")}, 2: {"C": sheet("30", "60")}, 3: {"C": sheet("30", "55")}}
    results = engine.standings(framework(), [1, 2, 3], scores)
    assert [(r.unit_id, r.rank) for r in results] == [(1, 1), (2, 1), (3, 3)]


def test_ties_broken_by_the_criteria_then_shared() -> None:
    fw = framework(tie_break=TieBreak.by_criteria_then_shared, order=("Nghiệp vụ",))
    scores = {
        1: {"C": sheet("40", "50")},
        2: {"C": sheet("30", "60")},
        3: {"C": sheet("35", "55")},
        4: {"C": sheet("35", "55")},
    }
    ranks = {r.unit_id: r.rank for r in engine.standings(fw, [1, 2, 3, 4], scores)}
    assert ranks == {2: 1, 3: 2, 4: 2, 1: 4}


def test_a_tie_break_key_may_be_a_criterion_code_and_a_penalty_counts_against() -> None:
    fw = framework(tie_break=TieBreak.by_criteria_then_shared, order=("A",))
    scores = {1: {"C": sheet("40", "50", pen="2")}, 2: {"C": sheet("38", "50")}}
    ranks = {r.unit_id: r.rank for r in engine.standings(fw, [1, 2], scores)}
    assert ranks == {1: 1, 2: 2}


def test_classes_by_threshold_inclusive() -> None:
    fw = framework()
    assert engine.class_of(fw, Fraction(95)).code == "XS"  # type: ignore[union-attr]
    assert engine.class_of(fw, Fraction(9499, 100)).code == "T"  # type: ignore[union-attr]
    assert engine.class_of(fw, Fraction(70)).code == "K"  # type: ignore[union-attr]
    assert engine.class_of(fw, Fraction(0)).code == "TB"  # type: ignore[union-attr]
    no_floor = Framework(CRITERIA, CLASSES[:3], [Scorer("C", None)], Combination.sum, TieBreak.shared, ())
    assert engine.class_of(no_floor, Fraction(10)) is None


def test_a_unit_with_missing_scores_is_not_ranked_and_takes_no_place() -> None:
    fw = framework(scorers=[Scorer("C", None), Scorer("X", None)])
    scores = {1: {"C": sheet("40", "50"), "X": sheet("40", "50")}, 2: {"C": sheet("40", "60")}, 3: {}}
    results = {r.unit_id: r for r in engine.standings(fw, [1, 2, 3], scores)}
    assert results[1].rank == 1
    assert results[1].combined == 180
    assert results[2].rank is None
    assert results[2].combined is None
    assert results[2].klass is None
    assert results[2].totals == {"C": D(100), "X": None}
    assert results[2].missing == [("X", "A"), ("X", "B")]
    assert len(results[3].missing) == 4


def test_mean_ranks_on_exact_values_not_the_rounded_ones() -> None:
    fw = framework(Combination.mean, [Scorer("C", None), Scorer("X", None), Scorer("Y", None)])
    scores = {
        1: {"C": sheet("40", "50"), "X": sheet("40", "50"), "Y": sheet("40", "50.00001")},
        2: {"C": sheet("40", "50"), "X": sheet("40", "50"), "Y": sheet("40", "50.00002")},
    }
    results = {r.unit_id: r for r in engine.standings(fw, [1, 2], scores)}
    assert engine.shown(results[1].combined) == engine.shown(results[2].combined)  # type: ignore[arg-type]
    assert (results[1].rank, results[2].rank) == (2, 1)
