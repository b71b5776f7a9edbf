"""The grammar of a batch's values, and the spreadsheet habits it recognises.

A CSV value is text; a JSON value is typed (a number is a JSON number, parsed exactly). Either is
read by one strict grammar (README, "The CSV number grammar"):

- a whole number (a count, an amount in đồng, a rate's numerator or denominator, a year, an id):
  ASCII digits only, `0`–`9`: `1250`;
- a decimal (a rate given as a bare percentage): digits, then optionally a dot and digits: `98.5`;
- no sign, no exponent, no thousands separator, no spaces, no `%`;
- a day: `YYYY-MM-DD`; a unit code: two or three digits.

Anything else is refused, never guessed. Where the value looks like a spreadsheet's way of
writing (`1.250` or `1 250` for 1250, `98,5`, `1.250,5`, `1E+5`, `０７`, `01/07/2025`, a date as
Excel's serial number, `8` for the code `08`), the problem names the habit and says what to
write instead.

A sheet's cells (XLSX) are typed (`typed`): a number cell is a number, never text to be parsed
by the grammar; an integral one is a whole number (the sheet reader makes it an `int`), a
fractional one is refused where a whole number is due (`not-whole`, never a guessed habit), and
one past 2^53 is refused since a spreadsheet's number has lost its last digits (`imprecise-number`).
A text cell is read by the grammar, as a CSV value is."""

import math
import re
import unicodedata
from collections.abc import Callable
from datetime import date, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any

from app.core.i18n import _
from app.core.numbers import MAX_DECIMALS, precise_enough
from app.figures.problems import RowProblems

MAX_FIGURE = Decimal(10**18)
EXACT_FLOAT = 2**53
"""A sheet's number this large or larger may have lost digits (a double holds 15–17)."""
_WHOLE = re.compile(r"[0-9]{1,19}")
_DECIMAL = re.compile(r"[0-9]{1,19}(?:\.[0-9]{1,30})?")
_LONG_DECIMAL = re.compile(r"([0-9]+)(?:\.([0-9]+))?")
"""Digits and a dot as the grammar writes them, but more of them than `_DECIMAL` takes: out of
range (more than 19 digits before the dot), or too precise (more than 30 after it)."""
_WHOLE_DIGITS = 19
_ISO_DAY = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
_CODE = re.compile(r"[0-9]{2,3}")
_METRIC = re.compile(r"[a-z][a-z0-9_]{0,59}")
_DAY_MONTH_YEAR = re.compile(r"([0-9]{1,2})[/.\-]([0-9]{1,2})[/.\-]([0-9]{4})")
_YEAR_MONTH_DAY = re.compile(r"([0-9]{4})[/.\-]([0-9]{1,2})[/.\-]([0-9]{1,2})")
_DAY_AND_TIME = re.compile(r"([0-9]{4}-[0-9]{2}-[0-9]{2})[ T][0-9:.]+Z?")
_EXCEL_SERIAL = re.compile(r"[0-9]{5}(?:\.0+)?")
_EXCEL_EPOCH = date(1899, 12, 30)
_GROUPED = re.compile(r"[0-9]{1,3}(?:([., \u00a0\u202f'])[0-9]{3})(?:\1[0-9]{3})*")
_VIETNAMESE_DECIMAL = re.compile(r"[0-9]{1,3}(?:\.[0-9]{3})+,[0-9]+|[0-9]+,[0-9]+")
_EXPONENT = re.compile(r"[0-9]+(?:\.[0-9]+)?[eE][-+]?[0-9]{1,3}")
_UNDERSCORED = re.compile(r"[0-9]+(?:_[0-9]+)+(?:\.[0-9]+)?")
_TEXT_LIMIT_SHOWN = 40


def echo(value: object) -> str:
    """A value as a problem quotes it: at most 40 characters, never the whole of a long text."""
    text = str(value)
    return text if len(text) <= _TEXT_LIMIT_SHOWN else text[: _TEXT_LIMIT_SHOWN - 1] + "…"


