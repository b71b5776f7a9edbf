"""Figures that cannot be misread or exhaust the server (issue 18, items 1 to 3): a strict number
grammar, spreadsheet habits refused with a hint, a bounded report, exact numbers through JSON."""

import json
import re
from decimal import Decimal
from typing import Any

import httpx

from app.core.database import Database
from tests.helpers import UnitKey, bearer, problem, unit_id
from tests.test_figures_batch import CSV, as_csv, counts

VI = {"Accept-Language": "vi"}
HEADER = ["don_vi_id", "nam", "tu_ngay", "den_ngay", "chi_tieu", "gia_tri", "tu_so", "mau_so"]


def row(unit: int, metric: str = "drug_cases", value: str = "3", *, start: str = "2025-07-01") -> list[str]:
    return [str(unit), "2025", start, "2025-07-31", metric, value, "", ""]


async def hung_yen(admin: httpx.AsyncClient) -> int:
    return await unit_id(admin, "Hưng Yên", "2025-07-01")


async def pushed_csv(admin: httpx.AsyncClient, body: bytes) -> httpx.Response:
    return await admin.post("/v1/figures:batch", content=body, headers={**CSV, **VI})


async def refused(admin: httpx.AsyncClient, body: bytes) -> Any:
    """A CSV batch refused as unprocessable (422 `unprocessable`)."""
    return problem(await pushed_csv(admin, body), 422, "unprocessable")


# --- 1. No request can exhaust the server ---------------------------------------------------


async def test_a_million_lines_from_a_unit_key_are_refused_before_any_row_is_read(
    client: httpx.AsyncClient, admin: httpx.AsyncClient, unit_key: UnitKey, database: Database
) -> None:
    own = bearer(await unit_key(await hung_yen(admin)))
    body = ",".join(HEADER).encode() + b"\n" + b"x\n" * 1_000_000
    before = await counts(database)
    response = await client.post("/v1/figures:batch", content=body, headers={**own, **CSV, **VI})
    answer = problem(response, 413, "too-many-rows")
    assert answer["max_rows"] == 10_000
    assert len(response.content) < 64 * 1024
    assert "10000" in answer["detail"] or "10.000" in answer["detail"]
    assert await counts(database) == before


async def test_a_reader_key_is_refused_before_the_body_is_read(client: httpx.AsyncClient, keys: Any) -> None:
    body = b"x\n" * 1_000_000
    response = await client.post("/v1/figures:batch", content=body, headers={**bearer(keys.reader), **CSV})
    problem(response, 403, "forbidden")


async def test_a_json_body_of_countless_values_is_refused_before_it_is_parsed(
    admin: httpx.AsyncClient,
) -> None:
    body = b'{"rows":[' + b",".join([b"{}"] * 2_000_000) + b"]}"
    response = await admin.post(
        "/v1/figures:batch", content=body, headers={"Content-Type": "application/json"}
    )
    problem(response, 413, "too-many-rows")
    one_line = b'{"rows":[{' + b",".join(b'"k%d":0' % i for i in range(400_000)) + b"}]}"
    problem(
        await admin.post("/v1/figures:batch", content=one_line, headers={"Content-Type": "application/json"}),
        413,
        "too-many-rows",
    )


async def test_rights_are_checked_before_the_rows(
    client: httpx.AsyncClient, admin: httpx.AsyncClient, unit_key: UnitKey
) -> None:
    """A unit key naming another unit gets 403 even when every row is also malformed."""
    own = bearer(await unit_key(await hung_yen(admin)))
    hanoi = await unit_id(admin, "Hà Nội", "2025-07-01")
    rows = [[str(hanoi), "x", "01/07/2025", "", "?", "1.250", "", ""]] * 50
    answer = problem(
        await client.post("/v1/figures:batch", content=as_csv(rows), headers={**own, **CSV}), 403, "forbidden"
    )
    assert answer["forbidden_rows"] == list(range(2, 52))
    assert answer["forbidden_row_count"] == 50


