"""The cluster-year sheet: one call per screen, a fixed number of queries (two statements for the
whole render, whatever the cluster's size), each part as its feature's own endpoint answers it,
an ETag."""

import json
from collections import Counter
from typing import Any

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from app.clusters.years import GroupingRef, YearRef, cluster_year
from app.core import plans
from app.core.cache import json_answer
from app.core.database import Database
from app.core.plans import Read, Rows, batch, run_batched
from app.evaluation.schemas import EvaluationOut, EvaluationSummary, Verdict
from app.scoring.schemas import Standings, StandingsBrief
from app.sheets import service
from tests.helpers import join, problem, unit_id
from tests.queries import counting
from tests.scoring.helpers import framework, items


async def sheet_queries(admin: httpx.AsyncClient, database: Database, number: int) -> tuple[int, dict]:
    with counting(database) as statements:
        response = await admin.get(f"/v1/clusters/{number}/years/2024")
    assert response.status_code == 200
    return len(statements), response.json()


async def test_query_count_does_not_grow_with_members(admin: httpx.AsyncClient, database: Database) -> None:
    names = [
        "Hà Nội",
        "Cao Bằng",
        "Điện Biên",
        "Lai Châu",
        "Sơn La",
        "Lạng Sơn",
        "Quảng Ninh",
        "Thanh Hóa",
    ]
    ids = [await unit_id(admin, name, "2024-06-01") for name in names]
    for number, members in ((80, ids[:2]), (81, ids[2:])):
        await admin.post("/v1/clusters", json={"number": number})
        for unit in members:
            body = {
                "unit_id": unit,
                "cluster": number,
                "valid_from": "2024-01-01",
                "valid_to": "2024-12-31",
            }
            assert (await admin.post("/v1/memberships", json=body)).status_code == 201
        await admin.put(
            f"/v1/clusters/{number}/years/2024/leadership",
            json={"leader_unit_id": members[0], "deputy_unit_id": members[1]},
        )
        await admin.put(f"/v1/clusters/{number}/years/2025/leadership", json={"leader_unit_id": members[1]})
        targets = [
            {
                "metric": metric,
                "comparator": "ge",
                "threshold": 90,
                "basis": "absolute",
                "scope": "each_member",
            }
            for metric in ("social_order_clearance_rate", "crime_reports_handled_rate")
        ]
        covenant = {"host_unit_id": members[-1], "key_contents": ["a", "b"], "targets": targets}
        put = await admin.put(f"/v1/clusters/{number}/years/2024/covenant", json=covenant)
        assert put.status_code == 201, put.text
        figure = {"label": "x", "kind": "value", "qualifier": "over", "value": 1}
        put = await admin.put(
            f"/v1/clusters/{number}/years/2024/reported-figures", json={"figures": [figure] * 3}
        )
        assert put.status_code == 201, put.text
        for held_on in ("2024-11-25", "2024-11-26"):
            body = {
                "cluster": number,
                "emulation_year": 2024,
                "award_type": "ministry_flag",
                "seats": 1,
                "held_on": held_on,
                "candidates": [{"unit_id": u} for u in members],
            }
            vote = await admin.post("/v1/votes", json=body)
            assert vote.status_code == 201, vote.text
            attended = await admin.post(
                f"/v1/votes/{vote.json()['id']}/attendance", json={"present": members}
            )
            assert attended.status_code == 200, attended.text
        base = f"/v1/clusters/{number}/years/2024"
        assert (await admin.put(f"{base}/scoring-framework", json=framework())).status_code == 201
        for i, unit in enumerate(members):
            for scorer in ("CUM", "X01"):
                put = await admin.put(f"{base}/scores/{scorer}/units/{unit}", json=items(30, 50 - i))
                assert put.status_code == 201, put.text
        assert (await admin.post(f"{base}/standings/freezes")).status_code == 201
        for unit in members:
            nomination = {
                "award_type": "minister_certificate_of_merit",
                "unit_id": unit,
                "emulation_year": 2024,
                "cluster": number,
                "nominated_on": "2024-11-25",
            }
            posted = await admin.post("/v1/awards", json=nomination)
            assert posted.status_code == 201, posted.text
    small, small_sheet = await sheet_queries(admin, database, 80)
    large, large_sheet = await sheet_queries(admin, database, 81)
    assert len(small_sheet["members"]) == 2
    assert len(large_sheet["members"]) == 6
    assert large_sheet["leadership"]["deputy"]["unit"]["name"] == "Lai Châu"
    assert large_sheet["covenant"]["host"]["name"] == "Thanh Hóa"
    assert [t["metric"] for t in large_sheet["covenant"]["targets"]] == [
        "social_order_clearance_rate",
        "crime_reports_handled_rate",
    ]
    assert [f["position"] for f in large_sheet["reported_figures"]["figures"]] == [1, 2, 3]
    assert [len(v["candidates"]) for v in large_sheet["votes"]] == [6, 6]
    assert [v["rounds"][0]["present"] for v in small_sheet["votes"]] == [sorted(ids[:2])] * 2
    standings = large_sheet["standings"]
    assert standings["frozen"] is True
    assert [(r["unit_name"], r["rank"], r["combined_total"]) for r in standings["rows"]][:2] == [
        ("Điện Biên", 1, 160),
        ("Lai Châu", 2, 158),
    ]
    assert standings["href"] == "/v1/clusters/81/years/2024/standings"
    assert len(large_sheet["awards"]) == 6
    assert {a["status"] for a in large_sheet["awards"]} == {"nominated"}
    assert small == large <= 6


