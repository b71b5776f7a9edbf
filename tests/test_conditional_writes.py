"""Conditional writes (issue 18, item 5): a PATCH or PUT that changes nothing makes no version (200,
the same version and ETag, no revision, no cache dropped), and `If-None-Match: *` on a PUT that
creates means create only (412 `record-exists` when the record exists).

Every versioned PATCH and every creating PUT is here but the figure sets' (`PUT
/v1/units/{id}/figures/{start}..{end}`), whose service is not part of this change. A write
"changes nothing" when its record would read the same afterwards; the proof that nothing was
dropped from the cache is a cached read the real change does drop (the witness), answered without
SQL after the no-op."""

import asyncio
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from app.core.cache import ReadCache
from app.core.database import Database
from app.core.etag import identity_etag
from tests.helpers import problem, unit_id
from tests.queries import counting
from tests.scoring.helpers import framework, items

CLUSTER = 70
YEAR_SHEET = f"/v1/clusters/{CLUSTER}/years/2024"


@pytest.fixture(autouse=True)
async def listening(app: FastAPI) -> None:
    """The read cache answers only while its listener listens: wait for it."""
    cache: ReadCache = app.state.cache
    deadline = time.monotonic() + 10
    while not cache.listening:
        assert time.monotonic() < deadline, "the cache listener did not start"
        await asyncio.sleep(0.01)


@dataclass
class Case:
    url: str
    method: str
    same: dict[str, Any]
    """A body that restates what is stored."""
    changed: dict[str, Any]
    """A body that changes it."""
    witness: str
    """A cached read the change drops."""


async def _cluster_70(admin: httpx.AsyncClient) -> dict[str, int]:
    """Cluster 70 with two members over 2024: Hà Nội and Cao Bằng."""
    assert (await admin.post("/v1/clusters", json={"number": CLUSTER})).status_code == 201
    units = {}
    for name in ("Hà Nội", "Cao Bằng"):
        units[name] = await unit_id(admin, name, "2024-06-01")
        body = {
            "unit_id": units[name],
            "cluster": CLUSTER,
            "valid_from": "2024-01-01",
            "valid_to": "2024-12-31",
        }
        assert (await admin.post("/v1/memberships", json=body)).status_code == 201
    return units


def _covenant(host: int, threshold: float) -> dict[str, Any]:
    return {
        "signed_on": "2024-03-01",
        "host_unit_id": host,
        "source": "test",
        "key_contents": ["Giữ vững an ninh", "Kéo giảm ít nhất 5% số vụ phạm tội về trật tự xã hội"],
        "targets": [
            {
                "metric": "social_order_crimes",
                "comparator": "le",
                "threshold": threshold,
                "basis": "change_vs_previous_period",
                "scope": "each_member",
                "label": "kéo giảm ít nhất 5%",
            },
            {
                "metric": "social_order_clearance_rate",
                "comparator": "gt",
                "threshold": 90.5,
                "basis": "absolute",
                "scope": "cluster_total",
            },
        ],
    }


def _figures(value: float) -> dict[str, Any]:
    return {
        "figures": [
            {
                "label": "lượt tập thể được khen thưởng",
                "metric": "commended_collectives",
                "kind": "value",
                "qualifier": "approximately",
                "value": value,
                "unit_of_measure": "collectives",
                "source": "test",
                "note": "gần 2.600",
            },
            {
                "label": "tội phạm về trật tự xã hội",
                "metric": "social_order_crimes",
                "kind": "change",
                "qualifier": "exact",
                "value": -14.8,
                "compared_with": "cùng kỳ năm 2023",
                "period_start": "2023-12-15",
                "period_end": "2024-11-14",
            },
        ]
    }


# --- PUTs: each prepares what the record needs and names it; the record is not there yet. ------


async def _leadership(admin: httpx.AsyncClient) -> Case:
    units = await _cluster_70(admin)
    hanoi, cao_bang = units["Hà Nội"], units["Cao Bằng"]
    body = {"leader_unit_id": hanoi, "deputy_unit_id": cao_bang, "decided_on": "2024-01-10"}
    return Case(
        f"{YEAR_SHEET}/leadership",
        "put",
        body,
        {**body, "leader_unit_id": cao_bang, "deputy_unit_id": hanoi},
        YEAR_SHEET,
    )


async def _covenant_case(admin: httpx.AsyncClient) -> Case:
    hanoi = (await _cluster_70(admin))["Hà Nội"]
    return Case(f"{YEAR_SHEET}/covenant", "put", _covenant(hanoi, -5), _covenant(hanoi, -7.25), YEAR_SHEET)


