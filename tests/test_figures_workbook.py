"""A spreadsheet a statistician can fill in (issue 22, item 3): the figures template as CSV and
XLSX, pre-filled for the caller's unit; the XLSX pushed back under the rules of the CSV, within
limits a zip bomb cannot pass; column labels with diacritics as aliases."""

import csv
import io
import struct
import unicodedata
import zipfile
from datetime import date, datetime
from typing import Any

import httpx
from openpyxl import Workbook, load_workbook

from app.core.config import Settings
from app.core.database import Database
from app.figures.columns import TEMPLATE_HEADER, TEMPLATE_LABELS
from tests.helpers import Keys, UnitKey, bearer, problem, unit_id
from tests.test_figures_batch import CSV, as_csv, catalogue, counts

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
TEMPLATE = "/v1/figures/template.csv"
BATCH = "/v1/figures:batch"
VI = {"Accept-Language": "vi"}


def workbook(content: bytes) -> Any:
    return load_workbook(io.BytesIO(content))


def saved(book: Any) -> bytes:
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def push(client: httpx.AsyncClient, body: bytes, key: dict[str, str], **params: str) -> Any:
    return client.post(BATCH, content=body, params=params, headers={"Content-Type": XLSX, **key})


def column(name: str) -> int:
    """A template column's 1-based position."""
    return TEMPLATE_HEADER.index(name) + 1


async def test_the_workbook_template_is_filled_in_and_pushed_back_all_or_nothing(
    client: httpx.AsyncClient, admin: httpx.AsyncClient, unit_key: UnitKey, database: Database
) -> None:
    hung_yen = await unit_id(admin, "Hưng Yên", "2025-07-01")
    own = bearer(await unit_key(hung_yen))
    metrics = {m["key"]: m for m in await catalogue(admin)}
    got = await client.get(TEMPLATE, params={"year": "2026", "format": "xlsx"}, headers={**own, **VI})
    assert got.status_code == 200, got.text
    assert got.headers["content-type"] == XLSX
    assert "mau-so-lieu-2026-33.xlsx" in got.headers["content-disposition"]
    by_accept = await client.get(TEMPLATE, params={"year": "2026"}, headers={**own, "Accept": XLSX})
    assert by_accept.headers["content-type"] == XLSX

    book = workbook(got.content)
    assert book.sheetnames == ["Số liệu", "Danh mục", "Hướng dẫn"]
    sheet = book["Số liệu"]
    assert [c.value for c in sheet[1]] == TEMPLATE_LABELS
    assert sheet.max_row == 1 + len(metrics)
    first = {TEMPLATE_HEADER[i]: c for i, c in enumerate(sheet[2])}
    assert (first["ma_don_vi"].value, first["ma_don_vi"].number_format, first["ma_don_vi"].data_type) == (
        "33",
        "@",
        "s",
    )
    assert sheet.column_dimensions["B"].number_format == "@", "rows typed in later keep their zero"
    assert first["tu_ngay"].value == datetime(2025, 12, 15)
    assert first["den_ngay"].value == datetime(2026, 12, 14)
    assert first["ngay_hieu_luc"].value == datetime(2025, 12, 15)
    assert first["ten_chi_tieu"].value == metrics[first["chi_tieu"].value]["name_vi"]
    rules = {str(v.sqref).split(":")[0][0]: v for v in sheet.data_validations.dataValidation}
    assert (rules["B"].type, rules["B"].formula1) == ("list", "DS_MA_DON_VI")
    assert (rules["G"].type, rules["G"].formula1) == ("list", "DS_CHI_TIEU")
    assert rules["E"].type == rules["F"].type == rules["C"].type == "date"
    codes = book.defined_names["DS_MA_DON_VI"].attr_text
    assert codes.startswith("'Danh mục'!$A$2:$A$")
    listed = [r[0] for r in book["Danh mục"].iter_rows(min_row=2, values_only=True) if r[0]]
    assert "33" in listed
    assert "34" not in listed, "Thái Bình (34) ceased before the 2026 period"
    assert book["Hướng dẫn"]["A1"].value

    # Filled in as a statistician would: numbers as numbers, one fraction from a formula.
    expected: dict[str, tuple[Any, ...]] = {}
    for row in range(2, sheet.max_row + 1):
        key = sheet.cell(row, column("chi_tieu")).value
        if metrics[key]["kind"] == "rate":
            sheet.cell(row, column("tu_so"), 45.0)
            sheet.cell(row, column("mau_so"), 50)
            expected[key] = (None, 45, 50)
        else:
            sheet.cell(row, column("gia_tri"), row * 10)
            expected[key] = (row * 10, None, None)
    key_at = column("chi_tieu")
    count_row = next(r for r in range(2, sheet.max_row) if expected[sheet.cell(r, key_at).value][0])
    sheet.cell(count_row, column("gia_tri"), 12.5)
    sheet.cell(count_row + 1, column("ma_don_vi"), 8)
    before = await counts(database)
    # (as an admin: for a unit key, a code naming no unit is a unit it may not write for, 403)
    refused = problem(await push(admin, saved(book), {}), 422, "unprocessable")
    assert [(p["row"], p["column"], p["kind"]) for p in refused["rows"]] == [
        (count_row, "Giá trị", "not-whole"),
        (count_row + 1, "Mã đơn vị", "leading-zero"),
    ]
    assert await counts(database) == before, "one bad row: nothing written"

    sheet.cell(count_row, column("gia_tri"), expected[sheet.cell(count_row, key_at).value][0])
    sheet.cell(count_row + 1, column("ma_don_vi"), "33")
    filled = saved(book)
    pushed = await push(client, filled, own)
    assert pushed.status_code == 200, pushed.text
    assert (pushed.json()["rows"], pushed.json()["created"]) == (len(metrics), 1)
    stored = (await admin.get(f"/v1/units/{hung_yen}/figures/2025-12-15..2026-12-14")).json()
    assert {v["metric"]: (v["value"], v["numerator"], v["denominator"]) for v in stored["values"]} == expected
    assert stored["written_by"] is None

    # A sheet declaring fewer rows than it holds is still read to its end (openpyxl's read-only
    # mode trusts the declared dimension otherwise).
    archive = zipfile.ZipFile(io.BytesIO(filled))
    parts = {name: archive.read(name) for name in archive.namelist()}
    sheet_xml = parts["xl/worksheets/sheet1.xml"]
    declared = sheet_xml.split(b'<dimension ref="')[1].split(b'"')[0]
    parts["xl/worksheets/sheet1.xml"] = sheet_xml.replace(declared, b"A1:B2", 1)
    lying = io.BytesIO()
    with zipfile.ZipFile(lying, "w", zipfile.ZIP_DEFLATED) as out:
        for name, data in parts.items():
            out.writestr(name, data)
    checked = await push(client, lying.getvalue(), own, dry_run="true")
    assert checked.status_code == 200, checked.text
    assert checked.json()["rows"] == len(metrics)


