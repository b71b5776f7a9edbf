"""The versioned cluster-year record (covenant, reported figures, leadership, scoring framework,
score sheets): one write path with one locking order, the cluster row first, then the record.
Two first creates racing end with one winner and a precise answer for the other, never a
generic 409."""

import asyncio
from typing import Any

import httpx
import pytest

from app.core.etag import identity_etag
from tests.helpers import problem
from tests.scoring.helpers import FRAMEWORK_URL, framework

pytestmark = pytest.mark.usefixtures("cluster_70")

COVENANT_URL = "/v1/clusters/70/years/2024/covenant"
FIGURES_URL = "/v1/clusters/70/years/2024/reported-figures"


def _covenant(note: str) -> dict[str, Any]:
    return {"signed_on": "2024-03-01", "source": "test", "key_contents": [], "targets": [], "note": note}


def _figures(note: str) -> dict[str, Any]:
    figure = {"label": "Số vụ", "kind": "value", "qualifier": "exact", "value": 12, "note": note}
    return {"figures": [figure]}


RECORDS = {
    "scoring-framework": (FRAMEWORK_URL, lambda i: framework(note=f"lần {i}")),
    "covenant": (COVENANT_URL, lambda i: _covenant(f"lần {i}")),
    "reported-figures": (FIGURES_URL, lambda i: _figures(f"lần {i}")),
}


@pytest.mark.parametrize("record", RECORDS)
@pytest.mark.parametrize(
    ("headers", "loser_status", "loser_type"),
    [({"If-None-Match": "*"}, 412, "record-exists"), ({}, 428, "precondition-required")],
    ids=["create-only", "no-precondition"],
)
async def test_two_concurrent_first_creates_end_with_one_winner(
    admin: httpx.AsyncClient,
    record: str,
    headers: dict[str, str],
    loser_status: int,
    loser_type: str,
) -> None:
    url, body = RECORDS[record]
    responses = await asyncio.gather(*(admin.put(url, json=body(i), headers=headers) for i in range(2)))
    assert sorted(r.status_code for r in responses) == [201, loser_status], [r.text for r in responses]
    winner = next(r for r in responses if r.status_code == 201)
    loser = next(r for r in responses if r.status_code != 201)
    if loser_type == "record-exists":
        problem(loser, 412, "record-exists")
    else:
        problem(loser, 428, "precondition-required")
    stored = await admin.get(url)
    assert stored.json() == winner.json()
    assert stored.json()["version"] == 1
    if loser_status == 412:
        assert loser.json()["current_etag"] == identity_etag(winner.headers["etag"])
    revisions = (await admin.get(f"{url}/revisions")).json()["items"]
    assert [r["version"] for r in revisions] == [1]
