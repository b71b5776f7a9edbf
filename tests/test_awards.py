"""The awards register: nominations checked against the year's rules, the lifecycle by explicit
transitions, dossier documents, and listings with predecessors."""

import hashlib
from datetime import date

import httpx
import pytest
from sqlalchemy.exc import IntegrityError

from app.awards.eligibility import check_nomination, ensure_no_refusal
from app.awards.models import Award
from app.awards.service import nominate as nominate_award
from app.core.database import Database
from app.core.errors import Conflict
from tests.awards_helpers import (
    DECREE_98,
    check,
    cluster5_2024,
    frozen_standings,
    held_vote,
    nominate,
    nominations_of,
    step,
    vote_for,
)
from tests.helpers import TEST_ACTOR, bearer, problem, unit_id

pytestmark = pytest.mark.usefixtures("seeded_without_awards")

SOURCE = {
    "title": "Cụm thi đua số 5 tổng kết phong trào thi đua “Vì an ninh Tổ quốc” năm 2024",
    "url": "https://congan.hanam.gov.vn/",
    "published": "2024-11-26",
    "facts": {
        "nomination": "stated",
        "rank": "not_stated",
        "scores": "not_stated",
        "vote_counts": "not_stated",
    },
}


async def test_government_flag_needs_the_first_rank(admin: httpx.AsyncClient) -> None:
    """The rank comes from the frozen standings the vote relies on: second is refused quoting
    the rule, first is nominated by closing the vote, with the check passed."""
    units = await cluster5_2024(admin)
    await frozen_standings(admin, 5, [units["Hải Dương"], units["Nam Định"]])
    refused = problem(
        await admin.post("/v1/votes", json=vote_for(5, "government_flag", [units["Nam Định"]])),
        409,
        "rule-refused",
    )
    assert refused["rule"] == "government_flag_requires_cluster_lead"
    assert refused["basis"]["document"] == "Thông tư 12/2019/TT-BCA"
    assert refused["basis"]["article"] == "art. 18(1)(a)"
    assert refused["confidence"] == "text"
    assert refused["facts"] == {"rank": 2}
    assert "ranks 2" in refused["detail"]

    vote = await held_vote(admin, 5, "government_flag", units["Hải Dương"], approved=True)
    [award_id] = nominations_of(vote)
    first = (await admin.get(f"/v1/awards/{award_id}")).json()
    assert (first["vote_id"], first["standings_version"]) == (vote["id"], vote["standings_version"])
    lead = check(first, "government_flag_requires_cluster_lead")
    assert (lead["outcome"], lead["facts"]) == ("passed", {"rank": 1})
    assert check(first, "cluster_membership")["outcome"] == "passed"
    assert check(first, "standard_of")["outcome"] == "cannot_be_verified"
    assert first["rule_set"] == DECREE_98
    assert first["attested"] is False


async def test_a_unit_outside_the_cluster_that_year_is_refused(admin: httpx.AsyncClient) -> None:
    ha_noi = await unit_id(admin, "Hà Nội", "2024-11-25")
    refused = problem(await nominate(admin, ha_noi, "minister_certificate_of_merit"), 409, "rule-refused")
    assert refused["rule"] == "cluster_membership"
    assert check(refused, "cluster_membership")["facts"] == {"cluster": 5, "year": 2024}


async def test_one_achievement_one_award(admin: httpx.AsyncClient) -> None:
    units = await cluster5_2024(admin)
    first = (await nominate(admin, units["Hưng Yên"], "minister_certificate_of_merit")).json()
    again = problem(
        await nominate(admin, units["Hưng Yên"], "minister_certificate_of_merit"), 409, "rule-refused"
    )
    assert again["rule"] == "one_achievement_one_award"
    assert again["basis"]["article"] == "art. 5"
    assert again["facts"]["award_id"] == first["id"]
    # Another year, or another award: fine.
    other = await nominate(admin, units["Hưng Yên"], "pm_certificate_of_merit")
    assert other.status_code == 201, other.text
    assert check(other.json(), "one_achievement_one_award")["outcome"] == "passed"
    # Once the first is refused, the achievement may be proposed again.
    refused = await step(
        admin, first["id"], {"to": "refused", "decided_on": "2024-12-10", "reason": "Hồ sơ không đạt"}
    )
    assert refused.status_code == 200, refused.text
    anew = await nominate(admin, units["Hưng Yên"], "minister_certificate_of_merit")
    assert anew.status_code == 201, anew.text
    assert check(anew.json(), "one_achievement_one_award")["outcome"] == "passed"
    assert anew.json()["id"] != first["id"]


