"""Bulk push: a JSON `{"rows": [...]}`, a CSV file or an XLSX workbook, all or nothing, a per-row
report.

Row numbers are as in the file: the CSV line (the header is line 1), the sheet's row (the header
is row 1), or the 1-based position in the JSON `rows` array. Columns are named as the file
names them (`columns.py`: ASCII headers, JSON field names or Vietnamese labels). A workbook is
unpacked within its limits (`workbook.py`), then its rows are read under the rules of a CSV's,
its cells typed (a real date, a number).

The order of the checks bounds the work any body can cause: the key's role (a dependency), then
the body's shape (media type, size, a cheap count of its values, its header, its number of rows),
then the key's right to each unit a row names, and only then each row. The report lists the
first problems in full and counts the rest per column and kind (`problems.py`).

Numbers, dates and codes are read by one strict grammar (`values.py`), never by guessing: a
value written the way a spreadsheet writes it (`1.250` for one thousand two hundred and fifty
đồng, `01/07/2025`, `98,5`, a code `8` whose leading zero was dropped) is refused with what to
write instead."""

import asyncio
import csv
import io
import json
import re
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from openpyxl.utils import get_column_letter
from sqlalchemy.ext.asyncio import AsyncSession

from app.auth.principal import Principal
from app.core.errors import AppError, BadRequest, Forbidden, Unprocessable
from app.core.i18n import _
from app.core.numbers import json_decoder, json_problem, parse_json
from app.core.periods import year_problem
from app.figures import service, values, workbook
from app.figures.columns import CSV_NAME, FIELDS, IGNORED, INPUT_HEADER, LABELS, field_of
from app.figures.problems import Report, RowProblems
from app.figures.queries import Key, SetWrite, existing_sets, invalidate_figures, write_sets
from app.figures.schemas import BatchReport, BatchSet
from app.metrics.service import by_key as metric_refs

VALUES_PER_ROW = 2 * len(FIELDS) + 6
"""The most separators (`,` `:` `{` `[` in JSON, `,` and line ends in CSV) a row may spend, so
that the count of a body's values bounds the objects parsing it creates."""


@dataclass(frozen=True, slots=True)
class Limits:
    max_rows: int
    listed_problems: int
    max_unpacked_bytes: int = 16_777_216
    """The most bytes an XLSX workbook's parts inflate to, together (`workbook.py`)."""

    @property
    def max_values(self) -> int:
        return (self.max_rows + 1) * VALUES_PER_ROW

    @property
    def max_elements(self) -> int:
        """The most XML elements a workbook's parts may hold: two per value (`<c><v>1</v></c>`)."""
        return 2 * self.max_values


@dataclass(slots=True)
class Row:
    number: int
    data: dict[str, Any]
    """field → the raw value (JSON as sent, CSV as text)"""
    columns: dict[str, str]
    """field → the column as the file names it"""
    from_csv: bool
    """A file's row (CSV or XLSX): named by its columns, values as text or cells."""
    parsed: "Parsed | None" = None
    typed: bool = False
    """An XLSX row: its cells are typed (a number, a date), not text."""

    def column(self, field: str) -> str:
        return self.columns.get(field) or (CSV_NAME.get(field, field) if self.from_csv else field)


@dataclass(frozen=True, slots=True)
class Parsed:
    unit_id: int | None
    unit_code: str | None
    unit_code_on: date | None
    year: int
    period_start: date
    period_end: date
    metric: str
    value: Decimal | None
    numerator: Decimal | None
    denominator: Decimal | None
    source: str | None
    note: str | None
    expected_version: int | None


class UnsupportedMedia(BadRequest):
    status, slug = 415, "unsupported-media-type"


class MalformedBody(BadRequest):
    status, slug = 400, "malformed-body"


class TooManyRows(BadRequest):
    status, slug = 413, "too-many-rows"


def parse_body(body: bytes, content_type: str | None, limits: Limits) -> list[Row]:
    """The rows of a body, after its shape is checked; raises the problem of a body of the wrong
    shape (media type, encoding, too many values or rows, a bad header, a line that is not CSV)."""
    media = (content_type or "").split(";")[0].strip().lower()
    if media == "text/csv":
        return _csv_rows(body, limits)
    if media in ("application/json", ""):
        return _json_rows(body, limits)
    if media == workbook.XLSX:
        return _xlsx_rows(body, limits)
    raise UnsupportedMedia(
        _(
            "Send the batch as `application/json`, `text/csv` or an XLSX workbook "
            "(`application/vnd.openxmlformats-officedocument.spreadsheetml.sheet`)."
        )
    )


