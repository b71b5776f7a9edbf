"""A ballot is counted exactly once, whatever crashes: the server killed (SIGKILL) or PostgreSQL
restarted as after a power cut, at each step of a ballot. After each, either the ballot is
counted (a retry is 409 `already-voted`) or it left nothing (the voter casts it again), and the
round closes with every ballot counted once.

The steps are widened by a trigger that sleeps inside the ballot's transaction: after the
participation is written (before the sealed ballot), and after the box is counted (just before
the commit); the third step is just after the commit. The app runs under uvicorn against the
run's private PostgreSQL (`tests/private_postgres.py`), in a database of these tests' own."""

import asyncio
import os
import signal
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import asyncpg
import httpx
import pytest
from pydantic import TypeAdapter
from sqlalchemy.engine import make_url

from app.core.config import get_settings
from app.core.database import Database
from app.core.embedded import stop as stop_embedded
from app.keys.schemas import KeyCreate
from app.keys.service import create_key
from app.votes.seal import new_key
from tests.helpers import TEST_ACTOR, bearer, problem
from tests.live import Uvicorn, start, stop
from tests.private_postgres import Server, prepare
from tests.votes.helpers import attend, close, cluster_with, open_vote

pytestmark = pytest.mark.xdist_group("private-postgres")

DATABASE = "thidua_crashes"
SEAL_KEY = new_key()
"""One key for every start of the server, as BALLOT_SEAL_KEY is in production."""
STEPS = ("vote_sealed_ballots", "vote_ballot_boxes", "committed")
WINDOW_SECONDS = 30
"""How long the trigger holds a ballot's transaction open (the crash comes long before)."""
WINDOW = f"""
CREATE TABLE crash_window (at text NOT NULL);
CREATE FUNCTION crash_window() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF EXISTS (SELECT 1 FROM crash_window WHERE at = TG_TABLE_NAME) THEN
    PERFORM pg_sleep({WINDOW_SECONDS});
  END IF;
  RETURN NEW;
END $$;
CREATE TRIGGER crash_window BEFORE INSERT ON vote_sealed_ballots
  FOR EACH ROW EXECUTE FUNCTION crash_window();
CREATE TRIGGER crash_window AFTER UPDATE ON vote_ballot_boxes
  FOR EACH ROW EXECUTE FUNCTION crash_window();
ALTER DATABASE {DATABASE} SET client_connection_check_interval = '100ms';
"""
"""A backend whose client died notices within 100 ms, even asleep, and rolls back."""


_ASLEEP = "SELECT 1 FROM pg_stat_activity WHERE wait_event = 'PgSleep' AND datname = $1"


def _dsn(url: str) -> str:
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


async def _sql(url: str, sql: str, *args: object) -> list[asyncpg.Record]:
    connection = await asyncpg.connect(_dsn(url))
    try:
        return list(await connection.fetch(sql, *args))
    finally:
        await connection.close()


async def _script(url: str, sql: str) -> None:
    connection = await asyncpg.connect(_dsn(url))
    try:
        await connection.execute(sql)
    finally:
        await connection.close()


@pytest.fixture(scope="module")
def pg(private_data_dir: Path) -> Iterator[Server]:
    server = Server(private_data_dir / "pg")
    try:
        url = server.database_url(DATABASE)

        async def fresh() -> None:
            await _sql(server.url, f'DROP DATABASE IF EXISTS "{DATABASE}" WITH (FORCE)')
            await _sql(server.url, f'CREATE DATABASE "{DATABASE}"')

        asyncio.run(fresh())
        prepare(url)
        asyncio.run(_script(url, WINDOW))
        yield server
    finally:
        stop_embedded(private_data_dir)  # and forget its holders, so that the next module starts it


