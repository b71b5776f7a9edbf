"""Clusters, votes, attendance and ballots for the vote tests."""

from typing import Any

import httpx

from tests.helpers import UnitKey, bearer, join

UNCHANGED = ("Cao Bằng", "Lai Châu", "Điện Biên", "Sơn La", "Lạng Sơn", "Quảng Ninh", "Thanh Hóa", "Nghệ An")
"""Units the 2025 reform left as they were: the same records in 2024 and after."""


async def cluster_with(
    admin: httpx.AsyncClient, number: int, size: int, year: int = 2024, *, first: int = 2
) -> list[int]:
    """Cluster `number` with `size` members over `year` (units that existed that whole year, from
    the `first`th on)."""
    assert (await admin.post("/v1/clusters", json={"number": number})).status_code == 201
    page = (await admin.get("/v1/units", params={"as_of": f"{year}-06-01", "limit": "200"})).json()
    units = [u["id"] for u in page["items"] if u["valid_to"] is None or u["valid_to"] >= f"{year}-12-31"]
    chosen = units[first : first + size]
    for unit in chosen:
        response = await join(admin, unit, number, f"{year}-01-01", f"{year}-12-31")
        assert response.status_code == 201, response.text
    return chosen


def vote_body(number: int, candidates: list[int], **changes: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "cluster": number,
        "emulation_year": 2024,
        "award_type": "ministry_flag",
        "seats": 1,
        "held_on": "2024-11-25",
        "candidates": [{"unit_id": c} for c in candidates],
    }
    body.update(changes)
    return body


async def open_vote(
    admin: httpx.AsyncClient, number: int, candidates: list[int], **changes: Any
) -> dict[str, Any]:
    response = await admin.post("/v1/votes", json=vote_body(number, candidates, **changes))
    assert response.status_code == 201, response.text
    vote: dict[str, Any] = response.json()
    return vote


async def attend(
    client: httpx.AsyncClient, vote_id: int, present: list[int], written: list[int] | None = None
) -> httpx.Response:
    return await client.post(
        f"/v1/votes/{vote_id}/attendance", json={"present": present, "written": written or []}
    )


async def cast(
    client: httpx.AsyncClient, unit_key: UnitKey, vote_id: int, unit: int, approvals: list[int]
) -> httpx.Response:
    """`unit` casts its ballot with its own key."""
    key = await unit_key(unit)
    return await client.post(
        f"/v1/votes/{vote_id}/ballots", json={"approvals": approvals}, headers=bearer(key)
    )


async def paper(
    client: httpx.AsyncClient, vote_id: int, voters: list[int], ballots: list[list[int]]
) -> httpx.Response:
    body = {"voters": voters, "ballots": ballots, "note": "Phiếu giấy"}
    return await client.post(f"/v1/votes/{vote_id}/paper-ballots", json=body)


async def close(
    client: httpx.AsyncClient, vote_id: int, chair_choice: list[int] | None = None
) -> httpx.Response:
    return await client.post(f"/v1/votes/{vote_id}/close", json={"chair_choice": chair_choice or []})


def result(vote: dict[str, Any], round_number: int = 1) -> dict[str, Any]:
    found: dict[str, Any] = vote["rounds"][round_number - 1]["result"]
    return found


def tallies(vote: dict[str, Any], round_number: int = 1) -> dict[int, tuple[int, bool]]:
    return {t["unit_id"]: (t["approvals"], t["passed"]) for t in result(vote, round_number)["tallies"]}
