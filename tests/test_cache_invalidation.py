"""The cache's one invalidation path: a request's session (`invalidate`) and a connection of the
caller's own (`notify`, which ballots use) send the same payload, built in one place, and only
when their transaction commits; the package keeps every name the app imports from it."""

import ast
import asyncio
import time
from collections.abc import AsyncIterator
from pathlib import Path

import asyncpg
import httpx
import pytest
from fastapi import FastAPI

import app.core.cache
from app.core.cache import ALL, ReadCache, invalidate, listener_dsn, notify
from app.core.cache.invalidation import read_payload
from app.core.config import Settings
from app.core.database import Database
from tests.helpers import UnitKey, bearer, problem
from tests.votes.helpers import attend, cluster_with, open_vote, paper

ROOT = Path(__file__).resolve().parent.parent


class Heard:
    """The payloads notified on the cache's channel, as a listening instance receives them."""

    def __init__(self) -> None:
        self.payloads: list[str] = []

    def __call__(self, connection: object, pid: int, channel: str, payload: object) -> None:
        self.payloads.append(str(payload))

    async def wait_for(self, count: int, within: float = 5.0) -> list[str]:
        started = time.monotonic()
        while len(self.payloads) < count:
            assert time.monotonic() - started < within, f"heard only {self.payloads}"
            await asyncio.sleep(0.005)
        return self.payloads


@pytest.fixture
async def heard(database_url: str, settings: Settings) -> AsyncIterator[Heard]:
    connection = await asyncpg.connect(listener_dsn(database_url))
    listener = Heard()
    await connection.add_listener(settings.cache_channel, listener)
    try:
        yield listener
    finally:
        await connection.close()


async def _marker(database: Database, settings: Settings) -> None:
    """A committed notification: whatever was to be heard before it has been heard once it is."""
    async with database.engine.begin() as connection:
        await notify(connection, ["marker"], channel=settings.cache_channel)


async def _settled(heard: Heard, database: Database, settings: Settings) -> int:
    """How many payloads were heard up to a marker sent now (and heard)."""
    await _marker(database, settings)
    started = time.monotonic()
    while "- marker" not in heard.payloads:
        assert time.monotonic() - started < 5, f"heard only {heard.payloads}"
        await asyncio.sleep(0.005)
    return heard.payloads.index("- marker") + 1


async def test_a_connection_notifies_its_tags_on_commit_only(
    database: Database, settings: Settings, heard: Heard
) -> None:
    async with database.engine.begin() as connection:
        sent = await notify(connection, ["unit:3", "", "cluster:5"], channel=settings.cache_channel)
        await asyncio.sleep(0.05)
        assert heard.payloads == [], "nothing is delivered before the commit"
    assert sent == {"cluster:5", "unit:3"}
    assert await heard.wait_for(1) == ["- cluster:5 unit:3"]


async def test_a_rolled_back_or_empty_notification_sends_nothing(
    database: Database, settings: Settings, heard: Heard
) -> None:
    async with database.engine.connect() as connection:
        transaction = await connection.begin()
        await notify(connection, ["cluster:7"], channel=settings.cache_channel)
        await transaction.rollback()
    async with database.engine.begin() as connection:
        assert await notify(connection, ["", ""], channel=settings.cache_channel) == frozenset()
    await _marker(database, settings)
    assert await heard.wait_for(1) == ["- marker"]


async def test_the_sender_is_named_and_a_long_payload_drops_everything(
    database: Database, settings: Settings, heard: Heard
) -> None:
    cache = ReadCache()
    many = [f"unit:{n}" for n in range(2000)]
    async with database.engine.begin() as connection:
        await notify(connection, ["units"], channel=settings.cache_channel, sender=cache)
    async with database.engine.begin() as connection:
        assert await notify(connection, many, channel=settings.cache_channel) == frozenset(many)
    assert await heard.wait_for(2) == [f"{cache.instance} units", f"- {ALL}"]
    assert read_payload(heard.payloads[0]) == (cache.instance, ["units"])


async def test_a_session_and_a_connection_send_the_same_payload(
    app: FastAPI, database: Database, settings: Settings, heard: Heard
) -> None:
    """`invalidate` goes through `notify`: its sender is the session's cache, its tags sorted."""
    cache: ReadCache = app.state.cache
    async with database.sessionmaker() as session, session.begin():
        await invalidate(session, "unit:3", "cluster:5")
        await invalidate(session, "unit:3")  # already pending: not sent twice
    async with database.engine.begin() as connection:
        await notify(connection, ["unit:3", "cluster:5"], channel=settings.cache_channel, sender=cache)
    first, second = await heard.wait_for(2)
    assert first == second == f"{cache.instance} cluster:5 unit:3"
    await asyncio.sleep(0.05)
    assert len(heard.payloads) == 2


async def test_a_ballot_notifies_its_cluster_only_with_its_commit(
    admin: httpx.AsyncClient, unit_key: UnitKey, heard: Heard, database: Database, settings: Settings
) -> None:
    """The payload a ballot's own transaction sends is the one every write sends: `-` (every
    instance applies it; this one has dropped at once too) and the vote's cluster, nothing of the
    voter or the ballot. A refused ballot sends nothing."""
    voters = await cluster_with(admin, 93, 5)
    vote = await open_vote(admin, 93, [voters[0]])
    await attend(admin, vote["id"], voters)
    key = bearer(await unit_key(voters[1]))  # made first: making a key drops the cached keys
    ballot = f"/v1/votes/{vote['id']}/ballots"
    before = await _settled(heard, database, settings)
    assert (await admin.post(ballot, json={"approvals": [voters[0]]}, headers=key)).status_code == 201
    problem(await admin.post(ballot, json={"approvals": [voters[0]]}, headers=key), 409, "already-voted")
    assert (await paper(admin, vote["id"], voters[2:4], [[voters[0]], []])).status_code == 201
    await _marker(database, settings)
    payloads = await heard.wait_for(before + 3)
    assert payloads[before:] == ["- cluster:93", "- cluster:93", "- marker"]


def _imported_from_the_cache() -> set[str]:
    names: set[str] = set()
    for folder in ("app", "tests", "bench"):
        for path in (ROOT / folder).rglob("*.py"):
            if "node_modules" in path.parts:
                continue
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                if isinstance(node, ast.ImportFrom) and node.module == "app.core.cache":
                    names.update(alias.name for alias in node.names)
    return names


def test_the_package_keeps_every_name_the_app_imports() -> None:
    names = _imported_from_the_cache()
    assert {"ReadCache", "invalidate", "cached", "Listener", "ALL"} <= names
    assert not names - set(app.core.cache.__all__)
    assert all(hasattr(app.core.cache, name) for name in app.core.cache.__all__)