async def test_the_worst_batch_the_limits_allow_gets_a_small_report(admin: httpx.AsyncClient) -> None:
    """Ten thousand rows, every value wrong: the first problems in full, the rest counted."""
    bad = ["-1", "x", "2025/13/45", "y", "NOT A KEY", "z", "", ""]
    response = await admin.post("/v1/figures:batch", content=as_csv([bad] * 10_000), headers={**CSV, **VI})
    answer = problem(response, 422, "unprocessable")
    assert len(response.content) < 64 * 1024
    assert len(answer["rows"]) == 100
    listed = len(answer["rows"])
    counted = sum(m["count"] for m in answer["more_problems"])
    assert answer["problem_count"] == listed + counted
    assert answer["problem_count"] >= 5 * 10_000
    more = {(m["column"], m["kind"]): m for m in answer["more_problems"]}
    assert more[("nam", "not-a-number")]["count"] == 10_000 - sum(
        1 for r in answer["rows"] if (r["column"], r["kind"]) == ("nam", "not-a-number")
    )
    assert re.fullmatch(r"và [0-9.]+ lỗi như vậy nữa", more[("nam", "not-a-number")]["problem"])


async def test_too_many_rows_is_a_setting(admin: httpx.AsyncClient) -> None:
    unit = await hung_yen(admin)
    rows = [row(unit, value=str(i), start=f"2025-07-{1 + i % 28:02d}") for i in range(10_001)]
    answer = problem(await pushed_csv(admin, as_csv(rows)), 413, "too-many-rows")
    assert answer["max_rows"] == 10_000


# --- 2. Figures are never misread -----------------------------------------------------------


async def test_an_unterminated_quote_is_a_422_naming_its_line(
    admin: httpx.AsyncClient, database: Database
) -> None:
    unit = await hung_yen(admin)
    lines = [",".join([*HEADER, "ghi_chu"])]
    lines += [
        ",".join([*row(unit, "drug_cases", str(i), start=f"2025-07-{i:02d}"), "ok"]) for i in range(1, 4)
    ]
    lines.append(",".join([*row(unit, "drug_cases", "7", start="2025-07-04"), '"ghi chú chưa đóng ngoặc']))
    lines += [
        ",".join([*row(unit, "drug_cases", str(i), start=f"2025-07-{i:02d}"), "ok"]) for i in range(5, 27)
    ]
    before = await counts(database)
    answer = await refused(admin, "\n".join(lines).encode())
    assert answer["rows"] == [
        {"row": 5, "column": None, "kind": "unterminated-quote", "problem": answer["rows"][0]["problem"]}
    ]
    assert "ngoặc kép" in answer["rows"][0]["problem"]
    assert await counts(database) == before


async def test_a_dot_before_three_digits_in_a_whole_number_is_a_thousands_separator(
    admin: httpx.AsyncClient,
) -> None:
    unit = await hung_yen(admin)
    rows = [
        row(unit, "housing_support_vnd", "1.250"),
        row(unit, "drug_cases", "1.932"),
        [str(unit), "2025", "2025-07-01", "2025-07-31", "crime_reports_handled_rate", "", "1.804", "1.932"],
    ]
    answer = await refused(admin, as_csv(rows))
    found = {(r["row"], r["column"]): r for r in answer["rows"]}
    assert found[(2, "gia_tri")]["kind"] == "thousands-separator"
    assert found[(2, "gia_tri")]["problem"] == (
        'cột gia_tri: "1.250" có vẻ là số có dấu phân cách hàng nghìn (đây là số nguyên); hãy ghi 1250'
    )
    assert found[(2, "gia_tri")]["repeated"] == 2  # row 3's `1.932` in a count: the same habit, said once
    assert found[(4, "tu_so")]["kind"] == found[(4, "mau_so")]["kind"] == "thousands-separator"
    assert "1804" in found[(4, "tu_so")]["problem"]


async def test_a_rate_given_as_a_percentage_keeps_its_decimals(admin: httpx.AsyncClient) -> None:
    unit = await hung_yen(admin)
    rows = [row(unit, "crime_reports_handled_rate", "93.375")]
    pushed = await admin.post("/v1/figures:batch", content=as_csv(rows), headers=CSV)
    assert pushed.status_code == 200, pushed.text
    stored = await admin.get(f"/v1/units/{unit}/figures/2025-07-01..2025-07-31")
    assert '"value":93.375' in stored.text


