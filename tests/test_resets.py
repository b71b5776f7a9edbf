"""The reset between tests (`tests/resets.py`): whatever a test wrote, from whichever connection,
committed or rolled back, the next test finds the baseline: the same rows and the same ids."""

import asyncpg
import httpx
from sqlalchemy import text
from sqlalchemy.engine import make_url

from app.core.database import Database
from tests.helpers import join
from tests.resets import Baseline, restore_baseline


async def _fingerprint(database: Database) -> dict[str, object]:
    """Row counts of a reference table and a plain one, one reference row, and a sequence."""
    async with database.sessionmaker() as session, session.begin():
        row = (await session.execute(text("SELECT name, version FROM units WHERE id = 3"))).one()
        sequence = (await session.execute(text("SELECT last_value, is_called FROM memberships_id_seq"))).one()
        return {
            "memberships_id_seq": tuple(sequence),
            "units": (await session.execute(text("SELECT count(*) FROM units"))).scalar(),
            "clusters": (await session.execute(text("SELECT count(*) FROM clusters"))).scalar(),
            "unit 3": tuple(row),
        }


INSERT_CLUSTER = (
    "INSERT INTO clusters (number, name, rotation_custom, version, recorded_by) "
    "VALUES ($1, 'x', 'least_recent', 1, 'other')"
)


def _plain_dsn(url: str) -> str:
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


async def test_a_clean_database_needs_no_work(database: Database, baseline: Baseline) -> None:
    async with database.sessionmaker() as session, session.begin():
        assert await baseline.dirty(session) == set()
    assert await restore_baseline(database, baseline) == set()


async def test_every_kind_of_write_is_undone(
    admin: httpx.AsyncClient, database: Database, baseline: Baseline
) -> None:
    before = await _fingerprint(database)
    assert (await admin.post("/v1/clusters", json={"number": 88})).status_code == 201
    joined = await join(admin, 5, 88, "2024-01-01", "2024-12-31")
    assert joined.status_code == 201, joined.text
    etag = (await admin.get("/v1/units/3")).headers["etag"]
    renamed = await admin.patch("/v1/units/3", json={"name": "Tên thử"}, headers={"If-Match": etag})
    assert renamed.status_code == 200, renamed.text
    # Another connection, outside the app: one write committed, one rolled back.
    connection = await asyncpg.connect(_plain_dsn(database.url))
    try:
        await connection.execute(INSERT_CLUSTER, 89)
        transaction = connection.transaction()
        await transaction.start()
        await connection.execute(INSERT_CLUSTER, 90)
        await transaction.rollback()
    finally:
        await connection.close()

    async with database.sessionmaker() as session, session.begin():
        dirty = await baseline.dirty(session)
    assert {"clusters", "memberships", "units", "revisions"} <= dirty
    assert await _fingerprint(database) != before

    assert await restore_baseline(database, baseline) == dirty
    assert await _fingerprint(database) == before  # rows, and the ids the next writes will get
    async with database.sessionmaker() as session, session.begin():
        assert await baseline.dirty(session) == set()
        assert (await session.execute(text("SELECT count(*) FROM api_keys"))).scalar() == 0
