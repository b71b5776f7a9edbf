"""Run Alembic from code: the CLI, `make run` and the tests all migrate the same way."""

from typing import Any

from alembic import command
from alembic.config import Config

from app.core.config import PROJECT_ROOT


def alembic_config(url: str | None = None, connection: Any = None) -> Config:
    config = Config(str(PROJECT_ROOT / "alembic.ini"))
    config.set_main_option("script_location", str(PROJECT_ROOT / "migrations"))
    if url is not None:
        config.attributes["url"] = url
    if connection is not None:
        config.attributes["connection"] = connection
    return config


def upgrade(url: str | None = None, connection: Any = None) -> None:
    command.upgrade(alembic_config(url, connection), "head")
