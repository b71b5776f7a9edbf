"""Migrations that change stored data, run over data written before them."""

import asyncio
import json

import asyncpg
from alembic import command
from sqlalchemy.engine import make_url

from app.core.migrations import alembic_config
from tests.databases import empty_database


def plain_dsn(url: str) -> str:
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


async def _write_0002_records(url: str) -> None:
    conn = await asyncpg.connect(plain_dsn(url))
    try:
        key_id = await conn.fetchval(
            "INSERT INTO api_keys (name, role, key_hash, key_prefix, created_by) "
            "VALUES ('a', 'admin', 'h', 'thd_x', 'test') RETURNING id"
        )
        insert = (
            "INSERT INTO idempotency_records (api_key_id, key, fingerprint, status_code, body) "
            "VALUES ($1, $2, 'f', 201, $3::json)"
        )
        key_answer = {"id": 2, "key_prefix": "thd_s", "key": "thd_secret"}
        await conn.execute(insert, key_id, "k1", json.dumps(key_answer))
        await conn.execute(insert, key_id, "k2", json.dumps({"number": 5, "key": 3}))
    finally:
        await conn.close()


async def _bodies(url: str) -> dict[str, str]:
    conn = await asyncpg.connect(plain_dsn(url))
    try:
        return dict(await conn.fetch("SELECT key, body::text FROM idempotency_records"))
    finally:
        await conn.close()


def test_0003_erases_raw_keys_kept_in_idempotency_records() -> None:
    url = empty_database("migrations")
    command.upgrade(alembic_config(url), "0002")
    asyncio.run(_write_0002_records(url))
    command.upgrade(alembic_config(url), "head")
    bodies = asyncio.run(_bodies(url))
    assert "thd_secret" not in bodies["k1"]
    assert '"key": null' in bodies["k1"]
    assert '"key": 3' in bodies["k2"], "an answer that is not a key record is left as it was"


async def _owners(url: str) -> dict[str, str]:
    conn = await asyncpg.connect(plain_dsn(url))
    try:
        return dict(await conn.fetch("SELECT key, owner FROM idempotency_records"))
    finally:
        await conn.close()


def test_0015_gives_each_idempotency_record_its_callers_owner() -> None:
    """Records kept before 0015 belong to their key: its owner is `key:<id>`, as a key's caller's
    `rate_limit_key` reads, so a replay after the upgrade still finds them."""
    url = empty_database("migrations")
    command.upgrade(alembic_config(url), "0014")
    asyncio.run(_write_0002_records(url))
    command.upgrade(alembic_config(url), "head")
    owners = asyncio.run(_owners(url))
    assert set(owners) == {"k1", "k2"}
    assert len(set(owners.values())) == 1
    assert next(iter(owners.values())).startswith("key:")
