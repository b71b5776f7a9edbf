"""Run Alembic from code: the CLI, `make run` and the tests all migrate the same way; and the lock
that lets several instances start on one database at the same time."""

import asyncio
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

from alembic import command
from alembic.config import Config
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection, create_async_engine
from sqlalchemy.pool import NullPool

from app.core.config import PROJECT_ROOT, get_settings
from app.core.database import resolve_database_url

logger = logging.getLogger(__name__)

PREPARATION_LOCK_KEY = 0x7468_6964_7561_0001
"""The PostgreSQL advisory lock (session level) an instance holds while it migrates and loads its
data: "thidua" in ASCII, then 1. Any bigint no other program on the database locks would do."""

_UNBOUNDED = {"statement_timeout": "0", "lock_timeout": "0", "idle_session_timeout": "0"}
"""The lock's connection waits as long as the holder works, and stays open while idle: a server or
role default timeout must not end it (that would free the lock under a running migration)."""

_held: ContextVar[frozenset[str]] = ContextVar("preparation_locks_held", default=frozenset())


def alembic_config(url: str | None = None, connection: Any = None) -> Config:
    config = Config(str(PROJECT_ROOT / "alembic.ini"))
    config.set_main_option("script_location", str(PROJECT_ROOT / "migrations"))
    if url is not None:
        config.attributes["url"] = url
    if connection is not None:
        config.attributes["connection"] = connection
    return config


def upgrade(url: str | None = None, connection: Any = None) -> None:
    """Migrate to head; with a URL, under the preparation lock (a connection handed over is the
    caller's business)."""
    if connection is not None:
        command.upgrade(alembic_config(url, connection), "head")
        return
    with preparation_lock(url):
        command.upgrade(alembic_config(url), "head")


@contextmanager
def preparation_lock(url: str | None = None) -> Iterator[None]:
    """Hold the preparation lock on `url`'s database (default: the configured one) while the block
    runs, on a connection of its own: instances that start together migrate and load their data one
    after the other, and the later ones find nothing left to do. A process that dies lets go of it
    with its connection. Re-entrant: a block inside another for the same database takes nothing.

    Synchronous, like Alembic and the CLI around it: the connection lives on an event loop of its
    own, run only to take and to release the lock, so the block may call `asyncio.run` itself."""
    url = url or resolve_database_url(get_settings())
    held = _held.get()
    if url in held:
        yield
        return
    loop = asyncio.new_event_loop()
    try:
        connection = loop.run_until_complete(_lock(url))
        token = _held.set(held | {url})
        try:
            yield
        finally:
            _held.reset(token)
            loop.run_until_complete(_unlock(connection))
    finally:
        loop.close()


async def _lock(url: str) -> AsyncConnection:
    engine = create_async_engine(
        url,
        poolclass=NullPool,
        isolation_level="AUTOCOMMIT",
        connect_args={
            "timeout": get_settings().db_connect_timeout_seconds,
            "server_settings": _UNBOUNDED,
        },
    )
    connection = await engine.connect()
    try:
        key = {"key": PREPARATION_LOCK_KEY}
        if not await connection.scalar(text("SELECT pg_try_advisory_lock(:key)"), key):
            logger.info("another instance is migrating or loading data: waiting for it to finish")
            await connection.execute(text("SELECT pg_advisory_lock(:key)"), key)
    except BaseException:
        await connection.close()
        await engine.dispose()
        raise
    return connection


async def _unlock(connection: AsyncConnection) -> None:
    try:
        await connection.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": PREPARATION_LOCK_KEY})
    finally:
        await connection.close()
        await connection.engine.dispose()