async def test_the_number_grammar_is_strict(admin: httpx.AsyncClient) -> None:
    unit = await hung_yen(admin)
    cases = {
        "1_000": ("digit-separator", "1000"),
        "０７": ("non-ascii-digits", "07"),
        "1E+5": ("exponent", "100000"),
        "1 250": ("thousands-separator", "1250"),
        "12,5": ("decimal-comma", None),
        "-3": ("negative", None),
        "1.250.000": ("thousands-separator", "1250000"),
        "3 vụ": ("not-a-number", None),
    }
    for value, (kind, suggestion) in cases.items():
        answer = await refused(admin, as_csv([row(unit, "drug_cases", value)]))
        [found] = answer["rows"]
        assert (found["row"], found["column"], found["kind"]) == (2, "gia_tri", kind), (value, found)
        assert value in found["problem"]
        if suggestion:
            assert found["problem"].endswith(suggestion), found


async def test_spreadsheet_habits_are_named_once_per_column_with_a_hint(admin: httpx.AsyncClient) -> None:
    header = ["ma_don_vi", "ngay_hieu_luc", "nam", "tu_ngay", "den_ngay", "chi_tieu", "gia_tri"]
    rows = [["8", "2025-07-01", "2025", "01/07/2025", "31/07/2025", "drug_cases", str(i)] for i in range(30)]
    answer = await refused(admin, as_csv(rows, header=header))
    assert answer["problem_count"] == 90
    assert [(r["row"], r["column"], r["kind"], r.get("repeated")) for r in answer["rows"]] == [
        (2, "den_ngay", "date-format", 30),
        (2, "ma_don_vi", "leading-zero", 30),
        (2, "tu_ngay", "date-format", 30),
    ]
    said = {r["column"]: r["problem"] for r in answer["rows"]}
    assert said["tu_ngay"] == 'cột tu_ngay: "01/07/2025" — hãy ghi 2025-07-01'
    assert said["ma_don_vi"] == 'cột ma_don_vi: "8" — hãy ghi 08'


async def test_semicolons_and_excel_dates_are_recognised(admin: httpx.AsyncClient) -> None:
    semicolons = ";".join(HEADER).encode() + b"\n1;2025;2025-07-01;2025-07-31;drug_cases;3;;\n"
    answer = await refused(admin, semicolons)
    assert [(r["row"], r["kind"]) for r in answer["rows"]] == [(1, "semicolon-separated")]
    assert "dấu chấm phẩy" in answer["rows"][0]["problem"]
    unit = await hung_yen(admin)
    serial = await refused(
        admin, as_csv([[str(unit), "2025", "45839", "2025-07-31", "drug_cases", "3", "", ""]])
    )
    assert serial["rows"][0]["kind"] == "excel-serial-date"
    assert serial["rows"][0]["problem"].endswith("2025-07-01")


async def test_a_vietnamese_answer_names_columns_never_fields_patterns_or_english(
    admin: httpx.AsyncClient,
) -> None:
    header = ["ma_don_vi", "nam", "tu_ngay", "den_ngay", "chi_tieu", "gia_tri", "tu_so"]
    rows = [
        ["8", "20x5", "2025-7-1", "2025-02-30", "Drug Cases", "1,5", "3"],
        ["34", "2025", "2025-07-01", "2025-07-31", "drug_cases", "", ""],
        ["", "", "", "", "", "", "", "extra"],
    ]
    answer = await refused(admin, as_csv(rows, header=header))
    text = " ".join([answer["detail"], *(r["problem"] for r in answer["rows"])])
    for field in ("unit_code", "period_start", "period_end", "numerator", "`value`", "metric", "year"):
        assert field not in text, field
    assert not re.search(r"\^|\$|\[a-z|\\d|\{0,", text), text
    for english in ("must", "Field", "required", "Input should", "is not", "write ", "column "):
        assert english not in text, (english, text)


# --- 3. Exact numbers in JSON ---------------------------------------------------------------

EXACT = "12345678901234567.89"


