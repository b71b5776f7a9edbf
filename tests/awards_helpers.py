"""Helpers for the rules, proceedings and awards tests."""

from typing import Any

import httpx

from tests.helpers import unit_id
from tests.scoring.helpers import framework, items

DECREE_98 = "law-06-2022-decree-98-2023"
DECREE_152 = "law-06-2022-decree-152-2025"


async def cluster5_2024(client: httpx.AsyncClient) -> dict[str, int]:
    """The ids of cluster 5's 2024 members (seed 002), by name."""
    names = ("Hưng Yên", "Thái Bình", "Nam Định", "Hà Nam", "Hải Dương")
    return {name: await unit_id(client, name, "2024-11-25") for name in names}


def nomination(unit: int, award_type: str = "government_flag", **extra: Any) -> dict[str, Any]:
    return {
        "award_type": award_type,
        "unit_id": unit,
        "emulation_year": 2024,
        "cluster": 5,
        "nominated_on": "2024-11-25",
        **extra,
    }


async def nominate(
    client: httpx.AsyncClient, unit: int, award_type: str = "government_flag", **extra: Any
) -> httpx.Response:
    return await client.post("/v1/awards", json=nomination(unit, award_type, **extra))


async def step(client: httpx.AsyncClient, award_id: int, body: dict[str, Any]) -> httpx.Response:
    """POST a transition under the ETag read just before."""
    etag = (await client.get(f"/v1/awards/{award_id}")).headers["etag"]
    return await client.post(f"/v1/awards/{award_id}/transitions", json=body, headers={"If-Match": etag})


def check(award_or_problem: dict[str, Any], rule: str) -> dict[str, Any]:
    """The rule check named `rule` of an award (or of a 409's `rule_checks`)."""
    checks = award_or_problem["rule_checks"]
    found = [c for c in checks if c["rule"] == rule]
    assert len(found) == 1, (rule, checks)
    return found[0]


async def frozen_standings(
    admin: httpx.AsyncClient, number: int, first: list[int] | None = None, year: int = 2024
) -> list[int]:
    """Cluster `number`'s standings of `year` (a framework, two scorers' points for every member),
    frozen: `first` lead in that order, then the other members. Returns the members by rank."""
    base = f"/v1/clusters/{number}/years/{year}"
    created = await admin.put(f"{base}/scoring-framework", json=framework())
    assert created.status_code == 201, created.text
    members = [r["unit_id"] for r in (await admin.get(f"{base}/standings")).json()["rows"]]
    ranked = [*(first or []), *(m for m in members if m not in (first or []))]
    for i, unit in enumerate(ranked):
        for scorer in ("CUM", "X01"):
            put = await admin.put(f"{base}/scores/{scorer}/units/{unit}", json=items(40 - i, 50))
            assert put.status_code == 201, put.text
    frozen = await admin.post(f"{base}/standings/freezes")
    assert frozen.status_code == 201, frozen.text
    rows = (await admin.get(f"{base}/standings")).json()["rows"]
    assert [r["rank"] for r in rows] == list(range(1, len(ranked) + 1))
    return ranked


def vote_for(number: int, award_type: str, candidates: list[int], year: int = 2024) -> dict[str, Any]:
    return {
        "cluster": number,
        "emulation_year": year,
        "award_type": award_type,
        "seats": 1,
        "held_on": f"{year}-11-25",
        "candidates": [{"unit_id": c} for c in candidates],
    }


async def held_vote(
    admin: httpx.AsyncClient,
    number: int,
    award_type: str,
    candidate: int,
    *,
    approved: bool,
    year: int = 2024,
) -> dict[str, Any]:
    """A closed vote of cluster `number` on one candidate: every voter present, on paper, all
    approving it (`approved`: it is seated and nominated) or none."""
    opened = await admin.post("/v1/votes", json=vote_for(number, award_type, [candidate], year))
    assert opened.status_code == 201, opened.text
    vote = opened.json()
    voters = [v["id"] for v in vote["voters"]]
    attended = await admin.post(f"/v1/votes/{vote['id']}/attendance", json={"present": voters, "written": []})
    assert attended.status_code == 200, attended.text
    ballots = [[candidate] if approved else [] for _ in voters]
    papers = {"voters": voters, "ballots": ballots, "note": "Phiếu giấy"}
    assert (await admin.post(f"/v1/votes/{vote['id']}/paper-ballots", json=papers)).status_code == 201
    closed = await admin.post(f"/v1/votes/{vote['id']}/close", json={"chair_choice": []})
    assert closed.status_code == 200, closed.text
    result: dict[str, Any] = closed.json()
    return result


def nominations_of(vote: dict[str, Any]) -> list[int]:
    """The awards the vote's first round nominated."""
    found: list[int] = vote["rounds"][0]["result"]["nominations"]
    return found
