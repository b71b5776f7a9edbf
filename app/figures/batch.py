"""Bulk push: a JSON `{"rows": [...]}` or a CSV file, all or nothing, a per-row report.

Row numbers are as in the file: the CSV line (the header is line 1), or the 1-based position
in the JSON `rows` array. Columns are named as the file names them."""

import asyncio
import csv
import io
import json
import re
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from pydantic import ValidationError
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.errors import BadRequest, BatchRowProblem, Conflict, Forbidden, Unprocessable
from app.core.i18n import _
from app.core.security import Principal
from app.core.validation import field_message
from app.figures import service
from app.figures.queries import Key, SetWrite, existing_sets, invalidate_figures, write_sets
from app.figures.schemas import BatchReport, BatchSet, FigureRowIn

CSV_COLUMNS = {
    "don_vi_id": "unit_id",
    "ma_don_vi": "unit_code",
    "ngay_hieu_luc": "unit_code_on",
    "nam": "year",
    "tu_ngay": "period_start",
    "den_ngay": "period_end",
    "chi_tieu": "metric",
    "gia_tri": "value",
    "tu_so": "numerator",
    "mau_so": "denominator",
    "nguon": "source",
    "ghi_chu": "note",
    "phien_ban": "expected_version",
}
"""Vietnamese CSV headers → fields; the English field names are accepted as headers too."""
FIELDS = set(CSV_COLUMNS.values())
TEMPLATE_HEADER = list(CSV_COLUMNS)
_INTEGER_FIELDS = {"unit_id", "year", "expected_version"}
_DIGITS = re.compile(r"^[0-9]{1,10}$")


@dataclass
class Row:
    number: int
    data: dict[str, Any]
    columns: dict[str, str]
    """field → the column as the file names it"""
    parsed: FigureRowIn | None = None


@dataclass
class Report:
    problems: list[tuple[BatchRowProblem, bool]] = field(default_factory=list)
    """(problem, is a conflict with what is stored)"""

    def add(self, row: Row, field_name: str | None, problem: str, *, conflict: bool = False) -> None:
        column = row.columns.get(field_name, field_name) if field_name else None
        self.problems.append((BatchRowProblem(row=row.number, column=column, problem=problem), conflict))


def parse_body(body: bytes, content_type: str | None) -> list[Row]:
    media = (content_type or "").split(";")[0].strip().lower()
    if media == "text/csv":
        return _csv_rows(body)
    if media in ("application/json", ""):
        return _json_rows(body)
    raise UnsupportedMedia(_("Send the batch as `application/json` or `text/csv`."))


class UnsupportedMedia(BadRequest):
    status, slug = 415, "unsupported-media-type"


class MalformedBody(BadRequest):
    status, slug = 400, "malformed-body"


def _json_rows(body: bytes) -> list[Row]:
    try:
        document = json.loads(body)
    except ValueError as exc:
        raise MalformedBody(_("The body is not valid JSON: {error}", error=str(exc))) from None
    if not isinstance(document, dict) or set(document) != {"rows"} or not isinstance(document["rows"], list):
        raise Unprocessable(
            _("A JSON batch is an object with one member, `rows`: an array of rows."), field="rows"
        )
    if not document["rows"]:
        raise Unprocessable(_("The batch has no rows."), field="rows")
    rows = []
    for i, data in enumerate(document["rows"], start=1):
        if not isinstance(data, dict):
            data = {"": data}
        rows.append(Row(i, data, {f: f for f in data}))
    return rows


def _csv_rows(body: bytes) -> list[Row]:
    try:
        content = body.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise MalformedBody(_("A CSV batch is UTF-8 text (with or without a BOM).")) from None
    reader = csv.reader(io.StringIO(content, newline=""))
    try:
        return _read_csv(reader)
    except csv.Error as exc:
        problem = BatchRowProblem(
            row=reader.line_num, column=None, problem=_("This line is not CSV: {error}", error=str(exc))
        )
        raise Unprocessable(
            _("The batch was not applied; see `rows`."), rows=[problem.model_dump()]
        ) from None


def _read_csv(reader: Any) -> list[Row]:
    header = next(reader, None)
    if not header:
        raise Unprocessable(_("The batch has no rows."), field="rows")
    columns: dict[str, str] = {}
    positions: dict[int, str] = {}
    header_row = Row(1, {}, {})
    problems = Report()
    for position, name in enumerate(header):
        normalized = name.strip().lower()
        target = CSV_COLUMNS.get(normalized, normalized if normalized in FIELDS else None)
        if target is None:
            problems.add(header_row, name, _("Unknown column {column}.", column=name))
        elif target in columns:
            problems.add(header_row, name, _("The column {column} is given twice.", column=name))
        else:
            columns[target] = name
            positions[position] = target
    if problems.problems:
        raise Unprocessable(
            _("The batch was not applied; see `rows`."), rows=[p.model_dump() for p, _c in problems.problems]
        )
    rows = []
    line = reader.line_num
    for record in reader:
        number = line + 1
        line = reader.line_num
        if not any(v.strip() for v in record):
            continue
        data: dict[str, Any] = {}
        for position, value in enumerate(record):
            target = positions.get(position)
            if target is None:
                data[f"column {position + 1}"] = value
                continue
            value = value.strip()
            if value == "":
                continue
            data[target] = int(value) if target in _INTEGER_FIELDS and _DIGITS.fullmatch(value) else value
        rows.append(Row(number, data, columns))
    if not rows:
        raise Unprocessable(_("The batch has no rows."), field="rows")
    return rows


