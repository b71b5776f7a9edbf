"""Exports of a representation as CSV or XLSX, chosen by `Accept` or `?format=`.

A resource that can be exported renders itself as `Table`s (a title, headers people read, rows,
and the `Heading` its printed pages name); `export_response` writes them as CSV (the first
table: UTF-8 with a BOM, so that Excel reads Vietnamese correctly, CRLF lines as RFC 4180 says;
no title row, so that programs read it as they always did) or XLSX (openpyxl), with
`Content-Disposition: attachment` (an ASCII file name and the UTF-8 one, RFC 6266/5987) and an
ETag derived from the JSON representation's. Every answer of an exportable GET varies with
`Accept`.

The XLSX is a document people print (`xlsx_bytes`): one worksheet per table that has rows (the
first one always, saying "no data" when empty), each with a title row (the table, the cluster
and year, the version, the day exported) above its header row, landscape A4, fit to one page
wide, the title and header rows repeated on every page, "page N / M" in the footer; dates as
`dd/mm/yyyy` date cells, numbers with grouping, text (codes such as `08`) as text cells.
"""

import csv
import hashlib
import io
import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from enum import StrEnum
from math import ceil
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import Query
from fastapi.responses import Response
from openpyxl import Workbook
from openpyxl.cell.cell import Cell as SheetCell
from openpyxl.cell.cell import MergedCell
from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.page import PageMargins
from openpyxl.worksheet.worksheet import Worksheet
from pydantic import BaseModel

from app.core.errors import NotAcceptable
from app.core.etag import identity_etag, without_language
from app.core.i18n import _, current_locale
from app.core.negotiation import Preference, preferences
from app.core.time import today

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
JSON = "application/json"
CSV = "text/csv"


class ExportFormat(StrEnum):
    json = "json"
    csv = "csv"
    xlsx = "xlsx"


MEDIA_TYPES = {ExportFormat.json: JSON, ExportFormat.csv: CSV, ExportFormat.xlsx: XLSX}

FormatQuery = Annotated[
    ExportFormat | None,
    Query(
        alias="format",
        description="`json`, `csv` or `xlsx`; overrides `Accept` (`application/json`, `text/csv`, "
        "the XLSX media type).",
    ),
]

EXPORT_RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {
        "content": {
            CSV: {
                "schema": {"type": "string"},
                "example": "\ufeffHạng,Mã đơn vị,Đơn vị\r\n1,36,Nam Định\r\n",
            },
            XLSX: {"schema": {"type": "string", "format": "binary"}},
        },
        "headers": {
            "Content-Disposition": {
                "description": "CSV and XLSX: `attachment` with the file name (ASCII `filename`, "
                "UTF-8 `filename*`).",
                "schema": {"type": "string"},
            },
            "Vary": {"description": "`Accept, Accept-Language`.", "schema": {"type": "string"}},
        },
    }
}
"""The alternative media types of an exportable GET's 200, for its `responses=`."""

Cell = str | int | Decimal | date | None

DEFAULT_TIMEZONE = "Asia/Ho_Chi_Minh"
"""Where "the day exported" is counted when the caller names no `TIMEZONE`."""


@dataclass(frozen=True, slots=True)
class Heading:
    """What an exported table's title row names besides the table itself: its subject (the
    cluster and the year) and the version of what was exported, as people can quote it (the
    standings' `version`); None: the short digest of the representation's ETag."""

    subject: str
    version: str | None = None


@dataclass(frozen=True, slots=True)
class Table:
    title: str
    headers: Sequence[str]
    rows: Sequence[Sequence[Cell]] = field(default_factory=list)
    heading: Heading | None = None


def _quality(offer: str, ranges: tuple[Preference, ...]) -> float:
    """The q of the most specific range matching `offer` (0: none). A range with a malformed `q`
    is ignored (`app.core.negotiation`)."""
    kind = offer.split("/")[0]
    for candidate in (offer, f"{kind}/*", "*/*"):
        matching = [r.q for r in ranges if r.value == candidate]
        if matching:
            return max(matching)
    return 0.0


