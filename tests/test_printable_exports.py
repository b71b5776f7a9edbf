"""The XLSX exports as Ministry staff print them (issue 22, item 2): each worksheet landscape A4,
one page wide, its title and header rows on every page, "Trang N / M" in the footer; a title
row naming the cluster, the year, the version and the day exported; dates, numbers, codes and
enum values as people read them; no worksheet without rows.

The rendering test prints every XLSX export with LibreOffice (Debian's `libreoffice-calc-nogui`,
which `make libreoffice` installs, as `make test` does) in one `soffice` run, and reads the PDFs
with poppler's `pdfinfo` and `pdftotext`. Without them it is skipped, saying why, except under CI
(`CI=true`), where it fails. The module runs on one xdist worker (its group), so that two
workers never start two LibreOffices at once."""

import io
import os
import shutil
import subprocess
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import pytest
from openpyxl import load_workbook
from openpyxl.worksheet.worksheet import Worksheet

from app.core.exports import Table, number_format, short_digest, xlsx_bytes
from app.core.i18n import _, use_locale
from app.core.time import today
from tests.scoring.helpers import framework, items

pytestmark = pytest.mark.xdist_group("libreoffice")

SHEET = "/v1/clusters/3/years/2025"
STANDINGS = f"{SHEET}/standings"
VI = {"Accept-Language": "vi"}
XLSX = {"Accept": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", **VI}
SOFFICE_SECONDS = 180
"""Bounds the one LibreOffice run (it takes a few seconds, the first start of a profile included)."""

TOOLS = ("soffice", "pdfinfo", "pdftotext")
MISSING = [tool for tool in TOOLS if shutil.which(tool) is None]


def exported_on() -> str:
    return f"{today('Asia/Ho_Chi_Minh'):%d/%m/%Y}"


def rows(sheet: Worksheet) -> list[list[Any]]:
    return [list(r) for r in sheet.iter_rows(values_only=True)]


def assert_set_up_for_printing(sheet: Worksheet, footer: str = "Trang &P / &N") -> None:
    assert sheet.page_setup.orientation == "landscape"
    assert str(sheet.page_setup.paperSize) == sheet.PAPERSIZE_A4
    assert sheet.sheet_properties.pageSetUpPr is not None
    assert sheet.sheet_properties.pageSetUpPr.fitToPage
    assert (sheet.page_setup.fitToWidth, sheet.page_setup.fitToHeight) == (1, 0)
    assert sheet.print_title_rows == "$1:$2"
    assert sheet.freeze_panes == "A3"
    assert sheet.oddFooter is not None
    assert sheet.oddFooter.center.text == footer


async def test_the_year_sheet_as_a_printable_workbook(admin: httpx.AsyncClient, seeded: None) -> None:
    """Cluster 3, 2025: six members (Cao Bằng leads), a conference, reported figures; no
    covenant, pledges, standings, votes, awards or notes, so no worksheet for them."""
    as_json = await admin.get(SHEET, headers=VI)
    response = await admin.get(SHEET, headers=XLSX)
    assert response.status_code == 200, response.text
    day = today("Asia/Ho_Chi_Minh")
    assert response.headers["etag"].endswith(f'-xlsx-{day:%Y%m%d}-vi"')
    book = load_workbook(io.BytesIO(response.content))
    assert book.sheetnames == ["Thành viên", "Hội nghị", "Số liệu báo cáo"]
    for sheet in book.worksheets:
        assert_set_up_for_printing(sheet)

    members = book["Thành viên"]
    version = short_digest(as_json.headers["etag"])
    title = f"Thành viên — Cụm thi đua số 3, năm 2025 — phiên bản {version} — xuất ngày {exported_on()}"
    assert members["A1"].value == title
    assert "A1:I1" in {str(r) for r in members.merged_cells.ranges}
    assert rows(members)[1][:6] == ["STT", "Mã đơn vị", "Đơn vị", "Từ ngày", "Đến ngày", "Vai trò năm 2025"]
    leader = next(r for r in members.iter_rows(min_row=3) if r[2].value == "Cao Bằng")
    assert leader[5].value == "Cụm trưởng"
    assert (leader[1].value, leader[1].data_type, leader[1].number_format) == ("04", "s", "@")
    assert leader[3].value == datetime(2025, 1, 1)
    assert leader[3].number_format == "dd/mm/yyyy"
    assert leader[0].number_format == "#,##0"
    assert len(rows(members)) == 2 + len(as_json.json()["members"]) == 8

    reported = rows(book["Số liệu báo cáo"])
    assert reported[0][0].startswith("Số liệu báo cáo — Cụm thi đua số 3, năm 2025 — ")
    assert reported[1][:6] == ["STT", "Nội dung số liệu", "Loại", "Mức độ", "Giá trị", "Đơn vị tính"]
    with use_locale("vi"):  # the catalog's labels of `value`, `over` and `collectives`
        labels = [_("Count or amount"), _("Over"), _("collectives")]
    assert reported[2][:6] == [1, "tập thể được suy tôn điển hình tiên tiến", *labels[:2], 10, labels[2]]
    assert labels[1:] == ["Trên", "tập thể"]

    # The CSV stays what programs read: no title row, ISO dates, the codes as they are.
    csv = (await admin.get(SHEET, params={"format": "csv"}, headers=VI)).content.decode("utf-8-sig")
    assert csv.splitlines()[0].startswith("STT,Mã đơn vị,Đơn vị,Từ ngày")
    assert "1,04,Cao Bằng,2025-01-01,2025-12-31,Cụm trưởng" in csv

    english = load_workbook(io.BytesIO((await admin.get(SHEET, params={"format": "xlsx"})).content))
    assert english.sheetnames == ["Members", "Conferences", "Reported figures"]
    assert str(english["Members"]["A1"].value).startswith(
        "Members — Emulation cluster 3, year 2025 — version "
    )
    assert rows(english["Reported figures"])[2][2:4] == ["Count or amount", "Over"]
    assert_set_up_for_printing(english["Members"], footer="Page &P / &N")


def test_numbers_grouped_days_as_dates_and_no_worksheet_without_rows() -> None:
    """A number shows as many places as it has; a first table without rows says so, and the
    others without rows have no worksheet."""
    points = Table("Điểm", ["Đơn vị", "Điểm", "Ngày"], [["Cao Bằng", Decimal("96.25"), date(2025, 7, 1)]])
    with use_locale("vi"):
        body = xlsx_bytes(
            [Table("Bảng xếp hạng", ["Hạng", "Đơn vị"]), Table("Ghi chú", ["Ghi chú"]), points],
            "v7",
            date(2026, 1, 2),
        )
    book = load_workbook(io.BytesIO(body))
    assert book.sheetnames == ["Bảng xếp hạng", "Điểm"]
    assert rows(book.worksheets[0]) == [
        ["Bảng xếp hạng — phiên bản v7 — xuất ngày 02/01/2026", None],
        ["Hạng", "Đơn vị"],
        ["Không có dữ liệu", None],
    ]
    _unit, total, day = book["Điểm"][3]
    assert (total.value, total.number_format) == (96.25, "#,##0.##")
    assert (day.value, day.number_format) == (datetime(2025, 7, 1), "dd/mm/yyyy")
    assert [number_format(n) for n in (1234567, Decimal("193"), Decimal("1E+2"), Decimal("0.125"))] == [
        "#,##0",
        "#,##0",
        "#,##0",
        "#,##0.###",
    ]


async def _standings_exports(
    admin: httpx.AsyncClient, members: list[dict[str, Any]]
) -> tuple[bytes, bytes, int]:
    """A framework and two members' scores for cluster 3, 2025; its standings exported, now
    and at their version."""
    body = framework(
        scorers=[
            {"code": "CUM", "name": "Cụm thi đua số 3", "kind": "cluster"},
            {"code": "X01", "name": "Cục Công tác Đảng và công tác chính trị", "kind": "department"},
        ],
        source="Quy chế Cụm 3",
    )
    assert (await admin.put(f"{SHEET}/scoring-framework", json=body)).status_code == 201
    for member, points in zip(members[:2], ((39.5, 57), (36, 50.25)), strict=True):
        for scorer in ("CUM", "X01"):
            url = f"{SHEET}/scores/{scorer}/units/{member['unit']['id']}"
            assert (await admin.put(url, json=items(*points))).status_code == 201
    version = (await admin.get(STANDINGS)).json()["version"]
    current = await admin.get(STANDINGS, headers=XLSX)
    at_version = await admin.get(f"{STANDINGS}/versions/{version}", headers=XLSX)
    assert current.status_code == at_version.status_code == 200, current.text
    return current.content, at_version.content, version


def _render(files: dict[str, bytes], folder: Path) -> dict[str, Path]:
    """Every file to PDF in one LibreOffice run, with a profile of its own (no other soffice
    shares it, and it leaves nothing in the home folder)."""
    for name, body in files.items():
        (folder / f"{name}.xlsx").write_bytes(body)
    command = [
        "soffice",
        f"-env:UserInstallation={(folder / 'profile').as_uri()}",
        "--headless",
        "--norestore",
        "--convert-to",
        "pdf",
        "--outdir",
        str(folder),
        *(str(folder / f"{name}.xlsx") for name in files),
    ]
    done = subprocess.run(command, capture_output=True, text=True, timeout=SOFFICE_SECONDS, check=False)
    pdfs = {name: folder / f"{name}.pdf" for name in files}
    assert done.returncode == 0, done.stdout + done.stderr
    assert all(p.exists() for p in pdfs.values()), done.stdout + done.stderr
    return pdfs


def _pdf_info(pdf: Path) -> dict[str, str]:
    out = subprocess.run(["pdfinfo", str(pdf)], capture_output=True, text=True, check=True).stdout
    return {k.strip(): v.strip() for k, _, v in (line.partition(":") for line in out.splitlines())}


def _page_text(pdf: Path, page: int, *, layout: bool = False) -> str:
    command = ["pdftotext", *(["-layout"] if layout else []), "-f", str(page), "-l", str(page), str(pdf), "-"]
    return subprocess.run(command, capture_output=True, text=True, check=True).stdout


def _words(text: str) -> str:
    return " ".join(text.split())


@pytest.mark.skipif(
    bool(MISSING) and os.environ.get("CI") != "true",
    reason=f"{', '.join(MISSING)} not installed: `make libreoffice` installs Debian's "
    "libreoffice-calc-nogui and poppler-utils",
)
async def test_each_export_prints_one_page_wide_with_its_title_on_page_1(
    admin: httpx.AsyncClient, seeded: None, tmp_path: Path
) -> None:
    assert not MISSING, f"{', '.join(MISSING)} missing under CI: `make test` installs them (make libreoffice)"
    sheet_json = await admin.get(SHEET, headers=VI)
    sheet = (await admin.get(SHEET, headers=XLSX)).content
    standings, at_version, version = await _standings_exports(admin, sheet_json.json()["members"])
    pdfs = _render({"sheet": sheet, "standings": standings, "at_version": at_version}, tmp_path)

    digest = short_digest(sheet_json.headers["etag"])
    subject = "Cụm thi đua số 3, năm 2025"
    expected = {  # pages: one per worksheet (the sheet: members, conferences, reported figures)
        "sheet": (3, f"Thành viên — {subject} — phiên bản {digest}"),
        "standings": (1, f"Bảng xếp hạng — {subject} — phiên bản {version}"),
        "at_version": (1, f"Bảng xếp hạng — {subject} — phiên bản {version}"),
    }
    assert len(load_workbook(io.BytesIO(sheet)).sheetnames) == 3
    for name, (pages, title) in expected.items():
        info = _pdf_info(pdfs[name])
        width, height = (float(n) for n in info["Page size"].split()[0:3:2])
        assert width > height, (name, info["Page size"])  # landscape
        assert int(info["Pages"]) == pages, (name, info["Pages"])  # 20 for the sheet before
        first = _words(_page_text(pdfs[name], 1))
        assert f"{title} — xuất ngày {exported_on()}" in first, (name, first)
        assert f"Trang 1 / {pages}" in first, (name, first)

    # The members on page 1, each row on a line with its unit: the leader beside its role.
    lines = _page_text(pdfs["sheet"], 1, layout=True).splitlines()
    leader = next(line for line in lines if "Cụm trưởng" in line)
    assert _words(leader).startswith("1 04 Cao Bằng 01/01/2025 31/12/2025 Cụm trưởng"), leader
    for member in sheet_json.json()["members"]:
        unit = member["unit"]
        assert any(f"{unit['code']} {unit['name']}" in _words(line) for line in lines), unit
    ranked = _words(
        next(
            line for line in _page_text(pdfs["standings"], 1, layout=True).splitlines() if "Cao Bằng" in line
        )
    )
    assert ranked.startswith("1 04 Cao Bằng 193 Xuất sắc"), ranked
