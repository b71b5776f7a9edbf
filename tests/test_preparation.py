"""Instances that start together on one database (compose's replicas, a `docker compose run` of the
CLI beside them) migrate and load the reference data one after the other, under an advisory lock."""

import asyncio
import os
import re
import subprocess
import sys
import time

import asyncpg
from alembic.script import ScriptDirectory

from app.core.config import PROJECT_ROOT
from app.core.migrations import alembic_config, preparation_lock
from tests.databases import empty_database
from tests.test_migrations import plain_dsn

WITHIN_SECONDS = 60.0
"""How long the commands may take to start and queue up (a bound on a wait, not a measurement)."""


async def _waiting(url: str) -> int:
    """How many sessions wait for an advisory lock in this database."""
    conn = await asyncpg.connect(plain_dsn(url))
    try:
        return int(
            await conn.fetchval(
                "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted "
                "AND database = (SELECT oid FROM pg_database WHERE datname = current_database())"
            )
        )
    finally:
        await conn.close()


async def _state(url: str) -> tuple[list[str], int]:
    conn = await asyncpg.connect(plain_dsn(url))
    try:
        versions = [r["version_num"] for r in await conn.fetch("SELECT version_num FROM alembic_version")]
        return versions, int(await conn.fetchval("SELECT count(*) FROM units"))
    finally:
        await conn.close()


def _start(url: str, *command: str) -> subprocess.Popen[str]:
    env = {**os.environ, "DATABASE_URL": url, "DEFAULT_LOCALE": "en", "LOG_LEVEL": "warning"}
    return subprocess.Popen(
        [sys.executable, "-m", "app", *command],
        cwd=PROJECT_ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _wait_for_waiters(url: str, count: int, commands: list[subprocess.Popen[str]]) -> None:
    deadline = time.monotonic() + WITHIN_SECONDS
    while (waiting := asyncio.run(_waiting(url))) < count:
        finished = [c.args for c in commands if c.poll() is not None]
        assert not finished, f"{finished} finished instead of waiting for the lock"
        assert time.monotonic() < deadline, f"{waiting} of {count} commands waited for the lock"
        time.sleep(0.1)


def test_instances_starting_together_prepare_one_after_the_other() -> None:
    url = empty_database("preparation")
    with preparation_lock(url):  # as an instance would while it migrates
        commands = [_start(url, "load-reference"), _start(url, "load-reference"), _start(url, "migrate")]
        _wait_for_waiters(url, len(commands), commands)
    outputs = [c.communicate(timeout=WITHIN_SECONDS) for c in commands]

    for command, (out, err) in zip(commands, outputs, strict=True):
        assert command.returncode == 0, (command.args, out, err)
    versions, units = asyncio.run(_state(url))
    assert versions == [ScriptDirectory.from_config(alembic_config()).get_current_head()]
    added = sorted(int(re.search(r"(\d+) units", out)[1]) for out, _ in outputs[:2])  # type: ignore[index]
    assert added == [0, units], "the second found the units the first had loaded"
    assert units > 0