async def test_the_csv_template_names_each_metric_and_fills_in_the_callers_unit(
    client: httpx.AsyncClient, admin: httpx.AsyncClient, unit_key: UnitKey, keys: Keys
) -> None:
    hung_yen = await unit_id(admin, "Hưng Yên", "2025-07-01")
    thai_binh = await unit_id(admin, "Thái Bình", "2025-01-01")
    hanoi = await unit_id(admin, "Hà Nội", "2025-07-01")
    own = bearer(await unit_key(hung_yen))

    def table(response: httpx.Response) -> list[dict[str, str]]:
        assert response.status_code == 200, response.text
        lines = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
        assert lines[0] == TEMPLATE_HEADER
        return [dict(zip(TEMPLATE_HEADER, line, strict=True)) for line in lines[1:]]

    rows = table(await client.get(TEMPLATE, params={"year": "2025"}, headers={**own, **VI}))
    crimes = next(r for r in rows if r["chi_tieu"] == "social_order_crimes")
    assert (crimes["ten_chi_tieu"], crimes["don_vi_tinh"]) == ("Tội phạm về trật tự xã hội", "vụ")
    assert {(r["ma_don_vi"], r["ngay_hieu_luc"], r["tu_ngay"], r["den_ngay"]) for r in rows} == {
        ("33", "2025-07-01", "2025-07-01", "2025-12-14")
    }, "Hưng Yên's 2025: from its first day to the period's last"
    english = table(await client.get(TEMPLATE, params={"year": "2025"}, headers=own))
    assert next(r for r in english if r["chi_tieu"] == "social_order_crimes")["don_vi_tinh"] == "cases"

    predecessor = table(
        await client.get(TEMPLATE, params={"year": "2025", "unit": str(thai_binh)}, headers=own)
    )
    assert {(r["ma_don_vi"], r["tu_ngay"], r["den_ngay"]) for r in predecessor} == {
        ("34", "2024-12-15", "2025-06-30")
    }, "Thái Bình's 2025, written by its successor: to its last day"
    for unit in (hanoi, 987_654):
        problem(await client.get(TEMPLATE, params={"unit": str(unit)}, headers=own), 403, "forbidden")
    problem(
        await client.get(TEMPLATE, params={"unit": str(hung_yen)}, headers=bearer(keys.reader)),
        403,
        "forbidden",
    )
    problem(await admin.get(TEMPLATE, params={"unit": "987654"}), 404, "not-found")
    gone = problem(
        await admin.get(TEMPLATE, params={"unit": str(thai_binh), "year": "2026"}), 409, "unit-not-in-period"
    )
    assert [s["id"] for s in gone["successors"]] == [hung_yen]
    blank = table(await admin.get(TEMPLATE, params={"year": "2026"}))
    assert {(r["don_vi_id"], r["ma_don_vi"], r["ngay_hieu_luc"]) for r in blank} == {("", "", "")}

    # The template as it comes back, its columns to read ignored: a valid batch once filled in.
    rates = {m["key"] for m in await catalogue(admin) if m["kind"] == "rate"}
    for r in predecessor:
        r["tu_so" if r["chi_tieu"] in rates else "gia_tri"] = "3"
        r["mau_so"] = "4" if r["chi_tieu"] in rates else ""
    body = as_csv([[r[c] for c in TEMPLATE_HEADER] for r in predecessor], header=TEMPLATE_HEADER)
    checked = await client.post(BATCH, params={"dry_run": "true"}, content=body, headers={**CSV, **own})
    assert checked.status_code == 200, checked.text
    assert [(s["period_start"], s["period_end"]) for s in checked.json()["sets"]] == [
        ("2024-12-15", "2025-06-30")
    ]


