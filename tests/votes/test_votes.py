"""Nomination votes over HTTP: the rules of counting, candidates, ballots, rounds and nominations."""

import asyncio
import io
from typing import Any

import httpx
import openpyxl
from sqlalchemy import text

from app.core.database import Database
from tests.awards_helpers import DECREE_98
from tests.helpers import UnitKey, bearer, join, problem, unit_id
from tests.scoring.helpers import framework, items
from tests.votes.helpers import (
    UNCHANGED,
    attend,
    cast,
    close,
    cluster_with,
    open_vote,
    paper,
    result,
    tallies,
    vote_body,
)


async def test_eighty_percent_of_all_eligible_voters_not_of_those_present(
    admin: httpx.AsyncClient, unit_key: UnitKey
) -> None:
    voters = await cluster_with(admin, 60, 10)
    a = voters[0]
    vote = await open_vote(admin, 60, [a])
    assert vote["threshold"]["name"] == "cluster_vote_share"
    assert vote["threshold"]["confidence"] == "unknown"
    assert vote["rule_set"] == DECREE_98
    assert {p["name"] for p in vote["parameters"]} >= {"quorum", "approval_denominator", "tie_break"}
    assert (await attend(admin, vote["id"], voters[:8])).status_code == 200
    for voter in voters[:7]:
        assert (await cast(admin, unit_key, vote["id"], voter, [a])).status_code == 201
    last = await cast(admin, unit_key, vote["id"], voters[7], [])
    assert last.json() == {"vote_id": vote["id"], "round": 1, "received": 1, "ballots_cast": 8}
    closed = await close(admin, vote["id"])
    assert closed.status_code == 200, closed.text
    out = result(closed.json())
    # 7 of 8 present is 87.5%, but 7 of the 10 eligible is 70%: 5 × 7 = 35 < 4 × 10.
    assert (out["eligible"], out["present"], out["ballots"]) == (10, 8, 8)
    assert out["approval_base"] == 10
    assert out["approval_minimum"] == 8
    assert out["quorum_minimum"] == 7
    assert tallies(closed.json()) == {a: (7, False)}
    assert out["seats"] == []
    assert closed.json()["state_reason"] == "next_round_possible"


async def test_a_meeting_under_two_thirds_present_is_void(
    admin: httpx.AsyncClient, unit_key: UnitKey
) -> None:
    voters = await cluster_with(admin, 61, 10)
    vote = await open_vote(admin, 61, [voters[0]])
    await attend(admin, vote["id"], voters[:6])  # 3 × 6 = 18 < 2 × 10
    for voter in voters[:6]:
        assert (await cast(admin, unit_key, vote["id"], voter, [voters[0]])).status_code == 201
    closed = (await close(admin, vote["id"])).json()
    assert (closed["state"], closed["state_reason"]) == ("void", "no_quorum")
    assert closed["rounds"][0]["state"] == "void"
    assert result(closed)["outcome"] == "void_no_quorum"
    assert result(closed)["quorum_met"] is False
    assert result(closed)["nominations"] == []
    problem(await admin.post(f"/v1/votes/{closed['id']}/rounds"), 409, "no-further-round")
    assert (await admin.get("/v1/awards", params={"year": "2024"})).json()["items"] == []


async def _all_tied(admin: httpx.AsyncClient, number: int, preferred: int) -> tuple[int, list[int]]:
    """Five members, four seats, each a candidate; each ballot leaves out one candidate, so all
    five have 4 of 5 (each passes) and tie across the last seat. The first `preferred` are
    collectives with at least 70% women."""
    voters = await cluster_with(admin, number, 5)
    candidates = [{"unit_id": u, "women_preference": i < preferred} for i, u in enumerate(voters)]
    body = {**vote_body(number, voters, seats=4), "candidates": candidates}
    vote = (await admin.post("/v1/votes", json=body)).json()
    await attend(admin, vote["id"], voters)
    ballots = [[c for c in voters if c != left_out] for left_out in voters]
    assert (await paper(admin, vote["id"], voters, ballots)).status_code == 201
    return vote["id"], voters