def _too_many_values(limits: Limits) -> TooManyRows:
    return TooManyRows(
        _(
            "A batch has at most {max_rows} rows; this body holds more values than that many rows can. "
            "Split it into several batches.",
            max_rows=limits.max_rows,
        ),
        max_rows=limits.max_rows,
    )


def _too_many_rows(limits: Limits) -> TooManyRows:
    return TooManyRows(
        _("A batch has at most {max_rows} rows. Split it into several batches.", max_rows=limits.max_rows),
        max_rows=limits.max_rows,
    )


_JSON_STRING = re.compile(rb'"(?:[^"\\]|\\.)*"', re.DOTALL)


def _spent(body: bytes, strings: "re.Pattern[bytes]", separators: tuple[bytes, ...], budget: int) -> bool:
    """Whether the body spends more separators than `budget` outside its strings: counted on the
    raw bytes first (a C scan, an over-count since a string may hold separators), and only when
    that is over the budget, again without the strings."""

    def count(data: bytes) -> int:
        return sum(data.count(c) for c in separators)

    return count(body) > budget and count(strings.sub(b"", body)) > budget


_JSON_SEPARATORS = (b",", b":", b"{", b"[")
_WHITESPACE = re.compile(r"[ \t\n\r]*")


def _json_rows(body: bytes, limits: Limits) -> list[Row]:
    if _spent(body, _JSON_STRING, _JSON_SEPARATORS, limits.max_values):
        raise _too_many_values(limits)
    try:
        text = body.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise MalformedBody(_("A JSON batch is UTF-8 text.")) from None
    values = _streamed_rows(text, limits)
    if values is None:
        values = _whole_document_rows(text, limits)
    if not values:
        raise Unprocessable(_("The batch has no rows."), field="rows")
    rows = []
    for i, data in enumerate(values, start=1):
        if not isinstance(data, dict):
            data = {"": data}
        rows.append(Row(i, data, {f: f for f in data}, from_csv=False))
    return rows


def _streamed_rows(text: str, limits: Limits) -> list[Any] | None:
    """The rows of `{"rows": [...]}` decoded one at a time (each a short C call, so a thread
    reading the batch never holds the interpreter for long); None for any other shape, which
    `_whole_document_rows` then reads and explains."""
    decoder = json_decoder()
    skip = _WHITESPACE.match

    def at(position: int) -> int:
        found = skip(text, position)
        return found.end() if found else position

    try:
        i = at(0)
        if text[i : i + 1] != "{":
            return None
        key, i = decoder.raw_decode(text, at(i + 1))
        i = at(i)
        if key != "rows" or text[i : i + 1] != ":":
            return None
        i = at(i + 1)
        if text[i : i + 1] != "[":
            return None
        i = at(i + 1)
        rows: list[Any] = []
        if text[i : i + 1] == "]":
            i += 1
        else:
            while True:
                value, i = decoder.raw_decode(text, i)
                rows.append(value)
                if len(rows) > limits.max_rows:
                    raise _too_many_rows(limits)
                i = at(i)
                if text[i : i + 1] == ",":
                    i = at(i + 1)
                    continue
                if text[i : i + 1] != "]":
                    return None
                i += 1
                break
        i = at(i)
        if text[i:] != "}":
            return None
        return rows
    except (ValueError, RecursionError):
        return None


def _whole_document_rows(text: str, limits: Limits) -> list[Any]:
    try:
        document = parse_json(text)
    except json.JSONDecodeError as exc:
        raise MalformedBody(json_problem(exc.msg, exc.pos)) from None
    except RecursionError:
        raise MalformedBody(_("The body is not valid JSON: {error}", error=_("too deeply nested"))) from None
    except ValueError:
        raise MalformedBody(_("The body is not valid JSON: a number has too many digits.")) from None
    if not isinstance(document, dict) or set(document) != {"rows"} or not isinstance(document["rows"], list):
        raise Unprocessable(
            _("A JSON batch is an object with one member, `rows`: an array of rows."), field="rows"
        )
    if len(document["rows"]) > limits.max_rows:
        raise _too_many_rows(limits)
    return document["rows"]


_CSV_QUOTED = re.compile(rb'"(?:[^"]|"")*"')


