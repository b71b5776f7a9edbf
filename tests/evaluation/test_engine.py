"""The evaluation rules (issue 8, item 6), tested on the engine directly: no database, no HTTP.

The lineage is the 2025 reform's: the new Hưng Yên (from 2025-07-01) succeeds the old Hưng Yên and
Thái Bình (until 2025-06-30)."""

from collections.abc import Mapping, Sequence
from dataclasses import replace
from datetime import date
from fractions import Fraction

import pytest

from app.core.i18n import use_locale
from app.evaluation.engine import (
    Basis,
    Comparator,
    Context,
    EvaluationRow,
    FigureSet,
    FigureValue,
    Lineage,
    MetricInfo,
    MetricKind,
    Missing,
    MissingReason,
    PeriodRole,
    Predecessor,
    Scope,
    Target,
    Used,
    Verdict,
    compose,
    evaluate,
    like_period,
)
from app.evaluation.numbers import decimal_string, display

OLD_HUNG_YEN, THAI_BINH, HUNG_YEN, BAC_NINH = 1, 2, 3, 4
CEASED = date(2025, 6, 30)
LINEAGE = Lineage(
    predecessors={HUNG_YEN: (Predecessor(OLD_HUNG_YEN, CEASED), Predecessor(THAI_BINH, CEASED))},
    names={OLD_HUNG_YEN: "Hưng Yên (cũ)", THAI_BINH: "Thái Bình", HUNG_YEN: "Hưng Yên", BAC_NINH: "Bắc Ninh"},
)

CRIMES = MetricInfo("social_order_crimes", MetricKind.counted, unit_of_measure="cases")
HANDLED = MetricInfo(
    "crime_reports_handled_rate", MetricKind.rate, "crime_reports_handled", "crime_reports_received"
)
METRICS = {m.key: m for m in (CRIMES, HANDLED)}

YEAR_2025 = (date(2025, 1, 1), date(2025, 12, 31))
YEAR_2024 = (date(2024, 1, 1), date(2024, 12, 31))
H1_2025 = (date(2025, 1, 1), date(2025, 6, 30))
H2_2025 = (date(2025, 7, 1), date(2025, 12, 31))

CUT_5 = Target(
    "social_order_crimes", Comparator.le, Fraction(-5), Basis.change_vs_previous_period, Scope.each_member
)


def crimes(unit: int, span: tuple[date, date], n: int) -> FigureSet:
    """A set with the count of social-order crimes."""
    return FigureSet(unit, *span, {CRIMES.key: FigureValue(value=Fraction(n))})


def handled(unit: int, span: tuple[date, date], done: int, received: int) -> FigureSet:
    """A set with the handled-reports rate by its parts."""
    parts = FigureValue(numerator=Fraction(done), denominator=Fraction(received))
    return FigureSet(unit, *span, {HANDLED.key: parts})


def percentage(unit: int, span: tuple[date, date], percent: str) -> FigureSet:
    """A set with the handled-reports rate as a bare percentage."""
    return FigureSet(unit, *span, {HANDLED.key: FigureValue(value=Fraction(percent))})


def context(figures: Sequence[FigureSet], members: Sequence[int] = (HUNG_YEN,)) -> Context:
    return Context(*YEAR_2025, members=members, metrics=METRICS, figures=figures, lineage=LINEAGE)


def only_row(
    target: Target, figures: Sequence[FigureSet], members: Sequence[int] = (HUNG_YEN,)
) -> EvaluationRow:
    """The single row `target` gives."""
    (row,) = evaluate([target], context(figures, members)).rows
    return row


def used(rows: Mapping[int, Sequence[tuple[date, date]]], role: PeriodRole = PeriodRole.value) -> set[Used]:
    return {Used(unit, *span, role) for unit, spans in rows.items() for span in spans}


class TestLikePeriod:
    def test_the_same_days_one_year_earlier(self) -> None:
        assert like_period(*YEAR_2025) == YEAR_2024
        assert like_period(date(2024, 12, 15), date(2025, 12, 14)) == (date(2023, 12, 15), date(2024, 12, 14))

    def test_29_february_becomes_28_february(self) -> None:
        assert like_period(date(2024, 1, 1), date(2024, 2, 29)) == (date(2023, 1, 1), date(2023, 2, 28))


