"""A batch sent as XLSX: bounded before anything is inflated, then read in openpyxl's read-only mode.

An XLSX file is a zip of XML parts, and a zip can inflate a thousandfold (a "zip bomb"). The
limits, in the order they apply:

1. the body: at most `MAX_BATCH_BYTES`, refused by the request layer before it is read (as a CSV);
2. the zip's central directory, read from its end record before any part is opened: at most
   `MAX_PARTS` parts in a directory of at most `MAX_DIRECTORY_BYTES` (an XLSX has about fifteen);
3. the parts' declared sizes: together at most the cap on inflated bytes (`max_unpacked`, by
   default `MAX_BATCH_BYTES`: a workbook unpacks to no more than a CSV batch may weigh); over it,
   413 before a byte is inflated;
4. inflating: each part read to at most its declared size (Python's zip reader never gives
   more; a part that holds more fails its checksum and the file is refused), the inflated bytes
   counted against the same cap, and kept as a zip of stored parts: openpyxl reads those and
   never inflates anything itself;
5. the XML's elements, counted (the tags that are not end tags) in every part as it is
   inflated: at most `max_elements` (two per value a CSV batch of as many rows may hold: a
   number cell is `<c><v>1</v></c>`), since parsing costs per element, and a sheet of empty
   elements costs far more than its bytes suggest; past it, 413 `too-many-rows`;
6. openpyxl in read-only mode: the sheet's rows streamed from its XML (shared strings and styles
   are held in memory, within the cap), `data_only` (a formula's last computed value), and the
   dimension the sheet declares ignored (a file may declare fewer rows than it holds: every row is
   read, none silently dropped);
7. the rows (`batch.py`): at most `FIGURES_BATCH_MAX_ROWS` rows with a value, at most twice that
   in all (blank ones counted), each read to its first `SHEET_COLUMNS` columns.

The rows are on the sheet named `Số liệu` (the template's), else on the first worksheet; the
header is its row 1, and a row's number is the one the sheet shows."""

import io
import struct
import zipfile
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, datetime
from typing import Any

from openpyxl import load_workbook
from openpyxl.worksheet._read_only import ReadOnlyWorksheet

from app.core.errors import BadRequest
from app.core.i18n import _, quantity
from app.figures.values import EXACT_FLOAT

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
DATA_SHEET = "Số liệu"
"""The template's sheet of rows; a workbook without it is read from its first worksheet."""
MAX_PARTS = 1_000
MAX_DIRECTORY_BYTES = 1_048_576
SHEET_COLUMNS = 64
"""Columns read on each row: far more than the template has, far fewer than a sheet may."""
NUMBER_FIELDS = frozenset({"unit_id", "year", "value", "numerator", "denominator", "expected_version"})

_END_OF_DIRECTORY = b"PK\x05\x06"
_END_RECORD = 22
_LONGEST_COMMENT = 65_535
_OLE = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
"""The first bytes of an older Excel file (.xls), and of a workbook saved with a password."""


class NotAWorkbook(BadRequest):
    status, slug = 400, "malformed-body"


class WorkbookTooLarge(BadRequest):
    status, slug = 413, "payload-too-large"


def _unreadable() -> NotAWorkbook:
    return NotAWorkbook(_("The body is not an XLSX workbook that can be read. Save it again as .xlsx."))


def _too_large(max_unpacked: int) -> WorkbookTooLarge:
    return WorkbookTooLarge(
        _(
            "The workbook unpacks to more than {size} bytes; split the rows into several workbooks.",
            size=quantity(max_unpacked),
        ),
        max_unpacked_bytes=max_unpacked,
    )


def _directory(body: bytes) -> None:
    """Refuse, from the zip's end record alone, a file that is not a zip or whose directory of
    parts is too large to be read."""
    if body.startswith(_OLE):
        raise NotAWorkbook(
            _(
                "This is an older Excel file (.xls) or a workbook protected by a password. Save it "
                "as an Excel Workbook (.xlsx), without a password."
            )
        )
    end = body.rfind(_END_OF_DIRECTORY, max(0, len(body) - _END_RECORD - _LONGEST_COMMENT))
    if end < 0 or len(body) < end + _END_RECORD:
        raise _unreadable()
    parts, size = struct.unpack_from("<HI", body, end + 10)
    if parts > MAX_PARTS or size > MAX_DIRECTORY_BYTES:
        raise WorkbookTooLarge(
            _("A workbook has at most {parts} parts; this one has more.", parts=quantity(MAX_PARTS))
        )


