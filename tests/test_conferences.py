"""Conferences of a cluster-year (issue 21, item 1): versioned, written by admins or the cluster's
secretariat, hosts and chairs members on the day (or the month), listed across clusters by date,
shown on the year sheet as a timeline, named by what was decided there, imported once, and the
seeds' conferences as their articles state them."""

import io
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml
from openpyxl import load_workbook

from app.core.database import Database
from app.core.exports import XLSX
from app.core.i18n import use_locale
from app.history.importer import HistoryImportError
from tests.helpers import bearer, join, problem, run_import, unit_id
from tests.queries import counting

VI = {"Accept-Language": "vi"}


async def _cluster(admin: httpx.AsyncClient, number: int, members: dict[str, str]) -> dict[str, int]:
    """Cluster `number` with `members` (name → first day of membership in 2024, to 2024-12-31)."""
    assert (await admin.post("/v1/clusters", json={"number": number})).status_code == 201
    ids = {}
    for name, valid_from in members.items():
        ids[name] = await unit_id(admin, name, "2024-06-01")
        joined = await join(admin, ids[name], number, valid_from, "2024-12-31")
        assert joined.status_code == 201, joined.text
    return ids


def _conference(**fields: Any) -> dict[str, Any]:
    return {
        "kind": "year_end_summary",
        "held_on": "2024-11-25",
        "host_unit_id": None,
        "source": {"title": "Báo CAND", "url": "https://cand.com.vn/x", "published": "2024-11-26"},
        **fields,
    }


async def test_record_read_correct_and_every_version(admin: httpx.AsyncClient) -> None:
    units = await _cluster(admin, 61, {"Cao Bằng": "2024-01-01", "Lạng Sơn": "2024-01-01"})
    cao_bang, lang_son = units["Cao Bằng"], units["Lạng Sơn"]
    body = _conference(
        host_unit_id=cao_bang, chair_unit_ids=[cao_bang, lang_son], guests="Cục Công tác chính trị"
    )
    url = "/v1/clusters/61/years/2024/conferences"
    created = await admin.post(url, json=body, headers={"Idempotency-Key": "conf-1"})
    assert created.status_code == 201, created.text
    out = created.json()
    assert created.headers["location"] == f"/v1/conferences/{out['id']}"
    assert (out["cluster"], out["year"], out["kind"]) == (61, 2024, "year_end_summary")
    assert (out["held_on"], out["held_on_precision"]) == ("2024-11-25", "day")
    assert (out["host"]["name"], out["host_stated"]) == ("Cao Bằng", True)
    assert [c["name"] for c in out["chairs"]] == ["Cao Bằng", "Lạng Sơn"]
    assert out["source"] == {**body["source"], "quote": None}
    replay = await admin.post(url, json=body, headers={"Idempotency-Key": "conf-1"})
    assert (replay.json()["id"], replay.headers["idempotent-replayed"]) == (out["id"], "true")

    path = created.headers["location"]
    read = await admin.get(path)
    assert read.json() == out
    assert read.headers["etag"] == created.headers["etag"]
    sheet_url = "/v1/clusters/61/years/2024"
    assert [c["host_stated"] for c in (await admin.get(sheet_url)).json()["conferences"]] == [True]
    change = {"host_unit_id": None, "chair_unit_ids": [lang_son], "note": "sửa"}
    problem(await admin.patch(path, json=change), 428, "precondition-required")
    stale = '"conference-1-v9-0000000000000000-en"'
    problem(await admin.patch(path, json=change, headers={"If-Match": stale}), 412, "precondition-failed")
    patched = await admin.patch(path, json=change, headers={"If-Match": read.headers["etag"]})
    assert patched.status_code == 200, patched.text
    assert (patched.json()["version"], patched.json()["host"], patched.json()["host_stated"]) == (
        2,
        None,
        False,
    )
    assert [c["name"] for c in patched.json()["chairs"]] == ["Lạng Sơn"]
    assert [c["host_stated"] for c in (await admin.get(sheet_url)).json()["conferences"]] == [False]
    same = await admin.patch(path, json={"note": "sửa"}, headers={"If-Match": patched.headers["etag"]})
    assert same.json()["version"] == 2  # no change, no version
    revisions = (await admin.get(f"{path}/revisions")).json()["items"]
    assert [(r["version"], r["data"]["host_stated"]) for r in revisions] == [(1, True), (2, False)]
    problem(await admin.get("/v1/conferences/999999"), 404, "not-found")
    problem(await admin.post("/v1/clusters/99/years/2024/conferences", json=body), 404, "not-found")


