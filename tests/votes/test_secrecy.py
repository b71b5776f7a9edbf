"""Secrecy that survives a look at the database: who voted and what was voted stay unlinked in
the tables, in `xmin`, in the idempotency records and in the logs."""

import logging

import httpx
import pytest
from sqlalchemy import text

from app.core.database import Database
from tests.helpers import UnitKey, problem
from tests.votes.helpers import attend, cast, close, cluster_with, open_vote, paper

WHO = "vote_participations"
WHAT = ("vote_round_tallies", "vote_ballot_boxes")


async def _rows(database: Database, sql: str, **params: object) -> list[tuple[object, ...]]:
    async with database.engine.connect() as conn:
        return [tuple(r) for r in await conn.execute(text(sql), params)]


async def test_who_and_what_share_no_column_key_or_time(database: Database) -> None:
    columns = {
        table: {
            name
            for (name,) in await _rows(
                database, "SELECT column_name FROM information_schema.columns WHERE table_name = :t", t=table
            )
        }
        for table in (WHO, *WHAT)
    }
    assert columns[WHO] == {"vote_id", "round", "unit_id", "method", "note"}
    assert columns["vote_round_tallies"] == {"vote_id", "round", "candidate_unit_id", "approvals"}
    assert columns["vote_ballot_boxes"] == {"vote_id", "round", "ballots_cast"}
    types = await _rows(
        database,
        "SELECT table_name, data_type, column_default FROM information_schema.columns "
        "WHERE table_name IN ('vote_participations', 'vote_round_tallies', 'vote_ballot_boxes')",
    )
    assert not [t for t in types if "time" in str(t[1]) or "date" in str(t[1])], "no timestamps"
    assert not [t for t in types if t[2] is not None and "nextval" in str(t[2])], "no serial ids"
    links = await _rows(
        database,
        "SELECT conrelid::regclass::text, confrelid::regclass::text FROM pg_constraint WHERE contype = 'f' "
        "AND conrelid::regclass::text IN ('vote_participations', 'vote_round_tallies', 'vote_ballot_boxes')",
    )
    for source, target in links:
        assert not (source == WHO and target in WHAT), links
        assert not (source in WHAT and target == WHO), links


async def test_xmin_never_links_a_participation_to_the_sums(
    admin: httpx.AsyncClient, unit_key: UnitKey, database: Database
) -> None:
    voters = await cluster_with(admin, 74, 5)
    vote = await open_vote(admin, 74, voters[:2], seats=2)
    await attend(admin, vote["id"], voters)
    for voter, approvals in zip(voters[:3], ([voters[0]], [voters[0], voters[1]], []), strict=True):
        assert (await cast(admin, unit_key, vote["id"], voter, approvals)).status_code == 201
    assert (await paper(admin, vote["id"], voters[3:], [[voters[1]], []])).status_code == 201
    who = {x for (x,) in await _rows(database, "SELECT xmin::text FROM vote_participations")}
    what = {x for table in WHAT for (x,) in await _rows(database, f"SELECT xmin::text FROM {table}")}
    assert len(who) == 4  # one transaction per cast, one for the paper entry
    assert who.isdisjoint(what)
    # Every tally row of the round carries the same xmin: the last ballot's update touched all.
    tally_xmins = {x for (x,) in await _rows(database, "SELECT xmin::text FROM vote_round_tallies")}
    assert len(tally_xmins) == 1


async def test_no_idempotency_record_and_no_log_line_holds_a_ballot(
    admin: httpx.AsyncClient, unit_key: UnitKey, database: Database, caplog: pytest.LogCaptureFixture
) -> None:
    voters = await cluster_with(admin, 75, 5)
    vote = await open_vote(admin, 75, voters[:2])
    await attend(admin, vote["id"], voters)
    before = await _rows(database, "SELECT count(*) FROM idempotency_records")
    marker = voters[1]
    caplog.set_level(logging.DEBUG)
    with caplog.at_level(logging.DEBUG):
        assert (await cast(admin, unit_key, vote["id"], voters[0], [marker])).status_code == 201
        problem(await cast(admin, unit_key, vote["id"], voters[0], [marker]), 409, "already-voted")
        await _fail_the_next_count(database)
        try:
            failed = await cast(admin, unit_key, vote["id"], voters[2], [marker])
        finally:
            await _fail_no_more(database)
        assert problem(failed, 503, "ballot-not-counted")["type"] == "/problems/ballot-not-counted"
        assert (await cast(admin, unit_key, vote["id"], voters[2], [marker])).status_code == 201
    after = await _rows(database, "SELECT count(*) FROM idempotency_records")
    assert before == after
    bodies = await _rows(database, "SELECT body::text, fingerprint FROM idempotency_records")
    assert not [b for b in bodies if "approvals" in str(b)]
    logged = "\n".join(f"{r.getMessage()} {r.exc_text or ''}" for r in caplog.records)
    assert "could not be counted" in logged
    assert "approvals" not in logged
    assert "approved" not in logged
    assert f"[{marker}]" not in logged
    assert "unnest" not in logged
    # The failed ballot was taken back: two participations, two ballots.
    current = (await admin.get(f"/v1/votes/{vote['id']}")).json()["rounds"][0]
    assert current["ballots_cast"] == 2
    assert sorted(p["unit_id"] for p in current["participations"]) == sorted([voters[0], voters[2]])
    await attend(admin, vote["id"], voters)
    closed = (await close(admin, vote["id"])).json()
    assert closed["rounds"][0]["result"]["tallies"][1]["approvals"] == 2


async def _fail_the_next_count(database: Database) -> None:
    """A real failure of the sums' transaction: a trigger refusing updates of the tallies."""
    async with database.engine.begin() as conn:
        await conn.execute(
            text(
                "CREATE FUNCTION refuse_tally() RETURNS trigger LANGUAGE plpgsql AS "
                "$$ BEGIN RAISE EXCEPTION 'tallies refused'; END $$"
            )
        )
        await conn.execute(
            text(
                "CREATE TRIGGER refuse_tally BEFORE UPDATE ON vote_round_tallies "
                "FOR EACH ROW EXECUTE FUNCTION refuse_tally()"
            )
        )


async def _fail_no_more(database: Database) -> None:
    async with database.engine.begin() as conn:
        await conn.execute(text("DROP TRIGGER IF EXISTS refuse_tally ON vote_round_tallies"))
        await conn.execute(text("DROP FUNCTION IF EXISTS refuse_tally()"))


async def test_an_open_round_shows_who_voted_and_how_many_never_the_counts(
    admin: httpx.AsyncClient, unit_key: UnitKey
) -> None:
    voters = await cluster_with(admin, 76, 3)
    vote = await open_vote(admin, 76, voters[:1])
    await attend(admin, vote["id"], voters)
    receipt = await cast(admin, unit_key, vote["id"], voters[1], [voters[0]])
    assert set(receipt.json()) == {"vote_id", "round", "received", "ballots_cast"}
    shown = (await admin.get(f"/v1/votes/{vote['id']}")).text
    assert "approvals" not in shown
    assert "tallies" not in shown
