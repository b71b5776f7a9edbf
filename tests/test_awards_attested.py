"""Issue 21, item 2: historical decisions. An attested record is created in the status its source
states (granted, refused, revoked), its decision number and authority null where the source does
not state them, without a dossier step; the register tells it from decisions recorded here as
they happened (`attested` on the award and on each step, `GET /v1/awards?attested=`, the sheet);
its `decision` check cites the source, never `passed`; the audit still holds."""

from typing import Any

import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError

from app.core.database import Database
from app.votes.audit import audit_awards
from tests.awards_helpers import check, cluster5_2024, nominate, step
from tests.helpers import bearer, problem

# The seeds' attested nominations (cluster 5, 2024: Nam Định's Government flag, Hưng Yên's and
# Thái Bình's Ministry flags) stay: what is recorded here is of other awards.
pytestmark = pytest.mark.usefixtures("seeded")

# An illustrative source, not a real article.
NOT_STATED: dict[str, Any] = {
    "title": "Công an tỉnh Hải Dương đón nhận Cờ thi đua của Chính phủ",
    "url": "https://example.org/tin-tuc/co-thi-dua-chinh-phu",
    "published": "2025-03-20",
    "facts": {"nomination": "not_stated", "rank": "not_stated", "decision": "not_stated"},
    "quote": "Công an tỉnh Hải Dương được tặng Cờ thi đua của Chính phủ năm 2024.",
}
STATED: dict[str, Any] = {**NOT_STATED, "facts": {**NOT_STATED["facts"], "decision": "stated"}}


def _granted(source: dict[str, Any], **extra: Any) -> dict[str, Any]:
    """An attested record of a granted award, as its source states it."""
    return {"attested": True, "source": source, "status": "granted", **extra}


def _ids(response: httpx.Response) -> list[int]:
    assert response.status_code == 200, response.text
    return [a["id"] for a in response.json()["items"]]


async def test_a_granted_flag_without_a_decision_number_is_found_and_kept_apart(
    admin: httpx.AsyncClient, database: Database
) -> None:
    units = await cluster5_2024(admin)
    created = await nominate(admin, units["Hải Dương"], **_granted(NOT_STATED))
    assert created.status_code == 201, created.text
    award = created.json()
    assert (award["status"], award["attested"], award["vote_id"]) == ("granted", True, None)
    # The first step goes from none to the stated status, its decision not stated, no dossier.
    [first] = award["transitions"]
    assert (first["from_status"], first["to_status"], first["decided_on"]) == (None, "granted", "2024-11-25")
    assert (first["decision_number"], first["authority"], first["dossier"]) == (None, None, [])
    assert first["attested"] is True
    assert award["allowed_transitions"] == ["revoked"]
    # The decision check cites the source; nothing the source does not state is `passed`.
    decision = check(award, "decision")
    assert (decision["outcome"], decision["finding"]) == ("cannot_be_verified", "decision_not_stated")
    assert decision["basis"] == {"document": NOT_STATED["title"], "article": None, "note": NOT_STATED["url"]}
    assert NOT_STATED["title"] in decision["message"]
    assert "granted" in decision["message"]
    assert check(award, "government_flag_requires_cluster_lead")["finding"] == "rank_unknown"

    # Found by a filter for granted awards, and told apart from what was decided here.
    granted = _ids(await admin.get("/v1/awards", params={"status": "granted", "cluster": "5"}))
    assert granted == [award["id"]]
    attested = {"status": "granted", "attested": "true", "cluster": "5"}
    assert _ids(await admin.get("/v1/awards", params=attested)) == granted
    assert _ids(await admin.get("/v1/awards", params={"status": "granted", "attested": "false"})) == []
    live = _ids(await admin.get("/v1/awards", params={"attested": "false", "cluster": "5"}))
    assert award["id"] not in live
    sheet = (await admin.get("/v1/clusters/5/years/2024")).json()
    [shown] = [a for a in sheet["awards"] if a["id"] == award["id"]]
    assert (shown["status"], shown["attested"]) == ("granted", True)

    # The audit still holds: a Government flag a source attests cites no vote.
    async with database.sessionmaker() as session:
        assert await audit_awards(session) == []
    # The database spares only a first step: a later decision names its number and authority.
    unnamed = text(
        "INSERT INTO award_transitions (award_id, position, from_status, to_status, decided_on,"
        " recorded_by, recorded_at)"
        " VALUES (:award, 2, 'granted', 'revoked', DATE '2025-06-01', 'probe', now())"
    )
    async with database.sessionmaker() as session, session.begin():
        with pytest.raises(IntegrityError, match="award_transitions_transition_decision_named"):
            await session.execute(unnamed, {"award": award["id"]})

    # A later decision recorded here still needs its number and authority, and is not attested.
    revoke = {"to": "revoked", "decided_on": "2025-06-01", "reason": "Hồ sơ không trung thực"}
    problem(await step(admin, award["id"], revoke), 422, "validation")
    numbered = {**revoke, "decision_number": "99/QĐ-TTg", "authority": "Thủ tướng Chính phủ"}
    revoked = await step(admin, award["id"], numbered)
    assert revoked.status_code == 200, revoked.text
    steps = revoked.json()["transitions"]
    assert [(s["to_status"], s["attested"], s["decision_number"]) for s in steps] == [
        ("granted", True, None),
        ("revoked", False, "99/QĐ-TTg"),
    ]


