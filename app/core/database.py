"""Engine, sessions and the one-transaction-per-request dependency."""

from collections.abc import AsyncIterator
from typing import Annotated, cast

from fastapi import Depends, Request
from sqlalchemy import Table
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)
from sqlmodel import SQLModel

from app.core.config import Settings
from app.core.embedded import ensure_database


def resolve_database_url(settings: Settings) -> str:
    """The asyncpg URL of the configured server, or of the embedded one."""
    if settings.database_url is None:
        return ensure_database(settings.data_dir, settings.embedded_database)
    url = make_url(settings.database_url)
    if url.drivername in {"postgresql", "postgres", "postgresql+psycopg", "postgresql+psycopg2"}:
        url = url.set(drivername="postgresql+asyncpg")
    return url.render_as_string(hide_password=False)


def table(model: type[SQLModel]) -> Table:
    """The Core table behind a SQLModel class (SQLModel leaves `__table__` untyped)."""
    return cast(Table, model.__table__)  # type: ignore[attr-defined]


class Database:
    def __init__(self, url: str, settings: Settings) -> None:
        self.engine: AsyncEngine = create_async_engine(
            url,
            pool_size=settings.db_pool_size,
            max_overflow=settings.db_max_overflow,
            pool_pre_ping=settings.db_pool_pre_ping,
        )
        self.sessionmaker = async_sessionmaker(self.engine, class_=AsyncSession, expire_on_commit=False)

    async def dispose(self) -> None:
        await self.engine.dispose()


async def _request_session(request: Request) -> AsyncIterator[AsyncSession]:
    database: Database = request.app.state.database
    async with database.sessionmaker() as session, session.begin():
        yield session


SessionDep = Annotated[AsyncSession, Depends(_request_session, scope="function")]
"""One session and one transaction per request, committed before the response is sent."""
