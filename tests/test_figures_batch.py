"""Bulk push: JSON or CSV, all or nothing, a per-row report, idempotent, never another unit's."""

import csv
import io
import json
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import text

from app.core.config import Settings
from app.core.database import Database
from tests.helpers import PROBLEM_MEMBERS, Keys, UnitKey, bearer, problem, unit_id
from tests.queries import counting

HEADER = ["don_vi_id", "nam", "tu_ngay", "den_ngay", "chi_tieu", "gia_tri", "tu_so", "mau_so"]


async def catalogue(client: httpx.AsyncClient) -> list[dict[str, Any]]:
    return (await client.get("/v1/metrics", params={"limit": 200})).json()["items"]  # type: ignore[no-any-return]


async def rows_for(client: httpx.AsyncClient, count: int) -> list[list[str]]:
    """`count` valid rows: every unit existing after the reform, every metric, periods of July 2025."""
    units = (await client.get("/v1/units", params={"as_of": "2025-07-01", "limit": 200})).json()["items"]
    metrics = await catalogue(client)
    rows: list[list[str]] = []
    day = 1
    while len(rows) < count:
        for unit in units:
            for metric in metrics:
                value = str(len(rows) % 997)
                parts = ["", ""]
                if metric["kind"] == "rate":
                    value, parts = "", [str(len(rows) % 89), "90"]
                period = ["2025-07-01", f"2025-07-{day:02d}"]
                rows.append([str(unit["id"]), "2025", *period, metric["key"], value, *parts])
                if len(rows) == count:
                    return rows
        day += 1
    return rows


def as_csv(rows: list[list[str]], *, header: list[str] = HEADER, bom: bool = True) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(header)
    writer.writerows(rows)
    return (("\ufeff" if bom else "") + out.getvalue()).encode()


SAMPLE = Path(__file__).resolve().parents[1] / "data" / "samples" / "figures_sample.csv"
CSV = {"Content-Type": "text/csv; charset=utf-8"}


async def counts(database: Database) -> tuple[int, int, int]:
    async with database.sessionmaker() as session:
        row = (
            await session.execute(
                text(
                    "SELECT (SELECT count(*) FROM figure_sets), (SELECT count(*) FROM figure_values), "
                    "(SELECT count(*) FROM revisions WHERE resource = 'figure_set')"
                )
            )
        ).one()
    return row[0], row[1], row[2]


async def test_ten_thousand_rows_with_one_bad_row_change_nothing(
    admin: httpx.AsyncClient, database: Database
) -> None:
    rows = await rows_for(admin, 10_000)
    rows[4_321][5] = "12,5"
    before = await counts(database)
    body = problem(
        await admin.post("/v1/figures:batch", content=as_csv(rows), headers=CSV), 422, "unprocessable"
    )
    assert body["rows"] == [
        {"row": 4_323, "column": "gia_tri", "kind": "decimal-comma", "problem": body["rows"][0]["problem"]}
    ]
    assert await counts(database) == before

    rows[4_321][5] = "7"
    pushed = await admin.post("/v1/figures:batch", content=as_csv(rows), headers=CSV)
    assert pushed.status_code == 200, pushed.text
    report = pushed.json()
    assert report["rows"] == 10_000
    assert report["created"] == len(report["sets"]) > 0
    sets, values, revisions = await counts(database)
    assert (values, sets, revisions) == (10_000, report["created"], report["created"])


async def test_a_dry_run_writes_nothing(admin: httpx.AsyncClient, database: Database) -> None:
    rows = await rows_for(admin, 500)
    before = await counts(database)
    checked = await admin.post(
        "/v1/figures:batch", params={"dry_run": "true"}, content=as_csv(rows), headers=CSV
    )
    assert checked.status_code == 200, checked.text
    assert checked.json()["dry_run"] is True
    assert checked.json()["created"] == len(checked.json()["sets"]) > 0
    rows[10][4] = "no_such_metric"
    bad = await admin.post("/v1/figures:batch", params={"dry_run": "true"}, content=as_csv(rows), headers=CSV)
    assert [(p["row"], p["column"]) for p in problem(bad, 422, "unprocessable")["rows"]] == [(12, "chi_tieu")]
    assert await counts(database) == before