async def test_an_exact_number_reads_back_with_the_same_digits(admin: httpx.AsyncClient) -> None:
    unit = await hung_yen(admin)
    body = (
        '{"year": 2025, "values": [{"metric": "crime_reports_handled_rate", "value": ' + EXACT + "}, "
        '{"metric": "housing_support_vnd", "value": 999999999999999999}]}'
    )
    path = f"/v1/units/{unit}/figures/2025-07-01..2025-07-31"
    put = await admin.put(path, content=body, headers={"Content-Type": "application/json"})
    assert put.status_code in (200, 201), put.text
    for answer in (put, await admin.get(path), await admin.get(f"{path}/revisions")):
        assert f'"value":{EXACT}' in answer.text.replace(" ", ""), answer.text
        assert "999999999999999999" in answer.text
    listed = await admin.get(
        "/v1/figures", params={"unit": unit, "year": 2025, "metric": "crime_reports_handled_rate"}
    )
    assert f'"value":{EXACT}' in listed.text, listed.text
    values = json.loads(listed.text, parse_float=Decimal)["items"]
    assert values[0]["value"] == Decimal(EXACT)


async def test_an_exact_number_from_csv_and_json_batches(admin: httpx.AsyncClient) -> None:
    unit = await hung_yen(admin)
    pushed = await admin.post(
        "/v1/figures:batch",
        content=as_csv([row(unit, "crime_reports_handled_rate", EXACT)]),
        headers=CSV,
    )
    assert pushed.status_code == 200, pushed.text
    stored = await admin.get(f"/v1/units/{unit}/figures/2025-07-01..2025-07-31")
    assert f'"value":{EXACT}' in stored.text
    as_json = (
        f'{{"rows": [{{"unit_id": {unit}, "year": 2025, "period_start": "2025-08-01", '
        f'"period_end": "2025-08-31", "metric": "crime_reports_handled_rate", "value": {EXACT}}}]}}'
    )
    pushed = await admin.post(
        "/v1/figures:batch", content=as_json, headers={"Content-Type": "application/json"}
    )
    assert pushed.status_code == 200, pushed.text
    stored = await admin.get(f"/v1/units/{unit}/figures/2025-08-01..2025-08-31")
    assert f'"value":{EXACT}' in stored.text


async def test_a_number_sent_as_text_is_refused(admin: httpx.AsyncClient) -> None:
    unit = await hung_yen(admin)
    path = f"/v1/units/{unit}/figures/2025-07-01..2025-07-31"
    body = {"year": 2025, "values": [{"metric": "drug_cases", "value": "412"}]}
    problem(await admin.put(path, json=body), 422, "validation")


def _schemas_with_number_or_string(node: Any, path: str = "") -> list[str]:
    found: list[str] = []
    if isinstance(node, dict):
        variants = node.get("anyOf") or node.get("oneOf") or []
        types = {v.get("type") for v in variants if isinstance(v, dict)}
        if {"number", "string"} <= types or {"integer", "string"} <= types:
            found.append(path)
        for key, value in node.items():
            found += _schemas_with_number_or_string(value, f"{path}/{key}")
    elif isinstance(node, list):
        for i, value in enumerate(node):
            found += _schemas_with_number_or_string(value, f"{path}/{i}")
    return found


def _request_schemas(document: dict[str, Any]) -> list[Any]:
    """Every schema a request can carry: bodies and parameters, with the components they use."""
    roots: list[Any] = []
    for operations in document["paths"].values():
        for operation in operations.values():
            if not isinstance(operation, dict):
                continue
            roots += [p.get("schema") for p in operation.get("parameters", [])]
            roots += [c.get("schema") for c in operation.get("requestBody", {}).get("content", {}).values()]
    seen: set[str] = set()
    stack, found = list(roots), []
    while stack:
        node = stack.pop()
        if isinstance(node, dict):
            ref = node.get("$ref")
            if isinstance(ref, str) and ref not in seen:
                seen.add(ref)
                target = document["components"]["schemas"][ref.rsplit("/", 1)[1]]
                found.append(target)
                stack.append(target)
            stack += list(node.values())
        elif isinstance(node, list):
            stack += node
    return roots + found


async def test_no_input_is_a_number_or_a_string(client: httpx.AsyncClient) -> None:
    """Generated Kotlin, Swift and Dart clients turn `anyOf [number, string]` into an empty class,
    and then cannot send a figure at all."""
    document = (await client.get("/openapi.json")).json()
    schemas = _request_schemas(document)
    assert any("FigureBatch" in json.dumps(s) or s.get("title") == "FigureSetPut" for s in schemas if s)
    assert [p for s in schemas for p in _schemas_with_number_or_string(s)] == []