async def test_the_partial_unique_index_holds_without_the_check(
    database: Database, admin: httpx.AsyncClient
) -> None:
    """A second award of one achievement that got past the check (as a concurrent request could)
    is refused by the database; a refused one is not counted."""
    units = await cluster5_2024(admin)
    async with database.sessionmaker() as session, session.begin():
        first = await nominate_award(
            session,
            award_type_code="minister_certificate_of_merit",
            unit_id=units["Hà Nam"],
            emulation_year=2024,
            cluster_id=None,
            vote=None,
            standings_version=None,
            on=date(2024, 11, 25),
            actor=TEST_ACTOR,
            rank=None,
        )
        assert first.status.value == "nominated"

        def second(status: str) -> Award:
            return Award(
                award_type="minister_certificate_of_merit",
                unit_id=units["Hà Nam"],
                emulation_year=2024,
                status=status,
                nominated_on=date(2024, 11, 25),
                rule_checks=[],
                recorded_by="test",
            )

        session.add(second("refused"))
        await session.flush()
        session.add(second("proposed"))
        with pytest.raises(IntegrityError, match="awards_one_per_achievement"):
            await session.flush()


async def test_the_whole_lifecycle_with_its_history(admin: httpx.AsyncClient) -> None:
    units = await cluster5_2024(admin)
    # A vote and its standings are recorded by closing the vote (tests/votes/), never sent.
    for claimed in ({"vote_id": 7}, {"standings_version": 3}):
        sent = problem(
            await nominate(admin, units["Nam Định"], attested=True, source=SOURCE, **claimed),
            422,
            "set-by-vote",
        )
        assert sent["field"] == next(iter(claimed))
    award = (await nominate(admin, units["Nam Định"], attested=True, source=SOURCE)).json()
    assert (award["status"], award["vote_id"], award["standings_version"]) == ("nominated", None, None)
    assert award["attested"] is True
    assert award["allowed_transitions"] == ["proposed", "refused"]
    url = f"/v1/awards/{award['id']}"

    wrong = problem(
        await step(
            admin,
            award["id"],
            {
                "to": "granted",
                "decided_on": "2025-01-10",
                "decision_number": "1/QĐ-TTg",
                "authority": "Thủ tướng Chính phủ",
            },
        ),
        409,
        "transition-not-allowed",
    )
    assert wrong["allowed_transitions"] == ["proposed", "refused"]
    assert "proposed, refused" in wrong["detail"]
    problem(
        await admin.post(
            f"{url}/transitions", json={"to": "refused", "decided_on": "2025-01-10", "reason": "x"}
        ),
        428,
        "precondition-required",
    )
    stale = '"award-1-v0-0000000000000000-en"'
    problem(
        await admin.post(
            f"{url}/transitions",
            json={"to": "refused", "decided_on": "2025-01-10", "reason": "x"},
            headers={"If-Match": stale},
        ),
        412,
        "precondition-failed",
    )
    problem(await step(admin, award["id"], {"to": "proposed", "decided_on": "2024-12-01"}), 422, "validation")

    dossier = [
        {"title": "Tờ trình", "reference": "Tờ trình số 15/TTr-BCA"},
        {"title": "Biên bản họp Cụm", "reference": "Biên bản ngày 25/11/2024", "due_on": "2025-03-31"},
    ]
    proposed = await step(
        admin, award["id"], {"to": "proposed", "decided_on": "2024-12-01", "dossier": dossier}
    )
    assert proposed.status_code == 200, proposed.text
    items = proposed.json()["transitions"][-1]["dossier"]
    # The Government flag's dossier is due on 30 June of the next year (Decree 98/2023 art. 32).
    assert [i["due_on"] for i in items] == ["2025-06-30", "2025-03-31"]
    returned = await step(
        admin,
        award["id"],
        {"to": "returned", "decided_on": "2025-02-01", "reason": "Bổ sung báo cáo thành tích"},
    )
    assert returned.status_code == 200, returned.text
    problem(
        await step(
            admin, award["id"], {"to": "proposed", "decided_on": "2025-01-01", "dossier": dossier[:1]}
        ),
        409,
        "step-out-of-order",
    )
    again = await step(
        admin, award["id"], {"to": "proposed", "decided_on": "2025-02-20", "dossier": dossier[:1]}
    )
    assert again.status_code == 200, again.text
    granted = await step(
        admin,
        award["id"],
        {
            "to": "granted",
            "decided_on": "2025-09-10",
            "decision_number": "1234/QĐ-TTg",
            "authority": "Thủ tướng Chính phủ",
        },
    )
    assert granted.status_code == 200, granted.text
    revoked = await step(
        admin,
        award["id"],
        {
            "to": "revoked",
            "decided_on": "2026-03-01",
            "decision_number": "77/QĐ-TTg",
            "authority": "Thủ tướng Chính phủ",
            "reason": "Khai man hồ sơ",
        },
    )
    assert revoked.status_code == 200, revoked.text
    final = (await admin.get(url)).json()
    assert final["status"] == "revoked"
    assert final["allowed_transitions"] == []
    assert final["version"] == 6
    history = [
        (t["position"], t["from_status"], t["to_status"], t["decided_on"]) for t in final["transitions"]
    ]
    assert history == [
        (1, None, "nominated", "2024-11-25"),
        (2, "nominated", "proposed", "2024-12-01"),
        (3, "proposed", "returned", "2025-02-01"),
        (4, "returned", "proposed", "2025-02-20"),
        (5, "proposed", "granted", "2025-09-10"),
        (6, "granted", "revoked", "2026-03-01"),
    ]
    assert final["transitions"][4]["decision_number"] == "1234/QĐ-TTg"
    assert final["transitions"][5]["reason"] == "Khai man hồ sơ"
    assert all(t["recorded_by"].startswith("key:") for t in final["transitions"])
    listed = (await admin.get(f"{url}/transitions", params={"limit": "4"})).json()
    assert [t["position"] for t in listed["items"]] == [1, 2, 3, 4]
    rest = (await admin.get(f"{url}/transitions", params={"cursor": listed["next_cursor"]})).json()
    assert [t["position"] for t in rest["items"]] == [5, 6]
    problem(
        await step(admin, award["id"], {"to": "proposed", "decided_on": "2026-04-01", "dossier": dossier}),
        409,
        "transition-not-allowed",
    )


