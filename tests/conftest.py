"""Fixtures: a fresh PostgreSQL database (embedded, or beside DATABASE_URL's), migrated once;
every test starts from the reference data alone; the real app over httpx's ASGI transport, or
served by uvicorn on a free port (`live_server`)."""

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import dataclass
from typing import Any

import asyncpg
import httpx
import pytest
from asgi_lifespan import LifespanManager
from fastapi import FastAPI
from pydantic import TypeAdapter
from sqlalchemy import text
from sqlalchemy.engine import make_url

from app.core.cache import ALL, invalidate
from app.core.config import Settings, get_settings
from app.core.database import Database
from app.core.embedded import ensure_database
from app.core.migrations import upgrade
from app.history.importer import import_file
from app.keys.models import Role
from app.keys.schemas import KeyCreate
from app.keys.service import create_key
from app.main import create_app
from app.models import metadata
from app.units.reference import load_reference
from tests.live import RATE_LIMITS_NEVER_REACHED, serve


def _test_database_url(suffix: str = "test") -> str:
    """A database of our own (`thidua_<suffix>`, or `<DATABASE_URL's>_<suffix>`): never the one
    DATABASE_URL names."""
    base = get_settings()
    if base.database_url is None:
        return ensure_database(base.data_dir, f"thidua_{suffix}")
    url = make_url(base.database_url).set(drivername="postgresql+asyncpg")
    target = url.set(database=f"{url.database}_{suffix}")

    async def create() -> None:
        admin_dsn = url.set(drivername="postgresql", database="postgres").render_as_string(
            hide_password=False
        )
        conn = await asyncpg.connect(admin_dsn)
        try:
            exists = await conn.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", target.database)
            if not exists:
                await conn.execute(f'CREATE DATABASE "{target.database}"')
        finally:
            await conn.close()

    asyncio.run(create())
    return target.render_as_string(hide_password=False)


def empty_database(suffix: str) -> str:
    """The URL of a database of our own with an empty schema (no migrations applied)."""
    url = _test_database_url(suffix)

    async def reset() -> None:
        database = Database(url, get_settings())
        async with database.engine.begin() as conn:
            await conn.execute(text("DROP SCHEMA public CASCADE"))
            await conn.execute(text("CREATE SCHEMA public"))
        await database.dispose()

    asyncio.run(reset())
    return url


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


_TABLES = ", ".join(t.name for t in metadata.sorted_tables)


@pytest.fixture(autouse=True)
async def clean(database: Database, settings: Settings) -> None:
    """Reference data only, with the same ids every time."""
    async with database.sessionmaker() as session, session.begin():
        await session.execute(text(f"TRUNCATE {_TABLES} RESTART IDENTITY CASCADE"))
        await invalidate(session, ALL)
        await load_reference(session, settings.reference_dir)


@pytest.fixture
def live_server(settings: Settings) -> Iterator[str]:
    """The real app under uvicorn on a free loopback port, against the test database: its base URL
    (`http://127.0.0.1:<port>`), once `/readyz` answers; stopped after the test."""
    assert settings.database_url is not None
    with serve(settings.database_url) as base:
        yield base


@pytest.fixture
async def client(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    """Asks for English, which most tests assert on (`tests/test_i18n.py` speaks Vietnamese)."""
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(
        transport=transport, base_url="http://thidua.test", headers={"Accept-Language": "en"}
    ) as c:
        yield c


@dataclass
class Keys:
    admin: str
    reader: str
    unit: str
    """A `unit` key for Hà Nội (unit 1), which no test writes for: the "wrong unit"."""


def bearer(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


@pytest.fixture
async def keys(database: Database) -> Keys:
    async with database.sessionmaker() as session, session.begin():
        made = {}
        for name, role, extra in (
            ("admin", Role.admin, {}),
            ("reader", Role.reader, {}),
            ("unit", Role.unit, {"unit_id": 1}),
        ):
            data = TypeAdapter(KeyCreate).validate_python({"name": f"test {name}", "role": role, **extra})
            made[name] = (await create_key(session, data, "test")).key
    return Keys(admin=made["admin"], reader=made["reader"], unit=made["unit"])


@pytest.fixture
async def admin(client: httpx.AsyncClient, keys: Keys) -> httpx.AsyncClient:
    client.headers.update(bearer(keys.admin))
    return client


@pytest.fixture
async def seeded(database: Database, settings: Settings) -> None:
    """The real history of the seeds, as `make run` loads it."""
    async with database.sessionmaker() as session, session.begin():
        await import_file(session, settings.history_file)


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
        async with database.sessionmaker() as session, session.begin():
            data = TypeAdapter(KeyCreate).validate_python(
                {"name": f"cluster {number}", "role": "cluster", "cluster": number}
            )
            created = await create_key(session, data, "test")
        return created.key

    return make


UnitKey = Callable[[int], Awaitable[str]]


@pytest.fixture
async def unit_key(database: Database) -> UnitKey:
    """Makes a `unit` key for a unit."""

    async def make(unit: int) -> str:
        async with database.sessionmaker() as session, session.begin():
            data = TypeAdapter(KeyCreate).validate_python(
                {"name": f"unit {unit}", "role": "unit", "unit_id": unit}
            )
            return (await create_key(session, data, "test")).key

    return make


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


def problem(response: httpx.Response, status: int) -> dict[str, Any]:
    """Assert `response` is an RFC 9457 problem with `status`, and return its body."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json"), response.headers
    body: dict[str, Any] = response.json()
    assert body["status"] == status
    assert body["title"]
    assert "type" in body
    return body