async def test_sheet_etag(admin: httpx.AsyncClient) -> None:
    await admin.post("/v1/clusters", json={"number": 82})
    first = await admin.get("/v1/clusters/82/years/2024")
    assert first.json()["members"] == []
    assert first.json()["leadership"] is None
    assert first.json()["covenant"] is None
    assert first.json()["reported_figures"] is None
    assert first.json()["standings"] is None
    assert first.json()["awards"] == []
    cached = await admin.get("/v1/clusters/82/years/2024", headers={"If-None-Match": first.headers["etag"]})
    assert cached.status_code == 304
    ha_noi = await unit_id(admin, "Hà Nội", "2024-06-01")
    await join(admin, ha_noi, 82, "2024-01-01")
    changed = await admin.get("/v1/clusters/82/years/2024", headers={"If-None-Match": first.headers["etag"]})
    assert changed.status_code == 200
    assert len(changed.json()["members"]) == 1
    figures = {"figures": [{"label": "x", "kind": "change", "qualifier": "exact", "value": -3}]}
    assert (await admin.put("/v1/clusters/82/years/2024/reported-figures", json=figures)).status_code == 201
    again = await admin.get("/v1/clusters/82/years/2024", headers={"If-None-Match": changed.headers["etag"]})
    assert again.status_code == 200
    assert again.json()["reported_figures"]["figures"][0]["value"] == -3


async def test_the_sheet_of_no_cluster_is_404_in_its_one_statement(
    admin: httpx.AsyncClient, database: Database
) -> None:
    """The sheet looks its cluster up in its own statement: a number no cluster has is 404 (the
    JSON sheet, its summary and its CSV), having read nothing else; once created, it answers."""
    with counting(database) as statements:
        body = problem(await admin.get("/v1/clusters/987/years/2024"), 404, "not-found")
    assert "987" in body["detail"]
    assert len(statements) <= 2  # the key's lookup, and the sheet's statement
    problem(await admin.get("/v1/clusters/987/years/2024/summary"), 404, "not-found")
    problem(await admin.get("/v1/clusters/987/years/2024", params={"format": "csv"}), 404, "not-found")
    assert (await admin.post("/v1/clusters", json={"number": 987})).status_code == 201
    assert (await admin.get("/v1/clusters/987/years/2024")).json()["cluster"]["number"] == 987