async def test_hosts_and_chairs_are_members_on_the_day_or_in_the_month(admin: httpx.AsyncClient) -> None:
    units = await _cluster(admin, 62, {"Điện Biên": "2024-01-01", "Lai Châu": "2024-03-20"})
    dien_bien, lai_chau = units["Điện Biên"], units["Lai Châu"]
    ha_noi = await unit_id(admin, "Hà Nội", "2024-06-01")
    url = "/v1/clusters/62/years/2024/conferences"
    refused = problem(await admin.post(url, json=_conference(host_unit_id=ha_noi)), 409, "not-a-member")
    assert refused["field"] == "host_unit_id"
    refused = problem(
        await admin.post(url, json=_conference(chair_unit_ids=[dien_bien, ha_noi])), 409, "not-a-member"
    )
    assert refused["field"] == "chair_unit_ids.1"
    early = _conference(kind="signing", held_on="2024-03-01", host_unit_id=lai_chau)
    refused = problem(await admin.post(url, json=early), 409, "not-a-member")
    assert "2024-03-01" in refused["detail"]
    march = {**early, "held_on_precision": "month"}
    created = await admin.post(url, json=march)
    assert created.status_code == 201, created.text
    assert (created.json()["held_on"], created.json()["held_on_precision"]) == ("2024-03-01", "month")
    mid_march = await admin.post(url, json={**march, "held_on": "2024-03-15", "kind": "other"})
    assert mid_march.json()["held_on"] == "2024-03-01"  # a month is stored as its first day
    problem(
        await admin.post(url, json={**march, "held_on": "2026-03-01"}), 422, "conference-outside-its-year"
    )
    problem(
        await admin.post(url, json={k: v for k, v in march.items() if k != "host_unit_id"}), 422, "validation"
    )
    problem(await admin.post(url, json={**march, "chairs": []}), 422, "validation")
    moved = await admin.patch(
        created.headers["location"],
        json={"held_on_precision": "day"},
        headers={"If-Match": created.headers["etag"]},
    )
    problem(moved, 409, "not-a-member")


async def test_only_admins_and_the_clusters_own_key_write(
    admin: httpx.AsyncClient, client: httpx.AsyncClient, cluster_key: Callable[[int], Awaitable[str]]
) -> None:
    await _cluster(admin, 63, {"Sơn La": "2024-01-01"})
    await _cluster(admin, 64, {"Thanh Hóa": "2024-01-01"})
    own, other = bearer(await cluster_key(63)), bearer(await cluster_key(64))
    url = "/v1/clusters/63/years/2024/conferences"
    problem(await client.post(url, json=_conference(), headers=other), 403, "forbidden")
    created = await client.post(url, json=_conference(), headers=own)
    assert created.status_code == 201, created.text
    assert created.json()["recorded_by"].endswith("cluster 63")
    path, etag = created.headers["location"], created.headers["etag"]
    problem(
        await client.patch(path, json={"note": "x"}, headers={**other, "If-Match": etag}), 403, "forbidden"
    )
    patched = await client.patch(path, json={"note": "x"}, headers={**own, "If-Match": etag})
    assert patched.status_code == 200, patched.text
    assert (await client.get(path, headers=other)).status_code == 200


