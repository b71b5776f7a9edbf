"""The figures template: a CSV file or an XLSX workbook a statistician fills in and pushes back.

One row per metric of the catalogue, with its key (`chi_tieu`), and for people to read its name
in the request's language and its unit of measure (`ten_chi_tieu`, `don_vi_tinh`, ignored when
pushed back); `nam`, `tu_ngay`, `den_ngay` hold a reporting year and its period. For a unit (a
unit key's own, or the one named) `ma_don_vi` and `ngay_hieu_luc` name it, and the period is
kept to the days it exists (Thái Bình's 2025: 15 December 2024 to 30 June 2025).

The workbook has the same columns under their Vietnamese labels (which a batch also accepts):
the code cells formatted as text (`08` keeps its zero, in the rows added too), the days as real
dates, data validation on the codes (the units of the period), the metric keys, the days, the
year and the numbers; the lists on a sheet `Danh mục`, and the instructions on `Hướng dẫn`."""

import csv
import io
from dataclasses import dataclass
from datetime import date
from typing import Literal

from openpyxl import Workbook
from openpyxl.styles import Alignment, Font
from openpyxl.utils import get_column_letter, quote_sheetname
from openpyxl.workbook.defined_name import DefinedName
from openpyxl.worksheet.datavalidation import DataValidation
from openpyxl.worksheet.worksheet import Worksheet
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from app.auth.principal import Principal
from app.clusters.years import GroupingRef, resolve
from app.core.errors import Conflict, NotFound
from app.core.exports import worksheet_value
from app.core.i18n import N_, _, current_locale, quantity
from app.covenants.periods import default_period, reporting_period, year_containing
from app.figures import service
from app.figures.columns import CSV_COLUMNS, LABELS, READABLE, TEMPLATE_HEADER, TEMPLATE_LABELS
from app.figures.workbook import DATA_SHEET, SHEET_COLUMNS, XLSX

LISTS_SHEET = "Danh mục"
GUIDE_SHEET = "Hướng dẫn"
_CODES = "DS_MA_DON_VI"
_METRICS = "DS_CHI_TIEU"
_DAY_FORMAT = "yyyy-mm-dd"
"""ISO: what the CSV grammar reads, so a CSV saved from the sheet is valid as it is."""
_TEXT_FORMAT = "@"
_MEASURES = {
    "cases": N_("cases"),
    "persons": N_("persons"),
    "collectives": N_("collectives"),
    "individuals": N_("individuals"),
    "letters": N_("letters"),
    "items": N_("items"),
    "vnd": N_("VND"),
    "percent": N_("percent"),
}
_FORMULA_START = ("=", "+", "-", "@")
Rule = Literal["whole", "decimal", "list", "date"]
Operator = Literal["between", "greaterThanOrEqual"]


@dataclass(frozen=True, slots=True)
class TemplateUnit:
    id: int
    code: str
    name: str
    valid_from: date | None
    valid_to: date | None


@dataclass(frozen=True, slots=True)
class TemplateMetric:
    key: str
    name: str
    measure: str


@dataclass(frozen=True, slots=True)
class Template:
    year: int
    start: date
    end: date
    unit: TemplateUnit | None
    """The unit the rows are filled in for, its period kept to the days it exists."""
    metrics: list[TemplateMetric]
    units: list[TemplateUnit]
    """Every unit existing in the period: the workbook's list of codes."""

    @property
    def filename(self) -> str:
        unit = f"-{self.unit.code}" if self.unit is not None else ""
        return f"mau-so-lieu-{self.year}{unit}"


_METRIC_ROWS = text("SELECT key, name_vi, name_en, unit_of_measure FROM metrics ORDER BY id")
_UNIT_ROWS = text(
    "SELECT id, code, name, valid_from, valid_to FROM units "
    "WHERE daterange(valid_from, valid_to, '[]') && daterange(:start, :end, '[]') "
    "ORDER BY code, valid_from NULLS FIRST"
)