def negotiate(accept: str | None, requested: ExportFormat | None) -> ExportFormat:
    """`format` when given; otherwise the best of `Accept` (JSON on a tie or without it); 406
    when `Accept` admits none."""
    if requested is not None:
        return requested
    if not accept or not accept.strip():
        return ExportFormat.json
    ranges = preferences(accept)
    best = max(ExportFormat, key=lambda f: _quality(MEDIA_TYPES[f], ranges))
    if _quality(MEDIA_TYPES[best], ranges) <= 0:
        raise NotAcceptable(
            _("This resource is served as JSON, CSV or XLSX; `Accept` admits none of them."),
            available=list(MEDIA_TYPES.values()),
        )
    return best


def ascii_name(name: str) -> str:
    """`Bảng xếp hạng Cụm 5.xlsx` → `Bang-xep-hang-Cum-5.xlsx`."""
    folded = unicodedata.normalize("NFKD", name.replace("đ", "d").replace("Đ", "D"))
    plain = "".join(c for c in folded if not unicodedata.combining(c))
    return re.sub(r"-+", "-", re.sub(r"[^A-Za-z0-9._-]", "-", plain)).strip("-") or "export"


def content_disposition(filename: str) -> str:
    return f"attachment; filename=\"{ascii_name(filename)}\"; filename*=UTF-8''{quote(filename, safe='')}"


_ILLEGAL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")
"""Control characters XML 1.0 (so XLSX) cannot hold; dropped from exported text."""
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _safe(text: str) -> str:
    """Text as text: a spreadsheet reading `=…`, `+…`, `-…` or `@…` from a CSV would run it as a
    formula, so such text is prefixed with `'` (OWASP's advice for CSV injection)."""
    return "'" + text if text.startswith(_FORMULA_START) else text


def _text(cell: Cell) -> str:
    if cell is None:
        return ""
    if isinstance(cell, Decimal):
        return format(cell, "f")
    if isinstance(cell, date):
        return cell.isoformat()
    return str(cell)


def csv_bytes(table: Table) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(table.headers)
    writer.writerows([_safe(c) if isinstance(c, str) else _text(c) for c in row] for row in table.rows)
    return ("\ufeff" + out.getvalue()).encode()


_SHEET_TITLE = re.compile(r"[\[\]:*?/\\]")

DAY_FORMAT = "dd/mm/yyyy"
INTEGER_FORMAT = "#,##0"
TEXT_FORMAT = "@"
MAX_COLUMN_WIDTH = 40
"""Characters; longer text wraps within its column, so that a note does not make the page
print at half size."""
TITLE_FONT_SIZE = 13
LINE_HEIGHT = 15
"""Points: a line of the default font (Calibri 11)."""
_THIN = Side(style="thin", color="A6A6A6")
_BORDER = Border(left=_THIN, right=_THIN, top=_THIN, bottom=_THIN)
_HEADER_FILL = PatternFill("solid", fgColor="D9D9D9")
_TOP_WRAPPED = Alignment(wrap_text=True, vertical="top")
FONT = "Calibri"
"""Named in every font we set (openpyxl leaves it out otherwise, and LibreOffice then prints
bold text in its default serif); LibreOffice prints it as Carlito, of the same metrics."""


def number_format(value: int | Decimal) -> str:
    """`#,##0` for a whole number; `#,##0.##`, with a `#` for each place a fraction has (so
    `96.5` is not `96.50`, nor `193` `193.`)."""
    if isinstance(value, int) or value == value.to_integral_value():
        return INTEGER_FORMAT
    places = -value.normalize().as_tuple().exponent  # type: ignore[operator]
    return f"{INTEGER_FORMAT}.{'#' * max(1, places)}"


def short_digest(etag: str) -> str:
    """`"standings-5-2024-v3-9f3c0a1b2c3d4e5f-vi"` → `9f3c0a1b`: the version of a representation
    that has no number of its own, as a title row names it (a gzip one's too)."""
    return without_language(identity_etag(etag)).strip('"').rsplit("-", 1)[-1][:8]


def title_text(table: Table, version: str, day: date) -> str:
    """The title row: "Thành viên — Cụm thi đua số 3, năm 2025 — phiên bản 9f3c0a1b — xuất
    ngày 07/12/2026" (the day as the date cells show it, in either language)."""
    parts = [table.title]
    if table.heading is not None:
        parts.append(table.heading.subject)
    parts.append(_("version {version}", version=version))
    parts.append(_("exported on {day}", day=f"{day:%d/%m/%Y}"))
    return " — ".join(parts)


