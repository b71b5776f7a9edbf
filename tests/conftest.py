"""Fixtures only (helpers live in `tests/helpers.py`, `tests/databases.py`, `tests/live.py`, …).

Each xdist worker has a PostgreSQL database of its own (embedded, or beside DATABASE_URL's),
migrated once and loaded once with the reference data: the baseline. A test that uses the database
(any fixture built on `database_url`) starts from that baseline, restored only as far as the
previous tests wrote to it (`tests/resets.py`); a test that uses none starts no database at all.
The real app runs over httpx's ASGI transport (`client`), or under uvicorn on a free port, one per
worker for the whole run (`live_server`).
"""

import tempfile
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from pathlib import Path

import httpx
import pytest
from asgi_lifespan import LifespanManager
from fastapi import FastAPI
from pydantic import TypeAdapter
from sqlalchemy import text

from app.auth.roles import Role
from app.core.config import Settings, get_settings
from app.core.database import Database
from app.core.embedded import stop
from app.core.migrations import upgrade
from app.history.importer import import_file
from app.keys.schemas import KeyCreate
from app.keys.service import create_key
from app.main import create_app
from app.reference import load_reference
from tests.databases import empty_database
from tests.helpers import TEST_ACTOR, Keys, UnitKey, bearer
from tests.live import RATE_LIMITS_NEVER_REACHED, serve
from tests.resets import Baseline, Snapshot, restore_baseline, take_baseline


@pytest.fixture(scope="session")
def database_url() -> str:
    url = empty_database("test")
    upgrade(url)
    return url


@pytest.fixture(scope="session")
def settings(database_url: str) -> Settings:
    """Rate limits on, with budgets no test reaches (`tests/test_rate_limits.py` sets low ones)."""
    return get_settings().model_copy(
        update={"database_url": database_url, "rate_limit_enabled": True, **RATE_LIMITS_NEVER_REACHED}
    )


@pytest.fixture(scope="session")
async def app(settings: Settings) -> AsyncIterator[FastAPI]:
    application = create_app(settings)
    async with LifespanManager(application):
        yield application


@pytest.fixture(scope="session")
def database(app: FastAPI) -> Database:
    return app.state.database  # type: ignore[no-any-return]


@pytest.fixture(scope="session")
async def baseline(database: Database, settings: Settings) -> Baseline:
    """The reference data, loaded once into this worker's freshly migrated database."""
    async with database.sessionmaker() as session, session.begin():
        await load_reference(session, settings.reference_dir)
    return await take_baseline(database)


@pytest.fixture
async def restored(database: Database, baseline: Baseline) -> set[str]:
    """The database as the baseline has it; the tables the previous tests had written."""
    return await restore_baseline(database, baseline)


@pytest.fixture(autouse=True)
def clean(request: pytest.FixtureRequest) -> None:
    """Opt-in by use: a test whose fixtures reach the database starts from the baseline; any
    other test starts nothing. (A module with a database of its own overrides this.)"""
    if "database_url" in request.fixturenames:
        request.getfixturevalue("restored")


@pytest.fixture(scope="session")
def live_server_base(database_url: str) -> Iterator[str]:
    """One uvicorn per worker for the whole run. Its read cache is off: a reset between tests
    notifies every instance, but nothing tells when another process has heard it, and a test
    must never read the previous test's data from a cache."""
    with serve(database_url, cache=False) as base:
        yield base


@pytest.fixture
def live_server(live_server_base: str) -> str:
    """The real app under uvicorn on a free loopback port, against the test database: its base
    URL (`http://127.0.0.1:<port>`), already answering `/readyz`."""
    return live_server_base


@pytest.fixture
async def client(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    """Asks for English, which most tests assert on (`tests/test_i18n.py` speaks Vietnamese)."""
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(
        transport=transport, base_url="http://thidua.test", headers={"Accept-Language": "en"}
    ) as c:
        yield c


async def _key(database: Database, body: dict[str, object]) -> str:
    async with database.sessionmaker() as session, session.begin():
        data = TypeAdapter(KeyCreate).validate_python(body)
        return (await create_key(session, data, TEST_ACTOR)).key


@pytest.fixture
async def keys(database: Database) -> Keys:
    made = {}
    for name, role, extra in (
        ("admin", Role.admin, {}),
        ("reader", Role.reader, {}),
        ("unit", Role.unit, {"unit_id": 1}),
    ):
        made[name] = await _key(database, {"name": f"test {name}", "role": role, **extra})
    return Keys(admin=made["admin"], reader=made["reader"], unit=made["unit"])


@pytest.fixture
async def admin(client: httpx.AsyncClient, keys: Keys) -> httpx.AsyncClient:
    client.headers.update(bearer(keys.admin))
    return client


@pytest.fixture
async def seeded(database: Database, settings: Settings, baseline: Baseline, restored: set[str]) -> None:
    """The real history of the seeds, as `make run` loads it: imported through the services by
    the first test of a worker that asks (`tests/test_history_import.py` imports it for itself
    too), then put back from its snapshot (`tests/resets.py` `Snapshot`)."""
    global _seeded_snapshot
    if _seeded_snapshot is not None:
        async with database.sessionmaker() as session, session.begin():
            await _seeded_snapshot.put_back(session)
        return
    async with database.sessionmaker() as session:
        before = await Snapshot.marks(session)
    async with database.sessionmaker() as session, session.begin():
        await import_file(session, settings.history_file)
    async with database.sessionmaker() as session, session.begin():
        _seeded_snapshot = await Snapshot.take(session, baseline, before)


_seeded_snapshot: Snapshot | None = None


@pytest.fixture
async def seeded_without_awards(seeded: None, database: Database) -> None:
    """The seed history without the awards its articles report, for tests that nominate the
    same units afresh (one achievement earns one award)."""
    async with database.sessionmaker() as session, session.begin():
        await session.execute(text("DELETE FROM award_transitions"))
        await session.execute(text("DELETE FROM awards"))


@pytest.fixture
async def cluster_key(database: Database) -> Callable[[int], Awaitable[str]]:
    async def make(number: int) -> str:
        return await _key(database, {"name": f"cluster {number}", "role": "cluster", "cluster": number})

    return make


@pytest.fixture
async def unit_key(database: Database) -> UnitKey:
    """Makes a `unit` key for a unit."""

    async def make(unit: int) -> str:
        return await _key(database, {"name": f"unit {unit}", "role": "unit", "unit_id": unit})

    return make


@pytest.fixture(scope="session")
def private_data_dir() -> Iterator[Path]:
    """A DATA_DIR whose embedded PostgreSQL (one initdb per run) the tests may start, stop,
    freeze and kill: `tests/test_outage.py` and the CLI's `serve` tests, which share the xdist
    group `private-postgres` so that they take turns on one worker. Not under pytest's
    tmp_path: another pytest run on the machine resets its base to 0700, locking the postgres
    system user out of its own data directory."""
    with tempfile.TemporaryDirectory(prefix="thidua-private-", ignore_cleanup_errors=True) as root:
        data_dir = Path(root) / "data"
        data_dir.mkdir()
        try:
            yield data_dir
        finally:
            stop(data_dir)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """The longest tests first (Schemathesis, `contract`): xdist hands tests out in this order, so
    they start at once, each on a worker, while the short ones fill in around them, rather than
    starting last and leaving the other worker idle."""
    items.sort(key=lambda item: item.get_closest_marker("contract") is None)