async def test_a_dossier_document_uploaded_and_read_back(admin: httpx.AsyncClient) -> None:
    units = await cluster5_2024(admin)
    award = (await nominate(admin, units["Nam Định"], attested=True, source=SOURCE)).json()
    other = (await nominate(admin, units["Hưng Yên"], "minister_certificate_of_merit")).json()
    content = "Báo cáo thành tích năm 2024\n".encode() * 100
    uploaded = await admin.post(
        f"/v1/awards/{award['id']}/documents",
        params={"filename": "báo-cáo.pdf"},
        content=content,
        headers={"Content-Type": "application/pdf", "Idempotency-Key": "doc-1"},
    )
    assert uploaded.status_code == 201, uploaded.text
    document = uploaded.json()
    assert document["sha256"] == hashlib.sha256(content).hexdigest()
    assert (document["size"], document["content_type"]) == (len(content), "application/pdf")
    read = await admin.get(uploaded.headers["location"])
    assert read.content == content
    assert read.headers["content-type"] == "application/pdf"
    problem(
        await admin.post(
            f"/v1/awards/{award['id']}/documents",
            params={"filename": "x.pdf"},
            content=b"",
            headers={"Content-Type": "application/pdf"},
        ),
        422,
        "unprocessable",
    )
    body = {
        "to": "proposed",
        "decided_on": "2024-12-01",
        "dossier": [{"title": "Báo cáo", "document_id": document["id"]}],
    }
    wrong = problem(await step(admin, other["id"], body), 422, "unprocessable")
    assert wrong["field"] == "dossier.0.document_id"
    proposed = await step(admin, award["id"], body)
    assert proposed.status_code == 200, proposed.text
    assert proposed.json()["transitions"][-1]["dossier"][0]["document_id"] == document["id"]