def plain_integer(value: Any) -> int | None:
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if isinstance(value, str) and _WHOLE.fullmatch(value) and len(value) <= 10:
        return int(value)
    return None


def plain_date(value: Any) -> date | None:
    if isinstance(value, str) and _ISO_DAY.fullmatch(value):
        try:
            return date.fromisoformat(value)
        except ValueError:
            return None
    return None


class Reader:
    """Reads the fields of one row, adding a problem for each value the grammar refuses."""

    def __init__(
        self,
        data: dict[str, Any],
        column: Callable[[str], str],
        from_csv: bool,
        found: RowProblems,
        *,
        typed: bool = False,
    ) -> None:
        self.data = data
        self.column = column
        self.from_csv = from_csv
        self.found = found
        self.typed = typed
        """A sheet's typed cells (XLSX): numbers may be floats."""

    def present(self, field: str) -> bool:
        return self.data.get(field) is not None

    def _where(self, field: str) -> str:
        return where(field, self.column, self.from_csv)

    def _problem(self, field: str, kind: str, text: str) -> None:
        self.found.add(field, kind, text)

    def _missing(self, field: str, required: bool) -> bool:
        if self.data.get(field) is not None:
            return False
        if required:
            self._problem(field, "required", _("{where}: a value is required.", where=self._where(field)))
        return True

    def integer(self, field: str, low: int, high: int, *, required: bool = True) -> int | None:
        if self._missing(field, required):
            return None
        raw = self.data[field]
        number = self._number_of(field, raw, whole=True)
        if number is None:
            return None
        if not low <= number <= high:
            self._problem(
                field,
                "out-of-range",
                _(
                    "{where}: {value} is not between {low} and {high}.",
                    where=self._where(field),
                    value=echo(raw),
                    low=low,
                    high=high,
                ),
            )
            return None
        return int(number)

    def number(self, field: str, *, whole: bool) -> Decimal | None:
        if self._missing(field, False):
            return None
        raw = self.data[field]
        number = self._number_of(field, raw, whole=whole)
        if number is None:
            return None
        if number > MAX_FIGURE:
            self._out_of_range(field, raw)
            return None
        return number

    def _out_of_range(self, field: str, raw: Any) -> None:
        self._problem(
            field,
            "out-of-range",
            _("{where}: {value} is larger than 10^18.", where=self._where(field), value=echo(raw)),
        )

    def _number_of(self, field: str, raw: Any, *, whole: bool) -> Decimal | None:
        """A number by the grammar, or None after saying why not."""
        if isinstance(raw, bool) or not isinstance(raw, (int, Decimal, str, float)):
            self._problem(field, "not-a-number", _("{where}: must be a number.", where=self._where(field)))
            return None
        if isinstance(raw, float):  # only a sheet's number cell
            return self._sheet_number(field, raw, whole=whole)
        if isinstance(raw, str) and not self.from_csv:
            self._problem(
                field,
                "not-a-number",
                _(
                    '{where}: "{value}" is text; send a JSON number.',
                    where=self._where(field),
                    value=echo(raw),
                ),
            )
            return None
        if isinstance(raw, str):
            if _DECIMAL.fullmatch(raw):
                number = Decimal(raw)
            elif (digits := _LONG_DECIMAL.fullmatch(raw)) is not None:  # well written, too long
                if len(digits[1].lstrip("0")) > _WHOLE_DIGITS:
                    self._out_of_range(field, raw)
                    return None
                number = Decimal(raw)  # at most 19 digits before the dot: too precise, or leading zeros
            else:
                kind, text = number_habit(raw, whole=whole, where_=self._where(field))
                self._problem(field, kind, text)
                return None
        else:
            number = Decimal(raw)
        if number.is_finite() and not precise_enough(number):
            self._problem(
                field,
                "too-precise",
                _(
                    "{where}: {value} has more than {places} decimal places.",
                    where=self._where(field),
                    value=echo(raw),
                    places=MAX_DECIMALS,
                ),
            )
            return None
        if not number.is_finite() or number < 0:
            self._problem(
                field,
                "negative",
                _("{where}: {value} — figures are not negative.", where=self._where(field), value=echo(raw)),
            )
            return None
        if whole and not written_whole(number):
            kind, text = whole_problem(number, self._where(field), typed=self.typed)
            self._problem(field, kind, text)
            return None
        return number

    def _sheet_number(self, field: str, raw: float, *, whole: bool) -> Decimal | None:
        """A sheet's fractional number cell (integral ones arrive as `int`), at the 15 significant
        digits a spreadsheet keeps (`93.37500000000001` from a formula is 93.375)."""
        if not math.isfinite(raw):
            self._problem(field, "not-a-number", _("{where}: must be a number.", where=self._where(field)))
            return None
        if abs(raw) >= EXACT_FLOAT:
            self._problem(
                field,
                "imprecise-number",
                _(
                    "{where}: {value} has more digits than a spreadsheet's number keeps; format the "
                    "cell as Text and type the digits.",
                    where=self._where(field),
                    value=format(raw, ".15g"),
                ),
            )
            return None
        return self._number_of(field, Decimal(format(raw, ".15g")), whole=whole)

    def day(self, field: str, *, required: bool = True) -> date | None:
        if self._missing(field, required):
            return None
        raw = self.data[field]
        if not isinstance(raw, str):
            self._problem(field, "not-a-date", _not_a_date(self._where(field), raw))
            return None
        if _ISO_DAY.fullmatch(raw):
            try:
                return date.fromisoformat(raw)
            except ValueError:
                self._problem(
                    field,
                    "not-a-date",
                    _(
                        '{where}: "{value}" is not a day of the calendar.',
                        where=self._where(field),
                        value=echo(raw),
                    ),
                )
                return None
        kind, text = date_habit(raw, self._where(field))
        self._problem(field, kind, text)
        return None

    def code(self, field: str) -> str | None:
        if self._missing(field, False):
            return None
        raw = self.data[field]
        text = raw if isinstance(raw, str) else None
        if text is not None and _CODE.fullmatch(text):
            return text
        shown = str(raw) if isinstance(raw, int) and not isinstance(raw, bool) else text
        if shown is not None and re.fullmatch(r"[0-9]", shown):
            self._problem(
                field,
                "leading-zero",
                _(
                    '{where}: "{value}" — write {suggestion}',
                    where=self._where(field),
                    value=shown,
                    suggestion=f"0{shown}",
                ),
            )
        elif shown is not None and text is None and _CODE.fullmatch(shown):
            self._problem(
                field,
                "not-text",
                _(
                    '{where}: a unit code is text — write "{suggestion}"',
                    where=self._where(field),
                    suggestion=shown,
                ),
            )
        else:
            self._problem(
                field,
                "not-a-code",
                _(
                    '{where}: "{value}" is not a unit code (two or three digits).',
                    where=self._where(field),
                    value=echo(raw),
                ),
            )
        return None

    def metric(self, field: str) -> str | None:
        if self._missing(field, True):
            return None
        raw = self.data[field]
        if isinstance(raw, str) and _METRIC.fullmatch(raw):
            return raw
        self._problem(
            field,
            "not-a-metric-key",
            _(
                '{where}: "{value}" is not a metric key (a lowercase letter, then lowercase letters, digits '
                "or _; see GET /v1/metrics).",
                where=self._where(field),
                value=echo(raw),
            ),
        )
        return None

    def text(self, field: str, longest: int) -> str | None:
        if self._missing(field, False):
            return None
        raw = self.data[field]
        if not isinstance(raw, str):
            self._problem(field, "not-text", _("{where}: must be text.", where=self._where(field)))
            return None
        if len(raw) > longest:
            self._problem(
                field,
                "too-long",
                _(
                    "{where}: at most {longest} characters (this has {length}).",
                    where=self._where(field),
                    longest=longest,
                    length=len(raw),
                ),
            )
            return None
        if "\x00" in raw or any("\ud800" <= c <= "\udfff" for c in raw):
            self._problem(
                field,
                "not-storable",
                _(
                    "{where}: text may not contain NUL characters or unpaired surrogates.",
                    where=self._where(field),
                ),
            )
            return None
        return raw