async def test_a_tie_across_the_last_seat_goes_by_the_rule_sets_breakers(admin: httpx.AsyncClient) -> None:
    vote_id, units = await _all_tied(admin, 62, preferred=4)
    closed = await close(admin, vote_id)
    assert closed.status_code == 200, closed.text
    out = result(closed.json())
    assert all(passed and n == 4 for n, passed in tallies(closed.json()).values())
    assert out["seats"] == [{"unit_id": u, "reason": "women_preference"} for u in units[:4]]
    assert out["breakers_used"] == ["women_preference"]


async def test_the_chairs_choice_settles_what_the_breakers_cannot(admin: httpx.AsyncClient) -> None:
    vote_id, units = await _all_tied(admin, 63, preferred=1)
    undecided = problem(await close(admin, vote_id), 409, "tie-unresolved")
    assert undecided["type"] == "/problems/tie-unresolved"
    assert sorted(undecided["tied"]) == sorted(units[1:])
    problem(await close(admin, vote_id, units[1:2]), 409, "tie-unresolved")  # one chosen for three seats
    decided = await close(admin, vote_id, units[1:4])
    assert decided.status_code == 200, decided.text
    out = result(decided.json())
    assert out["seats"][0] == {"unit_id": units[0], "reason": "women_preference"}
    assert sorted(s["unit_id"] for s in out["seats"][1:]) == sorted(units[1:4])
    assert {s["reason"] for s in out["seats"][1:]} == {"chair_vote"}
    assert out["breakers_used"] == ["women_preference", "stronger_record", "chair_vote"]
    assert sorted(out["chair_choice"]) == sorted(units[1:4])
    assert len(out["nominations"]) == 4


async def test_second_ballot_refused_also_in_a_race(
    admin: httpx.AsyncClient, client: httpx.AsyncClient, unit_key: UnitKey
) -> None:
    voters = await cluster_with(admin, 64, 5)
    vote = await open_vote(admin, 64, [voters[0]])
    await attend(admin, vote["id"], voters)
    assert (await cast(admin, unit_key, vote["id"], voters[1], [voters[0]])).status_code == 201
    again = problem(await cast(admin, unit_key, vote["id"], voters[1], []), 409, "already-voted")
    assert str(voters[0]) not in again["detail"].replace(str(voters[1]), "")

    key = await unit_key(voters[2])
    both = await asyncio.gather(
        *(
            client.post(f"/v1/votes/{vote['id']}/ballots", json={"approvals": a}, headers=bearer(key))
            for a in ([voters[0]], [])
        )
    )
    assert sorted(r.status_code for r in both) == [201, 409]
    current = (await admin.get(f"/v1/votes/{vote['id']}")).json()["rounds"][0]
    assert current["ballots_cast"] == 2
    assert sorted(p["unit_id"] for p in current["participations"]) == sorted(voters[1:3])
    assert current["result"] is None


async def test_only_present_voters_cast_and_only_candidates_within_the_seats(
    admin: httpx.AsyncClient, unit_key: UnitKey, keys: Any
) -> None:
    voters = await cluster_with(admin, 65, 5)
    vote = await open_vote(admin, 65, voters[:2])
    problem(
        await cast(admin, unit_key, vote["id"], voters[0], [voters[0]]), 409, "not-present"
    )  # no attendance yet
    await attend(admin, vote["id"], voters[:4])
    problem(await cast(admin, unit_key, vote["id"], voters[4], [voters[0]]), 409, "not-present")  # absent
    too_many = problem(await cast(admin, unit_key, vote["id"], voters[0], voters[:2]), 409, "ballot-invalid")
    assert too_many["field"] == "approvals"
    problem(
        await cast(admin, unit_key, vote["id"], voters[0], [voters[3]]), 409, "ballot-invalid"
    )  # not a candidate
    outsider = await admin.post(
        f"/v1/votes/{vote['id']}/ballots", json={"approvals": []}, headers=bearer(keys.unit)
    )
    problem(outsider, 403, "forbidden")
    problem(await admin.post(f"/v1/votes/{vote['id']}/ballots", json={"approvals": []}), 403, "forbidden")
    assert (await attend(admin, vote["id"], voters[:3], [voters[3]])).status_code == 200
    assert (await cast(admin, unit_key, vote["id"], voters[3], [voters[1]])).status_code == 201  # in writing
    assert (await cast(admin, unit_key, vote["id"], voters[0], [])).status_code == 201
    problem(
        await attend(admin, vote["id"], [voters[4]]), 409, "already-voted"
    )  # not a voter? it is: but 0 and 3 voted
    dropped = problem(await attend(admin, vote["id"], voters[1:4]), 409, "already-voted")
    assert str(voters[0]) in dropped["detail"]


