"""Exports of the standings and the cluster-year sheet: XLSX read back, CSV parsed, chosen by
`Accept` or `?format=`, with file names, `Vary` and ETags; 406 for what is not served."""

import csv
import io
import re
from typing import Any
from urllib.parse import unquote

import httpx
import pytest
from openpyxl import load_workbook

from app.core.errors import NotAcceptable
from app.core.exports import XLSX, ExportFormat, ascii_name, negotiate
from tests.helpers import problem, unit_id
from tests.scoring.helpers import STANDINGS_URL, items, put_framework, score

VI = {"Accept-Language": "vi"}


@pytest.fixture
async def standings(admin: httpx.AsyncClient, cluster_70: dict[str, int]) -> dict[str, int]:
    """Cao Bằng first (196), Lào Cai second (179), Lai Châu with scores missing."""
    assert (await put_framework(admin)).status_code == 201
    for name, cum, x01 in (
        ("Cao Bằng", items(40, 58, 2), items(39, 57)),
        ("Lào Cai", items(38, 55), items(36, 50)),
    ):
        assert (await score(admin, "CUM", cluster_70[name], cum)).status_code == 201
        assert (await score(admin, "X01", cluster_70[name], x01)).status_code == 201
    return cluster_70


def workbook_rows(body: bytes, sheet: int = 0) -> list[list[Any]]:
    workbook = load_workbook(io.BytesIO(body))
    return [list(row) for row in workbook.worksheets[sheet].iter_rows(values_only=True)]


def csv_rows(response: httpx.Response) -> list[list[str]]:
    assert response.content.startswith("\ufeff".encode())
    return list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))


async def test_standings_as_xlsx_with_vietnamese_headers_and_the_right_rows(
    admin: httpx.AsyncClient, standings: dict[str, int]
) -> None:
    response = await admin.get(STANDINGS_URL, headers={"Accept": XLSX, **VI})
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == XLSX
    assert "Accept" in response.headers["vary"]
    assert "Accept-Language" in response.headers["vary"]
    version = (await admin.get(STANDINGS_URL)).json()["version"]
    disposition = response.headers["content-disposition"]
    assert disposition.startswith("attachment; ")
    assert f'filename="Bang-xep-hang-Cum-70-nam-2024-v{version}.xlsx"' in disposition
    assert (
        unquote(disposition.split("filename*=UTF-8''")[1]) == f"Bảng xếp hạng Cụm 70 năm 2024 v{version}.xlsx"
    )
    rows = workbook_rows(response.content)
    assert str(rows[0][0]).startswith(f"Bảng xếp hạng — Cụm thi đua số 70, năm 2024 — phiên bản {version} — ")
    assert rows[1] == [
        "Hạng",
        "Mã đơn vị",
        "Đơn vị",
        "Tổng điểm",
        "Xếp loại",
        "Điểm: Cụm thi đua số 70",
        "Điểm: Cục Công tác Đảng và công tác chính trị",
        "Thiếu điểm",
    ]
    assert [r[:5] for r in rows[2:4]] == [
        [1, "04", "Cao Bằng", 196, "Xuất sắc"],
        [2, "10", "Lào Cai", 179, "Tốt"],
    ]
    unranked = {r[2]: r for r in rows[4:]}
    assert unranked["Lai Châu"][0] is None
    assert unranked["Lai Châu"][7] == "CUM/A; CUM/B; X01/A; X01/B"
    assert len(rows) == 6
    assert re.search(r'-xlsx-\d{8}-vi"$', response.headers["etag"])  # and the day exported


async def test_standings_as_csv_by_format_overrides_accept(
    admin: httpx.AsyncClient, standings: dict[str, int]
) -> None:
    response = await admin.get(STANDINGS_URL, params={"format": "csv"}, headers={"Accept": XLSX, **VI})
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/csv; charset=utf-8"
    assert response.headers["content-disposition"].split(";")[1].strip().endswith('.csv"')
    rows = csv_rows(response)
    assert rows[0][:5] == ["Hạng", "Mã đơn vị", "Đơn vị", "Tổng điểm", "Xếp loại"]
    assert rows[1][:7] == ["1", "04", "Cao Bằng", "196", "Xuất sắc", "100", "96"]
    json_answer = await admin.get(STANDINGS_URL, params={"format": "json"}, headers={"Accept": "text/csv"})
    assert json_answer.headers["content-type"] == "application/json"
    assert json_answer.headers["vary"].startswith("Accept")


async def test_english_headers_when_asked(admin: httpx.AsyncClient, standings: dict[str, int]) -> None:
    response = await admin.get(STANDINGS_URL, headers={"Accept": "text/csv"})
    assert csv_rows(response)[0][:3] == ["Rank", "Unit code", "Unit"]
    assert response.headers["content-language"] == "en"