async def _reported(admin: httpx.AsyncClient) -> Case:
    await _cluster_70(admin)
    return Case(f"{YEAR_SHEET}/reported-figures", "put", _figures(2600), _figures(2700), YEAR_SHEET)


async def _framework(admin: httpx.AsyncClient) -> Case:
    await _cluster_70(admin)
    return Case(
        f"{YEAR_SHEET}/scoring-framework", "put", framework(), framework(source="Quy chế mới"), YEAR_SHEET
    )


async def _sheet(admin: httpx.AsyncClient) -> Case:
    hanoi = (await _cluster_70(admin))["Hà Nội"]
    assert (await admin.put(f"{YEAR_SHEET}/scoring-framework", json=framework())).status_code == 201
    return Case(f"{YEAR_SHEET}/scores/CUM/units/{hanoi}", "put", items(30, 50), items(31, 50), YEAR_SHEET)


PUTS: dict[str, Callable[[httpx.AsyncClient], Awaitable[Case]]] = {
    "leadership": _leadership,
    "covenant": _covenant_case,
    "reported figures": _reported,
    "scoring framework": _framework,
    "score sheet": _sheet,
}


# --- PATCHes: each creates its record (if it is not reference data) and names it. ---------------


async def _unit(admin: httpx.AsyncClient) -> Case:
    son_la = await unit_id(admin, "Sơn La", "2024-01-01")
    name = (await admin.get(f"/v1/units/{son_la}")).json()["name"]
    url = f"/v1/units/{son_la}"
    return Case(url, "patch", {"name": name}, {"name": f"{name} (sửa)"}, url)


async def _alias(admin: httpx.AsyncClient) -> Case:
    son_la = await unit_id(admin, "Sơn La", "2024-01-01")
    created = await admin.post(f"/v1/units/{son_la}/aliases", json={"name": "Tây Bắc SL", "note": "thử"})
    assert created.status_code == 201, created.text
    return Case(
        created.headers["location"],
        "patch",
        {"name": "Tây Bắc SL", "active": True},
        {"active": False},
        "/v1/units",
    )


async def _cluster(admin: httpx.AsyncClient) -> Case:
    await _cluster_70(admin)
    url = f"/v1/clusters/{CLUSTER}"
    name = (await admin.get(url)).json()["name"]
    return Case(url, "patch", {"name": name, "note": None}, {"note": "Theo Quyết định số 1"}, YEAR_SHEET)


async def _membership(admin: httpx.AsyncClient) -> Case:
    await _cluster_70(admin)
    page = (await admin.get("/v1/memberships", params={"cluster": str(CLUSTER)})).json()
    url = f"/v1/memberships/{page['items'][0]['id']}"
    return Case(url, "patch", {"valid_to": "2024-12-31", "cluster": CLUSTER}, {"note": "sửa"}, YEAR_SHEET)


async def _proceeding(admin: httpx.AsyncClient) -> Case:
    body = {"kind": "inspection", "opened_on": "2025-09-01", "reference": "QĐ 12/QĐ-TTr"}
    created = await admin.post("/v1/units/21/proceedings", json=body)
    assert created.status_code == 201, created.text
    return Case(created.headers["location"], "patch", body, {"closed_on": "2025-10-01"}, "/v1/units/21")


async def _created(prepare: Callable[[httpx.AsyncClient], Awaitable[Case]], admin: httpx.AsyncClient) -> Case:
    case = await prepare(admin)
    created = await admin.put(case.url, json=case.same)
    assert created.status_code == 201, created.text
    return case


def _put_created(prepare: Callable[[httpx.AsyncClient], Awaitable[Case]]) -> Callable[..., Awaitable[Case]]:
    async def make(admin: httpx.AsyncClient) -> Case:
        return await _created(prepare, admin)

    return make


WRITES: dict[str, Callable[[httpx.AsyncClient], Awaitable[Case]]] = {
    "unit": _unit,
    "unit alias": _alias,
    "cluster": _cluster,
    "membership": _membership,
    "proceeding": _proceeding,
    **{name: _put_created(prepare) for name, prepare in PUTS.items()},
}


async def _revisions(admin: httpx.AsyncClient, url: str) -> list[int]:
    answer = await admin.get(f"{url}/revisions", params={"limit": "200"})
    assert answer.status_code == 200, answer.text
    return [r["version"] for r in answer.json()["items"]]