async def template(
    session: AsyncSession,
    key: Principal,
    *,
    year: int | None,
    cluster: int | None,
    unit: int | None,
    today: date,
) -> Template:
    """The template's content: the unit (`service.template_unit`: 403 for one the caller may
    not write figures for, 404 for none, 409 when it does not exist in the period), a reporting
    year (default: the statistical year containing `today`) and its period (`year`'s default,
    or with `cluster` that cluster-year's; 404 for no such cluster), the catalogue."""
    unit_id = await service.template_unit(session, key, unit)
    if year is None:
        year = await year_containing(session, today)
    if cluster is None:
        period = await default_period(session, year)
    else:
        grouping = await resolve(session, GroupingRef.cluster(cluster))
        period = await reporting_period(session, grouping.id, year)
    start, end = period.start, period.end
    named: TemplateUnit | None = None
    if unit_id is not None:
        info = (await service.units_by_id(session, {unit_id})).get(unit_id)
        if info is None:
            raise NotFound(_("No unit with id {unit_id}.", unit_id=unit_id))
        start, end = max(start, info.valid_from or start), min(end, info.valid_to or end)
        if start > end:
            outside = service.existence_problem(info, period.start, period.end)
            assert outside is not None
            raise Conflict(slug="unit-not-in-period", detail=outside[0], field="unit", **outside[1])
        named = TemplateUnit(info.id, info.code, info.name, info.valid_from, info.valid_to)
    english = current_locale() == "en"
    metrics = [
        TemplateMetric(r.key, r.name_en if english else r.name_vi, _(_MEASURES[r.unit_of_measure]))
        for r in await session.execute(_METRIC_ROWS)
    ]
    units = [
        TemplateUnit(r.id, r.code, r.name, r.valid_from, r.valid_to)
        for r in await session.execute(_UNIT_ROWS, {"start": start, "end": end})
    ]
    return Template(year, start, end, named, metrics, units)


def _readable(value: str | int | date | None) -> str:
    """A CSV cell; text people read is never a formula for a spreadsheet opening the file."""
    if value is None:
        return ""
    shown = str(value)
    return "'" + shown if shown.startswith(_FORMULA_START) else shown


def _cells(t: Template, metric: TemplateMetric) -> dict[str, str | int | date | None]:
    """One row's values by CSV column."""
    unit = t.unit
    return {
        "ma_don_vi": unit.code if unit else None,
        "ngay_hieu_luc": t.start if unit else None,
        "nam": t.year,
        "tu_ngay": t.start,
        "den_ngay": t.end,
        "chi_tieu": metric.key,
        READABLE["metric_name"][0]: metric.name,
        READABLE["unit_of_measure"][0]: metric.measure,
    }