def where(field: str, column: Callable[[str], str], from_csv: bool) -> str:
    """`cột tu_ngay` for a CSV column, `trường period_start` for a JSON field."""
    if from_csv:
        return _("column {column}", column=column(field))
    return _("field {field}", field=column(field))


def _not_a_date(where_: str, raw: object) -> str:
    return _(
        '{where}: "{value}" is not a date: write YYYY-MM-DD, e.g. 2025-07-01.', where=where_, value=echo(raw)
    )


def date_habit(raw: str, where_: str) -> tuple[str, str]:
    """The kind and the text of a day not written `YYYY-MM-DD`, with what to write if it is clear."""
    day: date | None = None
    kind = "date-format"
    text = raw.strip()
    try:
        if m := _DAY_MONTH_YEAR.fullmatch(text):
            day = date(int(m[3]), int(m[2]), int(m[1]))  # Vietnamese order: day, month, year
        elif m := _YEAR_MONTH_DAY.fullmatch(text):
            day = date(int(m[1]), int(m[2]), int(m[3]))
        elif m := _DAY_AND_TIME.fullmatch(text):
            day = date.fromisoformat(m[1])
        elif _EXCEL_SERIAL.fullmatch(text) and 20_000 <= float(text) <= 80_000:
            day = _EXCEL_EPOCH + timedelta(days=int(float(text)))
            kind = "excel-serial-date"
    except ValueError:
        day = None
    if day is None:
        return "not-a-date", _not_a_date(where_, raw)
    return kind, _(
        '{where}: "{value}" — write {suggestion}', where=where_, value=echo(raw), suggestion=day.isoformat()
    )