async def test_unsupported_accept_is_406_and_format_is_checked(
    admin: httpx.AsyncClient, standings: dict[str, int]
) -> None:
    body = problem(
        await admin.get(STANDINGS_URL, headers={"Accept": "application/xml"}), 406, "not-acceptable"
    )
    assert XLSX in body["available"]
    problem(
        await admin.get("/v1/clusters/70/years/2024", headers={"Accept": "text/html"}), 406, "not-acceptable"
    )
    problem(await admin.get(STANDINGS_URL, params={"format": "pdf"}), 422, "validation")
    assert (await admin.get(STANDINGS_URL, headers={"Accept": "*/*"})).headers[
        "content-type"
    ] == "application/json"


async def test_exports_have_etags_and_304(admin: httpx.AsyncClient, standings: dict[str, int]) -> None:
    first = await admin.get(STANDINGS_URL, headers={"Accept": "text/csv"})
    again = await admin.get(
        STANDINGS_URL, headers={"Accept": "text/csv", "If-None-Match": first.headers["etag"]}
    )
    assert again.status_code == 304
    as_json = await admin.get(STANDINGS_URL)
    assert len({first.headers["etag"], as_json.headers["etag"]}) == 2
    xlsx = await admin.get(STANDINGS_URL, params={"format": "xlsx"})
    assert xlsx.headers["etag"] == (await admin.get(STANDINGS_URL, params={"format": "xlsx"})).headers["etag"]


async def test_a_frozen_version_exports_too(admin: httpx.AsyncClient, standings: dict[str, int]) -> None:
    frozen = (await admin.post(f"{STANDINGS_URL}/freezes")).json()
    version = frozen["standings"]["version"]
    response = await admin.get(f"{STANDINGS_URL}/versions/{version}", params={"format": "xlsx"}, headers=VI)
    assert workbook_rows(response.content)[2][:3] == [1, "04", "Cao Bằng"]


async def test_the_year_sheet_as_xlsx_and_csv(admin: httpx.AsyncClient, seeded: None) -> None:
    response = await admin.get("/v1/clusters/5/years/2024", headers={"Accept": XLSX, **VI})
    assert response.status_code == 200, response.text
    assert 'filename="Cum-5-nam-2024.xlsx"' in response.headers["content-disposition"]
    workbook = load_workbook(io.BytesIO(response.content))
    # No covenant, pledges, reported figures, standings, votes or notes that year: no worksheet.
    assert workbook.sheetnames == ["Thành viên", "Hội nghị", "Khen thưởng"]
    members = workbook_rows(response.content)
    assert members[1][:6] == ["STT", "Mã đơn vị", "Đơn vị", "Từ ngày", "Đến ngày", "Vai trò năm 2024"]
    roles = {r[2]: r[5] for r in members[2:]}
    assert roles == {
        "Hưng Yên": "Cụm trưởng",
        "Thái Bình": "Cụm phó",
        "Nam Định": None,
        "Hà Nam": None,
        "Hải Dương": None,
    }
    as_json = (await admin.get("/v1/clusters/5/years/2024")).json()
    assert len(members) - 2 == len(as_json["members"])

    csv_answer = await admin.get("/v1/clusters/5/years/2024", params={"format": "csv"}, headers=VI)
    rows = csv_rows(csv_answer)
    assert rows[0][2] == "Đơn vị"
    assert {r[2] for r in rows[1:]} == set(roles)
    assert "Accept" in csv_answer.headers["vary"]


def test_negotiation() -> None:
    assert negotiate(None, None) is ExportFormat.json
    assert (
        negotiate("text/csv;q=0.5, application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", None)
        is ExportFormat.xlsx
    )
    assert negotiate("text/*", None) is ExportFormat.csv
    assert negotiate("application/json, text/csv", None) is ExportFormat.json
    assert negotiate("text/csv, */*;q=0.1", None) is ExportFormat.csv
    with pytest.raises(NotAcceptable):
        negotiate("text/csv;q=0, image/png", None)
    assert negotiate("image/png", ExportFormat.csv) is ExportFormat.csv
    assert ascii_name("Bảng xếp hạng Cụm 5 – Đắk Lắk.xlsx") == "Bang-xep-hang-Cum-5-Dak-Lak.xlsx"


async def test_exported_text_stays_text(admin: httpx.AsyncClient) -> None:
    """A note that reads like a formula is not one, in XLSX or CSV; control characters XLSX
    cannot hold are dropped."""
    assert (await admin.post("/v1/clusters", json={"number": 72})).status_code == 201
    unit = await unit_id(admin, "Cao Bằng", "2024-06-01")
    body = {"unit_id": unit, "cluster": 72, "valid_from": "2024-01-01", "note": "=1+1\x1f"}
    assert (await admin.post("/v1/memberships", json=body)).status_code == 201
    xlsx = await admin.get("/v1/clusters/72/years/2024", params={"format": "xlsx"})
    assert xlsx.status_code == 200, xlsx.text
    sheet = load_workbook(io.BytesIO(xlsx.content)).worksheets[0]
    assert sheet.cell(row=3, column=9).value == "=1+1"
    assert sheet.cell(row=3, column=9).data_type == "s"
    rows = csv_rows(await admin.get("/v1/clusters/72/years/2024", params={"format": "csv"}))
    assert rows[1][8] == "'=1+1\x1f"