def _csv_rows(body: bytes, limits: Limits) -> list[Row]:
    if body.count(b"\n") > limits.max_rows + 1 + limits.max_rows:
        # More line ends than the rows allowed, even if every row's note took one more line.
        raise _too_many_rows(limits)
    if _spent(body, _CSV_QUOTED, (b",", b"\n"), limits.max_values):
        raise _too_many_values(limits)
    try:
        content = body.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise MalformedBody(_("A CSV batch is UTF-8 text (with or without a BOM).")) from None
    return _read_csv(content, limits)


def _not_csv(line: int, error: csv.Error, report: Report) -> AppError:
    """A line the CSV reader could not read, said in the request's language (the reader's own
    message is English)."""
    said = str(error)
    if "unexpected end of data" in said:
        problem = _(
            'A quote (") opened on this line is never closed, so the rest of the file would be read '
            'as one value. Close it, or double a quote inside a value ("").'
        )
        kind = "unterminated-quote"
    elif "field larger than field limit" in said:
        problem = _("A value on this line is longer than {limit} characters.", limit=csv.field_size_limit())
        kind = "value-too-long"
    else:
        problem = _(
            'This line is not valid CSV: a value with a quote (") is written in quotes, and the '
            'quote inside it doubled ("").'
        )
        kind = "malformed-line"
    report.add(line, None, kind, problem)
    return report.refusal()


def _read_csv(content: str, limits: Limits) -> list[Row]:
    reader = csv.reader(io.StringIO(content, newline=""), strict=True)
    header_report = Report(limits.listed_problems)
    try:
        header = next(reader, None)
    except csv.Error as exc:
        raise _not_csv(1, exc, header_report) from None
    if not header or not any(name.strip() for name in header):
        raise Unprocessable(_("The batch has no rows."), field="rows")
    positions = _header(header, header_report)
    named = _named(header, positions)
    rows: list[Row] = []
    report = Report(limits.listed_problems)
    line = reader.line_num
    while True:
        try:
            record = next(reader)
        except StopIteration:
            break
        except csv.Error as exc:
            raise _not_csv(line + 1, exc, report) from None
        number, line = line + 1, reader.line_num
        if not any(v.strip() for p, v in enumerate(record) if positions.get(p) != IGNORED):
            continue  # a blank line, or one with nothing but what the template gives to read
        if len(rows) == limits.max_rows:
            raise _too_many_rows(limits)
        if len(record) > len(header):
            extra = record[len(header) :]
            if any(v.strip() for v in extra):
                report.add(
                    number,
                    None,
                    "extra-values",
                    _(
                        "This line has {count} values; the header has {columns} columns.",
                        count=len(record),
                        columns=len(header),
                    ),
                )
        data: dict[str, Any] = {}
        for position, value in enumerate(record[: len(header)]):
            target = positions[position]
            value = value.strip()
            if not value or target == IGNORED:
                continue
            if target is None:
                report.add(
                    number,
                    None,
                    "unnamed-column",
                    _(
                        "Value {value} stands in column {position}, which has no name in the header.",
                        value=values.echo(value),
                        position=position + 1,
                    ),
                )
            else:
                data[target] = value
        rows.append(Row(number, data, named, from_csv=True))
    if not rows:
        raise Unprocessable(_("The batch has no rows."), field="rows")
    if report.problems:
        raise report.refusal()
    return rows


def _xlsx_rows(body: bytes, limits: Limits) -> list[Row]:
    """The rows of a workbook's sheet, under the rules of a CSV's: row 1 the header, blank rows
    skipped, each row numbered as the sheet shows it, its cells typed."""
    try:
        stored = workbook.unpacked(body, limits.max_unpacked_bytes, max_elements=limits.max_elements)
    except workbook.TooManyElements:
        raise _too_many_values(limits) from None
    with workbook.sheet_rows(stored) as lines:
        header = [_header_text(cell) for cell in next(lines, ())]
        while header and not header[-1].strip():
            header.pop()
        if not header:
            raise Unprocessable(_("The batch has no rows."), field="rows")
        positions = _header(header, Report(limits.listed_problems), labels=True)
        named = _named(header, positions)
        rows: list[Row] = []
        report = Report(limits.listed_problems)
        for number, cells in enumerate(lines, start=2):
            if number > 2 * limits.max_rows + 1:
                raise _too_many_rows(limits)  # even a sheet of blank rows ends somewhere
            data: dict[str, Any] = {}
            filled = False
            for position, cell in enumerate(cells):
                target = positions.get(position)
                value = workbook.cell_value(cell, target or "")
                if value is None or target == IGNORED:
                    continue
                filled = True
                if target is not None:
                    data[target] = value
                    continue
                report.add(
                    number,
                    None,
                    "unnamed-column",
                    _(
                        "Value {value} stands in column {position}, which has no name in the header.",
                        value=values.echo(value),
                        position=get_column_letter(position + 1),
                    ),
                )
            if not filled:
                continue
            if len(rows) == limits.max_rows:
                raise _too_many_rows(limits)
            rows.append(Row(number, data, named, from_csv=True, typed=True))
    if not rows:
        raise Unprocessable(_("The batch has no rows."), field="rows")
    if report.problems:
        raise report.refusal()
    return rows