async def test_a_unit_key_pushing_a_foreign_row_writes_nothing(
    client: httpx.AsyncClient, admin: httpx.AsyncClient, database: Database, unit_key: UnitKey
) -> None:
    hung_yen = await unit_id(admin, "Hưng Yên", "2025-07-01")
    hanoi = await unit_id(admin, "Hà Nội", "2025-07-01")
    own = bearer(await unit_key(hung_yen))
    row = ["2025", "2025-07-01", "2025-07-31", "drug_cases", "3", "", ""]
    before = await counts(database)
    answers = []
    for foreign in (hanoi, 987_654):
        rows = [[str(hung_yen), *row], [str(foreign), *row], [str(hung_yen), "2025", "x"]]
        response = await client.post("/v1/figures:batch", content=as_csv(rows), headers={**CSV, **own})
        answers.append(problem(response, 403, "forbidden"))
    assert answers[0]["forbidden_rows"] == answers[1]["forbidden_rows"] == [3]
    assert {k: v for k, v in answers[0].items() if k != "request_id"} == {
        k: v for k, v in answers[1].items() if k != "request_id"
    }
    assert set(answers[0]) <= PROBLEM_MEMBERS | {"forbidden_rows", "forbidden_row_count"}
    assert await counts(database) == before
    mine = await client.post(
        "/v1/figures:batch", content=as_csv([[str(hung_yen), *row]]), headers={**CSV, **own}
    )
    assert mine.status_code == 200, mine.text


async def test_a_successor_pushes_its_predecessors_figures_by_code(
    client: httpx.AsyncClient, admin: httpx.AsyncClient, unit_key: UnitKey
) -> None:
    hung_yen = await unit_id(admin, "Hưng Yên", "2025-07-01")
    thai_binh = await unit_id(admin, "Thái Bình", "2025-01-01")
    code = (await admin.get(f"/v1/units/{thai_binh}")).json()["code"]
    own = bearer(await unit_key(hung_yen))
    header = ["ma_don_vi", "ngay_hieu_luc", "nam", "tu_ngay", "den_ngay", "chi_tieu", "gia_tri"]
    rows = [[code, "2025-01-01", "2025", "2025-01-01", "2025-06-30", "drug_cases", "5"]]
    pushed = await client.post(
        "/v1/figures:batch", content=as_csv(rows, header=header, bom=False), headers={**CSV, **own}
    )
    assert pushed.status_code == 200, pushed.text
    stored = (await admin.get(f"/v1/units/{thai_binh}/figures/2025-01-01..2025-06-30")).json()
    assert stored["written_by"]["id"] == hung_yen
    rows[0][4] = "2025-07-31"
    late = problem(
        await client.post("/v1/figures:batch", content=as_csv(rows, header=header), headers={**CSV, **own}),
        409,
        "figures-conflict",
    )
    assert late["rows"][0]["row"] == 2
    assert "Hưng Yên" in late["rows"][0]["problem"]


async def test_a_retried_batch_writes_once(admin: httpx.AsyncClient, database: Database) -> None:
    rows = await rows_for(admin, 200)
    headers = {**CSV, "Idempotency-Key": "batch-7"}
    first = await admin.post("/v1/figures:batch", content=as_csv(rows), headers=headers)
    again = await admin.post("/v1/figures:batch", content=as_csv(rows), headers=headers)
    assert first.status_code == again.status_code == 200, first.text
    assert again.headers["idempotent-replayed"] == "true"
    assert again.json() == first.json()
    sets, values, revisions = await counts(database)
    assert (values, revisions) == (200, sets)
    problem(
        await admin.post("/v1/figures:batch", content=as_csv(rows[:10]), headers=headers),
        422,
        "unprocessable",
    )


NUMBERS = ("value", "numerator", "denominator")


