"""Secrecy that survives a look at the database: who voted and what was voted stay unlinked in
the tables (a ballot is a sealed blob until its round closes, and no sum moves before), in the
idempotency records and in the logs. The pages and the WAL: tests/votes/test_secrecy_at_rest.py."""

import logging

import httpx
import pytest
from sqlalchemy import text

from app.core.database import Database
from tests.helpers import UnitKey, problem
from tests.votes.helpers import attend, cast, close, cluster_with, open_vote, paper

WHO = "vote_participations"
WHAT = ("vote_round_tallies", "vote_ballot_boxes", "vote_sealed_ballots")


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
    assert columns["vote_ballot_boxes"] == {"vote_id", "round", "ballots_cast", "ballots_sealed"}
    assert columns["vote_sealed_ballots"] == {"vote_id", "round", "sealed"}
    types = await _rows(
        database,
        "SELECT table_name, data_type, column_default FROM information_schema.columns "
        "WHERE table_name IN ('vote_participations', 'vote_round_tallies', 'vote_ballot_boxes', "
        "'vote_sealed_ballots')",
    )
    assert not [t for t in types if "time" in str(t[1]) or "date" in str(t[1])], "no timestamps"
    assert not [t for t in types if t[2] is not None and "nextval" in str(t[2])], "no serial ids"
    links = await _rows(
        database,
        "SELECT conrelid::regclass::text, confrelid::regclass::text FROM pg_constraint WHERE contype = 'f' "
        "AND conrelid::regclass::text IN ('vote_participations', 'vote_round_tallies', 'vote_ballot_boxes', "
        "'vote_sealed_ballots')",
    )
    for source, target in links:
        assert not (source == WHO and target in WHAT), links
        assert not (source in WHAT and target == WHO), links


async def test_an_open_round_moves_no_sum_and_keeps_only_sealed_ballots_of_one_size(
    admin: httpx.AsyncClient, unit_key: UnitKey, database: Database
) -> None:
    voters = await cluster_with(admin, 74, 5)
    vote = await open_vote(admin, 74, voters[:2], seats=2)
    await attend(admin, vote["id"], voters)
    tallies_before = await _rows(
        database, "SELECT xmin::text, candidate_unit_id, approvals FROM vote_round_tallies"
    )
    for voter, approvals in zip(voters[:3], ([voters[0]], [voters[0], voters[1]], []), strict=True):
        assert (await cast(admin, unit_key, vote["id"], voter, approvals)).status_code == 201
    assert (await paper(admin, vote["id"], voters[3:], [[voters[1]], []])).status_code == 201
    # No sum moved: the tally rows are the very versions the round's opening wrote.
    assert await _rows(
        database, "SELECT xmin::text, candidate_unit_id, approvals FROM vote_round_tallies"
    ) == (tallies_before)
    assert {a for (_x, _c, a) in tallies_before} == {0}
    sealed = [bytes(b) for (b,) in await _rows(database, "SELECT sealed FROM vote_sealed_ballots")]
    assert len(sealed) == 5
    assert {len(b) for b in sealed} == {45}, "an empty ballot and a full one are the same size"
    assert len({b[8:] for b in sealed}) == 5, "no two ballots share their bytes, equal or not"
    closed = (await close(admin, vote["id"])).json()["rounds"][0]["result"]["tallies"]
    assert {t["unit_id"]: t["approvals"] for t in closed} == {voters[0]: 2, voters[1]: 2}
    assert await _rows(database, "SELECT count(*) FROM vote_sealed_ballots") == [(0,)], "opened, then gone"


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
        problem(failed, 503, "ballot-not-counted")
        assert (await cast(admin, unit_key, vote["id"], voters[2], [marker])).status_code == 201
    after = await _rows(database, "SELECT count(*) FROM idempotency_records")
    assert before == after
    bodies = await _rows(database, "SELECT body::text, fingerprint FROM idempotency_records")
    assert not [b for b in bodies if "approvals" in str(b)]
    logged = "\n".join(f"{r.getMessage()} {r.exc_text or ''}" for r in caplog.records)
    assert "was not recorded" in logged
    assert "approvals" not in logged
    assert "approved" not in logged
    assert f"[{marker}]" not in logged
    assert "unnest" not in logged
    # The failed ballot left nothing: two participations, two ballots.
    current = (await admin.get(f"/v1/votes/{vote['id']}")).json()["rounds"][0]
    assert current["ballots_cast"] == 2
    assert sorted(p["unit_id"] for p in current["participations"]) == sorted([voters[0], voters[2]])
    await attend(admin, vote["id"], voters)
    closed = (await close(admin, vote["id"])).json()
    assert closed["rounds"][0]["result"]["tallies"][1]["approvals"] == 2


async def _fail_the_next_count(database: Database) -> None:
    """A real failure of the ballot's transaction: a trigger refusing sealed ballots."""
    async with database.engine.begin() as conn:
        await conn.execute(
            text(
                "CREATE FUNCTION refuse_tally() RETURNS trigger LANGUAGE plpgsql AS "
                "$$ BEGIN RAISE EXCEPTION 'ballot refused'; END $$"
            )
        )
        await conn.execute(
            text(
                "CREATE TRIGGER refuse_tally BEFORE INSERT ON vote_sealed_ballots "
                "FOR EACH ROW EXECUTE FUNCTION refuse_tally()"
            )
        )


async def _fail_no_more(database: Database) -> None:
    async with database.engine.begin() as conn:
        await conn.execute(text("DROP TRIGGER IF EXISTS refuse_tally ON vote_sealed_ballots"))
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
