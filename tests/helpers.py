"""Plain helpers for the name tests: searching units, importing a small history file."""

from pathlib import Path
from typing import Any

import httpx
import yaml

from app.core.database import Database
from app.history.importer import import_file
from app.history.schemas import ImportSummary

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