async def test_self_approval_follows_the_rule_parameter(
    admin: httpx.AsyncClient, unit_key: UnitKey, database: Database
) -> None:
    voters = await cluster_with(admin, 66, 5)
    allowed = await open_vote(admin, 66, voters[:1])
    await attend(admin, allowed["id"], voters)
    assert (await cast(admin, unit_key, allowed["id"], voters[0], [voters[0]])).status_code == 201
    async with database.engine.begin() as conn:
        await conn.execute(
            text(
                "UPDATE rule_sets SET parameters = jsonb_set(parameters, "
                "'{self_approval_allowed,value}', 'false') WHERE code = :code"
            ),
            {"code": DECREE_98},
        )
    forbidden = await open_vote(admin, 66, voters[:1], held_on="2024-11-26")
    assert next(p for p in forbidden["parameters"] if p["name"] == "self_approval_allowed")["value"] is False
    await attend(admin, forbidden["id"], voters)
    refused = problem(
        await cast(admin, unit_key, forbidden["id"], voters[0], [voters[0]]), 409, "self-approval-refused"
    )
    assert refused["rule"] == "self_approval_allowed"
    assert (await cast(admin, unit_key, forbidden["id"], voters[0], [])).status_code == 201
    assert (await cast(admin, unit_key, forbidden["id"], voters[1], [voters[0]])).status_code == 201


async def test_paper_ballots_count_like_any(admin: httpx.AsyncClient, unit_key: UnitKey) -> None:
    voters = await cluster_with(admin, 67, 5)
    vote = await open_vote(admin, 67, voters[:3], seats=2)
    await attend(admin, vote["id"], voters)
    problem(
        await paper(admin, vote["id"], voters[:2], [[voters[0]]]), 422, "validation"
    )  # fewer ballots than voters
    entered = await paper(admin, vote["id"], voters[:4], [[voters[0], voters[1]]] * 3 + [[voters[0]]])
    assert entered.status_code == 201, entered.text
    assert entered.json()["received"] == 4
    assert (await cast(admin, unit_key, vote["id"], voters[4], [voters[0], voters[1]])).status_code == 201
    problem(await paper(admin, vote["id"], [voters[4]], [[]]), 409, "already-voted")  # already voted
    closed = (await close(admin, vote["id"])).json()
    assert tallies(closed) == {voters[0]: (5, True), voters[1]: (4, True), voters[2]: (0, False)}
    assert {p["method"] for p in closed["rounds"][0]["participations"]} == {"paper", "electronic"}
    assert closed["state"] == "closed"


async def test_closing_nominates_the_seated_linked_to_the_vote(
    admin: httpx.AsyncClient, unit_key: UnitKey
) -> None:
    voters = await cluster_with(admin, 68, 5)
    vote = await open_vote(admin, 68, voters[:3], seats=2)
    await attend(admin, vote["id"], voters)
    assert (await paper(admin, vote["id"], voters, [[voters[0]]] * 4 + [[voters[1]]])).status_code == 201
    first = (await close(admin, vote["id"])).json()
    assert result(first)["seats"] == [{"unit_id": voters[0], "reason": "approvals"}]
    assert (first["state"], first["state_reason"]) == ("open", "next_round_possible")
    [award_id] = result(first)["nominations"]
    award = (await admin.get(f"/v1/awards/{award_id}")).json()
    assert (award["vote_id"], award["unit"]["id"], award["status"]) == (vote["id"], voters[0], "nominated")
    assert award["standings_version"] == vote["standings_version"]

    second = await admin.post(f"/v1/votes/{vote['id']}/rounds")
    assert second.status_code == 201, second.text
    round_two = second.json()["rounds"][1]
    assert (round_two["round"], round_two["seats"], round_two["candidates"]) == (2, 1, voters[1:3])
    await attend(admin, vote["id"], voters)
    assert (await paper(admin, vote["id"], voters, [[voters[1]]] * 5)).status_code == 201
    final = (await close(admin, vote["id"])).json()
    assert (final["state"], final["state_reason"]) == ("closed", "seats_filled")
    listed = (await admin.get("/v1/awards", params={"year": "2024", "cluster": "68"})).json()["items"]
    assert sorted(a["unit"]["id"] for a in listed) == voters[:2]
    assert {a["vote_id"] for a in listed} == {vote["id"]}
    problem(await admin.post(f"/v1/votes/{vote['id']}/rounds"), 409, "no-further-round")
    listing = (await admin.get("/v1/votes", params={"cluster": "68", "state": "closed"})).json()
    assert [v["id"] for v in listing["items"]] == [vote["id"]]