def csv_bytes(t: Template) -> bytes:
    """UTF-8 with a BOM (spreadsheets read it as such), CRLF lines, the ASCII header."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(TEMPLATE_HEADER)
    for metric in t.metrics:
        cells = _cells(t, metric)
        writer.writerow([_readable(cells.get(column)) for column in TEMPLATE_HEADER])
    return ("\ufeff" + out.getvalue()).encode()


# --- the workbook ------------------------------------------------------------------------------


def _letter(csv_name: str) -> str:
    return get_column_letter(TEMPLATE_HEADER.index(csv_name) + 1)


_TEXT_COLUMNS = ("ma_don_vi", "chi_tieu", "nguon", "ghi_chu")
_DAY_COLUMNS = ("ngay_hieu_luc", "tu_ngay", "den_ngay")
_WIDTHS = {"ten_chi_tieu": 60, "nguon": 30, "ghi_chu": 30, "chi_tieu": 34}


def xlsx_bytes(t: Template, *, max_rows: int, max_bytes: int, max_unpacked: int) -> bytes:
    """The workbook: `Số liệu` (the rows), `Danh mục` (the lists), `Hướng dẫn` (how to)."""
    book = Workbook()
    sheet = book.active
    assert isinstance(sheet, Worksheet)
    sheet.title = DATA_SHEET
    _data_sheet(sheet, t)
    _lists_sheet(book, book.create_sheet(LISTS_SHEET), t)
    _validations(sheet, t, last_row=max_rows + 1, has_units=bool(t.units))
    _guide(
        book.create_sheet(GUIDE_SHEET), t, max_rows=max_rows, max_bytes=max_bytes, max_unpacked=max_unpacked
    )
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def _data_sheet(sheet: Worksheet, t: Template) -> None:
    sheet.append(TEMPLATE_LABELS)
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    readable = {csv_name for csv_name, _label in READABLE.values()}
    for metric in t.metrics:
        cells = _cells(t, metric)
        sheet.append([worksheet_value(cells.get(c)) for c in TEMPLATE_HEADER])
        for column, cell in zip(TEMPLATE_HEADER, sheet[sheet.max_row], strict=True):
            if isinstance(cell.value, str):
                cell.data_type = "s"  # text, never a formula
            if column in _TEXT_COLUMNS or column in readable:
                cell.number_format = _TEXT_FORMAT
            elif column in _DAY_COLUMNS:
                cell.number_format = _DAY_FORMAT
            if column in readable:
                cell.font = Font(italic=True, color="FF595959")
    for column in TEMPLATE_HEADER:
        dimension = sheet.column_dimensions[_letter(column)]
        dimension.width = _WIDTHS.get(column, 14)
        if column in _TEXT_COLUMNS:
            dimension.number_format = _TEXT_FORMAT  # rows typed in later keep `08` as text
        elif column in _DAY_COLUMNS:
            dimension.number_format = _DAY_FORMAT
    sheet.freeze_panes = "A2"


def _lists_sheet(book: Workbook, lists: Worksheet, t: Template) -> None:
    """The units of the period (code, name, days) and the catalogue (key, name, unit of
    measure), side by side; the codes and keys are the data validation's lists."""
    lists.append(
        [
            LABELS["unit_code"],
            "Tên đơn vị",
            "Hiệu lực từ",
            "Hiệu lực đến",
            None,
            LABELS["metric"],
            *(label for _csv, label in READABLE.values()),
        ]
    )
    for cell in lists[1]:
        cell.font = Font(bold=True)
    for i in range(max(len(t.units), len(t.metrics))):
        unit = t.units[i] if i < len(t.units) else None
        metric = t.metrics[i] if i < len(t.metrics) else None
        lists.append(
            [
                worksheet_value(value)
                for value in (
                    *((unit.code, unit.name, unit.valid_from, unit.valid_to) if unit else (None,) * 4),
                    None,
                    *((metric.key, metric.name, metric.measure) if metric else (None,) * 3),
                )
            ]
        )
        row = lists[lists.max_row]
        for cell in row:
            if isinstance(cell.value, str):
                cell.data_type = "s"
        row[0].number_format = _TEXT_FORMAT
        for cell in row[2:4]:
            cell.number_format = _DAY_FORMAT
    for letter, width in zip("ABCDEFGH", (12, 28, 14, 14, 4, 34, 60, 14), strict=True):
        lists.column_dimensions[letter].width = width
    lists.freeze_panes = "A2"
    title = quote_sheetname(LISTS_SHEET)
    if t.units:
        book.defined_names[_CODES] = DefinedName(_CODES, attr_text=f"{title}!$A$2:$A${len(t.units) + 1}")
    book.defined_names[_METRICS] = DefinedName(_METRICS, attr_text=f"{title}!$F$2:$F${len(t.metrics) + 1}")


def _validation(
    sheet: Worksheet,
    column: str,
    last_row: int,
    message: str,
    kind: Rule,
    *,
    operator: Operator | None = None,
    formula1: str,
    formula2: str | None = None,
) -> None:
    """A rule on the column's cells from row 2 to `last_row`, refusing other input with `message`."""
    check = DataValidation(
        type=kind,
        operator=operator,
        formula1=formula1,
        formula2=formula2,
        allow_blank=True,
        showErrorMessage=True,
        error=message,
    )
    check.add(f"{_letter(column)}2:{_letter(column)}{last_row}")
    sheet.add_data_validation(check)


def _validations(sheet: Worksheet, t: Template, *, last_row: int, has_units: bool) -> None:
    """What a spreadsheet checks as the cells are typed: the codes and keys from the lists, days
    as dates, the year and the numbers in range. The batch checks everything again."""
    if has_units:
        _validation(
            sheet,
            "ma_don_vi",
            last_row,
            _("Choose a unit code from the sheet {sheet}: two or three digits, as text.", sheet=LISTS_SHEET),
            "list",
            formula1=_CODES,
        )
    _validation(
        sheet,
        "chi_tieu",
        last_row,
        _("Choose a metric key from the sheet {sheet}.", sheet=LISTS_SHEET),
        "list",
        formula1=_METRICS,
    )
    days = {"ngay_hieu_luc": (2000, 2100), "tu_ngay": (t.year - 1, t.year), "den_ngay": (t.year, t.year + 1)}
    for column, (first, last) in days.items():
        _validation(
            sheet,
            column,
            last_row,
            _("Type a day from {first} to {last}.", first=date(first, 1, 1), last=date(last, 12, 31)),
            "date",
            operator="between",
            formula1=f"DATE({first},1,1)",
            formula2=f"DATE({last},12,31)",
        )
    _validation(
        sheet,
        "nam",
        last_row,
        _("Type a year from 2000 to 2100."),
        "whole",
        operator="between",
        formula1="2000",
        formula2="2100",
    )
    numbers: tuple[tuple[str, Rule], ...] = (("gia_tri", "decimal"), ("tu_so", "whole"), ("mau_so", "whole"))
    for column, kind in numbers:
        _validation(
            sheet,
            column,
            last_row,
            _("Type a number, 0 or more, without thousands separators.")
            if kind == "decimal"
            else _("Type a whole number, 0 or more, without thousands separators."),
            kind,
            operator="greaterThanOrEqual",
            formula1="0",
        )
    for column in ("don_vi_id", "phien_ban"):
        _validation(
            sheet,
            column,
            last_row,
            _("Type a whole number, 1 or more."),
            "whole",
            operator="greaterThanOrEqual",
            formula1="1",
        )