def worksheet_value(cell: Cell) -> Cell:
    """A value a worksheet can hold: XLSX is XML 1.0, which has no place for the C0 control
    characters other than tab and line breaks; they are left out (openpyxl refuses them)."""
    return _ILLEGAL.sub("", cell) if isinstance(cell, str) else cell


def _styled(cell: SheetCell | MergedCell) -> None:
    """A data cell: bordered, wrapped at the top; a date, number or text as such."""
    cell.border, cell.alignment = _BORDER, _TOP_WRAPPED
    value = cell.value
    if isinstance(value, str):
        cell.data_type = "s"  # never a formula, whatever the text starts with
        cell.number_format = TEXT_FORMAT  # a code typed over stays text: `08`, not 8
    elif isinstance(value, date):
        cell.number_format = DAY_FORMAT
    elif isinstance(value, int | Decimal):
        cell.number_format = number_format(value)


def _shown(cell: Cell) -> str:
    """A cell as the XLSX shows it, to size its column: a number with its grouping (a number does
    not wrap: too narrow a column prints `###`), a day as `dd/mm/yyyy`."""
    if isinstance(cell, int | Decimal):
        return format(cell, ",")
    return _text(cell)


def _widths(table: Table) -> list[int]:
    """Each column as wide as its longest text, within `MAX_COLUMN_WIDTH`, and its header's
    longest word (headers wrap, on three lines at most)."""
    widths = []
    for i, header in enumerate(table.headers):
        fits_header = max([*map(len, header.split()), ceil(len(header) / 3)])
        longest = max([4, fits_header, *(len(_shown(r[i])) for r in table.rows)])
        widths.append(min(MAX_COLUMN_WIDTH, longest + 2))
    return widths


def wrapped_lines(text: str, width: float) -> int:
    """The lines `text` takes wrapped in a column `width` characters wide: words kept whole
    where they fit, a longer one broken. A little more than a spreadsheet needs, never less: a
    column's width counts its font's widest digits, and letters are most of them narrower."""
    capacity = max(1, int(width * 1.15) - 2)
    lines = 0
    for paragraph in text.split("\n"):
        count, used = 1, 0
        for word in paragraph.split():
            if used and used + 1 + len(word) > capacity:
                count, used = count + 1, 0
            used += len(word) + (1 if used else 0)
            while used > capacity:
                count, used = count + 1, used - capacity
        lines += count
    return lines


def _fit_height(sheet: Worksheet, row: int, texts: Sequence[str], widths: Sequence[int]) -> None:
    """A row tall enough for its wrapped text: neither LibreOffice nor Excel fits a row's height
    to its text when opening a file, so text taller than a line would be cut."""
    lines = max([1, *(wrapped_lines(t, w) for t, w in zip(texts, widths, strict=True))])
    if lines > 1:
        sheet.row_dimensions[row].height = lines * LINE_HEIGHT + 2


def _page_setup(sheet: Worksheet) -> None:
    """Landscape A4, one page wide (as many high as it takes), the title and header rows on
    every page, "Trang 1 / 3" in the footer."""
    sheet.page_setup.orientation = sheet.ORIENTATION_LANDSCAPE
    sheet.page_setup.paperSize = sheet.PAPERSIZE_A4
    sheet.page_setup.fitToWidth = 1
    sheet.page_setup.fitToHeight = 0
    sheet.sheet_properties.pageSetUpPr.fitToPage = True  # type: ignore[union-attr]
    sheet.page_margins = PageMargins(left=0.4, right=0.4, top=0.5, bottom=0.6, header=0.3, footer=0.3)
    sheet.print_options.horizontalCentered = True
    sheet.print_title_rows = "1:2"
    footer = sheet.oddFooter
    assert footer is not None  # openpyxl gives every worksheet one
    footer.center.text = _("Page &P / &N")


