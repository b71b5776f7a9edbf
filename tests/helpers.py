"""Helpers for the tests: RFC 9457 problems, keys and bearer headers, units and memberships, and
for the name tests searching units and importing a small history file."""

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import yaml

from app.core.database import Database
from app.core.identity import Actor
from app.history.importer import import_file
from app.history.schemas import ImportSummary

TEST_ACTOR = Actor("system", "test")
"""Who the tests record when they call a service directly."""

PROBLEM_BASE = "/problems/"
PROBLEM_MEMBERS = frozenset({"type", "title", "status", "detail", "instance", "request_id"})
"""The members every problem may carry; a refusal that must reveal nothing carries no others."""


def problem(response: httpx.Response, status: int, type_: str) -> dict[str, Any]:
    """Assert `response` is an RFC 9457 problem with `status` and the type `type_` (the slug
    after `/problems/`, or `about:blank`), and return its body."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json"), response.headers
    body: dict[str, Any] = response.json()
    assert body["status"] == status
    assert body["title"]
    expected = type_ if type_.startswith("about:") else PROBLEM_BASE + type_
    assert body["type"] == expected, body
    return body


@dataclass
class Keys:
    admin: str
    reader: str
    unit: str
    """A `unit` key for Hà Nội (unit 1), which no test writes for: the "wrong unit"."""


UnitKey = Callable[[int], Awaitable[str]]


def bearer(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


async def unit_id(client: httpx.AsyncClient, name: str, as_of: str) -> int:
    """The id of the unit named `name` on `as_of`."""
    page = (await client.get("/v1/units", params={"q": name, "as_of": as_of})).json()
    matches = [u for u in page["items"] if u["name"] == name] or page["items"]
    assert len(matches) == 1, (name, as_of, page)
    return int(matches[0]["id"])


async def join(
    client: httpx.AsyncClient, unit: int, cluster: int, valid_from: str, valid_to: str | None = None
) -> httpx.Response:
    """Record that `unit` is in `cluster` over `[valid_from, valid_to]`."""
    body = {"unit_id": unit, "cluster": cluster, "valid_from": valid_from, "valid_to": valid_to}
    return await client.post("/v1/memberships", json=body)


# --- names -----------------------------------------------------------------------------------

KIND_ORDER = ("exact", "alias", "partial", "similar")


async def search(client: httpx.AsyncClient, q: str, **params: str) -> list[dict[str, Any]]:
    """Every unit `GET /v1/units?q=` answers, in its order (one page of 200)."""
    response = await client.get("/v1/units", params={"q": q, "limit": "200", **params})
    assert response.status_code == 200, response.text
    assert response.json()["next_cursor"] is None
    items: list[dict[str, Any]] = response.json()["items"]
    return items


def found(items: list[dict[str, Any]]) -> list[tuple[str, str, str | None]]:
    """(name, match kind, alias) of each item."""
    return [(u["name"], u["match"]["kind"], u["match"]["alias"]) for u in items]


def assert_ranked(items: list[dict[str, Any]]) -> None:
    """Exact, alias, partial, similar; then score descending; then id."""
    keys = [(KIND_ORDER.index(u["match"]["kind"]), -u["match"]["score"], u["id"]) for u in items]
    assert keys == sorted(keys), found(items)
    assert len({u["id"] for u in items}) == len(items)


async def correct(client: httpx.AsyncClient, url: str, body: dict[str, Any]) -> httpx.Response:
    """PATCH `url` with `body` under the ETag of the version read just before."""
    etag = (await client.get(url)).headers["etag"]
    return await client.patch(url, json=body, headers={"If-Match": etag})


def history_file(tmp_path: Path, number: int, year: int, attested_on: str, members: list[str]) -> Path:
    """A history file: cluster `number` in `year` with `members` named as a source writes them."""
    path = tmp_path / "history.yaml"
    document = {
        "format": "thidua-history/1",
        "sources": {"s": {"title": "Test"}},
        "clusters": [
            {
                "number": number,
                "years": [
                    {
                        "year": year,
                        "source": "s",
                        "attested_on": attested_on,
                        "members": [{"unit": m} for m in members],
                    }
                ],
            }
        ],
    }
    path.write_text(yaml.safe_dump(document, allow_unicode=True), encoding="utf-8")
    return path


async def run_import(database: Database, path: Path) -> ImportSummary:
    async with database.sessionmaker() as session, session.begin():
        return await import_file(session, path)