class TestComposition:
    def test_a_successor_reporting_the_whole_year_is_not_added_to_its_predecessors_half_year(self) -> None:
        figures = [
            crimes(HUNG_YEN, YEAR_2025, 100),
            crimes(OLD_HUNG_YEN, H1_2025, 40),
            crimes(THAI_BINH, H1_2025, 30),
        ]
        row = only_row(replace(CUT_5, basis=Basis.absolute), figures)
        assert row.value == 100
        assert set(row.combined) == used({HUNG_YEN: [YEAR_2025]})

    def test_a_successor_s_second_half_is_completed_by_its_predecessors_first_half(self) -> None:
        figures = [
            crimes(HUNG_YEN, H2_2025, 50),
            crimes(OLD_HUNG_YEN, H1_2025, 40),
            crimes(THAI_BINH, H1_2025, 30),
        ]
        row = only_row(replace(CUT_5, basis=Basis.absolute), figures)
        assert row.value == 120
        assert set(row.combined) == used({HUNG_YEN: [H2_2025], OLD_HUNG_YEN: [H1_2025], THAI_BINH: [H1_2025]})

    def test_own_sets_that_tile_the_period_add_up(self) -> None:
        quarters = [(date(2025, m, 1), date(2025, m + 2, 30 if m in (4, 7) else 31)) for m in (1, 4, 7, 10)]
        quarters[0] = (date(2025, 1, 1), date(2025, 3, 31))
        composition = compose(
            BAC_NINH, *YEAR_2025, sets=[crimes(BAC_NINH, q, 10) for q in quarters], lineage=LINEAGE
        )
        assert composition.missing == ()
        assert len(composition.parts) == 4

    def test_missing_predecessor_figures_name_the_unit_and_the_days(self) -> None:
        figures = [crimes(HUNG_YEN, H2_2025, 50), crimes(OLD_HUNG_YEN, H1_2025, 40)]
        row = only_row(replace(CUT_5, basis=Basis.absolute), figures)
        assert row.verdict is Verdict.unknown
        assert row.value is None
        assert row.missing == [Missing(MissingReason.no_figures, THAI_BINH, *H1_2025)]
        with use_locale("vi"):
            row = only_row(replace(CUT_5, basis=Basis.absolute), figures)
        assert row.why == "Chưa xác định được: thiếu số liệu của Thái Bình từ 1/1 đến 30/6/2025."

    def test_days_after_the_predecessors_ceased_are_the_successor_s_to_report(self) -> None:
        figures = [crimes(OLD_HUNG_YEN, H1_2025, 40), crimes(THAI_BINH, H1_2025, 30)]
        row = only_row(replace(CUT_5, basis=Basis.absolute), figures)
        assert row.missing == [Missing(MissingReason.no_figures, HUNG_YEN, *H2_2025)]

    def test_overlapping_own_sets_are_a_stated_problem_never_summed(self) -> None:
        figures = [
            crimes(BAC_NINH, (date(2025, 1, 1), date(2025, 6, 30)), 10),
            crimes(BAC_NINH, (date(2025, 4, 1), date(2025, 12, 31)), 20),
        ]
        row = only_row(replace(CUT_5, basis=Basis.absolute), figures, members=[BAC_NINH])
        assert row.verdict is Verdict.unknown
        assert row.value is None
        assert row.missing == [
            Missing(MissingReason.overlapping_sets, BAC_NINH, date(2025, 4, 1), date(2025, 6, 30))
        ]

    def test_a_unit_that_began_without_predecessors_misses_nothing_before(self) -> None:
        lineage = Lineage(started={BAC_NINH: date(2025, 7, 1)})
        composition = compose(BAC_NINH, *YEAR_2025, sets=[crimes(BAC_NINH, H2_2025, 5)], lineage=lineage)
        assert composition.missing == ()


class TestRates:
    def test_a_cluster_total_rate_is_the_ratio_of_summed_parts(self) -> None:
        # 90/100 and 10/20: the ratio of sums is 83.33%, meeting ≥ 80%; the average (70%) would not.
        target = Target(HANDLED.key, Comparator.ge, Fraction(80), Basis.absolute, Scope.cluster_total)
        figures = [handled(BAC_NINH, YEAR_2025, 90, 100), handled(HUNG_YEN, YEAR_2025, 10, 20)]
        row = only_row(target, figures, members=[BAC_NINH, HUNG_YEN])
        assert row.unit_id is None
        assert row.value == Fraction(100, 120) * 100
        assert row.verdict is Verdict.met

    def test_parts_pushed_as_their_own_metrics_make_the_rate(self) -> None:
        values = {
            "crime_reports_handled": FigureValue(Fraction(45)),
            "crime_reports_received": FigureValue(Fraction(50)),
        }
        target = Target(HANDLED.key, Comparator.ge, Fraction(90), Basis.absolute, Scope.each_member)
        row = only_row(target, [FigureSet(BAC_NINH, *YEAR_2025, values)], members=[BAC_NINH])
        assert (row.value, row.verdict) == (Fraction(90), Verdict.met)

    def test_a_bare_percentage_is_usable_alone(self) -> None:
        target = Target(HANDLED.key, Comparator.ge, Fraction(90), Basis.absolute, Scope.each_member)
        row = only_row(target, [percentage(BAC_NINH, YEAR_2025, "95.5")], members=[BAC_NINH])
        assert (row.value, row.verdict) == (Fraction("95.5"), Verdict.met)

    def test_a_bare_percentage_cannot_be_combined(self) -> None:
        target = Target(HANDLED.key, Comparator.ge, Fraction(90), Basis.absolute, Scope.each_member)
        figures = [
            handled(HUNG_YEN, H2_2025, 90, 100),
            percentage(OLD_HUNG_YEN, H1_2025, "95"),
            handled(THAI_BINH, H1_2025, 9, 10),
        ]
        row = only_row(target, figures)
        assert row.verdict is Verdict.unknown
        assert row.missing == [Missing(MissingReason.percentage_only, OLD_HUNG_YEN, *H1_2025)]

    def test_a_rate_target_is_judged_in_percentage_points(self) -> None:
        # 92% against 90%: +2 points (a relative change would be +2.22%, meeting "≥ +2.1").
        figures = [handled(BAC_NINH, YEAR_2025, 184, 200), handled(BAC_NINH, YEAR_2024, 180, 200)]
        rise = Target(
            HANDLED.key, Comparator.ge, Fraction("2.1"), Basis.change_vs_previous_period, Scope.each_member
        )
        row = only_row(rise, figures, members=[BAC_NINH])
        assert row.change == 2
        assert row.verdict is Verdict.not_met
        row = only_row(replace(rise, threshold=Fraction(2)), figures, members=[BAC_NINH])
        assert row.verdict is Verdict.met


