"""Alembic environment: async engine, or a connection handed over by the caller (tests)."""

import asyncio
from typing import Any

from alembic import context
from sqlalchemy.ext.asyncio import create_async_engine

from app.core.config import get_settings
from app.core.database import resolve_database_url
from app.models import metadata

config = context.config


def _run(connection: Any) -> None:
    # The models' metadata, given as a list: autogenerate and the contract test compare against it,
    # but Alembic's operations do not name what a revision creates by its naming convention
    # (`app.core.naming`), which only a `MetaData` given alone passes on to them. A revision spells
    # every name in full, and the revisions written before the convention keep building the
    # schema they always built (their checks named bare, renamed by 0016).
    context.configure(connection=connection, target_metadata=[metadata], compare_type=True)
    with context.begin_transaction():
        context.run_migrations()


async def _run_async(url: str) -> None:
    # A server that does not answer fails the migration within the connect timeout (asyncpg's
    # own default is 60 s), as it fails a request.
    engine = create_async_engine(url, connect_args={"timeout": get_settings().db_connect_timeout_seconds})
    async with engine.connect() as connection:
        await connection.run_sync(_run)
        await connection.commit()
    await engine.dispose()


def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        _run(connection)
        return
    url = config.attributes.get("url") or resolve_database_url(get_settings())
    asyncio.run(_run_async(url))


if context.is_offline_mode():
    raise SystemExit("Offline (SQL script) migrations are not supported; run against a database.")
run_migrations_online()