async def test_a_blocked_unit_is_refused_with_the_reason(admin: httpx.AsyncClient) -> None:
    voters = await cluster_with(admin, 69, 5)
    body = {"kind": "investigation", "opened_on": "2024-10-01", "closed_on": None, "reference": "QĐ 1"}
    assert (await admin.post(f"/v1/units/{voters[1]}/proceedings", json=body)).status_code == 201
    refused = problem(await admin.post("/v1/votes", json=vote_body(69, voters[:2])), 409, "rule-refused")
    assert refused["type"] == "/problems/rule-refused"
    assert refused["rule"] == "blocking_proceeding_kinds"
    assert refused["basis"]["article"] == "art. 4"
    assert refused["facts"]["kind"] == "investigation"
    assert (await admin.get("/v1/votes")).json()["items"] == []


async def test_government_flag_needs_frozen_standings_and_the_first_rank(admin: httpx.AsyncClient) -> None:
    voters = await cluster_with(admin, 70, 4)
    base = "/v1/clusters/70/years/2024"
    assert (await admin.put(f"{base}/scoring-framework", json=framework())).status_code == 201
    for unit, points in zip(voters, (40, 30, 20, 10), strict=True):
        for scorer in ("CUM", "X01"):
            put = await admin.put(f"{base}/scores/{scorer}/units/{unit}", json=items(points, 50))
            assert put.status_code == 201, put.text
    flag = vote_body(70, voters[:1], award_type="government_flag")
    not_frozen = problem(await admin.post("/v1/votes", json=flag), 409, "standings-not-frozen")
    assert not_frozen["type"] == "/problems/standings-not-frozen"
    assert (await admin.post(f"{base}/standings/freezes")).status_code == 201
    second = problem(
        await admin.post("/v1/votes", json=vote_body(70, voters[1:2], award_type="government_flag")),
        409,
        "rule-refused",
    )
    assert second["rule"] == "government_flag_requires_cluster_lead"
    assert second["facts"] == {"rank": 2}
    vote = (await admin.post("/v1/votes", json=flag)).json()
    assert (vote["standings_frozen"], vote["freeze_number"]) == (True, 1)
    assert vote["standings_version"] is not None
    assert vote["candidates"][0]["rank"] == 1


async def test_the_rule_set_is_the_emulation_years(admin: httpx.AsyncClient) -> None:
    assert (await admin.post("/v1/clusters", json={"number": 71})).status_code == 201
    units = [await unit_id(admin, name, "2025-09-15") for name in UNCHANGED[:3]]
    for unit in units:
        assert (await join(admin, unit, 71, "2024-01-01", None)).status_code == 201
    held_later = await open_vote(admin, 71, units[:1], held_on="2025-09-15")
    assert held_later["rule_set"] == DECREE_98
    this_year = await open_vote(admin, 71, units[:1], emulation_year=2025, held_on="2025-11-20")
    assert this_year["rule_set"] == "law-06-2022-decree-152-2025"
    assert this_year["threshold"]["basis"]["document"] == "Nghị định 98/2023/NĐ-CP"
    problem(
        await admin.post(
            "/v1/votes", json=vote_body(71, units[:1], emulation_year=2023, held_on="2023-11-20")
        ),
        409,
        "no-rule-set",
    )


