"""The seal (`app/votes/seal.py`) and what closing does with what it cannot open: a ballot sealed
under a key this instance does not hold (503 naming both keys; a previous key opens it), one
altered in the database (409, not counted), one removed (409, not counted)."""

import base64
import os
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import text

from app.core.config import Settings, get_settings
from app.core.database import Database
from app.votes.seal import KEY_FILE, SEALED_BYTES, BallotSeal, SealBroken, SealKeyMismatch, key_id, load_seal
from tests.helpers import UnitKey, problem
from tests.votes.helpers import attend, cast, close, cluster_with, open_vote, tallies

CANDIDATES = [31, 7, 12]


def test_a_ballot_opens_as_it_was_sealed_and_every_ballot_is_one_size() -> None:
    seal = BallotSeal(os.urandom(32))
    for approvals in ([], [7], [31, 12], CANDIDATES):
        sealed = seal.seal(4, 2, CANDIDATES, approvals)
        assert len(sealed) == SEALED_BYTES
        assert sorted(seal.open(4, 2, CANDIDATES, sealed)) == sorted(approvals)


def test_a_ballot_opens_only_in_its_own_round_and_unaltered() -> None:
    seal = BallotSeal(os.urandom(32))
    sealed = seal.seal(4, 2, CANDIDATES, [7])
    with pytest.raises(SealBroken):
        seal.open(4, 3, CANDIDATES, sealed)
    altered = sealed[:-1] + bytes([sealed[-1] ^ 1])
    with pytest.raises(SealBroken):
        seal.open(4, 2, CANDIDATES, altered)


def test_a_rotated_key_still_opens_what_the_previous_one_sealed() -> None:
    old, new = os.urandom(32), os.urandom(32)
    sealed = BallotSeal(old).seal(1, 1, CANDIDATES, [12])
    with pytest.raises(SealKeyMismatch):
        BallotSeal(new).open(1, 1, CANDIDATES, sealed)
    assert BallotSeal(new, previous=[old]).open(1, 1, CANDIDATES, sealed) == [12]


def test_the_key_file_is_made_once_and_kept(tmp_path: Path) -> None:
    settings = get_settings().model_copy(update={"data_dir": tmp_path, "ballot_seal_key": None})
    first = load_seal(settings)
    assert load_seal(settings).key_id == first.key_id
    key_file = tmp_path / "ballot-seal.key"
    assert key_file.stat().st_mode & 0o777 == 0o600
    assert len(base64.b64decode(key_file.read_text())) == 32
    assert [p.name for p in tmp_path.iterdir()] == ["ballot-seal.key"], "nothing left aside"


async def _round_with_two_ballots(
    admin: httpx.AsyncClient, unit_key: UnitKey, number: int, first: int = 2
) -> tuple[int, list[int]]:
    voters = await cluster_with(admin, number, 4, first=first)
    vote = await open_vote(admin, number, voters[:2])
    await attend(admin, vote["id"], voters)
    for voter in voters[2:]:
        assert (await cast(admin, unit_key, vote["id"], voter, [voters[0]])).status_code == 201
    return int(vote["id"]), voters


async def test_closing_with_another_key_is_503_and_a_previous_key_opens_it(
    admin: httpx.AsyncClient,
    unit_key: UnitKey,
    app: FastAPI,
    settings: Settings,
) -> None:
    """A key rotated while a round is open: the new instance's key alone cannot close it, the
    old one given as a previous key can (as BALLOT_SEAL_PREVIOUS_KEYS gives it)."""
    vote_id, voters = await _round_with_two_ballots(admin, unit_key, 91)
    sealed_with = base64.b64decode((settings.data_dir / KEY_FILE).read_text())  # the test app's key
    rotated = os.urandom(32)
    own = app.state.ballot_seal
    try:
        app.state.ballot_seal = BallotSeal(rotated)
        refused = problem(await close(admin, vote_id), 503, "ballot-seal-key-mismatch")
        assert key_id(sealed_with).hex() in refused["detail"]
        assert (await admin.get(f"/v1/votes/{vote_id}")).json()["rounds"][0]["state"] == "open"
        app.state.ballot_seal = BallotSeal(rotated, previous=[sealed_with])
        closed = await close(admin, vote_id)
    finally:
        app.state.ballot_seal = own
    assert closed.status_code == 200, closed.text
    assert tallies(closed.json())[voters[0]] == (2, False)


async def test_an_altered_or_removed_ballot_stops_the_count(
    admin: httpx.AsyncClient, unit_key: UnitKey, database: Database
) -> None:
    altered_vote, _ = await _round_with_two_ballots(admin, unit_key, 92)
    async with database.sessionmaker() as session, session.begin():
        await session.execute(
            text(
                "UPDATE vote_sealed_ballots SET sealed = overlay(sealed PLACING '\\xff'::bytea FROM 45)"
                " WHERE vote_id = :v"
                " AND sealed = (SELECT min(sealed) FROM vote_sealed_ballots WHERE vote_id = :v)"
            ),
            {"v": altered_vote},
        )
    problem(await close(admin, altered_vote), 409, "ballot-seal-broken")

    removed_vote, _ = await _round_with_two_ballots(admin, unit_key, 93, first=10)
    async with database.sessionmaker() as session, session.begin():
        await session.execute(
            text(
                "DELETE FROM vote_sealed_ballots WHERE vote_id = :v AND sealed = "
                "(SELECT min(sealed) FROM vote_sealed_ballots WHERE vote_id = :v)"
            ),
            {"v": removed_vote},
        )
    missing = problem(await close(admin, removed_vote), 409, "ballot-count-mismatch")
    assert "2 sealed ballots were cast in this round but 1 are stored" in missing["detail"]