async def test_json_batches_expected_versions_and_their_own_size_limit(
    admin: httpx.AsyncClient, database: Database
) -> None:
    rows = await rows_for(admin, 10_000)
    fields = ["unit_id", "year", "period_start", "period_end", "metric", "value", "numerator", "denominator"]
    as_json = [
        {
            f: (int(v) if f in ("unit_id", "year") or (f in NUMBERS and v) else v or None)
            for f, v in zip(fields, r, strict=True)
        }
        for r in rows
    ]
    big = await admin.post("/v1/figures:batch", json={"rows": as_json})
    assert big.status_code == 200, big.text
    sets = {(s["unit_id"], s["period_end"]): s for s in big.json()["sets"]}
    first = as_json[0]
    current = sets[(first["unit_id"], first["period_end"])]["version"]
    stale = {**first, "expected_version": current + 1}
    body = problem(await admin.post("/v1/figures:batch", json={"rows": [stale]}), 409, "figures-conflict")
    assert body["rows"][0]["row"] == 1
    assert body["rows"][0]["column"] == "expected_version"
    ok = await admin.post("/v1/figures:batch", json={"rows": [{**first, "expected_version": current}]})
    assert ok.status_code == 200, ok.text
    assert ok.json()["sets"][0]["version"] == current + 1
    assert ok.json()["created"] == 0


async def test_an_undecodable_file_is_a_malformed_body(admin: httpx.AsyncClient) -> None:
    response = await admin.post("/v1/figures:batch", content=b"\xff\xfe", headers=CSV)
    problem(response, 400, "malformed-body")


@pytest.mark.parametrize(
    "content",
    [
        b"don_vi,nam\n1,2025\n",
        b"don_vi_id,nam,tu_ngay,den_ngay,chi_tieu,gia_tri\n",
        b"don_vi_id,nam\n1,\x00\n",
    ],
)
async def test_a_malformed_file_is_unprocessable(admin: httpx.AsyncClient, content: bytes) -> None:
    problem(await admin.post("/v1/figures:batch", content=content, headers=CSV), 422, "unprocessable")


async def test_other_media_types_and_the_template(admin: httpx.AsyncClient) -> None:
    problem(
        await admin.post("/v1/figures:batch", content=b"x", headers={"Content-Type": "text/plain"}),
        415,
        "unsupported-media-type",
    )
    template = await admin.get("/v1/figures/template.csv")
    assert template.status_code == 200
    assert template.headers["content-type"].startswith("text/csv")
    lines = template.content.decode("utf-8-sig").splitlines()
    assert lines[0].startswith("don_vi_id,ma_don_vi,ngay_hieu_luc,nam,tu_ngay,den_ngay,chi_tieu")
    assert len(lines) == 1 + len(await catalogue(admin))


async def test_the_sample_file_is_a_valid_batch(admin: httpx.AsyncClient) -> None:
    sample = SAMPLE.read_bytes()
    assert sample.startswith(b"\xef\xbb\xbf")
    checked = await admin.post("/v1/figures:batch", params={"dry_run": "true"}, content=sample, headers=CSV)
    assert checked.status_code == 200, checked.text
    assert checked.json()["created"] == 3


async def test_a_batch_is_a_fixed_number_of_statements(admin: httpx.AsyncClient, database: Database) -> None:
    small, large = (await rows_for(admin, 20)), (await rows_for(admin, 3_000))
    large = [[*r[:2], "2025-08-01", r[3].replace("-07-", "-08-"), *r[4:]] for r in large]
    counted = []
    for rows in (small, large):
        with counting(database) as statements:
            response = await admin.post("/v1/figures:batch", content=as_csv(rows), headers=CSV)
            assert response.status_code == 200, response.text
        counted.append(len(statements))
    assert counted[0] == counted[1], counted


