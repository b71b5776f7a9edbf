"""What SQL a block of a test runs, as the engine sends it: for tests that prove a read costs no
query (a cache hit), a fixed number of queries, or one key lookup per request."""

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import event

from app.core.database import Database


@contextmanager
def counting(database: Database) -> Iterator[list[str]]:
    """Every statement `database` sends while the block runs, in order."""
    statements: list[str] = []

    def record(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        statements.append(statement)

    event.listen(database.engine.sync_engine, "before_cursor_execute", record)
    try:
        yield statements
    finally:
        event.remove(database.engine.sync_engine, "before_cursor_execute", record)