@pytest.mark.parametrize("name", list(WRITES))
async def test_a_write_that_changes_nothing_is_no_version(
    admin: httpx.AsyncClient, database: Database, name: str
) -> None:
    case = await WRITES[name](admin)
    read = await admin.get(case.url)
    assert read.status_code == 200, read.text
    versions = await _revisions(admin, case.url)
    await admin.get(case.witness)  # now cached
    with counting(database) as statements:
        assert (await admin.get(case.witness)).status_code == 200
    assert statements == [], "the witness is a cached read"
    # Preconditions first, as for any write.
    problem(await admin.request(case.method, case.url, json=case.same), 428, "precondition-required")
    stale = {"If-Match": '"stale-v1-0000-en"'}
    problem(
        await admin.request(case.method, case.url, json=case.same, headers=stale), 412, "precondition-failed"
    )

    same = await admin.request(
        case.method, case.url, json=case.same, headers={"If-Match": read.headers["etag"]}
    )
    assert same.status_code == 200, same.text
    assert same.headers["etag"] == read.headers["etag"]
    assert same.json()["version"] == read.json()["version"]
    assert same.json() == read.json()
    assert await _revisions(admin, case.url) == versions, "no revision"
    with counting(database) as statements:
        assert (await admin.get(case.witness)).status_code == 200
    assert statements == [], "nothing dropped from the cache"
    again = await admin.get(case.url)
    assert (again.headers["etag"], again.json()) == (read.headers["etag"], read.json())

    changed = await admin.request(
        case.method, case.url, json=case.changed, headers={"If-Match": read.headers["etag"]}
    )
    assert changed.status_code == 200, changed.text
    assert changed.json()["version"] == read.json()["version"] + 1
    assert changed.headers["etag"] != read.headers["etag"]
    assert await _revisions(admin, case.url) == [*versions, read.json()["version"] + 1]
    with counting(database) as statements:
        assert (await admin.get(case.witness)).status_code == 200
    assert statements != [], "a real change drops the witness"


@pytest.mark.parametrize("name", list(PUTS))
async def test_if_none_match_star_creates_only(admin: httpx.AsyncClient, name: str) -> None:
    case = await PUTS[name](admin)
    created = await admin.put(case.url, json=case.same, headers={"If-None-Match": "*"})
    assert created.status_code == 201, created.text
    etag = created.headers["etag"]

    refused = problem(
        await admin.put(case.url, json=case.changed, headers={"If-None-Match": "*"}), 412, "record-exists"
    )
    assert refused["current_etag"] == identity_etag(etag)  # the identity one, as every 412 names it
    problem(
        await admin.put(case.url, json=case.changed, headers={"If-None-Match": "*", "If-Match": etag}),
        412,
        "record-exists",
    )
    # If-Match is checked first (RFC 9110 §13.2.2): a stale one is the ordinary 412.
    problem(
        await admin.put(
            case.url, json=case.changed, headers={"If-None-Match": "*", "If-Match": '"stale-v9-0000-en"'}
        ),
        412,
        "precondition-failed",
    )
    read = await admin.get(case.url)
    assert (read.headers["etag"], read.json()["version"]) == (etag, 1), "nothing written"
    assert await _revisions(admin, case.url) == [1]


async def test_if_none_match_naming_the_current_version_refuses_the_write(admin: httpx.AsyncClient) -> None:
    case = await _created(_leadership, admin)
    etag = (await admin.get(case.url)).headers["etag"]
    answer = await admin.put(case.url, json=case.changed, headers={"If-Match": etag, "If-None-Match": etag})
    problem(answer, 412, "precondition-failed")
    other = await admin.put(
        case.url, json=case.changed, headers={"If-Match": etag, "If-None-Match": '"leadership-0-v9-00-en"'}
    )
    assert other.status_code == 200, other.text


def test_the_contract_says_so(app: FastAPI) -> None:
    """Each of these PUTs declares `If-None-Match` and its 412, and says what it means."""
    paths = app.openapi()["paths"]
    base = "/v1/clusters/{number}/years/{year}"
    for path in (
        f"{base}/leadership",
        f"{base}/covenant",
        f"{base}/reported-figures",
        f"{base}/scoring-framework",
        f"{base}/scores/{{scorer}}/units/{{unit_id}}",
    ):
        operation = paths[path]["put"]
        assert "201" in operation["responses"], path
        header = [p for p in operation["parameters"] if p.get("name") == "If-None-Match"]
        assert len(header) == 1, path
        assert header[0]["in"] == "header", path
        assert "record-exists" in header[0]["description"], path
        assert "If-None-Match" in operation["responses"]["412"]["description"], path
        assert "record-exists" in operation["description"], path