async def test_the_batch_has_its_own_size_limit(admin: httpx.AsyncClient, settings: Settings) -> None:
    over_the_general_limit = b"x" * (settings.max_request_bytes + 1)
    problem(
        await admin.post("/v1/clusters", content=over_the_general_limit, headers=CSV),
        413,
        "payload-too-large",
    )
    body = problem(
        await admin.post("/v1/figures:batch", content=over_the_general_limit, headers=CSV),
        422,
        "unprocessable",
    )
    assert body["rows"][0]["row"] == 1
    over = b"x" * (settings.max_batch_bytes + 1)
    problem(await admin.post("/v1/figures:batch", content=over, headers=CSV), 413, "payload-too-large")


async def test_large_and_small_batches_store_the_same_exact_values(admin: httpx.AsyncClient) -> None:
    """The values reach PostgreSQL as array literals, built in a thread for a batch past
    `_INLINE_VALUES` and on the event loop for a small one: both store each value exactly as it
    was written (all 18 digits of the largest count), and read back the same."""
    large = await rows_for(admin, 600)
    unit, metrics = large[0][0], {m["key"]: m["kind"] for m in await catalogue(admin)}
    exact = {"count": "999999999999999999", "amount": "120000000", "rate": "98.500"}
    chosen: dict[str, list[str]] = {}  # one row of each kind, of the first unit's first day
    for row in large:
        kind = metrics[row[4]]
        if row[0] == unit and row[3] == "2025-07-01" and kind in exact and kind not in chosen:
            row[5:8] = [exact[kind], "", ""]
            chosen[kind] = row
    assert set(chosen) == set(exact), chosen
    small = [[*row[:2], "2025-06-01", "2025-06-01", *row[4:]] for row in chosen.values()]
    for rows in (large, small):
        pushed = await admin.post("/v1/figures:batch", content=as_csv(rows), headers=CSV)
        assert pushed.status_code == 200, pushed.text

    def stored(period: str) -> dict[str, Any]:
        return {v["metric"]: (v["value"], v.get("numerator"), v.get("denominator")) for v in sets[period]}

    sets = {}
    for period in ("2025-07-01..2025-07-01", "2025-06-01..2025-06-01"):
        got = await admin.get(f"/v1/units/{unit}/figures/{period}")
        assert got.status_code == 200, got.text
        sets[period] = json.loads(got.text, parse_float=str, parse_int=str)["values"]
    written = {row[4]: row[5] for row in chosen.values()}
    read = {k: v[0] for k, v in stored("2025-07-01..2025-07-01").items() if k in written}
    assert {k: Decimal(v) for k, v in read.items()} == {k: Decimal(v) for k, v in written.items()}
    assert {k: v for k, v in stored("2025-07-01..2025-07-01").items() if k in written} == stored(
        "2025-06-01..2025-06-01"
    )


async def test_a_batch_whose_client_disconnects_mid_body_is_a_malformed_body(
    app: FastAPI, keys: Keys, database: Database
) -> None:
    """A truncated upload (the client closes before its body ends) writes nothing and is
    answered, to nobody, as a 400 problem: counted as the client's fault, never a 500."""
    before = await counts(database)
    incoming = iter(
        [
            {
                "type": "http.request",
                "body": b"don_vi_id,nam,tu_ngay,den_ngay,chi_tieu,gia_tri\r\n1,20",
                "more_body": True,
            },
            {"type": "http.disconnect"},
        ]
    )
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return next(incoming, {"type": "http.disconnect"})

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": "/v1/figures:batch",
        "raw_path": b"/v1/figures:batch",
        "root_path": "",
        "query_string": b"",
        "headers": [
            (b"host", b"thidua.test"),
            (b"content-type", b"text/csv"),
            (b"content-length", b"5000"),
            (b"authorization", f"Bearer {keys.admin}".encode()),
        ],
        "client": ("10.0.9.1", 40000),
        "server": ("thidua.test", 80),
        "app": app,
    }
    await app(scope, receive, send)
    start = next(m for m in sent if m["type"] == "http.response.start")
    body = b"".join(m.get("body", b"") for m in sent if m["type"] == "http.response.body")
    response = httpx.Response(start["status"], headers=start["headers"], content=body)
    problem(response, 400, "malformed-body")
    assert await counts(database) == before