async def test_the_list_across_clusters_by_date(admin: httpx.AsyncClient, database: Database) -> None:
    units = list(
        (await _cluster(admin, 65, {"Hà Giang": "2024-01-01", "Tuyên Quang": "2024-01-01"})).values()
    )
    await _cluster(admin, 66, {"Bắc Kạn": "2024-01-01"})
    made = {}
    for number, kind, held_on, precision in (
        (66, "year_end_summary", "2024-11-20", "day"),
        (65, "signing", "2024-03-01", "month"),
        (65, "mid_year_review", "2024-07-10", "day"),
        (66, "signing", "2024-03-15", "day"),
        (65, "year_end_summary", "2024-11-20", "day"),
    ):
        body = _conference(kind=kind, held_on=held_on, held_on_precision=precision)
        if number == 65:
            body |= {"host_unit_id": units[0], "chair_unit_ids": units}
        created = await admin.post(f"/v1/clusters/{number}/years/2024/conferences", json=body)
        assert created.status_code == 201, created.text
        made[(number, kind)] = created.json()["id"]

    async def listed(**params: Any) -> list[tuple[int, str]]:
        items, cursor = [], None
        while True:
            page = await admin.get(
                "/v1/conferences", params={**params, "limit": 2, **({"cursor": cursor} if cursor else {})}
            )
            assert page.status_code == 200, page.text
            items += [(c["cluster"], c["kind"]) for c in page.json()["items"]]
            cursor = page.json()["next_cursor"]
            if cursor is None:
                return items

    ordered = [(65, "signing"), (66, "signing"), (65, "mid_year_review")]
    summaries = sorted([(66, "year_end_summary"), (65, "year_end_summary")], key=lambda k: made[k])
    assert await listed(**{"from": "2024-01-01", "to": "2024-12-31"}) == ordered + summaries
    assert await listed(**{"from": "2024-03-10", "to": "2024-03-31"}) == [(65, "signing"), (66, "signing")]
    assert await listed(**{"from": "2024-03-16", "to": "2024-07-10"}) == [
        (65, "signing"),
        (65, "mid_year_review"),
    ]
    assert await listed(cluster=65, kind="year_end_summary") == [(65, "year_end_summary")]
    assert await listed(**{"to": "2024-03-14"}) == [(65, "signing")]
    year = (await admin.get("/v1/clusters/65/years/2024/conferences")).json()["items"]
    assert [c["kind"] for c in year] == ["signing", "mid_year_review", "year_end_summary"]
    assert await listed(**{"from": "2024-02-01", "to": "2024-01-01"}) == []
    problem(await admin.get("/v1/conferences", params={"kind": "picnic"}), 422, "validation")

    with counting(database) as few:
        assert (await admin.get("/v1/clusters/66/years/2024")).status_code == 200
    with counting(database) as more:
        sheet = (await admin.get("/v1/clusters/65/years/2024")).json()
    assert len(few) == len(more)  # one query for the conferences, their hosts and chairs
    assert [(c["kind"], c["held_on"], c["held_on_precision"]) for c in sheet["conferences"]] == [
        ("signing", "2024-03-01", "month"),
        ("mid_year_review", "2024-07-10", "day"),
        ("year_end_summary", "2024-11-20", "day"),
    ]


