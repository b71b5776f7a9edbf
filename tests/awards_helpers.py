"""Helpers for the rules, proceedings and awards tests."""

from typing import Any

import httpx

from tests.helpers import unit_id

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
