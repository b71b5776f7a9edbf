"""Rule sets: dated data with a cited basis and a confidence per parameter, chosen by the
emulation year being judged."""

from pathlib import Path

import httpx
import pytest
import yaml
from sqlalchemy.exc import IntegrityError

from app.core.config import Settings
from app.core.database import Database
from app.rules.service import NoRuleSet, load_rule_sets, rule_set_for_year
from tests.awards_helpers import DECREE_98, DECREE_152
from tests.helpers import problem


async def test_two_rule_sets_one_per_period_with_typed_parameters(admin: httpx.AsyncClient) -> None:
    page = (await admin.get("/v1/rule-sets")).json()
    assert [r["code"] for r in page["items"]] == [DECREE_98, DECREE_152]
    old, new = page["items"]
    assert (old["in_force_from"], old["in_force_to"]) == ("2024-01-01", "2025-06-30")
    assert (new["in_force_from"], new["in_force_to"]) == ("2025-07-01", None)
    threshold = old["parameters"]["approval_threshold"]
    assert threshold["value"] == {"numerator": 4, "denominator": 5}
    assert threshold["confidence"] == "text"
    assert threshold["basis"]["article"] == "art. 30(7)"
    assert old["parameters"]["approval_denominator"]["value"] == "eligible_voters"
    assert old["parameters"]["quorum"]["confidence"] == "analogue"
    assert old["parameters"]["cluster_vote_share"]["confidence"] == "unknown"
    assert old["parameters"]["government_flag_dossier_due"]["value"] == {
        "month": 6,
        "day": 30,
        "years_after": 1,
    }
    # "The same under Decree 152/2025 is unconfirmed": carried over, unknown, and said so.
    carried = new["parameters"]["approval_threshold"]
    assert carried["value"] == {"numerator": 4, "denominator": 5}
    assert carried["confidence"] == "unknown"
    assert "unconfirmed" in carried["basis"]["note"]
    assert new["parameters"]["blocking_proceeding_kinds"]["confidence"] == "text"
    steps = [s["step"] for s in new["parameters"]["tie_break"]["value"]]
    assert steps == ["women_preference", "stronger_record", "chair_vote"]


async def test_the_rule_set_is_chosen_by_the_emulation_year(
    admin: httpx.AsyncClient, database: Database
) -> None:
    assert (await admin.get("/v1/rule-sets/for-year/2024")).json()["code"] == DECREE_98
    assert (await admin.get("/v1/rule-sets/for-year/2025")).json()["code"] == DECREE_152
    assert (await admin.get("/v1/rule-sets/for-year/2031")).json()["code"] == DECREE_152
    body = problem(await admin.get("/v1/rule-sets/for-year/2023"), 404, "not-found")
    assert body["emulation_year"] == 2023
    assert "2023" in body["detail"]
    async with database.sessionmaker() as session:
        assert (await rule_set_for_year(session, 2024)).code == DECREE_98
        with pytest.raises(NoRuleSet) as raised:
            await rule_set_for_year(session, 2023)
        assert raised.value.emulation_year == 2023


async def test_get_one_with_its_etag(admin: httpx.AsyncClient) -> None:
    response = await admin.get(f"/v1/rule-sets/{DECREE_152}")
    assert response.status_code == 200
    assert response.headers["etag"].startswith(f'"rule_set-{DECREE_152}-v1-')
    again = await admin.get(
        f"/v1/rule-sets/{DECREE_152}", headers={"If-None-Match": response.headers["etag"]}
    )
    assert again.status_code == 304
    problem(await admin.get("/v1/rule-sets/no-such-rules"), 404, "not-found")


async def test_loading_again_changes_nothing_and_a_changed_file_is_a_new_version(
    database: Database, settings: Settings, tmp_path: Path, admin: httpx.AsyncClient
) -> None:
    source = settings.reference_dir / "rule_sets.yaml"
    async with database.sessionmaker() as session, session.begin():
        assert await load_rule_sets(session, source) == 0
    document = yaml.safe_load(source.read_text(encoding="utf-8"))
    document["rule_sets"][1]["parameters"]["max_rounds"]["value"] = 3
    changed = tmp_path / "rule_sets.yaml"
    changed.write_text(yaml.safe_dump(document, allow_unicode=True), encoding="utf-8")
    async with database.sessionmaker() as session, session.begin():
        assert await load_rule_sets(session, changed) == 1
    stored = (await admin.get(f"/v1/rule-sets/{DECREE_152}")).json()
    assert stored["version"] == 2
    assert stored["parameters"]["max_rounds"]["value"] == 3


async def test_periods_cannot_overlap(database: Database, settings: Settings, tmp_path: Path) -> None:
    document = yaml.safe_load((settings.reference_dir / "rule_sets.yaml").read_text(encoding="utf-8"))
    extra = {**document["rule_sets"][1], "code": "overlapping", "in_force_from": "2025-01-01"}
    document["rule_sets"] = [extra]
    path = tmp_path / "rule_sets.yaml"
    path.write_text(yaml.safe_dump(document, allow_unicode=True), encoding="utf-8")
    with pytest.raises(IntegrityError, match="rule_sets_no_overlap"):
        async with database.sessionmaker() as session, session.begin():
            await load_rule_sets(session, path)


async def test_a_broken_file_is_refused_at_load(
    database: Database, settings: Settings, tmp_path: Path
) -> None:
    document = yaml.safe_load((settings.reference_dir / "rule_sets.yaml").read_text(encoding="utf-8"))
    document["rule_sets"][0]["parameters"]["quorum"]["confidence"] = "rumour"
    path = tmp_path / "rule_sets.yaml"
    path.write_text(yaml.safe_dump(document, allow_unicode=True), encoding="utf-8")
    with pytest.raises(ValueError, match="confidence"):
        async with database.sessionmaker() as session, session.begin():
            await load_rule_sets(session, path)


async def test_the_award_catalogue(admin: httpx.AsyncClient) -> None:
    items = (await admin.get("/v1/award-types")).json()["items"]
    by_code = {t["code"]: t for t in items}
    flag = by_code["government_flag"]
    assert flag["name"] == "Cờ thi đua của Chính phủ"
    assert (flag["kind"], flag["recipient"], flag["level"]) == ("flag", "collective", "government")
    assert flag["authority"] == "Thủ tướng Chính phủ"
    assert flag["requires_vote"] is True
    assert flag["standard_of"] == "ministry_flag"
    assert "government_flag_requires_cluster_lead" in flag["rules"]
    assert by_code["ministry_flag"]["name"] == "Cờ thi đua của Bộ Công an"
    assert by_code["ministry_emulation_fighter"]["approval_class"] == "high"
    one = await admin.get("/v1/award-types/ministry_flag")
    assert one.json()["authority"] == "Bộ trưởng Bộ Công an"
    assert one.headers["etag"].startswith('"award_type-ministry_flag-v1-')
    problem(await admin.get("/v1/award-types/no_such_award"), 404, "not-found")