class World:
    """The app against the crash database, restartable, and the keys it knows."""

    def __init__(self, server: Server) -> None:
        self.server = server
        self.url = server.database_url(DATABASE)
        self.app: Uvicorn | None = None
        self.port = 0

    def start_app(self) -> None:
        self.app = start(self.url, port=self.port or None, BALLOT_SEAL_KEY=SEAL_KEY)
        self.port = int(self.app.base.rsplit(":", 1)[1])

    def kill_app(self) -> None:
        assert self.app is not None
        os.kill(self.app.process.pid, signal.SIGKILL)
        self.app.process.wait(timeout=10)

    @property
    def base(self) -> str:
        assert self.app is not None
        return self.app.base

    async def key(self, body: dict[str, object]) -> str:
        database = Database(self.url, get_settings().model_copy(update={"database_url": self.url}))
        try:
            async with database.sessionmaker() as session, session.begin():
                data = TypeAdapter(KeyCreate).validate_python(body)
                return (await create_key(session, data, TEST_ACTOR)).key
        finally:
            await database.dispose()

    async def counts(self, vote_id: int) -> tuple[int, int, int]:
        """Participations, the box's count and the sealed ballots of round 1: always equal."""
        (row,) = await _sql(
            self.url,
            "SELECT (SELECT count(*) FROM vote_participations WHERE vote_id = $1),"
            " (SELECT ballots_cast FROM vote_ballot_boxes WHERE vote_id = $1 AND round = 1),"
            " (SELECT count(*) FROM vote_sealed_ballots WHERE vote_id = $1)",
            vote_id,
        )
        return int(row[0]), int(row[1]), int(row[2])

    async def wait_asleep(self, asleep: bool) -> None:
        """Until a ballot's transaction is held in the window (`asleep`), or no longer is."""
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            found = await _sql(
                self.url,
                "SELECT 1 FROM pg_stat_activity WHERE wait_event = 'PgSleep' AND datname = $1",
                DATABASE,
            )
            if bool(found) == asleep:
                return
            await asyncio.sleep(0.05)
        raise AssertionError("the ballot never reached the window" if asleep else "it never left it")


@pytest.fixture
async def world(pg: Server) -> AsyncIterator[World]:
    world = World(pg)
    world.start_app()
    try:
        yield world
    finally:
        if world.app is not None and world.app.process.poll() is None:
            stop(world.app)
        await _sql(world.url, "DELETE FROM crash_window")


def _post_ballot(base: str, vote_id: int, key: str, approvals: list[int]) -> httpx.Response | Exception:
    try:
        return httpx.post(
            f"{base}/v1/votes/{vote_id}/ballots",
            json={"approvals": approvals},
            headers=bearer(key),
            timeout=60,
        )
    except httpx.TransportError as exc:
        return exc


@pytest.mark.parametrize("crash", ["kill the server", "restart PostgreSQL"])
async def test_a_ballot_counts_once_or_can_be_cast_again_after_a_crash_at_each_step(
    world: World, crash: str
) -> None:
    number, first = (81, 2) if crash == "kill the server" else (82, 10)
    admin_key = await world.key({"name": "admin", "role": "admin"})
    async with httpx.AsyncClient(base_url=world.base, headers=bearer(admin_key), timeout=30) as admin:
        voters = await cluster_with(admin, number, 4, first=first)
        vote = await open_vote(admin, number, voters[:1])
        assert (await attend(admin, vote["id"], voters)).status_code == 200
    candidate = voters[0]
    for voter, step in zip(voters[1:], STEPS, strict=True):
        key = await world.key({"name": f"unit {voter}", "role": "unit", "unit_id": voter})
        if step != "committed":
            await _sql(world.url, "INSERT INTO crash_window VALUES ($1)", step)
            in_flight = asyncio.create_task(
                asyncio.to_thread(_post_ballot, world.base, vote["id"], key, [candidate])
            )
            await world.wait_asleep(True)
        else:
            done = await asyncio.to_thread(_post_ballot, world.base, vote["id"], key, [candidate])
            assert isinstance(done, httpx.Response), done
            assert done.status_code == 201, done.text
        if crash == "kill the server":
            world.kill_app()
        else:
            world.server.crash()
            world.server.start()
        if step != "committed":
            answer = await in_flight
            if crash == "restart PostgreSQL":
                assert isinstance(answer, httpx.Response), answer
                problem(answer, 503, "ballot-not-counted")
            else:
                assert isinstance(answer, Exception), "the killed server answered nothing"
            await world.wait_asleep(False)
            await _sql(world.url, "DELETE FROM crash_window")
        if crash == "kill the server":
            world.start_app()
        participations, box, sealed = await world.counts(vote["id"])
        assert participations == box == sealed, (step, participations, box, sealed)
        retry = await asyncio.to_thread(_post_ballot, world.base, vote["id"], key, [candidate])
        assert isinstance(retry, httpx.Response), retry
        if step == "committed":
            problem(retry, 409, "already-voted")  # it was counted: once
        else:
            assert retry.status_code == 201, retry.text  # it left nothing: cast again
            problem(
                await asyncio.to_thread(_post_ballot, world.base, vote["id"], key, [candidate]),
                409,
                "already-voted",
            )
    assert await world.counts(vote["id"]) == (3, 3, 3)
    async with httpx.AsyncClient(base_url=world.base, headers=bearer(admin_key), timeout=30) as admin:
        closed = await close(admin, vote["id"])
    assert closed.status_code == 200, closed.text
    tallies = closed.json()["rounds"][0]["result"]["tallies"]
    assert [(t["unit_id"], t["approvals"]) for t in tallies] == [(candidate, 3)]
