"""What SQL a block of a test runs, as the engine sends it: for tests that prove a read costs no
query (a cache hit), a fixed number of queries, or one key lookup per request."""

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import asyncpg
from sqlalchemy import event

from app.core.database import Database


@contextmanager
def counting(database: Database) -> Iterator[list[str]]:
    """Every statement `database` sends while the block runs, in order."""
    statements: list[str] = []

    def record(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        statements.append(statement)

    driver_fetch = asyncpg.Connection.fetch

    async def fetch(connection: asyncpg.Connection, query: str, *args: Any, **kwargs: Any) -> Any:
        """A read's compiled statements go to asyncpg itself (`app.core.plans.fetch`), past
        SQLAlchemy's events; SQLAlchemy's own go through prepared statements, never this."""
        statements.append(query)
        return await driver_fetch(connection, query, *args, **kwargs)

    event.listen(database.engine.sync_engine, "before_cursor_execute", record)
    asyncpg.Connection.fetch = fetch  # type: ignore[method-assign]
    try:
        yield statements
    finally:
        asyncpg.Connection.fetch = driver_fetch  # type: ignore[method-assign]
        event.remove(database.engine.sync_engine, "before_cursor_execute", record)