async def test_the_chair_is_the_leader_or_its_successor(admin: httpx.AsyncClient) -> None:
    assert (await admin.post("/v1/clusters", json={"number": 72})).status_code == 201
    thai_binh = await unit_id(admin, "Thái Bình", "2025-03-01")
    new_hung_yen = await unit_id(admin, "Hưng Yên", "2025-09-01")
    lai_chau = await unit_id(admin, "Lai Châu", "2025-09-01")
    assert (await join(admin, thai_binh, 72, "2025-01-01", "2025-06-30")).status_code == 201
    assert (await join(admin, new_hung_yen, 72, "2025-07-01", "2025-12-31")).status_code == 201
    assert (await join(admin, lai_chau, 72, "2025-01-01", "2025-12-31")).status_code == 201
    lead = {"leader_unit_id": thai_binh, "deputy_unit_id": lai_chau}
    assert (await admin.put("/v1/clusters/72/years/2025/leadership", json=lead)).status_code == 201
    early = await open_vote(admin, 72, [lai_chau], emulation_year=2025, held_on="2025-03-01")
    assert (early["chair"]["unit"]["id"], early["chair"]["reason"]) == (thai_binh, "leader")
    late = await open_vote(admin, 72, [lai_chau], emulation_year=2025, held_on="2025-11-25")
    assert (late["chair"]["unit"]["id"], late["chair"]["reason"]) == (new_hung_yen, "leader_successor")
    assert sorted(v["id"] for v in late["voters"]) == sorted([new_hung_yen, lai_chau])
    assert "successor" in late["chair"]["remark"]


async def test_a_mismatch_between_participations_and_ballots_is_not_published(
    admin: httpx.AsyncClient, database: Database
) -> None:
    voters = await cluster_with(admin, 73, 3)
    vote = await open_vote(admin, 73, voters[:1])
    await attend(admin, vote["id"], voters)
    async with database.engine.begin() as conn:  # a participation whose ballot was never counted
        await conn.execute(
            text("INSERT INTO vote_participations VALUES (:v, 1, :u, 'electronic', NULL)"),
            {"v": vote["id"], "u": voters[0]},
        )
    refused = problem(await close(admin, vote["id"]), 409, "ballot-count-mismatch")
    assert refused["type"] == "/problems/ballot-count-mismatch"
    assert (await admin.get(f"/v1/votes/{vote['id']}")).json()["state"] == "open"


async def test_the_sheets_xlsx_shows_each_counted_rounds_results_never_a_ballot(
    admin: httpx.AsyncClient,
) -> None:
    vote_id, units = await _all_tied(admin, 77, preferred=4)
    assert (await close(admin, vote_id)).status_code == 200
    response = await admin.get(
        "/v1/clusters/77/years/2024", params={"format": "xlsx"}, headers={"Accept-Language": "vi"}
    )
    assert response.status_code == 200
    book = openpyxl.load_workbook(io.BytesIO(response.content), read_only=True)
    rows = [list(r) for r in book["Bỏ phiếu suy tôn"].iter_rows(values_only=True)][1:]  # under its title
    assert rows[0] == [
        "Cuộc bỏ phiếu",
        "Hình thức khen thưởng",
        "Vòng",
        "Đơn vị được giới thiệu",
        "Số phiếu tán thành",
        "Số phiếu cần đạt",
        "Có mặt / tổng số",
        "Đạt",
        "Được suy tôn",
    ]
    assert len(rows) == 1 + len(units)
    assert {(r[0], r[2], r[4], r[5], r[6], r[7]) for r in rows[1:]} == {(vote_id, 1, 4, 4, "5/5", "Có")}
    assert [r[8] for r in rows[1:]].count("Có") == 4


async def test_a_ballot_drops_the_cached_year_sheet_at_once(
    admin: httpx.AsyncClient, unit_key: UnitKey
) -> None:
    """The ballot's own transactions tell the read cache (issue 10): the sheet shows the new count."""
    voters = await cluster_with(admin, 78, 5)
    vote = await open_vote(admin, 78, [voters[0]])
    await attend(admin, vote["id"], voters)
    sheet = "/v1/clusters/78/years/2024"
    assert (await admin.get(sheet)).json()["votes"][0]["rounds"][0]["ballots_cast"] == 0
    assert (await cast(admin, unit_key, vote["id"], voters[1], [voters[0]])).status_code == 201
    assert (await admin.get(sheet)).json()["votes"][0]["rounds"][0]["ballots_cast"] == 1
    assert (await paper(admin, vote["id"], voters[2:4], [[voters[0]], []])).status_code == 201
    assert (await admin.get(sheet)).json()["votes"][0]["rounds"][0]["ballots_cast"] == 3