class TooManyElements(Exception):
    """The parts hold more XML elements than the batch's rows may (`max_elements`)."""


def unpacked(body: bytes, max_unpacked: int, *, max_elements: int) -> bytes:
    """The workbook's parts inflated, within `max_unpacked` bytes in all, as a zip of stored
    parts (see the module for the order of the checks); `TooManyElements` past `max_elements`."""
    _directory(body)
    try:
        archive = zipfile.ZipFile(io.BytesIO(body))
        parts = [p for p in archive.infolist() if not p.is_dir()]
    except (zipfile.BadZipFile, ValueError, OSError, EOFError, NotImplementedError):
        raise _unreadable() from None
    names = [p.filename for p in parts]
    if len(parts) > MAX_PARTS or len(set(names)) != len(names):
        raise _unreadable()
    if sum(p.file_size for p in parts) > max_unpacked:
        raise _too_large(max_unpacked)
    inflated = elements = 0
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_STORED) as copy:
        for part in parts:
            if part.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED) or part.flag_bits & 1:
                raise _unreadable()  # another compression, or an encrypted part
            try:
                with archive.open(part) as member:
                    data = member.read(part.file_size + 1)  # never more than declared
            except (zipfile.BadZipFile, zlib.error, EOFError, OSError, ValueError, RuntimeError):
                raise _unreadable() from None
            inflated += len(data)
            if inflated > max_unpacked:
                raise _too_large(max_unpacked)
            elements += data.count(b"<") - data.count(b"</")  # C scans; a comment over-counts
            if elements > max_elements:
                raise TooManyElements()
            copy.writestr(zipfile.ZipInfo(part.filename), data)
    return out.getvalue()


@contextmanager
def sheet_rows(stored: bytes) -> Iterator[Iterator[tuple[Any, ...]]]:
    """The rows of the workbook's sheet of rows (`Số liệu`, else its first worksheet), each as
    its first `SHEET_COLUMNS` cell values, from row 1; the workbook is closed on leaving."""
    try:
        book = load_workbook(io.BytesIO(stored), read_only=True, data_only=True, keep_links=False)
    except Exception:  # a malformed part fails in openpyxl in many ways; all mean "unreadable"
        raise _unreadable() from None
    try:
        sheets = [s for s in book.worksheets if isinstance(s, ReadOnlyWorksheet)]
        if not sheets:
            raise _unreadable()
        sheet = next((s for s in sheets if s.title == DATA_SHEET), sheets[0])
        sheet.reset_dimensions()  # the declared dimension may be wrong: read to the end
        yield _guarded(sheet.iter_rows(max_col=SHEET_COLUMNS, values_only=True))
    finally:
        book.close()


def _guarded(rows: Iterator[tuple[Any, ...]]) -> Iterator[tuple[Any, ...]]:
    """openpyxl's rows, a malformed sheet (bad XML, a cell it cannot convert) refused as such."""
    while True:
        try:
            row = next(rows)
        except StopIteration:
            return
        except Exception:  # as in `sheet_rows`
            raise _unreadable() from None
        yield row


def cell_value(value: Any, field: str) -> Any:
    """A cell as the row's reader takes it, None when it is empty. Text is stripped; a day is
    ISO text (with its time of day when it has one, which the reader refuses with a hint); an
    integral number is an `int`; a number in a column of text, a code or a day is the text a
    CSV would hold (`8`, so a code typed as a number is a `leading-zero`; `45839`, an
    `excel-serial-date`); other numbers stay numbers."""
    if value is None:
        return None
    if isinstance(value, str):
        return value.strip() or None
    if isinstance(value, datetime):
        return value.date().isoformat() if value.time() == datetime.min.time() else value.isoformat(" ")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return value
    if isinstance(value, float) and value.is_integer() and abs(value) < EXACT_FLOAT:
        value = int(value)
    if field in NUMBER_FIELDS:
        return value
    return str(value) if isinstance(value, int) else format(value, ".15g")
