"""Exports of a representation as CSV or XLSX, chosen by `Accept` or `?format=`.

A resource that can be exported renders itself as `Table`s (a title, headers people read and
rows); `export_response` writes them as CSV (the first table: UTF-8 with a BOM, so that Excel
reads Vietnamese correctly, CRLF lines as RFC 4180 says) or XLSX (one worksheet per table,
openpyxl), with `Content-Disposition: attachment` (an ASCII file name and the UTF-8 one, RFC
6266/5987) and an ETag derived from the JSON representation's. Every answer of an exportable
GET varies with `Accept`.
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
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import Query
from fastapi.responses import Response
from openpyxl import Workbook
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter
from pydantic import BaseModel

from app.core.errors import NotAcceptable
from app.core.etag import without_language
from app.core.i18n import _, current_locale
from app.core.negotiation import Preference, preferences

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


@dataclass(frozen=True, slots=True)
class Table:
    title: str
    headers: Sequence[str]
    rows: Sequence[Sequence[Cell]] = field(default_factory=list)


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


def xlsx_bytes(tables: Sequence[Table]) -> bytes:
    """One worksheet per table: bold headers, the header row frozen, columns sized to fit."""
    workbook = Workbook()
    workbook.remove(workbook.active)  # type: ignore[arg-type]
    for table in tables:
        sheet = workbook.create_sheet(_SHEET_TITLE.sub("-", _ILLEGAL.sub("", table.title))[:31])
        sheet.append([_ILLEGAL.sub("", h) for h in table.headers])
        for cell in sheet[1]:
            cell.font = Font(bold=True)
        for row in table.rows:
            sheet.append([_ILLEGAL.sub("", c) if isinstance(c, str) else c for c in row])
            for cell in sheet[sheet.max_row]:
                if isinstance(cell.value, str):
                    cell.data_type = "s"  # never a formula, whatever the text starts with
        sheet.freeze_panes = "A2"
        for i, header in enumerate(table.headers, start=1):
            width = max([len(header), *(len(_text(r[i - 1])) for r in table.rows)])
            sheet.column_dimensions[get_column_letter(i)].width = min(60, width + 2)
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def representation_etag(representation: BaseModel) -> str:
    """A body hash of the JSON representation, for resources that have no record ETag."""
    digest = hashlib.blake2b(representation.model_dump_json().encode(), digest_size=16).hexdigest()
    return f'"{digest}-{current_locale()}"'


def export_etag(etag: str, fmt: ExportFormat) -> str:
    """The JSON representation's ETag with the format before the language:
    `"standings-5-2024-v3-<digest>-xlsx-vi"`."""
    return f'"{without_language(etag).strip(chr(34))}-{fmt.value}-{current_locale()}"'


def export_response(fmt: ExportFormat, tables: Sequence[Table], filename: str, etag: str) -> Response:
    """The CSV or XLSX answer; `filename` without its extension, `etag` the JSON one's."""
    if fmt is ExportFormat.csv:
        body, media = csv_bytes(tables[0]), "text/csv; charset=utf-8"
    else:
        body, media = xlsx_bytes(tables), XLSX
    return Response(
        body,
        media_type=media,
        headers={
            "Content-Disposition": content_disposition(f"{filename}.{fmt.value}"),
            "ETag": export_etag(etag, fmt),
            "Vary": "Accept",
        },
    )