def _unit_ref(data: dict[str, Any]) -> tuple[str, Any] | None:
    """How a row names its unit, read even from a row that is otherwise invalid."""
    unit_id = data.get("unit_id")
    if isinstance(unit_id, int) and not isinstance(unit_id, bool):
        return "id", unit_id
    code, on = data.get("unit_code"), data.get("unit_code_on")
    if isinstance(code, str) and isinstance(on, str):
        try:
            return "code", (code, date.fromisoformat(on))
        except ValueError:
            return None
    return None


def _plan_sets(
    rows: list[Row],
    report: Report,
    unit_of: dict[int, int | None],
    units: dict[int, Any],
    metrics: dict[str, Any],
    key: Principal,
) -> dict[Key, tuple[SetWrite, Row, int | None]]:
    """Check each valid row against the stored units and the catalogue, and group the rows into
    the sets they write. Pure Python over every row: run off the event loop."""
    sets: dict[Key, tuple[SetWrite, Row, int | None]] = {}
    seen: dict[tuple[Key, str], int] = {}
    for row in rows:
        parsed = row.parsed
        if parsed is None:
            continue
        unit_id = unit_of[row.number]
        unit = units.get(unit_id) if unit_id is not None else None
        if unit is None:
            if parsed.unit_id is not None:
                report.add(row, "unit_id", _("No unit with id {unit_id}.", unit_id=parsed.unit_id))
            else:
                report.add(
                    row,
                    "unit_code",
                    _("No unit has code {code} on {day}.", code=parsed.unit_code, day=parsed.unit_code_on),
                )
            continue
        start, end = parsed.period_start, parsed.period_end
        if start > end:
            report.add(row, "period_end", _("A period's first day comes before its last."))
            continue
        wrong_year = service.year_problem(parsed.year, start, end)
        if wrong_year:
            report.add(row, "year", wrong_year)
            continue
        outside = service.existence_problem(unit, start, end)
        if outside:
            report.add(row, "period_start", outside[0], conflict=True)
            continue
        metric = metrics.get(parsed.metric)
        wrong = service.value_problem(parsed.metric, metric, parsed.value, parsed.numerator)
        if wrong or metric is None:
            report.add(row, "metric" if metric is None else "value", wrong or "")
            continue
        key_ = (unit.id, start, end)
        first = seen.get((key_, parsed.metric))
        if first is not None:
            report.add(
                row,
                "metric",
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
                    report.add(
                        row,
                        name,
                        _(
                            "Rows of one unit and period must agree on this column (row {row} differs).",
                            row=first_row.number,
                        ),
                    )
                    break
        entry[0].values.append((metric.id, parsed.value, parsed.numerator, parsed.denominator))

    return sets


def _validate_rows(rows: list[Row], report: Report) -> None:
    """Each row against the row schema (CPU-bound over 10,000 rows: run off the event loop, so
    that reads keep being served while a batch is checked)."""
    for row in rows:
        try:
            row.parsed = FigureRowIn.model_validate(row.data)
        except ValidationError as exc:
            for error in exc.errors():
                loc = [str(p) for p in error.get("loc", ())]
                report.add(row, loc[0] if loc else None, field_message(error))


async def push(session: AsyncSession, rows: list[Row], key: Principal, *, dry_run: bool) -> BatchReport:
    """Validate every row; then write all (fixed number of statements) or nothing."""
    report = Report()
    await asyncio.to_thread(_validate_rows, rows, report)

    refs = {row.number: _unit_ref(row.data) for row in rows}
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
                forbidden_rows=foreign,
            )

    units = await service.units_by_id(session, {u for u in unit_of.values() if u is not None})
    metrics = await service.metrics_by_key(session, {r.parsed.metric for r in rows if r.parsed})
    sets = await asyncio.to_thread(_plan_sets, rows, report, unit_of, units, metrics, key)
    stored = await existing_sets(session, list(sets), lock=not dry_run)
    for key_, (_write, row, expected) in sets.items():
        current = stored.get(key_)
        if expected is not None and (current is None or current[1] != expected):
            report.add(
                row,
                "expected_version",
                _(
                    "These figures are at version {version}, not {expected}.",
                    version=current[1] if current else 0,
                    expected=expected,
                ),
                conflict=True,
            )

    problems = sorted(report.problems, key=lambda p: (p[0].row, p[0].column or ""))
    if problems:
        listed = [p.model_dump() for p, _c in problems]
        detail = _("The batch was not applied: {count} problems; see `rows`.", count=len(problems))
        if all(conflict for _p, conflict in problems):
            raise Conflict(slug="figures-conflict", detail=detail, rows=listed)
        raise Unprocessable(detail, rows=listed)
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


def template(metrics: list[tuple[str, str]]) -> str:
    """A CSV template: the Vietnamese header, then one row per metric of the catalogue."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(TEMPLATE_HEADER)
    for key, kind in metrics:
        row = {"chi_tieu": key}
        writer.writerow([row.get(column, "") for column in TEMPLATE_HEADER])
        del kind
    return "\ufeff" + out.getvalue()