async def test_the_decision_number_is_kept_when_the_source_states_it(admin: httpx.AsyncClient) -> None:
    units = await cluster5_2024(admin)
    numbered = _granted(
        STATED,
        decided_on="2025-01-10",
        decision_number="123/QĐ-BCA",
        authority="Bộ trưởng Bộ Công an",
    )
    unstated = problem(
        await nominate(admin, units["Hà Nam"], "ministry_flag", **{**numbered, "source": NOT_STATED}),
        422,
        "decision-not-stated",
    )
    assert unstated["field"] == "decision_number"
    early = problem(
        await nominate(admin, units["Hà Nam"], "ministry_flag", **{**numbered, "decided_on": "2024-11-24"}),
        422,
        "unprocessable",
    )
    assert early["field"] == "decided_on"

    created = await nominate(admin, units["Hà Nam"], "ministry_flag", **numbered)
    assert created.status_code == 201, created.text
    award = created.json()
    [first] = award["transitions"]
    assert (first["decided_on"], first["decision_number"], first["authority"]) == (
        "2025-01-10",
        "123/QĐ-BCA",
        "Bộ trưởng Bộ Công an",
    )
    decision = check(award, "decision")
    assert (decision["outcome"], decision["finding"]) == ("cannot_be_verified", "decision_stated")
    assert decision["facts"]["decision_number"] == "123/QĐ-BCA"
    assert "123/QĐ-BCA" in decision["message"]
    assert all(c["outcome"] != "passed" for c in award["rule_checks"] if c["rule"] == "decision")
    # The authority alone, its number not stated.
    authority_only = _granted(STATED, authority="Thủ tướng Chính phủ")
    created = await nominate(admin, units["Hà Nam"], "pm_certificate_of_merit", **authority_only)
    assert created.status_code == 201, created.text
    [first] = created.json()["transitions"]
    assert (first["decision_number"], first["authority"]) == (None, "Thủ tướng Chính phủ")
    assert "not stated" in check(created.json(), "decision")["message"]


async def test_refused_and_revoked_records_and_who_may_state_an_outcome(
    client: httpx.AsyncClient, admin: httpx.AsyncClient, cluster_key
) -> None:
    units = await cluster5_2024(admin)
    refused = await nominate(
        admin,
        units["Hưng Yên"],
        "pm_certificate_of_merit",
        attested=True,
        source=NOT_STATED,
        status="refused",
        reason="Không đủ tiêu chuẩn",
    )
    assert refused.status_code == 201, refused.text
    revoked = await nominate(
        admin,
        units["Thái Bình"],
        "minister_certificate_of_merit",
        attested=True,
        source=NOT_STATED,
        status="revoked",
    )
    assert revoked.status_code == 201, revoked.text
    for created, status in ((refused.json(), "refused"), (revoked.json(), "revoked")):
        assert (created["status"], created["attested"], created["allowed_transitions"]) == (status, True, [])
        [first] = created["transitions"]
        assert (first["from_status"], first["to_status"], first["attested"]) == (None, status, True)
        assert check(created, "decision")["outcome"] == "cannot_be_verified"
        counted = check(created, "one_achievement_one_award")
        assert (counted["outcome"], counted["finding"]) == ("passed", "not_counted")
    assert refused.json()["transitions"][0]["reason"] == "Không đủ tiêu chuẩn"
    assert _ids(await admin.get("/v1/awards", params={"status": "revoked", "attested": "true"})) == [
        revoked.json()["id"]
    ]
    # A settled record does not hold the achievement: it may be nominated anew.
    anew = await nominate(admin, units["Hưng Yên"], "pm_certificate_of_merit")
    assert anew.status_code == 201, anew.text
    assert (anew.json()["status"], anew.json()["attested"]) == ("nominated", False)

    own = bearer(await cluster_key(5))
    body = {
        "award_type": "minister_certificate_of_merit",
        "unit_id": units["Hà Nam"],
        "emulation_year": 2024,
        "cluster": 5,
        "nominated_on": "2024-11-25",
    }
    # A live nomination is nominated; its decisions come by its transitions.
    live = problem(
        await nominate(admin, units["Hà Nam"], **{**body, "status": "granted"}), 422, "set-by-transition"
    )
    assert live["field"] == "status"
    numbered = problem(
        await client.post("/v1/awards", json={**body, "decision_number": "1/QĐ"}, headers=own),
        422,
        "set-by-transition",
    )
    assert numbered["field"] == "decision_number"
    stated = problem(
        await nominate(
            admin, units["Hà Nam"], **{**body, "attested": True, "source": STATED, "authority": "Bộ"}
        ),
        422,
        "set-by-transition",
    )
    assert stated["field"] == "authority"
    # A proposal is a dossier's step, never a stated outcome.
    problem(
        await nominate(
            admin, units["Hà Nam"], **{**body, "attested": True, "source": STATED, "status": "proposed"}
        ),
        422,
        "validation",
    )
    # A cluster's key records no attested history.
    problem(
        await client.post(
            "/v1/awards", json={**body, "attested": True, "source": STATED, "status": "granted"}, headers=own
        ),
        403,
        "forbidden",
    )
    assert _ids(await admin.get("/v1/awards", params={"unit": str(units["Hà Nam"])})) == []