class TestChange:
    @pytest.mark.parametrize(
        ("now", "before", "verdict"),
        [(13, 14, Verdict.met), (19, 20, Verdict.met), (20, 21, Verdict.not_met), (15, 14, Verdict.not_met)],
    )
    def test_a_cut_of_at_least_5_percent(self, now: int, before: int, verdict: Verdict) -> None:
        row = only_row(
            CUT_5, [crimes(BAC_NINH, YEAR_2025, now), crimes(BAC_NINH, YEAR_2024, before)], [BAC_NINH]
        )
        assert row.change == Fraction(now - before, before) * 100
        assert row.verdict is verdict

    def test_a_zero_baseline_is_unknown(self) -> None:
        row = only_row(CUT_5, [crimes(BAC_NINH, YEAR_2025, 3), crimes(BAC_NINH, YEAR_2024, 0)], [BAC_NINH])
        assert (row.baseline, row.change, row.verdict) == (0, None, Verdict.unknown)
        assert row.missing == [
            Missing(MissingReason.zero_baseline, BAC_NINH, *YEAR_2024, PeriodRole.baseline)
        ]

    def test_a_missing_baseline_is_unknown_naming_it(self) -> None:
        row = only_row(CUT_5, [crimes(BAC_NINH, YEAR_2025, 3)], [BAC_NINH])
        assert row.verdict is Verdict.unknown
        assert row.missing == [Missing(MissingReason.no_figures, BAC_NINH, *YEAR_2024, PeriodRole.baseline)]


class TestSuccessorAwareBaseline:
    def test_the_2024_baseline_of_the_new_hung_yen_is_the_ratio_of_its_predecessors_summed_parts(
        self,
    ) -> None:
        # 2025: 180/200 = 90%. 2024: old Hưng Yên 95/100 (95%), Thái Bình 10/20 (50%).
        # Ratio of sums: 105/120 = 87.5%, +2.5 points: not met. Average of percentages: 72.5%, +17.5: met.
        target = Target(
            HANDLED.key, Comparator.ge, Fraction(5), Basis.change_vs_previous_period, Scope.each_member
        )
        figures = [
            handled(HUNG_YEN, YEAR_2025, 180, 200),
            handled(OLD_HUNG_YEN, YEAR_2024, 95, 100),
            handled(THAI_BINH, YEAR_2024, 10, 20),
        ]
        row = only_row(target, figures)
        assert row.baseline == Fraction("87.5")
        assert row.change == Fraction("2.5")
        assert row.verdict is Verdict.not_met
        assert set(row.combined) == used({HUNG_YEN: [YEAR_2025]}) | used(
            {OLD_HUNG_YEN: [YEAR_2024], THAI_BINH: [YEAR_2024]}, PeriodRole.baseline
        )

    def test_counts_of_the_predecessors_add(self) -> None:
        figures = [
            crimes(HUNG_YEN, YEAR_2025, 26),
            crimes(OLD_HUNG_YEN, YEAR_2024, 16),
            crimes(THAI_BINH, YEAR_2024, 12),
        ]
        row = only_row(CUT_5, figures)
        assert (row.baseline, row.change, row.verdict) == (28, Fraction(-200, 28), Verdict.met)

    def test_missing_predecessor_figures_in_the_baseline_are_named(self) -> None:
        row = only_row(CUT_5, [crimes(HUNG_YEN, YEAR_2025, 26), crimes(OLD_HUNG_YEN, YEAR_2024, 16)])
        assert row.verdict is Verdict.unknown
        assert row.missing == [Missing(MissingReason.no_figures, THAI_BINH, *YEAR_2024, PeriodRole.baseline)]