async def test_a_sheet_from_its_path_reads_what_a_sheet_from_its_id_reads(
    admin: httpx.AsyncClient, database: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Named by its number, the sheet looks its cluster's id up in its statement (`id_of`); its
    reads are still the ones it makes with the id known: the standings computed from the members
    read the sheet's own members, read once, not again in the second step."""
    await admin.post("/v1/clusters", json={"number": 83})
    for name in ("Hà Nội", "Cao Bằng"):
        await join(admin, await unit_id(admin, name, "2024-06-01"), 83, "2024-01-01")
    put = await admin.put("/v1/clusters/83/years/2024/scoring-framework", json=framework())
    assert put.status_code == 201, put.text
    steps: dict[bool, list[int]] = {}
    for known in (True, False):
        batched: list[int] = []

        async def counted(session: AsyncSession, reads: list[Read], log: list[int] = batched) -> list[Rows]:
            log.append(len(reads))
            return await batch(session, reads)

        monkeypatch.setattr(plans, "batch", counted)
        async with database.read_sessionmaker() as session:
            at = await cluster_year(session, 83, 2024)
            sheet = await run_batched(
                session, service.sheet_plan(YearRef(at.ref, 2024), at.id if known else None)
            )
        assert sheet.standings is not None
        assert not sheet.standings.frozen
        assert [row.unit_name for row in sheet.standings.rows] == ["Cao Bằng", "Hà Nội"]
        steps[known] = batched
    assert steps[False] == steps[True]
    assert len(steps[False]) == 2


def exact(body: bytes | str) -> Any:
    """JSON as it is written: every number as its digits, every object's members in order."""
    return json.loads(body, parse_int=str, parse_float=str, object_pairs_hook=list)


async def part(admin: httpx.AsyncClient, url: str) -> Any:
    """A feature's own answer, exactly; None for a 404 (the sheet's null)."""
    response = await admin.get(url)
    if response.status_code == 404:
        problem(response, 404, "not-found")  # the record is not there: nothing else
        return None
    assert response.status_code == 200, response.text
    return exact(response.content)


AWARD_BRIEF = ("id", "award_type", "award_type_name", "unit", "status", "attested", "vote_id", "href")


async def assert_cold_render_is_its_parts(
    admin: httpx.AsyncClient, database: Database, number: int, year: int
) -> None:
    """The sheet of a cluster-year: rendered cold from its path, the cluster's lookup and the
    render are at most two statements (issue 23 asked for six); and each of its parts is, byte for
    byte, what its feature's own endpoint answers (the evaluation and the standings as the sheet
    abridges them)."""
    async with database.read_sessionmaker() as session:  # as a GET reads it
        with counting(database) as statements:
            cold = await service.cluster_year(session, YearRef(GroupingRef.cluster(number), year))
    assert len(statements) <= 2, statements
    base = f"/v1/clusters/{number}/years/{year}"
    response = await admin.get(base)
    assert response.status_code == 200, response.text
    sheet = dict(exact(response.content))
    assert (sheet["year"], len(sheet["members"])) == (str(year), len(cold.members))
    assert sheet["members"] == dict(await part(admin, f"/v1/clusters/{number}/members?year={year}"))["items"]
    assert sheet["leadership"] == await part(admin, f"{base}/leadership")
    assert sheet["next_leadership"] == await part(admin, f"/v1/clusters/{number}/years/{year + 1}/leadership")
    assert sheet["conferences"] == dict(await part(admin, f"{base}/conferences"))["items"]
    assert sheet["covenant"] == await part(admin, f"{base}/covenant")
    assert sheet["pledges"] == await part(admin, f"{base}/pledges")
    assert sheet["reported_figures"] == await part(admin, f"{base}/reported-figures")
    evaluation = await admin.get(f"{base}/evaluation")
    summary = None
    if evaluation.status_code == 200:
        out = EvaluationOut.model_validate_json(evaluation.content)
        verdicts = Counter(row.verdict for row in out.rows)
        summary = EvaluationSummary(
            met=verdicts[Verdict.met],
            not_met=verdicts[Verdict.not_met],
            unknown=verdicts[Verdict.unknown],
            figures_recorded_at=out.figures_recorded_at,
            period_start=out.period_start,
            period_end=out.period_end,
            period_basis=out.period_basis,
            period_rule=out.period_rule,
            href=f"{base}/evaluation",
        )
    assert sheet["evaluation"] == (exact(json_answer(summary).body) if summary else None)
    standings = await admin.get(f"{base}/standings")
    brief = None
    if standings.status_code == 200:
        brief = exact(json_answer(StandingsBrief.of(Standings.model_validate_json(standings.content))).body)
    assert sheet["standings"] == brief
    listed = await part(admin, f"/v1/awards?cluster={number}&year={year}&limit=200")
    awards = sorted((dict(a) for a in dict(listed)["items"]), key=lambda a: (a["award_type"], int(a["id"])))
    assert sheet["awards"] == [[(k, a[k]) for k in AWARD_BRIEF] for a in awards]
    votes = [await part(admin, f"/v1/votes/{dict(v)['id']}") for v in sheet["votes"]]
    assert sheet["votes"] == votes


async def test_seeded_sheets_are_their_parts_in_two_statements(
    admin: httpx.AsyncClient, database: Database, seeded: None
) -> None:
    """Every year of every seeded cluster (members that ceased, covenants with and without
    targets, an amount pledge, reported figures, awards), and a cluster's years at once."""
    clusters = (await admin.get("/v1/clusters", params={"limit": "200"})).json()["items"]
    for number in [c["number"] for c in clusters]:
        years = [int(y["year"]) for y in (await admin.get(f"/v1/clusters/{number}/years")).json()["items"]]
        for year in years:
            await assert_cold_render_is_its_parts(admin, database, number, year)
        async with database.sessionmaker() as session:
            ats = [await cluster_year(session, number, year) for year in years]
            one_by_one = [
                json_answer(await service.cluster_year(session, YearRef(at.ref, at.year))).body for at in ats
            ]
            with counting(database) as statements:
                together = await service.cluster_years(session, ats)
        assert len(statements) <= 2
        assert [json_answer(sheet).body for sheet in together] == one_by_one


async def test_a_rich_sheet_is_its_parts_in_two_statements(
    admin: httpx.AsyncClient, database: Database
) -> None:
    """Cluster 79 in 2025: members that ceased mid-year and their successor, leaderships,
    conferences, a covenant judged on figures (a predecessor's included), pledges of each kind
    with a task's status, reported figures, standings (computed, then frozen) with unranked
    members, a vote closed after two rounds and its awards, an open vote, and an award of its own."""
    number, year = 79, 2025
    base = f"/v1/clusters/{number}/years/{year}"
    assert (await admin.post("/v1/clusters", json={"number": number})).status_code == 201
    u = {
        name: await unit_id(admin, name, day)
        for name, day in (
            ("Hà Nội", "2025-01-01"),
            ("Thái Bình", "2025-01-01"),
            ("Hưng Yên", "2025-07-01"),
            ("Cao Bằng", "2025-01-01"),
            ("Lạng Sơn", "2025-01-01"),
            ("Quảng Ninh", "2025-01-01"),
        )
    }
    for name, valid_to in (("Thái Bình", "2025-06-30"), ("Cao Bằng", None), ("Lạng Sơn", None)):
        assert (await join(admin, u[name], number, "2024-01-01", valid_to)).status_code == 201
    for name in ("Hà Nội", "Quảng Ninh"):
        assert (await join(admin, u[name], number, "2025-01-01")).status_code == 201
    assert (await join(admin, u["Hưng Yên"], number, "2025-07-01")).status_code == 201
    lead = {"leader_unit_id": u["Thái Bình"], "deputy_unit_id": u["Cao Bằng"]}
    assert (await admin.put(f"{base}/leadership", json=lead)).status_code == 201
    lead = {"leader_unit_id": u["Hưng Yên"]}
    assert (
        await admin.put(f"/v1/clusters/{number}/years/{year + 1}/leadership", json=lead)
    ).status_code == 201
    for kind, day in (("signing", "2025-02-20"), ("year_end_summary", "2025-11-25")):
        body = {
            "kind": kind,
            "held_on": day,
            "host_unit_id": u["Cao Bằng"],
            "chair_unit_ids": [u["Cao Bằng"]],
            "source": {"title": "Báo CAND", "url": "https://cand.com.vn/x", "published": day},
        }
        created = await admin.post(f"{base}/conferences", json=body)
        assert created.status_code == 201, created.text
    target = {"comparator": "ge", "basis": "absolute", "scope": "each_member"}
    covenant = {
        "host_unit_id": u["Cao Bằng"],
        "period_start": "2025-01-01",
        "period_end": "2025-12-31",
        "key_contents": ["Kéo giảm tội phạm"],
        "targets": [
            {**target, "metric": "crime_reports_handled_rate", "threshold": 90},
            {**target, "metric": "social_order_crimes", "comparator": "le", "threshold": -5,
             "basis": "change_vs_previous_period"},
            {**target, "metric": "crime_reports_handled_rate", "threshold": 85, "scope": "cluster_total"},
        ],
    }  # fmt: skip
    assert (await admin.put(f"{base}/covenant", json=covenant)).status_code == 201
    for unit, period, values in (
        ("Thái Bình", "2024-01-01..2024-12-31", {"social_order_crimes": 40}),
        ("Thái Bình", "2025-01-01..2025-06-30", {"social_order_crimes": 20, "charity_houses_vnd": 9}),
        ("Hưng Yên", "2025-07-01..2025-12-31", {"social_order_crimes": 15, "charity_houses_vnd": 30}),
        ("Cao Bằng", "2025-01-01..2025-12-31", {"social_order_crimes": 9, "charity_houses_vnd": 25}),
        (
            "Lạng Sơn",
            "2025-01-01..2025-12-31",
            {"crime_reports_handled_rate": {"numerator": 9, "denominator": 10}},
        ),
    ):
        values_ = [{"metric": k, **(v if isinstance(v, dict) else {"value": v})} for k, v in values.items()]
        body = {"year": int(period[:4]), "values": values_}
        assert (await admin.put(f"/v1/units/{u[unit]}/figures/{period}", json=body)).status_code == 201
    amount = {"kind": "amount", "label": "Mỗi đơn vị 20 đồng", "metric": "charity_houses_vnd", "quantity": 20}
    pledges = [
        amount,
        {**amount, "label": "Cả Cụm 70 đồng", "scope": "cluster_total", "quantity": 70},
        {"kind": "task", "label": "Thăm gia đình chính sách"},
    ]
    assert (await admin.put(f"{base}/pledges", json={"pledges": pledges})).status_code == 201
    done = {"status": "done", "on": "2025-07-27", "source": "Báo cáo sơ kết"}
    assert (await admin.put(f"{base}/pledges/3/members/{u['Cao Bằng']}", json=done)).status_code == 201
    figures = {"figures": [{"label": "x", "kind": "change", "qualifier": "exact", "value": -3.50}]}
    assert (await admin.put(f"{base}/reported-figures", json=figures)).status_code == 201
    voters = [u[n] for n in ("Hà Nội", "Hưng Yên", "Cao Bằng", "Lạng Sơn", "Quảng Ninh")]
    ballot = {
        "emulation_year": year,
        "award_type": "ministry_flag",
        "held_on": "2025-11-25",
        "cluster": number,
    }
    vote = (
        await admin.post(
            "/v1/votes", json={**ballot, "seats": 2, "candidates": [{"unit_id": c} for c in voters[:3]]}
        )
    ).json()
    for round_, approvals in ((1, [[voters[0]]] * 4 + [[voters[1]]]), (2, [[voters[1]]] * 5)):
        if round_ == 2:
            assert (await admin.post(f"/v1/votes/{vote['id']}/rounds")).status_code == 201
        attended = await admin.post(
            f"/v1/votes/{vote['id']}/attendance", json={"present": voters, "written": []}
        )
        assert attended.status_code == 200, attended.text
        papers = {"voters": voters, "ballots": approvals, "note": "Phiếu giấy"}
        assert (await admin.post(f"/v1/votes/{vote['id']}/paper-ballots", json=papers)).status_code == 201
        assert (
            await admin.post(f"/v1/votes/{vote['id']}/close", json={"chair_choice": []})
        ).status_code == 200
    opened = await admin.post(
        "/v1/votes", json={**ballot, "seats": 1, "candidates": [{"unit_id": voters[3]}]}
    )
    assert opened.status_code == 201, opened.text
    nomination = {"award_type": "minister_certificate_of_merit", "unit_id": u["Quảng Ninh"],
                  "emulation_year": year, "cluster": number, "nominated_on": "2025-11-25"}  # fmt: skip
    assert (await admin.post("/v1/awards", json=nomination)).status_code == 201
    assert (await admin.put(f"{base}/scoring-framework", json=framework())).status_code == 201
    for i, unit in enumerate(voters[:3]):
        for scorer in ("CUM", "X01"):
            put = await admin.put(f"{base}/scores/{scorer}/units/{unit}", json=items(30, 50.5 - i))
            assert put.status_code == 201, put.text
    await assert_cold_render_is_its_parts(admin, database, number, year)
    assert (await admin.post(f"{base}/standings/freezes")).status_code == 201
    await assert_cold_render_is_its_parts(admin, database, number, year)
    sheet = (await admin.get(base)).json()
    assert len(sheet["members"]) == 6
    assert len(sheet["notes"]) == 1
    assert sheet["evaluation"]["met"] + sheet["evaluation"]["not_met"] > 0
    assert [len(p["checks"]) for p in sheet["pledges"]["pledges"]] == [5, 1, 5]
    assert sheet["standings"]["frozen"] is True
    assert [r["rank"] for r in sheet["standings"]["rows"]][:3] == [1, 2, 3]
    assert [(v["state"], len(v["rounds"])) for v in sheet["votes"]] == [("closed", 2), ("open", 1)]
    assert len(sheet["awards"]) == 3