async def test_include_predecessors_shows_a_merged_units_record(admin: httpx.AsyncClient) -> None:
    units = await cluster5_2024(admin)
    # Thái Bình ceased on 2025-06-30; its 2024 award is decided after, and still allowed.
    thai_binh = await nominate(
        admin, units["Thái Bình"], "ministry_flag", nominated_on="2024-11-25", attested=True, source=SOURCE
    )
    assert thai_binh.status_code == 201, thai_binh.text
    old_hung_yen = await nominate(admin, units["Hưng Yên"], "ministry_flag", attested=True, source=SOURCE)
    assert old_hung_yen.status_code == 201, old_hung_yen.text
    await nominate(admin, units["Nam Định"], attested=True, source=SOURCE)
    granted = await step(
        admin,
        thai_binh.json()["id"],
        {
            "to": "proposed",
            "decided_on": "2025-05-01",
            "dossier": [{"title": "Tờ trình", "reference": "số 1"}],
        },
    )
    assert granted.status_code == 200
    granted = await step(
        admin,
        thai_binh.json()["id"],
        {
            "to": "granted",
            "decided_on": "2025-09-10",
            "decision_number": "9/QĐ-BCA",
            "authority": "Bộ trưởng Bộ Công an",
        },
    )
    assert granted.status_code == 200, granted.text

    new_hung_yen = await unit_id(admin, "Hưng Yên", "2025-07-01")
    assert new_hung_yen != units["Hưng Yên"]
    alone = (await admin.get("/v1/awards", params={"unit_id": str(new_hung_yen)})).json()["items"]
    assert alone == []
    record = (
        await admin.get("/v1/awards", params={"unit_id": str(new_hung_yen), "include_predecessors": "true"})
    ).json()
    assert sorted(a["unit"]["name"] for a in record["items"]) == ["Hưng Yên", "Thái Bình"]
    assert {a["unit"]["id"] for a in record["items"]} == {units["Thái Bình"], units["Hưng Yên"]}
    granted_only = await admin.get(
        "/v1/awards",
        params={"unit_id": str(new_hung_yen), "include_predecessors": "true", "status": "granted"},
    )
    assert [a["unit"]["name"] for a in granted_only.json()["items"]] == ["Thái Bình"]
    problem(await admin.get("/v1/awards", params={"include_predecessors": "true"}), 422, "unprocessable")
    by_type = (
        await admin.get(
            "/v1/awards", params={"award_type": "government_flag", "year": "2024", "cluster": "5"}
        )
    ).json()
    assert [a["unit"]["name"] for a in by_type["items"]] == ["Nam Định"]
    first_page = (await admin.get("/v1/awards", params={"limit": "2"})).json()
    second = (
        await admin.get("/v1/awards", params={"limit": "2", "cursor": first_page["next_cursor"]})
    ).json()
    assert len(first_page["items"]) == 2
    assert len(second["items"]) == 1
    assert second["next_cursor"] is None


async def test_attested_records_are_not_refused_for_what_cannot_be_verified(admin: httpx.AsyncClient) -> None:
    units = await cluster5_2024(admin)
    attested = await nominate(admin, units["Nam Định"], attested=True, source=SOURCE)
    assert attested.status_code == 201, attested.text
    body = attested.json()
    assert body["attested"] is True
    assert body["source"]["facts"]["rank"] == "not_stated"
    assert check(body, "government_flag_requires_cluster_lead")["outcome"] == "cannot_be_verified"
    # A year no rule set covers: refused for a new nomination, "cannot be verified" when attested.
    old = problem(
        await nominate(
            admin, units["Nam Định"], "minister_certificate_of_merit", emulation_year=2023, cluster=None
        ),
        409,
        "no-rule-set",
    )
    assert old["emulation_year"] == 2023
    assert old["type"] == "/problems/no-rule-set"
    history = await nominate(
        admin,
        units["Nam Định"],
        "minister_certificate_of_merit",
        emulation_year=2023,
        cluster=None,
        attested=True,
        source=SOURCE,
    )
    assert history.status_code == 201, history.text
    assert history.json()["rule_set"] is None
    assert check(history.json(), "rule_set")["outcome"] == "cannot_be_verified"
    problem(await nominate(admin, units["Nam Định"], "ministry_flag", attested=True), 422, "validation")


async def test_the_rule_set_follows_the_emulation_year_across_2025_07_01(
    admin: httpx.AsyncClient, database: Database
) -> None:
    units = await cluster5_2024(admin)
    late = await nominate(
        admin, units["Hải Dương"], "minister_certificate_of_merit", nominated_on="2025-09-10"
    )
    assert late.status_code == 201, late.text
    assert late.json()["rule_set"] == DECREE_98, "a 2024 award decided in September 2025 keeps 2024's rules"
    async with database.sessionmaker() as session:
        checks = await check_nomination(
            session,
            unit_id=units["Hải Dương"],
            award_type_code="government_flag",
            emulation_year=2024,
            cluster_id=None,
            on=date(2025, 9, 10),
            rank=3,
            attested=False,
        )
        assert [c.facts.get("rule_set") for c in checks if c.rule == "rule_set"] == [DECREE_98]
        lead = next(c for c in checks if c.rule == "government_flag_requires_cluster_lead")
        assert (lead.outcome.value, lead.confidence and lead.confidence.value) == ("refused", "text")
        with pytest.raises(Conflict) as raised:
            ensure_no_refusal(checks)
        assert raised.value.extra["rule"] == "government_flag_requires_cluster_lead"
        ministry = await check_nomination(
            session,
            unit_id=units["Hải Dương"],
            award_type_code="ministry_flag",
            emulation_year=2024,
            cluster_id=None,
            on=date(2025, 9, 10),
            rank=3,
            attested=False,
        )
        # Practice (seed 002): a cluster proposes the Ministry flag for more than its leader.
        assert not [c for c in ministry if c.rule == "ministry_flag_requires_cluster_lead"]
        ensure_no_refusal(ministry)