def number_habit(raw: str, *, whole: bool, where_: str) -> tuple[str, str]:
    """The kind and the text of a number the grammar refuses, naming the habit it looks like."""
    text = raw.strip()
    shown = echo(raw)
    if any(c.isdigit() and not "0" <= c <= "9" for c in text):
        ascii_ = unicodedata.normalize("NFKC", text)
        if (_WHOLE if whole else _DECIMAL).fullmatch(ascii_):
            return "non-ascii-digits", _(
                '{where}: "{value}" — write the digits 0–9: {suggestion}',
                where=where_,
                value=shown,
                suggestion=ascii_,
            )
    if text.startswith("-") and _DECIMAL.fullmatch(text[1:]):
        return "negative", _("{where}: {value} — figures are not negative.", where=where_, value=shown)
    if text.endswith("%") and _DECIMAL.fullmatch(text[:-1].strip()):
        return "percent-sign", _(
            '{where}: "{value}" — write the number without %: {suggestion}',
            where=where_,
            value=shown,
            suggestion=text[:-1].strip(),
        )
    if _EXPONENT.fullmatch(text):
        try:
            full = format(Decimal(text), "f")
        except InvalidOperation:
            full = ""
        if full and len(full) <= 25:
            return "exponent", _(
                '{where}: "{value}" — write the number in full: {suggestion}',
                where=where_,
                value=shown,
                suggestion=full,
            )
    if _UNDERSCORED.fullmatch(text):
        return "digit-separator", _(
            '{where}: "{value}" — write the number without separators: {suggestion}',
            where=where_,
            value=shown,
            suggestion=text.replace("_", ""),
        )
    if m := _GROUPED.fullmatch(text):
        digits = re.sub(r"[^0-9]", "", text)
        if m[1] == "," and not whole:
            return "decimal-comma", _(
                '{where}: "{value}" — use a dot for decimals and no thousands separator: write {decimal} '
                "(or {digits} if you meant a whole number)",
                where=where_,
                value=shown,
                decimal=format(Decimal(text.replace(",", ".")).normalize(), "f"),
                digits=digits,
            )
        return "thousands-separator", _(
            '{where}: "{value}" looks like a number with a thousands separator; write {suggestion}',
            where=where_,
            value=shown,
            suggestion=digits,
        )
    if _VIETNAMESE_DECIMAL.fullmatch(text):
        suggestion = text.replace(".", "").replace(",", ".")
        return "decimal-comma", _(
            '{where}: "{value}" — use a dot for decimals and no thousands separator: write {suggestion}',
            where=where_,
            value=shown,
            suggestion=suggestion,
        )
    if whole:
        return "not-a-number", _(
            '{where}: "{value}" is not a whole number: write the digits 0–9 only.', where=where_, value=shown
        )
    return "not-a-number", _(
        '{where}: "{value}" is not a number: write the digits 0–9, with a dot before decimals and no '
        "thousands separator.",
        where=where_,
        value=shown,
    )