async def test_column_labels_with_diacritics_are_aliases(admin: httpx.AsyncClient) -> None:
    hung_yen = await unit_id(admin, "Hưng Yên", "2025-07-01")
    header = ["Đơn vị (id)", "NĂM", " từ   ngày ", "Đến ngày", "chỉ tiêu", "Tên chỉ tiêu", "Giá trị"]
    header[3] = unicodedata.normalize("NFD", header[3])  # as some systems write it
    row = [str(hung_yen), "2025", "2025-07-01", "2025-07-31", "drug_cases", "Ma tuý", "3"]
    checked = await admin.post(
        BATCH, params={"dry_run": "true"}, content=as_csv([row], header=header), headers=CSV
    )
    assert checked.status_code == 200, checked.text
    row[6] = "1.250"
    refused = problem(
        await admin.post(BATCH, content=as_csv([row], header=header), headers=CSV), 422, "unprocessable"
    )
    assert [(p["column"], p["kind"]) for p in refused["rows"]] == [("Giá trị", "thousands-separator")]

    book = Workbook()
    sheet: Any = book.active
    sheet.append(["Mã đơn vị", "Ngày hiệu lực", "Năm", "Từ ngày", "Đến ngày", "Chỉ tiêu", "Giá trị"])
    sheet.append(["33", date(2025, 7, 1), 2025, date(2025, 7, 1), "2025-07-31", "drug_cases", 3])
    sheet.append([])
    sheet.append(["33", date(2025, 7, 1), 2025, datetime(2025, 8, 1, 9, 30), "45900", "drug_cases", 3])
    answer = problem(await push(admin, saved(book), {}), 422, "unprocessable")
    assert [(p["row"], p["column"], p["kind"]) for p in answer["rows"]] == [
        (4, "Từ ngày", "date-format"),
        (4, "Đến ngày", "excel-serial-date"),
    ], "row numbers as the sheet shows them, the blank row 3 counted"