async def test_who_may_nominate(client: httpx.AsyncClient, admin: httpx.AsyncClient, cluster_key) -> None:
    units = await cluster5_2024(admin)
    own, other = bearer(await cluster_key(5)), bearer(await cluster_key(3))
    body = {
        "award_type": "minister_certificate_of_merit",
        "unit_id": units["Hưng Yên"],
        "emulation_year": 2024,
        "cluster": 5,
        "nominated_on": "2024-11-25",
    }
    problem(await client.post("/v1/awards", json=body, headers=other), 403, "forbidden")
    problem(
        await client.post("/v1/awards", json={**body, "attested": True, "source": SOURCE}, headers=own),
        403,
        "forbidden",
    )
    # The cluster's own key nominates by its vote only, for a type a vote proposes.
    problem(
        await client.post("/v1/awards", json={**body, "award_type": "ministry_flag"}, headers=own),
        409,
        "vote-required",
    )
    problem(
        await client.post(
            "/v1/awards",
            json={**body, "cluster": None},
            headers=own,
        ),
        403,
        "forbidden",
    )
    created = await client.post("/v1/awards", json=body, headers=own)
    assert created.status_code == 201, created.text
    transition = {"to": "refused", "decided_on": "2024-12-01", "reason": "x"}
    etag = created.headers["etag"]
    problem(
        await client.post(
            f"/v1/awards/{created.json()['id']}/transitions",
            json=transition,
            headers={**own, "If-Match": etag},
        ),
        403,
        "forbidden",
    )


async def test_only_collective_awards_and_a_cluster_for_voted_ones(admin: httpx.AsyncClient) -> None:
    units = await cluster5_2024(admin)
    body = problem(await nominate(admin, units["Hà Nam"], "ministry_emulation_fighter"), 422, "unprocessable")
    assert body["field"] == "award_type"
    body = problem(
        await nominate(admin, units["Hà Nam"], "ministry_flag", cluster=None), 422, "unprocessable"
    )
    assert body["field"] == "cluster"
    problem(await nominate(admin, units["Hà Nam"], "no_such_award"), 404, "not-found")
    problem(await nominate(admin, 99999, "ministry_flag"), 404, "not-found")
    problem(await nominate(admin, units["Hà Nam"], "ministry_flag", cluster=77), 404, "not-found")


async def test_messages_in_vietnamese(admin: httpx.AsyncClient) -> None:
    units = await cluster5_2024(admin)
    refused = await admin.post(
        "/v1/awards",
        json={
            "award_type": "government_flag",
            "unit_id": units["Nam Định"],
            "emulation_year": 2024,
            "cluster": 5,
            "nominated_on": "2024-11-25",
            "rank": 2,
            "attested": True,
            "source": SOURCE,
        },
        headers={"Accept-Language": "vi"},
    )
    body = problem(refused, 422, "rank-not-stated")
    assert refused.headers["content-language"] == "vi"
    assert "source.facts.rank" in body["detail"]
    assert (
        body["detail"]
        != (await nominate(admin, units["Nam Định"], rank=2, attested=True, source=SOURCE)).json()["detail"]
    )
    not_voted = await admin.post(
        "/v1/awards",
        json={
            "award_type": "government_flag",
            "unit_id": units["Nam Định"],
            "emulation_year": 2024,
            "cluster": 5,
            "nominated_on": "2024-11-25",
        },
        headers={"Accept-Language": "vi"},
    )
    assert "bỏ phiếu" in problem(not_voted, 409, "vote-required")["detail"]
    created = await nominate(admin, units["Nam Định"], attested=True, source=SOURCE)
    etag_en = created.headers["etag"]
    vi = await admin.get(f"/v1/awards/{created.json()['id']}", headers={"Accept-Language": "vi"})
    assert (
        check(vi.json(), "government_flag_requires_cluster_lead")["message"]
        != check(created.json(), "government_flag_requires_cluster_lead")["message"]
    )
    assert vi.headers["etag"].removesuffix('-vi"') == etag_en.removesuffix('-en"')