async def test_what_was_decided_there_names_it(admin: httpx.AsyncClient) -> None:
    units = await _cluster(admin, 67, {"Quảng Ninh": "2024-01-01", "Hà Tĩnh": "2024-01-01"})
    quang_ninh, ha_tinh = units["Quảng Ninh"], units["Hà Tĩnh"]
    await _cluster(admin, 68, {"Nghệ An": "2024-01-01"})
    base = "/v1/clusters/67/years"
    signing = (
        await admin.post(f"{base}/2024/conferences", json=_conference(kind="signing", held_on="2024-02-20"))
    ).json()
    summary = (await admin.post(f"{base}/2024/conferences", json=_conference())).json()
    elsewhere = (await admin.post("/v1/clusters/68/years/2024/conferences", json=_conference())).json()

    covenant = {"key_contents": ["a"], "conference_id": elsewhere["id"]}
    refused = problem(await admin.put(f"{base}/2024/covenant", json=covenant), 409, "conference-mismatch")
    assert refused["field"] == "conference_id"
    problem(
        await admin.put(f"{base}/2024/covenant", json={**covenant, "conference_id": 999999}),
        409,
        "conference-mismatch",
    )
    put = await admin.put(f"{base}/2024/covenant", json={**covenant, "conference_id": signing["id"]})
    assert (put.status_code, put.json()["conference_id"]) == (201, signing["id"]), put.text

    figures = {"figures": [{"label": "x", "kind": "value", "qualifier": "exact", "value": 1}]}
    put = await admin.put(f"{base}/2024/reported-figures", json={**figures, "conference_id": summary["id"]})
    assert (put.status_code, put.json()["conference_id"]) == (201, summary["id"]), put.text

    lead = {"leader_unit_id": quang_ninh, "deputy_unit_id": ha_tinh}
    for unit in (quang_ninh, ha_tinh):
        assert (await join(admin, unit, 67, "2025-01-01", "2025-12-31")).status_code == 201
    same_year = await admin.put(f"{base}/2024/leadership", json={**lead, "conference_id": summary["id"]})
    problem(same_year, 409, "conference-mismatch")
    put = await admin.put(f"{base}/2025/leadership", json={**lead, "conference_id": summary["id"]})
    assert (put.status_code, put.json()["decision"]["conference_id"]) == (201, summary["id"]), put.text

    vote = {
        "cluster": 67,
        "emulation_year": 2024,
        "award_type": "ministry_flag",
        "seats": 1,
        "held_on": "2024-11-25",
        "candidates": [{"unit_id": quang_ninh}],
        "conference_id": elsewhere["id"],
    }
    problem(await admin.post("/v1/votes", json=vote), 409, "conference-mismatch")
    created = await admin.post("/v1/votes", json={**vote, "conference_id": summary["id"]})
    assert (created.status_code, created.json()["conference_id"]) == (201, summary["id"]), created.text

    sheet = (await admin.get(f"{base}/2024")).json()
    assert [c["id"] for c in sheet["conferences"]] == [signing["id"], summary["id"]]
    assert sheet["covenant"]["conference_id"] == signing["id"]
    assert sheet["reported_figures"]["conference_id"] == summary["id"]
    assert sheet["next_leadership"]["decision"]["conference_id"] == summary["id"]
    assert [v["conference_id"] for v in sheet["votes"]] == [summary["id"]]


def _history(tmp_path: Path, conference: dict[str, Any], leadership: dict[str, Any] | None = None) -> Path:
    years: list[dict[str, Any]] = [
        {
            "year": 2024,
            "source": "s",
            "attested_on": "2024-06-01",
            "members": [{"unit": "Hà Nội"}, {"unit": "Cao Bằng"}],
            "conferences": [conference],
        }
    ]
    if leadership is not None:
        years.append(
            {
                "year": 2025,
                "source": "s",
                "attested_on": "2024-11-25",
                "members": [{"unit": "Hà Nội"}],
                "leadership": leadership,
            }
        )
    document = {
        "format": "thidua-history/1",
        "sources": {"s": {"title": "Test", "url": "https://example.test/a", "published": "2024-11-26"}},
        "clusters": [{"number": 69, "years": years}],
    }
    path = tmp_path / "history.yaml"
    path.write_text(yaml.safe_dump(document, allow_unicode=True), encoding="utf-8")
    return path


async def test_the_import_records_a_conference_once(
    admin: httpx.AsyncClient, database: Database, tmp_path: Path
) -> None:
    conference = {
        "key": "summary",
        "kind": "year_end_summary",
        "held_on": "2024-11-25",
        "host": "Hà Nội",
        "chairs": ["Cao Bằng"],
        "quote": "Ngày 25/11/2024, tại Công an thành phố Hà Nội …",
    }
    path = _history(tmp_path, conference, {"leader": "Hà Nội", "conference_key": "summary"})
    first = await run_import(database, path)
    assert (first.conferences_created, first.leaderships_created) == (1, 1)
    again = await run_import(database, path)
    assert (again.conferences_created, again.conferences_unchanged, again.leaderships_unchanged) == (0, 1, 1)
    stored = (await admin.get("/v1/clusters/69/years/2024/conferences")).json()["items"]
    assert len(stored) == 1
    assert stored[0]["source"] == {
        "title": "Test",
        "url": "https://example.test/a",
        "published": "2024-11-26",
        "quote": conference["quote"],
    }
    assert (stored[0]["host"]["name"], [c["name"] for c in stored[0]["chairs"]]) == ("Hà Nội", ["Cao Bằng"])
    lead = (await admin.get("/v1/clusters/69/years/2025/leadership")).json()
    assert lead["decision"]["conference_id"] == stored[0]["id"]

    other = tmp_path / "other"
    other.mkdir()
    said_otherwise = {**conference, "host": None}
    with use_locale("en"), pytest.raises(HistoryImportError) as failure:
        await run_import(
            database, _history(other, said_otherwise, {"leader": "Hà Nội", "conference_key": "nowhere"})
        )
    where = "clusters[0] (cluster 69).years"
    assert failure.value.problems == [
        f"{where}[0] (2024).conferences[0] (year_end_summary 2024-11-25): "
        "A different conference of this kind is already recorded on this date.",
        f"{where}[1] (2025).leadership: unknown conference 'nowhere' (list it earlier in the file)",
    ]


