"""Exact fractions as people and programs read them: decimal strings for JSON, rounded text for
sentences (Vietnamese `1.616,5`, English `1,616.5`)."""

from fractions import Fraction

from app.core.i18n import Locale, current_locale

JSON_PLACES = 6
"""Decimal places of a fraction whose decimal does not terminate (13/14), rounded half to even."""

DISPLAY_PLACES = 2


def terminates(x: Fraction) -> bool:
    """Whether `x` has a finite decimal (its denominator has no prime factor but 2 and 5)."""
    denominator = x.denominator
    for prime in (2, 5):
        while denominator % prime == 0:
            denominator //= prime
    return denominator == 1


def decimal_string(x: Fraction | None, places: int = JSON_PLACES) -> str | None:
    """`x` as a plain decimal string: exact when it terminates, else rounded to `places`."""
    if x is None:
        return None
    if terminates(x):
        return _plain(x, _places_of(x))
    return _plain(round(x, places), places)


def _places_of(x: Fraction) -> int:
    """How many decimals a terminating fraction needs."""
    places = 0
    while (x * 10**places).denominator != 1:
        places += 1
    return places


def _plain(x: Fraction, places: int, group: str = "", point: str = ".") -> str:
    """`x` (already a multiple of 10^-places) with `places` decimals, digits grouped by threes."""
    scaled = abs(x) * 10**places
    digits = str(scaled.numerator // scaled.denominator).rjust(places + 1, "0")
    whole, decimals = digits[: len(digits) - places], digits[len(digits) - places :]
    grouped = f"{int(whole):,}".replace(",", group)
    sign = "-" if x < 0 else ""
    return f"{sign}{grouped}{point}{decimals}" if places else f"{sign}{grouped}"


def display(x: Fraction, locale: Locale | None = None, places: int = DISPLAY_PLACES) -> str:
    """`x` rounded for a sentence: at most `places` decimals, none when they are zeros."""
    rounded = round(x, places)
    shown_places = 0 if rounded.denominator == 1 else places
    if (locale or current_locale()) == "vi":
        return _plain(rounded, shown_places, group=".", point=",")
    return _plain(rounded, shown_places, group=",", point=".")