async def test_a_put_names_a_thousands_separator_in_a_count(admin: httpx.AsyncClient) -> None:
    unit = await hung_yen(admin)
    path = f"/v1/units/{unit}/figures/2025-07-01..2025-07-31"
    body = '{"year": 2025, "values": [{"metric": "drug_cases", "value": 1.250}]}'
    put = await admin.put(path, content=body, headers={"Content-Type": "application/json", **VI})
    answer = problem(put, 422, "unprocessable")
    assert answer["detail"] == (
        'trường value: "1.250" có vẻ là số có dấu phân cách hàng nghìn (đây là số nguyên); hãy ghi 1250'
    )


REPORTED = (3, 2022)


async def test_thresholds_and_reported_values_read_back_as_written(
    admin: httpx.AsyncClient, seeded: None
) -> None:
    """`-5`, not `-5.0`; `1800`, not `1800.0`: whole numbers as integers, in every answer."""
    answers = [
        await admin.get("/v1/clusters/4/years/2024/covenant"),
        await admin.get("/v1/clusters/4/years/2024/covenant/revisions"),
        await admin.get(f"/v1/clusters/{REPORTED[0]}/years/{REPORTED[1]}/reported-figures"),
    ]
    for answer in answers:
        assert answer.status_code == 200, answer.text
        assert not re.search(r"[:\[,]-?[0-9]+\.0[,}\]]", answer.text), answer.text[:2000]


# --- From the outside probe -----------------------------------------------------------------


async def test_five_thousand_written_the_vietnamese_way_is_never_five(
    admin: httpx.AsyncClient, database: Database
) -> None:
    """`5.000` is five thousand in a Vietnamese sheet: in a whole number it is refused, never 5."""
    unit = await hung_yen(admin)
    before = await counts(database)
    rows = [
        row(unit, "drug_cases", "5.000"),
        row(unit, "housing_support_vnd", "2.000"),
        row(unit, "social_order_crimes", "5.0"),
    ]
    answer = await refused(admin, as_csv(rows))
    found = {r["row"]: r for r in answer["rows"]}
    assert found[2]["kind"] == "thousands-separator"
    assert found[2]["problem"].endswith("hãy ghi 5000")
    assert found[2]["repeated"] == 2
    assert found[4]["kind"] == "decimal-point"
    assert found[4]["problem"].endswith("5")
    path = f"/v1/units/{unit}/figures/2025-07-01..2025-07-31"
    for written in ("5.000", "5.0", "1E+2"):
        body = '{"year": 2025, "values": [{"metric": "drug_cases", "value": %s}]}' % written  # noqa: UP031
        put = await admin.put(path, content=body, headers={"Content-Type": "application/json"})
        problem(put, 422, "unprocessable")
    as_json = (
        f'{{"rows": [{{"unit_id": {unit}.0, "year": 2025, "period_start": "2025-07-01", '
        '"period_end": "2025-07-31", "metric": "drug_cases", "value": 3}]}'
    )
    pushed = await admin.post(
        "/v1/figures:batch", content=as_json, headers={"Content-Type": "application/json"}
    )
    assert problem(pushed, 422, "unprocessable")["rows"][0]["kind"] == "decimal-point"
    assert await counts(database) == before


async def test_a_member_named_twice_is_refused(admin: httpx.AsyncClient, database: Database) -> None:
    unit = await hung_yen(admin)
    before = await counts(database)
    twice = (
        f'{{"rows": [{{"unit_id": {unit}, "unit_id": 1, "year": 2025, "period_start": "2025-07-01", '
        '"period_end": "2025-07-31", "metric": "drug_cases", "value": 3}]}'
    )
    pushed = await admin.post(
        "/v1/figures:batch", content=twice, headers={"Content-Type": "application/json", **VI}
    )
    assert "unit_id" in problem(pushed, 400, "malformed-body")["detail"]
    path = f"/v1/units/{unit}/figures/2025-07-01..2025-07-31"
    body = '{"year": 2025, "values": [{"metric": "drug_cases", "value": 5, "value": 9}]}'
    put = await admin.put(path, content=body, headers={"Content-Type": "application/json", **VI})
    answer = problem(put, 400, "malformed-body")
    assert answer["detail"] == "Nội dung yêu cầu không phải JSON hợp lệ: trường value được ghi hai lần."
    assert await counts(database) == before