def written_whole(number: Decimal) -> bool:
    """Whether `number` was written as a whole number: digits only, no decimal point, no
    exponent (`5.000` is five thousand written the Vietnamese way, never 5)."""
    return number.as_tuple().exponent == 0


def whole_problem(number: Decimal, where_: str, *, typed: bool = False) -> tuple[str, str]:
    """A number that should be written whole but is not: `1.250` or `5.000` (a dot before three
    digits) is a thousands separator misread; `5.0` has decimals; `1E+2` an exponent. A sheet's
    number cell (`typed`) is a number as the sheet holds it, its digits not as typed: not whole."""
    exponent = number.as_tuple().exponent
    value = echo(number)
    if typed:
        return "not-whole", _("{where}: {value} is not a whole number.", where=where_, value=value)
    if exponent == -3:
        return "thousands-separator", _(
            '{where}: "{value}" looks like a number with a thousands separator (this is a whole number); '
            "write {suggestion}",
            where=where_,
            value=value,
            suggestion=str(number).replace(".", ""),
        )
    if isinstance(exponent, int) and exponent > 0 and len(format(number, "f")) <= 25:
        return "exponent", _(
            '{where}: "{value}" — write the number in full: {suggestion}',
            where=where_,
            value=value,
            suggestion=format(number, "f"),
        )
    if number == number.to_integral_value() and len(format(number, "f")) <= 25:
        return "decimal-point", _(
            '{where}: "{value}" — a whole number is written without a decimal point: write {suggestion}',
            where=where_,
            value=value,
            suggestion=format(number.to_integral_value(), "f"),
        )
    return "not-whole", _("{where}: {value} is not a whole number.", where=where_, value=value)


def figure_problem(
    metric: str,
    kind: str,
    value: Decimal | None,
    numerator: Decimal | None,
    denominator: Decimal | None,
    column: Callable[[str], str],
    from_csv: bool,
    *,
    typed: bool = False,
) -> tuple[str, str, str] | None:
    """What is wrong with a figure for a metric of `kind` (field, problem kind, text), for a batch
    row and a PUT alike: parts only for a rate; a count, an amount in đồng and a rate's parts
    written whole (`1.250` or `5.000` there is a thousands separator misread)."""
    if kind != "rate" and numerator is not None:
        text = _("{key} is not a rate: give its {value}.", key=metric, value=column("value"))
        return "numerator", "not-a-rate", text
    whole = [("numerator", numerator), ("denominator", denominator)]
    if kind != "rate":
        whole.append(("value", value))
    for name, number in whole:
        if number is not None and not written_whole(number):
            problem_kind, text = whole_problem(number, where(name, column, from_csv), typed=typed)
            return name, problem_kind, text
    return None