def bomb(size: int, fill: bytes = b"\0") -> bytes:
    """A workbook-shaped zip whose sheet inflates to `size` times `fill`."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("xl/worksheets/sheet1.xml", fill * size)
    return out.getvalue()


def declaring(body: bytes, name: bytes, size: int) -> bytes:
    """`body` with the part `name` declaring `size` bytes unpacked, in its local header and in
    the central directory."""
    data = bytearray(body)
    for signature, offset in ((b"PK\x03\x04", 22), (b"PK\x01\x02", 24)):
        at = data.find(signature)
        while at >= 0:
            name_at = at + (30 if signature == b"PK\x03\x04" else 46)
            if data[name_at : name_at + len(name)] == name:
                struct.pack_into("<I", data, at + offset, size)
            at = data.find(signature, at + 4)
    return bytes(data)


async def test_a_zip_bomb_is_refused_before_it_is_inflated(
    admin: httpx.AsyncClient, settings: Settings, database: Database
) -> None:
    cap = settings.max_batch_bytes
    before = await counts(database)
    small = bomb(1_000)
    declared_huge = declaring(small, b"xl/worksheets/sheet1.xml", 0x7FFF_FFFF)
    answer = problem(await push(admin, declared_huge, {}), 413, "payload-too-large")
    assert answer["max_unpacked_bytes"] == cap
    honest = bomb(cap + 1)
    assert len(honest) < settings.max_request_bytes, "a bomb: small packed"
    assert problem(await push(admin, honest, {}), 413, "payload-too-large")["max_unpacked_bytes"] == cap
    elements = 2 * (settings.figures_batch_max_rows + 1) * 32  # two per value a CSV batch may hold
    assert problem(await push(admin, bomb(elements, b"<c/>"), {}), 413, "too-many-rows")["max_rows"]
    lying_small = declaring(small, b"xl/worksheets/sheet1.xml", 10)
    problem(await push(admin, lying_small, {}), 400, "malformed-body")
    for junk in (b"PK\x05\x06" + b"\0" * 18, b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 100, b"plain"):
        problem(await push(admin, junk, {}), 400, "malformed-body")
    assert await counts(database) == before


async def test_the_row_cap_holds_for_a_workbook(admin: httpx.AsyncClient, settings: Settings) -> None:
    cap = settings.figures_batch_max_rows
    book = Workbook(write_only=True)
    sheet = book.create_sheet("Số liệu")
    sheet.append(["don_vi_id", "nam", "tu_ngay", "den_ngay", "chi_tieu", "gia_tri"])
    for _ in range(cap + 1):
        sheet.append(["x"])
    assert problem(await push(admin, saved(book), {}), 413, "too-many-rows")["max_rows"] == cap
    sparse = Workbook()
    only: Any = sparse.active
    only.append(["don_vi_id", "nam", "tu_ngay", "den_ngay", "chi_tieu", "gia_tri"])
    only.cell(3 * cap, 1, "x")  # one row, far below: blank rows count too
    problem(await push(admin, saved(sparse), {}), 413, "too-many-rows")


async def test_a_name_with_a_control_character_still_exports(admin: httpx.AsyncClient) -> None:
    """Text may hold C0 control characters (only NUL is refused), which XLSX (XML 1.0) cannot: the
    workbook template leaves them out, as every export does, and answers; it was a 500 (found by
    the contract test's fuzzing, a metric named with `\\x1b`)."""
    created = await admin.post(
        "/v1/metrics",
        json={
            "key": "escaped_name_count",
            "name_vi": "Số vụ\x1b thử",
            "name_en": "Escaped\x07 count",
            "unit_of_measure": "cases",
            "kind": "count",
        },
    )
    assert created.status_code == 201, created.text
    response = await admin.get("/v1/figures/template.csv", params={"year": "2100", "format": "xlsx"})
    assert response.status_code == 200, response.text
    book = load_workbook(io.BytesIO(response.content), read_only=True)
    shown = {
        str(cell) for sheet in book.worksheets for row in sheet.iter_rows(values_only=True) for cell in row
    }
    assert {"Số vụ thử", "Escaped count"} & shown, shown  # the name in the request's language
    assert not any("\x1b" in text or "\x07" in text for text in shown)