def _guide(guide: Worksheet, t: Template, *, max_rows: int, max_bytes: int, max_unpacked: int) -> None:
    """The instructions, in the request's language (Vietnamese by default)."""
    label = {field: f"“{name}”" for field, name in LABELS.items()}
    if t.unit is not None:
        scope = _(
            "For {unit} (code {code}), reporting year {year}: {start} to {end}.",
            unit=t.unit.name,
            code=t.unit.code,
            year=t.year,
            start=t.start,
            end=t.end,
        )
    else:
        scope = _("Reporting year {year}: {start} to {end}.", year=t.year, start=t.start, end=t.end)
    steps = [
        _(
            "Fill in the sheet “{sheet}”: one row per metric, for one unit and one period. The rows of "
            "one unit and period make one set of figures, which replaces what was recorded for them.",
            sheet=DATA_SHEET,
        ),
        _(
            "The unit: its code in {code} (text, two or three digits: 08, not 8) with a day on which "
            "that code names it in {day}, or its id in {id}. The codes are listed on the sheet “{lists}”.",
            code=label["unit_code"],
            day=label["unit_code_on"],
            id=label["unit_id"],
            lists=LISTS_SHEET,
        ),
        _(
            "A count, or an amount in đồng, goes in {value} as a whole number. A rate goes in "
            "{numerator} and {denominator}, whole numbers; a percentage in {value} is kept, but "
            "cannot be added up with other units' figures.",
            value=label["value"],
            numerator=label["numerator"],
            denominator=label["denominator"],
        ),
        _("Delete the rows of the metrics you do not report: a row without a value refuses the workbook."),
        _(
            "Days are dates, shown as yyyy-mm-dd. Type numbers as numbers, with no thousands "
            "separator; a number with more than 15 digits is typed as text."
        ),
        _(
            "{name} and {measure} are there to be read: they are not read back.",
            name=f"“{READABLE['metric_name'][1]}”",
            measure=f"“{READABLE['unit_of_measure'][1]}”",
        ),
        _(
            "Send the workbook as it is: POST /v1/figures:batch with Content-Type {media} "
            "(?dry_run=true checks it without writing). All or nothing: one bad row refuses the whole "
            "workbook, and each problem names the row as this sheet numbers it.",
            media=XLSX,
        ),
        _(
            "Limits: at most {rows} rows, a file of at most {size} bytes that unpacks to at most "
            "{unpacked} bytes. Only the sheet “{sheet}” is read (or else the first sheet), to its "
            "first {columns} columns.",
            rows=quantity(max_rows),
            size=quantity(max_bytes),
            unpacked=quantity(max_unpacked),
            sheet=DATA_SHEET,
            columns=SHEET_COLUMNS,
        ),
        _(
            "The columns may also be named in ASCII ({names}), so a sheet saved as “CSV UTF-8” can be "
            "sent as well (Content-Type text/csv).",
            names=", ".join(CSV_COLUMNS),
        ),
    ]
    guide.append([_("How to fill in this workbook")])
    guide["A1"].font = Font(bold=True, size=14)
    guide.append([scope])
    guide.append([])
    for i, step in enumerate(steps, start=1):
        guide.append([f"{i}. {step}"])
        guide.cell(row=guide.max_row, column=1).alignment = Alignment(wrap_text=True, vertical="top")
    guide.column_dimensions["A"].width = 120