def _worksheet(sheet: Worksheet, table: Table, title: str) -> None:
    """Row 1 the title (merged over the table's width), row 2 the headers, then the rows."""
    widths = _widths(table)
    last = get_column_letter(len(table.headers))
    sheet.append([title])
    if last != "A":
        sheet.merge_cells(f"A1:{last}1")
    sheet["A1"].font = Font(name=FONT, bold=True, size=TITLE_FONT_SIZE)
    sheet["A1"].alignment = Alignment(wrap_text=True, vertical="center")
    title_lines = wrapped_lines(title, sum(widths) * 11 / TITLE_FONT_SIZE / 1.2)  # larger, bold
    sheet.row_dimensions[1].height = title_lines * LINE_HEIGHT * TITLE_FONT_SIZE / 11 + 6
    headers = [_ILLEGAL.sub("", h) for h in table.headers]
    sheet.append(headers)
    for cell in sheet[2]:
        cell.font, cell.fill, cell.border = Font(name=FONT, bold=True), _HEADER_FILL, _BORDER
        cell.alignment = Alignment(wrap_text=True, vertical="center")
    _fit_height(sheet, 2, headers, [w - 1 for w in widths])  # bold
    for row in table.rows:
        sheet.append([worksheet_value(c) for c in row])
        for cell in sheet[sheet.max_row]:
            _styled(cell)
        _fit_height(sheet, sheet.max_row, [_shown(worksheet_value(c)) for c in row], widths)
    if not table.rows:
        sheet.append([_("No data")])
        if last != "A":
            sheet.merge_cells(f"A3:{last}3")
    sheet.freeze_panes = "A3"
    for i, width in enumerate(widths, start=1):
        sheet.column_dimensions[get_column_letter(i)].width = width
    _page_setup(sheet)


def xlsx_bytes(tables: Sequence[Table], version: str, day: date) -> bytes:
    """One worksheet per table that has rows, the first always (its CSV's): a printed page
    without data is a page wasted, and a worksheet that is not there held nothing."""
    workbook = Workbook()
    workbook.remove(workbook.active)  # type: ignore[arg-type]
    for table in [t for i, t in enumerate(tables) if i == 0 or t.rows]:
        sheet = workbook.create_sheet(_SHEET_TITLE.sub("-", _ILLEGAL.sub("", table.title))[:31])
        version_shown = table.heading.version if table.heading and table.heading.version else version
        _worksheet(sheet, table, _ILLEGAL.sub("", title_text(table, version_shown, day)))
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def representation_etag(representation: BaseModel) -> str:
    """A body hash of the JSON representation, for resources that have no record ETag."""
    digest = hashlib.blake2b(representation.model_dump_json().encode(), digest_size=16).hexdigest()
    return f'"{digest}-{current_locale()}"'


def export_etag(etag: str, fmt: ExportFormat, day: date | None = None) -> str:
    """The JSON representation's ETag with the format before the language:
    `"standings-5-2024-v3-<digest>-xlsx-vi"`; an XLSX names the day it was exported (its title
    row does): `"…-xlsx-20261207-vi"`."""
    suffix = fmt.value if day is None else f"{fmt.value}-{day:%Y%m%d}"
    return f'"{without_language(etag).strip(chr(34))}-{suffix}-{current_locale()}"'


def export_variant(fmt: ExportFormat, timezone: str = DEFAULT_TIMEZONE) -> str:
    """What an export's cached answer depends on beyond its URL and headers (`cached(variant=…)`):
    for an XLSX, the day its title names, so that no reader gets a file exported on another day."""
    return today(timezone).isoformat() if fmt is ExportFormat.xlsx else ""


def export_response(
    fmt: ExportFormat,
    tables: Sequence[Table],
    filename: str,
    etag: str,
    *,
    timezone: str = DEFAULT_TIMEZONE,
) -> Response:
    """The CSV or XLSX answer; `filename` without its extension, `etag` the JSON one's (its
    digest is the version an XLSX title names when its `Heading` has none); the day exported is
    today in `timezone` (`TIMEZONE`)."""
    day: date | None = None
    if fmt is ExportFormat.csv:
        body, media = csv_bytes(tables[0]), "text/csv; charset=utf-8"
    else:
        day = today(timezone)
        body, media = xlsx_bytes(tables, short_digest(etag), day), XLSX
    return Response(
        body,
        media_type=media,
        headers={
            "Content-Disposition": content_disposition(f"{filename}.{fmt.value}"),
            "ETag": export_etag(etag, fmt, day),
            "Vary": "Accept",
        },
    )
