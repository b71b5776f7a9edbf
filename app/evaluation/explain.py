"""Why a row is met, not met or unknown: one sentence in the request's language (`_()`), and
what the value was combined from."""

from collections.abc import Sequence
from datetime import date
from fractions import Fraction

from app.core.i18n import N_, _, current_locale, shown
from app.evaluation.domain import (
    Basis,
    Comparator,
    EvaluationRow,
    Lineage,
    MetricInfo,
    Missing,
    MissingReason,
    PeriodRole,
    Scope,
    Target,
    Used,
    Verdict,
)
from app.evaluation.numbers import display
from app.metrics.models import MetricKind

_UNIT_WORDS = {
    "cases": N_("cases"),
    "persons": N_("persons"),
    "collectives": N_("collectives"),
    "individuals": N_("individuals"),
    "letters": N_("letters"),
    "items": N_("items"),
    "vnd": N_("VND"),
}

_SYMBOLS = {
    Comparator.lt: "<",
    Comparator.le: "≤",
    Comparator.eq: "=",
    Comparator.ge: "≥",
    Comparator.gt: ">",
}

_REASONS = {
    MissingReason.no_figures: N_("no figures of {unit} from {start} to {end}"),
    MissingReason.overlapping_sets: N_(
        "the figures of {unit} overlap from {start} to {end} and are not added up"
    ),
    MissingReason.percentage_only: N_(
        "{unit} reported only a percentage from {start} to {end}, which cannot be combined with other figures"
    ),
    MissingReason.zero_denominator: N_("the denominator of the rate of {unit} is zero from {start} to {end}"),
    MissingReason.zero_baseline: N_("the same period last year ({start} to {end}) is zero for {unit}"),
}


def why(row: EvaluationRow, target: Target, metric: MetricInfo, lineage: Lineage) -> str:
    """The row's sentence, then what it combined when that is more than the unit's own set."""
    sentences = [_verdict_sentence(row, target, metric, lineage)]
    if row.scope is Scope.each_member and row.verdict is not Verdict.unknown:
        sentences.extend(_combined(row.combined, row.unit_id, lineage))
    return " ".join(sentences)


def _verdict_sentence(row: EvaluationRow, target: Target, metric: MetricInfo, lineage: Lineage) -> str:
    if row.verdict is Verdict.unknown:
        reasons = "; ".join(_reason(gap, lineage) for gap in row.missing)
        return _("Unknown: {reasons}.", reasons=reasons)
    outcome = _outcome(row.verdict, target, metric)
    value = quantity(row.value, metric, row.value_parts)
    if target.basis is Basis.absolute:
        return _("Result {value}, {outcome}.", value=value, outcome=outcome)
    baseline = quantity(row.baseline, metric, row.baseline_parts)
    return _(
        "{trend} on the same period last year ({value} against {baseline}), {outcome}.",
        trend=_trend(row.change or Fraction(0), metric),
        value=value,
        baseline=baseline,
        outcome=outcome,
    )


def _outcome(verdict: Verdict, target: Target, metric: MetricInfo) -> str:
    if verdict is Verdict.met:
        return _("meeting the target: {target}", target=target_text(target, metric))
    return _("short of the target: {target}", target=target_text(target, metric))


def _trend(change: Fraction, metric: MetricInfo) -> str:
    """ "Down 7,14%", "Up 2 percentage points", "Unchanged"."""
    if change == 0:
        return _("Unchanged")
    amount = _change_amount(abs(change), metric)
    return _("Down {amount}", amount=amount) if change < 0 else _("Up {amount}", amount=amount)


def _change_amount(magnitude: Fraction, metric: MetricInfo) -> str:
    if metric.kind is MetricKind.rate:
        return _("{n} percentage points", n=display(magnitude))
    return f"{display(magnitude)}%"


def target_text(target: Target, metric: MetricInfo) -> str:
    """ "a cut of at least 5%", "a rise of at least 2 percentage points", "≥ 90%"."""
    if target.basis is Basis.absolute:
        return f"{_SYMBOLS[target.comparator]} {quantity(target.threshold, metric)}"
    amount = _change_amount(abs(target.threshold), metric)
    phrase = {
        (Comparator.le, True): N_("a cut of at least {amount}"),
        (Comparator.lt, True): N_("a cut of more than {amount}"),
        (Comparator.ge, False): N_("a rise of at least {amount}"),
        (Comparator.gt, False): N_("a rise of more than {amount}"),
    }.get((target.comparator, target.threshold < 0))
    if phrase is None or target.threshold == 0:
        signed = ("-" if target.threshold < 0 else "") + amount
        return _("a change {op} {amount}", op=_SYMBOLS[target.comparator], amount=signed)
    return _(phrase, amount=amount)


def quantity(
    value: Fraction | None, metric: MetricInfo, parts: tuple[Fraction, Fraction] | None = None
) -> str:
    """ "13 cases", "92,5% (185/200)"."""
    if value is None:
        return "?"
    if metric.kind is MetricKind.rate:
        shown_parts = f" ({display(parts[0])}/{display(parts[1])})" if parts else ""
        return f"{display(value)}%{shown_parts}"
    word = _UNIT_WORDS.get(metric.unit_of_measure or "")
    return f"{display(value)} {_(word)}" if word else display(value)


def _reason(gap: Missing, lineage: Lineage) -> str:
    unit = unit_name(gap.unit_id, lineage)
    text = _(_REASONS[gap.problem], unit=unit, start=_day(gap.start, gap.end), end=gap.end)
    return _("{reason} (same period last year)", reason=text) if gap.role is PeriodRole.baseline else text


def unit_name(unit_id: int | None, lineage: Lineage) -> str:
    """The unit's name, "the cluster" for None."""
    if unit_id is None:
        return _("the cluster")
    return lineage.names.get(unit_id) or _("unit {unit_id}", unit_id=unit_id)


def _day(start: date, end: date) -> str:
    """The first day of a span: `1/1` in Vietnamese when the year is the end's, as people write."""
    if current_locale() == "vi" and start.year == end.year:
        return f"{start.day}/{start.month}"
    return str(shown(start))


def _combined(used: Sequence[Used], unit_id: int | None, lineage: Lineage) -> list[str]:
    """ "Includes the figures of Hưng Yên (cũ) and Thái Bình from 1/1 to 30/6/2025." per role."""
    sentences = []
    for role, message in (
        (PeriodRole.value, N_("Includes {parts}.")),
        (PeriodRole.baseline, N_("The same period last year includes {parts}.")),
    ):
        parts = [u for u in used if u.role is role]
        if len(parts) > 1 or any(u.unit_id != unit_id for u in parts):
            sentences.append(_(message, parts="; ".join(_groups(parts, lineage))))
    return sentences


_COMBINED = (
    (PeriodRole.value, N_("Includes {parts}.")),
    (PeriodRole.baseline, N_("The same period last year includes {parts}.")),
)


def _groups(parts: Sequence[Used], lineage: Lineage) -> list[str]:
    """One phrase per period, naming every unit whose figures for it were used."""
    periods: dict[tuple[date, date], list[str]] = {}
    for part in sorted(parts, key=lambda u: (u.start, u.end)):
        periods.setdefault((part.start, part.end), []).append(unit_name(part.unit_id, lineage))
    return [
        _("the figures of {units} from {start} to {end}", units=_and(names), start=_day(*span), end=span[1])
        for span, names in periods.items()
    ]


def _and(names: list[str]) -> str:
    if len(names) == 1:
        return names[0]
    return _("{first} and {last}", first=", ".join(names[:-1]), last=names[-1])