async def test_the_seeds_conferences_as_their_articles_state_them(
    admin: httpx.AsyncClient, seeded: None
) -> None:
    items = (await admin.get("/v1/conferences", params={"from": "2022-01-01"})).json()["items"]
    found = {
        (c["cluster"], c["year"], c["kind"]): (
            c["held_on"],
            c["held_on_precision"],
            c["host"]["name"] if c["host"] else None,
            c["host_stated"],
            [u["name"] for u in c["chairs"]],
        )
        for c in items
    }
    assert found == {
        (3, 2022, "year_end_summary"): ("2022-11-29", "day", "Thái Nguyên", True, []),
        (5, 2024, "year_end_summary"): ("2024-11-25", "day", "Hưng Yên", True, []),
        (4, 2024, "signing"): ("2024-03-01", "month", None, False, []),
        (3, 2025, "year_end_summary"): ("2025-11-21", "day", "Cao Bằng", True, ["Cao Bằng"]),
        (4, 2025, "year_end_summary"): ("2025-11-27", "day", None, False, []),
    }
    assert [c["held_on"] for c in items] == sorted(c["held_on"] for c in items)
    by_key = {(c["cluster"], c["year"], c["kind"]): c for c in items}
    cluster_4 = by_key[(4, 2025, "year_end_summary")]
    assert cluster_4["guests"].startswith("Tới dự và chỉ đạo: Thiếu tướng Phạm Kim Đĩnh")
    assert cluster_4["source"]["published"] == "2025-11-27"
    assert "tại Công an tỉnh, Cụm thi đua số 4" in cluster_4["source"]["quote"]
    assert by_key[(3, 2025, "year_end_summary")]["source"]["url"].startswith("https://cand.com.vn/")

    decided = {
        "/v1/clusters/3/years/2023/leadership": (3, 2022, "year_end_summary"),
        "/v1/clusters/3/years/2026/leadership": (3, 2025, "year_end_summary"),
        "/v1/clusters/4/years/2026/leadership": (4, 2025, "year_end_summary"),
        "/v1/clusters/5/years/2025/leadership": (5, 2024, "year_end_summary"),
    }
    for path, key in decided.items():
        assert (await admin.get(path)).json()["decision"]["conference_id"] == by_key[key]["id"], path
    covenant = (await admin.get("/v1/clusters/4/years/2024/covenant")).json()
    assert covenant["conference_id"] == by_key[(4, 2024, "signing")]["id"]
    for number, year in ((3, 2022), (3, 2025), (4, 2025)):
        figures = (await admin.get(f"/v1/clusters/{number}/years/{year}/reported-figures")).json()
        assert figures["conference_id"] == by_key[(number, year, "year_end_summary")]["id"]

    xlsx = await admin.get("/v1/clusters/4/years/2024", headers={"Accept": XLSX, **VI})
    workbook = load_workbook(io.BytesIO(xlsx.content))
    assert workbook.sheetnames[:2] == ["Thành viên", "Hội nghị"]
    rows = [list(r) for r in workbook["Hội nghị"].iter_rows(values_only=True)]  # under its title row
    assert rows[1][:5] == ["STT", "Ngày tổ chức", "Hội nghị", "Đơn vị đăng cai", "Đơn vị chủ trì"]
    assert rows[2][:5] == [1, "tháng 3/2024", "Ký kết giao ước thi đua", "Không nêu", "Không nêu"]
    csv = await admin.get("/v1/clusters/4/years/2024", params={"format": "csv"}, headers=VI)
    assert csv.content.decode("utf-8-sig").splitlines()[0].startswith("STT,Mã đơn vị,Đơn vị")
