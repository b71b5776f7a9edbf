"""Secrecy at rest, read as a superuser reads it: the heap pages (`pageinspect`, raw bytes, which
PostgreSQL does not zero when space is freed) and the WAL (`pg_walinspect`), after one ballot at a
time with no other transaction open.

What the README claims and these tests check: no sum moves while a round is open (its tally
pages are byte for byte what the round's opening wrote); a ballot is a sealed blob of one size,
so a ballot approving candidates and an empty one write WAL records of the same kinds and the
same lengths; no page holds an approval in clear. Skipped below PostgreSQL 16 (pg_walinspect) or
without superuser."""

from collections import Counter
from collections.abc import Awaitable

import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from app.core.database import Database
from tests.helpers import UnitKey
from tests.votes.helpers import attend, cast, close, cluster_with, open_vote

TABLES = ("vote_participations", "vote_sealed_ballots", "vote_ballot_boxes", "vote_round_tallies")


@pytest.fixture
async def inspector(database: Database) -> Database:
    async with database.engine.begin() as conn:
        version = (await conn.execute(text("SHOW server_version_num"))).scalar_one()
        superuser = (
            await conn.execute(text("SELECT rolsuper FROM pg_roles WHERE rolname = current_user"))
        ).scalar_one()
        if int(version) < 160000 or not superuser:
            pytest.skip("needs PostgreSQL 16 or newer (pg_walinspect) and a superuser")
        for extension in ("pageinspect", "pg_walinspect"):
            await conn.execute(text(f"CREATE EXTENSION IF NOT EXISTS {extension} SCHEMA test_baseline"))
    return database


async def _pages(conn: AsyncConnection, table: str) -> list[tuple[object, ...]]:
    """Every line pointer of every page of `table`: its tuple's header and data, dead ones too."""
    blocks = (
        await conn.execute(text("SELECT pg_relation_size(CAST(:t AS regclass)) / 8192"), {"t": table})
    ).scalar_one()
    items: list[tuple[object, ...]] = []
    for block in range(int(blocks)):
        rows = await conn.execute(
            text(
                "SELECT lp, lp_flags, t_xmin::text, t_xmax::text, t_ctid::text, t_data "
                "FROM test_baseline.heap_page_items(test_baseline.get_raw_page(:t, :b))"
            ),
            {"t": table, "b": block},
        )
        items += [tuple(r) for r in rows]
    return items


async def _raw(conn: AsyncConnection, table: str) -> bytes:
    blocks = (
        await conn.execute(text("SELECT pg_relation_size(CAST(:t AS regclass)) / 8192"), {"t": table})
    ).scalar_one()
    pages = [
        (
            await conn.execute(text("SELECT test_baseline.get_raw_page(:t, :b)"), {"t": table, "b": b})
        ).scalar_one()
        for b in range(int(blocks))
    ]
    return b"".join(bytes(p) for p in pages)


async def _relfilenodes(conn: AsyncConnection) -> set[str]:
    """`<database oid>/<relfilenode>` of the vote tables and their indexes, as WAL block refs name them."""
    rows = await conn.execute(
        text(
            "SELECT (SELECT oid FROM pg_database WHERE datname = current_database())::text || '/' || "
            "pg_relation_filenode(c.oid)::text FROM pg_class c WHERE c.oid IN ("
            " SELECT CAST(t AS regclass) FROM unnest(CAST(:tables AS text[])) t"
            " UNION SELECT indexrelid FROM pg_index WHERE indrelid IN ("
            "  SELECT CAST(t AS regclass) FROM unnest(CAST(:tables AS text[])) t))"
        ),
        {"tables": list(TABLES)},
    )
    return set(rows.scalars())


async def _wal_of(
    conn: AsyncConnection, do: Awaitable[object], nodes: set[str]
) -> Counter[tuple[str, str, str, int]]:
    """The WAL records touching the vote tables while `do` (an awaitable) ran: their kind, the
    relation and their length without full-page images (a checkpoint's timing decides those)."""
    start = (await conn.execute(text("SELECT pg_current_wal_insert_lsn()"))).scalar_one()
    await do
    end = (await conn.execute(text("SELECT pg_current_wal_insert_lsn()"))).scalar_one()
    rows = await conn.execute(
        text(
            "SELECT resource_manager, record_type, block_ref, record_length - fpi_length "
            "FROM test_baseline.pg_get_wal_records_info(CAST(:s AS pg_lsn), CAST(:e AS pg_lsn))"
        ),
        {"s": start, "e": end},
    )
    found: Counter[tuple[str, str, str, int]] = Counter()
    for manager, kind, blocks, length in rows:
        touched = sorted(n for n in nodes if f"/{n} " in f"{blocks or ''} ")
        if touched:
            found[(manager, kind.split()[0], ",".join(touched), int(length))] += 1
    return found


async def test_an_approving_ballot_and_an_empty_one_look_the_same_in_the_pages_and_the_wal(
    admin: httpx.AsyncClient, unit_key: UnitKey, inspector: Database
) -> None:
    voters = await cluster_with(admin, 77, 5)
    vote = await open_vote(admin, 77, voters[:3], seats=2)
    await attend(admin, vote["id"], voters)
    async with inspector.engine.connect() as conn:
        autocommit = await conn.execution_options(isolation_level="AUTOCOMMIT")
        nodes = await _relfilenodes(autocommit)
        # A first ballot gives the round's tables their first pages (records of their own).
        assert (await cast(admin, unit_key, vote["id"], voters[2], [voters[0]])).status_code == 201
        tallies = await _pages(autocommit, "vote_round_tallies")
        approving = await _wal_of(
            autocommit, cast(admin, unit_key, vote["id"], voters[3], [voters[0], voters[1]]), nodes
        )
        empty = await _wal_of(autocommit, cast(admin, unit_key, vote["id"], voters[4], []), nodes)
        assert approving, "the ballot's records were found"
        assert approving == empty
        tally = _nodes_of(nodes, await _tally_nodes(autocommit))
        assert not [r for r in approving if set(r[2].split(",")) & tally], "no sum is written"
        # No sum moved: the tally pages hold exactly the tuples the round's opening wrote.
        assert await _pages(autocommit, "vote_round_tallies") == tallies
        # Nothing in clear: no page of the sealed ballots holds a ballot's plain bitmap.
        raw = await _raw(autocommit, "vote_sealed_ballots")
        assert raw.count(b"\x01\x03\x00\x00\x00\x00\x00\x00\x00") == 0
    result = (await close(admin, vote["id"])).json()["rounds"][0]["result"]["tallies"]
    assert {t["unit_id"]: t["approvals"] for t in result} == {voters[0]: 2, voters[1]: 1, voters[2]: 0}


async def _tally_nodes(conn: AsyncConnection) -> set[str]:
    rows = await conn.execute(
        text(
            "SELECT pg_relation_filenode(c.oid)::text FROM pg_class c WHERE c.oid = "
            "CAST('vote_round_tallies' AS regclass) OR c.oid IN (SELECT indexrelid FROM pg_index "
            "WHERE indrelid = CAST('vote_round_tallies' AS regclass))"
        )
    )
    return set(rows.scalars())


def _nodes_of(nodes: set[str], filenodes: set[str]) -> set[str]:
    return {n for n in nodes if n.rsplit("/", 1)[1] in filenodes}