def _header_text(cell: Any) -> str:
    return "" if cell is None else str(cell)


def _named(header: list[str], positions: dict[int, str | None]) -> dict[str, str]:
    """field → the column as the header names it."""
    return {target: header[p] for p, target in positions.items() if target is not None and target != IGNORED}


def _header(header: list[str], report: Report, *, labels: bool = False) -> dict[int, str | None]:
    """The field of each position of the header (`IGNORED` for a column people read, None for
    one without a name); refuses a header the batch cannot read. `labels`: a missing column is
    named by its Vietnamese label too (a workbook's header)."""
    if len(header) == 1 and (";" in header[0] or "\t" in header[0]):
        separator = ";" if ";" in header[0] else "\t"
        if any(field_of(n) not in (None, IGNORED) for n in header[0].split(separator)):
            report.add(
                1,
                None,
                "semicolon-separated" if separator == ";" else "tab-separated",
                _(
                    "The columns are separated by {separator}, not by commas. Save the sheet as "
                    "“CSV UTF-8 (comma delimited)”, or replace the separators with commas.",
                    separator=_("semicolons (;)") if separator == ";" else _("tabs"),
                ),
            )
            raise report.refusal()
    columns: dict[int, str | None] = {}
    for position, name in enumerate(header):
        target = field_of(name)
        columns[position] = None
        if target is None:
            if name.strip():  # a column with no name (a sheet's trailing comma) is read as empty
                report.add(
                    1,
                    name,
                    "unknown-column",
                    _(
                        "Unknown column {column}. The columns are: {known}.",
                        column=values.echo(name),
                        known=", ".join(INPUT_HEADER),
                    ),
                )
        elif target != IGNORED and target in columns.values():
            report.add(1, name, "repeated-column", _("The column {column} is given twice.", column=name))
        else:
            columns[position] = target
    given = set(columns.values())
    missing = [f for f in ("year", "period_start", "period_end", "metric") if f not in given]
    if "unit_id" not in given and "unit_code" not in given:
        missing.append("unit_code")
    if "unit_code" in given and "unit_code_on" not in given:
        missing.append("unit_code_on")
    if "value" not in given and not {"numerator", "denominator"} <= given:
        missing.append("value")
    for field in missing:
        report.add(
            1,
            None,
            "missing-column",
            _(
                "The header has no column {column}.",
                column=f"{LABELS[field]} ({CSV_NAME[field]})" if labels else CSV_NAME[field],
            ),
        )
    if report.problems:
        raise report.refusal()
    return columns


def _unit_refs(rows: list[Row]) -> dict[int, tuple[str, Any] | None]:
    """Each row's unit reference by row number (off the event loop: 10,000 rows take 20 ms)."""
    return {row.number: _unit_ref(row) for row in rows}


def _unit_ref(row: Row) -> tuple[str, Any] | None:
    """How a row names its unit, read even from a row that is otherwise invalid."""
    unit_id = values.plain_integer(row.data.get("unit_id"))
    if unit_id is not None:
        return "id", unit_id
    code, on = row.data.get("unit_code"), values.plain_date(row.data.get("unit_code_on"))
    if isinstance(code, str) and on is not None:
        return "code", (code, on)
    return None


