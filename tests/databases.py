"""The tests' own PostgreSQL databases: beside DATABASE_URL's (`<its name>_<suffix>`) or in the
embedded server (`thidua_<suffix>`), never the one DATABASE_URL names; one set per xdist worker."""

import asyncio
import os

import asyncpg
from sqlalchemy import text
from sqlalchemy.engine import make_url

from app.core.config import get_settings
from app.core.database import Database
from app.core.embedded import ensure_database


def worker() -> str:
    """This process's xdist worker (`gw0`, `gw1`, …), or `main` without xdist; prefixed by
    `THIDUA_TEST_RUN` when set, so that two runs at once on one machine never share a database."""
    return os.environ.get("THIDUA_TEST_RUN", "") + os.environ.get("PYTEST_XDIST_WORKER", "main")


def test_database_url(suffix: str) -> str:
    """A database of this worker's own named after `suffix`, created if missing."""
    name = f"{suffix}_{worker()}"
    base = get_settings()
    if base.database_url is None:
        return ensure_database(base.data_dir, f"thidua_{name}")
    url = make_url(base.database_url).set(drivername="postgresql+asyncpg")
    target = url.set(database=f"{url.database}_{name}")

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
    """The URL of a database of this worker's own with an empty schema (no migrations applied)."""
    url = test_database_url(suffix)

    async def reset() -> None:
        database = Database(url, get_settings())
        async with database.engine.begin() as conn:
            await conn.execute(text("DROP SCHEMA IF EXISTS test_baseline CASCADE"))
            await conn.execute(text("DROP SCHEMA public CASCADE"))
            await conn.execute(text("CREATE SCHEMA public"))
        await database.dispose()

    asyncio.run(reset())
    return url