class TestRows:
    def test_one_row_per_member_and_one_for_the_cluster(self) -> None:
        total = Target(
            CRIMES.key, Comparator.le, Fraction(-5), Basis.change_vs_previous_period, Scope.cluster_total
        )
        figures = [
            crimes(BAC_NINH, YEAR_2025, 13),
            crimes(BAC_NINH, YEAR_2024, 14),
            crimes(HUNG_YEN, YEAR_2025, 26),
            crimes(OLD_HUNG_YEN, YEAR_2024, 16),
            crimes(THAI_BINH, YEAR_2024, 12),
        ]
        rows = evaluate([CUT_5, total], context(figures, [BAC_NINH, HUNG_YEN])).rows
        assert [(r.target_index, r.unit_id) for r in rows] == [(0, BAC_NINH), (0, HUNG_YEN), (1, None)]
        assert (rows[2].value, rows[2].baseline) == (39, 42)

    def test_json_has_decimal_strings(self) -> None:
        row = only_row(CUT_5, [crimes(BAC_NINH, YEAR_2025, 13), crimes(BAC_NINH, YEAR_2024, 14)], [BAC_NINH])
        out = row.to_json()
        assert (out["value"], out["baseline"], out["change"], out["verdict"]) == (
            "13",
            "14",
            "-7.142857",
            "met",
        )
        assert out["combined"][1] == {
            "unit_id": BAC_NINH,
            "start": "2024-01-01",
            "end": "2024-12-31",
            "role": "baseline",
        }


class TestNumbers:
    def test_decimal_strings_are_exact_when_they_terminate(self) -> None:
        assert decimal_string(Fraction(175, 2)) == "87.5"
        assert decimal_string(Fraction(-1, 3)) == "-0.333333"
        assert decimal_string(None) is None

    def test_display_rounds_with_the_language_s_separators(self) -> None:
        assert display(Fraction(16165, 10), "vi") == "1.616,50"
        assert display(Fraction(16165, 10), "en") == "1,616.50"
        assert display(Fraction(2600), "vi") == "2.600"


class TestWhy:
    def test_a_met_cut_in_vietnamese_and_english(self) -> None:
        figures = [crimes(BAC_NINH, YEAR_2025, 13), crimes(BAC_NINH, YEAR_2024, 14)]
        with use_locale("vi"):
            row = only_row(CUT_5, figures, [BAC_NINH])
        assert row.why == "Giảm 7,14% so với cùng kỳ (13 vụ so với 14 vụ), đạt chỉ tiêu giảm ít nhất 5%."
        with use_locale("en"):
            row = only_row(CUT_5, figures, [BAC_NINH])
        assert row.why == (
            "Down 7.14% on the same period last year (13 cases against 14 cases), "
            "meeting the target: a cut of at least 5%."
        )

    def test_the_composition_is_said(self) -> None:
        figures = [
            crimes(HUNG_YEN, H2_2025, 14),
            crimes(OLD_HUNG_YEN, H1_2025, 7),
            crimes(THAI_BINH, H1_2025, 5),
            crimes(OLD_HUNG_YEN, YEAR_2024, 16),
            crimes(THAI_BINH, YEAR_2024, 12),
        ]
        with use_locale("vi"):
            row = only_row(CUT_5, figures)
        assert row.why == (
            "Giảm 7,14% so với cùng kỳ (26 vụ so với 28 vụ), đạt chỉ tiêu giảm ít nhất 5%. "
            "Gồm số liệu của Hưng Yên (cũ) và Thái Bình từ 1/1 đến 30/6/2025; "
            "số liệu của Hưng Yên từ 1/7 đến 31/12/2025. "
            "Cùng kỳ năm trước gồm số liệu của Hưng Yên (cũ) và Thái Bình từ 1/1 đến 31/12/2024."
        )

    def test_a_rate_in_percentage_points(self) -> None:
        figures = [handled(BAC_NINH, YEAR_2025, 184, 200), handled(BAC_NINH, YEAR_2024, 180, 200)]
        rise = Target(
            HANDLED.key, Comparator.ge, Fraction(3), Basis.change_vs_previous_period, Scope.each_member
        )
        with use_locale("vi"):
            row = only_row(rise, figures, [BAC_NINH])
        assert row.why == (
            "Tăng 2 điểm phần trăm so với cùng kỳ (92% (184/200) so với 90% (180/200)), "
            "không đạt chỉ tiêu tăng ít nhất 3 điểm phần trăm."
        )