def _parse_row(row: Row, report: Report) -> None:
    """Reads one row by the strict grammar, adding a problem for each bad value."""
    found = RowProblems(report, row.number, row.column)
    known = FIELDS | {""}
    for name in row.data:
        if name not in known:
            found.add(
                None if row.from_csv else name,
                "unknown-field",
                _("Unknown field {field}.", field=values.echo(name)),
            )
    if "" in row.data:
        found.add(None, "not-an-object", _("A row is an object of named values."))
        return
    read = values.Reader(row.data, row.column, row.from_csv, found, typed=row.typed)
    unit_id = read.integer("unit_id", 1, 2_147_483_647, required=False)
    unit_code = read.code("unit_code")
    unit_code_on = read.day("unit_code_on", required=False)
    year = read.integer("year", 2000, 2100)
    start = read.day("period_start")
    end = read.day("period_end")
    metric = read.metric("metric")
    value = read.number("value", whole=False)
    numerator = read.number("numerator", whole=True)
    denominator = read.number("denominator", whole=True)
    source = read.text("source", 500)
    note = read.text("note", 2000)
    expected = read.integer("expected_version", 1, 2_147_483_647, required=False)
    has = read.present
    if has("unit_id") == has("unit_code"):
        found.add(
            None,
            "unit-naming",
            _(
                "Name the unit by {unit_id}, or by {unit_code} with {unit_code_on}.",
                unit_id=row.column("unit_id"),
                unit_code=row.column("unit_code"),
                unit_code_on=row.column("unit_code_on"),
            ),
        )
    elif has("unit_code") and not has("unit_code_on"):
        found.add(
            "unit_code_on",
            "required",
            _(
                "A unit code needs the day on which it names the unit ({unit_code_on}).",
                unit_code_on=row.column("unit_code_on"),
            ),
        )
    parts = has("numerator") + has("denominator")
    if parts == 1:
        found.add(
            "denominator" if has("numerator") else "numerator",
            "rate-parts",
            _(
                "A rate's {numerator} and {denominator} go together.",
                numerator=row.column("numerator"),
                denominator=row.column("denominator"),
            ),
        )
    elif has("value") == (parts == 2):
        found.add(
            "value",
            "value-or-parts",
            _(
                "Give either {value} or both {numerator} and {denominator}.",
                value=row.column("value"),
                numerator=row.column("numerator"),
                denominator=row.column("denominator"),
            ),
        )
    if found.count:
        return
    assert year is not None
    assert start is not None
    assert end is not None
    assert metric is not None
    row.parsed = Parsed(
        unit_id,
        unit_code,
        unit_code_on,
        year,
        start,
        end,
        metric,
        value,
        numerator,
        denominator,
        source,
        note,
        expected,
    )


def _parse_rows(rows: list[Row], report: Report) -> None:
    """CPU work over up to `max_rows` rows: run off the event loop, so reads keep being served."""
    for row in rows:
        _parse_row(row, report)


def _plan_sets(
    rows: list[Row],
    report: Report,
    unit_of: dict[int, int | None],
    units: dict[int, Any],
    metrics: dict[str, Any],
    key: Principal,
) -> dict[Key, tuple[SetWrite, Row, int | None]]:
    """Check each readable row against the stored units and the catalogue, and group the rows into
    the sets they write. Pure Python over every row: run off the event loop."""
    sets: dict[Key, tuple[SetWrite, Row, int | None]] = {}
    seen: dict[tuple[Key, str], int] = {}
    for row in rows:
        parsed = row.parsed
        if parsed is None:
            continue
        problem = RowProblems(report, row.number, row.column)
        unit_id = unit_of[row.number]
        unit = units.get(unit_id) if unit_id is not None else None
        if unit is None:
            if parsed.unit_id is not None:
                problem.add(
                    "unit_id", "unknown-unit", _("No unit with id {unit_id}.", unit_id=parsed.unit_id)
                )
            else:
                problem.add(
                    "unit_code",
                    "unknown-unit",
                    _("No unit has code {code} on {day}.", code=parsed.unit_code, day=parsed.unit_code_on),
                )
            continue
        start, end = parsed.period_start, parsed.period_end
        if start > end:
            problem.add("period_end", "period-order", _("A period's first day comes before its last."))
            continue
        wrong_year = year_problem(parsed.year, start, end)
        if wrong_year:
            problem.add("year", "wrong-year", wrong_year)
            continue
        outside = service.existence_problem(unit, start, end)
        if outside:
            problem.add("period_start", "outside-existence", outside[0], conflict=True)
            continue
        metric = metrics.get(parsed.metric)
        if metric is None:
            problem.add("metric", "unknown-metric", _("No metric with key {key}.", key=parsed.metric))
            continue
        wrong = values.figure_problem(
            parsed.metric,
            metric.kind,
            parsed.value,
            parsed.numerator,
            parsed.denominator,
            row.column,
            row.from_csv,
            typed=row.typed,
        )
        if wrong:
            problem.add(*wrong)
            continue
        key_ = (unit.id, start, end)
        first = seen.get((key_, parsed.metric))
        if first is not None:
            problem.add(
                "metric",
                "repeated-metric",
                _("{key} is given twice for this unit and period (row {row}).", key=parsed.metric, row=first),
            )
            continue
        seen[(key_, parsed.metric)] = row.number
        entry = sets.get(key_)
        if entry is None:
            write = SetWrite(
                unit.id, parsed.year, start, end, service.written_by(key, unit.id), parsed.source, parsed.note
            )
            entry = sets[key_] = (write, row, parsed.expected_version)
        else:
            write, first_row, expected = entry
            for name, mine, theirs in (
                ("year", parsed.year, write.year),
                ("source", parsed.source, write.source),
                ("note", parsed.note, write.note),
                ("expected_version", parsed.expected_version, expected),
            ):
                if mine != theirs:
                    problem.add(
                        name,
                        "set-disagrees",
                        _(
                            "Rows of one unit and period must agree on this column (row {row} differs).",
                            row=first_row.number,
                        ),
                    )
                    break
        entry[0].values.append((metric.id, parsed.value, parsed.numerator, parsed.denominator))

    return sets