async def test_a_repeated_query_parameter_is_refused(admin: httpx.AsyncClient, database: Database) -> None:
    """`?dry_run=true&dry_run=false` wrote for real: a parameter given twice is refused."""
    unit = await hung_yen(admin)
    before = await counts(database)
    response = await admin.post(
        "/v1/figures:batch?dry_run=true&dry_run=false", content=as_csv([row(unit)]), headers=CSV
    )
    assert problem(response, 400, "repeated-parameter")["parameters"] == ["dry_run"]
    assert await counts(database) == before


async def test_an_unchanged_first_version_is_200_not_201(admin: httpx.AsyncClient) -> None:
    unit = await hung_yen(admin)
    path = f"/v1/units/{unit}/figures/2025-07-01..2025-07-31"
    body = {"year": 2025, "values": [{"metric": "drug_cases", "value": 5}]}
    created = await admin.put(path, json=body)
    assert created.status_code == 201, created.text
    again = await admin.put(path, json=body, headers={"If-Match": created.headers["ETag"]})
    assert again.status_code == 200, again.text
    assert again.json()["version"] == 1
    assert again.headers["ETag"] == created.headers["ETag"]


async def test_a_number_past_thirty_decimals_is_refused_by_a_dry_run_too(admin: httpx.AsyncClient) -> None:
    unit = await hung_yen(admin)
    as_json = (
        f'{{"rows": [{{"unit_id": {unit}, "year": 2025, "period_start": "2025-07-01", '
        '"period_end": "2025-07-31", "metric": "crime_reports_handled_rate", "value": 1e-999999}]}'
    )
    for dry_run in ("true", "false"):
        pushed = await admin.post(
            f"/v1/figures:batch?dry_run={dry_run}",
            content=as_json,
            headers={"Content-Type": "application/json"},
        )
        assert problem(pushed, 422, "unprocessable")["rows"][0]["kind"] == "too-precise"


async def test_undecodable_json_and_a_bad_path_say_no_english_nor_pattern(admin: httpx.AsyncClient) -> None:
    broken = await admin.post(
        "/v1/figures:batch", content=b'{"rows":[', headers={"Content-Type": "application/json", **VI}
    )
    detail = problem(broken, 400, "malformed-body")["detail"]
    assert "Expecting" not in detail
    assert detail.startswith("Nội dung yêu cầu không phải JSON hợp lệ")
    unit = await hung_yen(admin)
    bad_path = await admin.get(f"/v1/units/{unit}/figures/2025-7-1..2025-06-30", headers=VI)
    answer = problem(bad_path, 422, "validation")
    assert not re.search(r"\^|\\d|\$", json.dumps(answer, ensure_ascii=False)), answer


async def test_a_tiny_decimal_reads_back_with_its_digits_not_an_exponent(admin: httpx.AsyncClient) -> None:
    unit = await hung_yen(admin)
    path = f"/v1/units/{unit}/figures/2025-07-01..2025-07-31"
    tiny = "0.000000000000000000001"
    body = '{"year": 2025, "values": [{"metric": "crime_reports_handled_rate", "value": %s}]}' % tiny  # noqa: UP031
    put = await admin.put(path, content=body, headers={"Content-Type": "application/json"})
    assert put.status_code == 201, put.text
    assert f'"value":{tiny}' in (await admin.get(path)).text


async def test_well_written_numbers_with_too_many_digits_are_out_of_range_or_too_precise(
    admin: httpx.AsyncClient, database: Database
) -> None:
    """Digits and a dot as the grammar writes them, only too many: the problem says which limit
    (`out-of-range` past 10^18, `too-precise` past 30 decimal places), never "not a number"; and
    leading zeros read as the number they pad."""
    unit = await hung_yen(admin)
    written = {
        "10000000000000000000": "out-of-range",
        "12345678901234567890.5": "out-of-range",
        "98." + "1" * 31: "too-precise",
    }
    body = as_csv(
        [row(unit, "drug_cases" if "." not in v else "social_order_clearance_rate", v) for v in written]
    )
    before = await counts(database)
    kinds = [(p["row"], p["column"], p["kind"]) for p in (await refused(admin, body))["rows"]]
    assert kinds == [(n, "gia_tri", kind) for n, kind in enumerate(written.values(), start=2)]
    assert await counts(database) == before
    padded = await pushed_csv(admin, as_csv([row(unit, value="000000000000000000000007")]))
    assert padded.status_code == 200, padded.text