async def push(
    session: AsyncSession, rows: list[Row], key: Principal, limits: Limits, *, dry_run: bool
) -> BatchReport:
    """Check the key's right to every unit named, then every row; then write all (a fixed number
    of statements) or nothing."""
    refs = await asyncio.to_thread(_unit_refs, rows)
    by_code = await service.units_by_code(
        session, {ref[1] for ref in refs.values() if ref is not None and ref[0] == "code"}
    )
    unit_of: dict[int, int | None] = {}
    for number, ref in refs.items():
        if ref is None:
            unit_of[number] = None
        else:
            unit_of[number] = ref[1] if ref[0] == "id" else by_code.get(ref[1])
    allowed = await service.writable_units(session, key)
    if allowed is not None:
        foreign = [
            n
            for n, ref in refs.items()
            if ref is not None and (unit_of[n] is None or unit_of[n] not in allowed)
        ]
        if foreign:
            raise Forbidden(
                _(
                    "Rows {rows} name a unit this key may not write figures for; nothing was written.",
                    rows=", ".join(map(str, foreign[:50])) + ("…" if len(foreign) > 50 else ""),
                ),
                forbidden_rows=foreign[: limits.listed_problems],
                forbidden_row_count=len(foreign),
            )

    report = Report(limits.listed_problems)
    await asyncio.to_thread(_parse_rows, rows, report)
    units = await service.units_by_id(session, {u for u in unit_of.values() if u is not None})
    metrics = await metric_refs(session, {r.parsed.metric for r in rows if r.parsed})
    sets = await asyncio.to_thread(_plan_sets, rows, report, unit_of, units, metrics, key)
    stored = await existing_sets(session, list(sets), lock=not dry_run)
    for key_, (_write, row, expected) in sets.items():
        current = stored.get(key_)
        if expected is not None and (current is None or current[1] != expected):
            RowProblems(report, row.number, row.column).add(
                "expected_version",
                "version-mismatch",
                _(
                    "These figures are at version {version}, not {expected}.",
                    version=current[1] if current else 0,
                    expected=expected,
                ),
                conflict=True,
            )

    if report.problems:
        raise report.refusal()
    if dry_run:
        outcome = [
            BatchSet(
                unit_id=k[0],
                period_start=k[1],
                period_end=k[2],
                version=(stored[k][1] + 1) if k in stored else 1,
                created=k not in stored,
            )
            for k in sorted(sets)
        ]
    else:
        written = await write_sets(session, [w for w, _r, _e in sets.values()], key.actor)
        await invalidate_figures(session, {k[0] for k in written})
        outcome = [
            BatchSet(unit_id=k[0], period_start=k[1], period_end=k[2], version=v[1], created=v[2])
            for k, v in sorted(written.items())
        ]
    created = sum(1 for s in outcome if s.created)
    return BatchReport(
        dry_run=dry_run, rows=len(rows), created=created, replaced=len(outcome) - created, sets=outcome
    )
