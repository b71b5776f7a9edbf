"""The history file format and `python -m app import`: all or nothing, safe to run twice."""

import subprocess
import sys
from pathlib import Path

import httpx
import pytest
import yaml

from app.core.config import PROJECT_ROOT, Settings
from app.core.database import Database
from app.core.i18n import use_locale
from app.history.importer import HistoryImportError, _Loader, import_file


async def run_import(database: Database, path: Path):
    async with database.sessionmaker() as session, session.begin():
        return await import_file(session, path)


def before_the_correction(settings: Settings, tmp_path: Path) -> Path:
    """The seed file as 4.1 shipped it, under its own name: cluster 4's 2024 covenant reading
    "100% … tiếp nhận, xử lý" as the resolution rate and "tỷ lệ giải quyết trên 90%" as the
    clearance rate, its pledge kept as an eighth key content, and no granted award."""
    document = yaml.load(settings.history_file.read_text(encoding="utf-8"), Loader=_Loader)
    year = document["clusters"][1]["years"][0]
    covenant = year["covenant"]
    covenant["key_contents"].append(covenant.pop("pledges")[0]["label"])
    covenant["targets"][1]["metric"] = "crime_reports_handled_rate"
    covenant["targets"][2]["metric"] = "social_order_clearance_rate"
    for entry in document["clusters"][1]["years"]:
        entry["awards"] = [a for a in entry.get("awards", []) if a.get("status") != "granted"]
    path = tmp_path / settings.history_file.name
    path.write_text(yaml.safe_dump(document, allow_unicode=True), encoding="utf-8")
    return path


async def test_seed_history_imports_once_and_corrects_what_it_loaded_before(
    database: Database, settings: Settings, admin: httpx.AsyncClient, tmp_path: Path
) -> None:
    """A database that loaded the seed file before its correction is corrected by the next
    import: the covenant it wrote becomes a new version (the old one kept), the pledge and the
    granted award are added; then the file changes nothing."""
    first = await run_import(database, before_the_correction(settings, tmp_path))
    assert first.clusters_created == 3
    assert first.memberships_created > 30
    assert first.leaderships_created == 8
    assert first.awards_created == 3
    corrected = await run_import(database, settings.history_file)
    assert (corrected.covenants_corrected, corrected.pledge_lists_created, corrected.awards_created) == (
        1,
        1,
        1,
    )
    assert corrected.covenants_unchanged == corrected.reported_figure_sets_corrected == 0
    revisions = (await admin.get("/v1/clusters/4/years/2024/covenant/revisions")).json()["items"]
    assert [[t["metric"] for t in r["data"]["targets"][1:]] for r in revisions] == [
        ["crime_reports_handled_rate", "social_order_clearance_rate"],
        ["crime_reports_processed_rate", "crime_reports_handled_rate"],
    ]
    assert [len(r["data"]["key_contents"]) for r in revisions] == [8, 7]
    again = await run_import(database, settings.history_file)
    assert again.awards_created == 0
    assert again.awards_unchanged == 4
    assert (again.covenants_unchanged, again.pledge_lists_unchanged) == (1, 1)
    assert not any(v for k, v in again.model_dump().items() if k.endswith("_corrected"))
    assert again.clusters_created == again.memberships_created == again.leaderships_created == 0
    assert again.memberships_unchanged == first.memberships_created
    assert again.leaderships_unchanged == first.leaderships_created


def write(tmp_path: Path, clusters: list[dict]) -> Path:
    path = tmp_path / "history.yaml"
    path.write_text(
        yaml.safe_dump(
            {
                "format": "thidua-history/1",
                "sources": {"s": {"title": "Test"}},
                "clusters": clusters,
            },
            allow_unicode=True,
        ),
        encoding="utf-8",
    )
    return path


async def test_a_bad_record_fails_the_whole_file_with_every_problem(
    database: Database, admin: httpx.AsyncClient, tmp_path: Path
) -> None:
    path = write(
        tmp_path,
        [
            {
                "number": 90,
                "years": [
                    {
                        "year": 2024,
                        "source": "s",
                        "attested_on": "2024-06-01",
                        "members": [{"unit": "Hà Nội"}, {"unit": "Atlantis"}],
                        "leadership": {"leader": "Cao Bằng"},
                    },
                    {"year": 2025, "source": "nowhere", "attested_on": "2025-06-01"},
                ],
            }
        ],
    )
    with pytest.raises(HistoryImportError) as failure, use_locale("en"):
        await run_import(database, path)
    problems = failure.value.problems
    assert any("Atlantis" in p for p in problems)
    assert any("not a member of cluster 90 in 2024" in p for p in problems)
    assert any("unknown source 'nowhere'" in p for p in problems)
    assert (await admin.get("/v1/clusters/90")).status_code == 404
    with pytest.raises(HistoryImportError) as failure:  # the importer speaks DEFAULT_LOCALE
        await run_import(database, path)
    problems = failure.value.problems
    assert any("không phải là thành viên của Cụm 90 năm 2024" in p for p in problems), problems
    assert any("không có nguồn 'nowhere'" in p for p in problems), problems


async def test_unknown_fields_are_rejected(database: Database, tmp_path: Path) -> None:
    path = write(tmp_path, [{"number": 91, "colour": "red"}])
    with pytest.raises(HistoryImportError) as failure:
        await run_import(database, path)
    assert any("colour" in p for p in failure.value.problems)


def test_cli_import(settings: Settings, tmp_path: Path) -> None:
    path = write(
        tmp_path,
        [
            {
                "number": 92,
                "years": [
                    {
                        "year": 2024,
                        "source": "s",
                        "attested_on": "2024-06-01",
                        "members": [{"unit": "Hà Nội"}],
                    }
                ],
            }
        ],
    )
    done = run_cli(settings, path)
    assert done.returncode == 0, done.stderr
    assert "memberships_created=1" in done.stdout


def run_cli(settings: Settings, path: Path, locale: str | None = None) -> subprocess.CompletedProcess[str]:
    env = {"DATABASE_URL": settings.database_url or "", "PATH": "/usr/bin:/bin"}
    if locale is not None:
        env["DEFAULT_LOCALE"] = locale
    return subprocess.run(
        [sys.executable, "-m", "app", "import", str(path)],
        cwd=PROJECT_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_bad_text_is_listed_with_every_other_problem_and_no_traceback(
    settings: Settings, tmp_path: Path
) -> None:
    members = {
        "members": [
            {"unit": "Hà Nội", "note": "x" * 2001},
            {"unit": "Cao Bằng", "note": "nul\0inside"},
            {"unit": "Atlantis"},
        ]
    }
    path = write(
        tmp_path,
        [
            {
                "number": 93,
                "years": [{"year": 2024, "source": "s", "attested_on": "2024-06-01", **members}],
            }
        ],
    )
    done = run_cli(settings, path, locale="en")
    assert done.returncode == 1
    assert "Traceback" not in done.stderr
    assert "members.0.note" in done.stderr
    assert "members.1.note" in done.stderr
    assert "nothing imported" in done.stderr
    assert "members.0.note: Must have at most 2000 characters." in done.stderr


def test_the_cli_speaks_the_default_locale(settings: Settings, tmp_path: Path) -> None:
    members = {"members": [{"unit": "Hà Nội", "note": "x" * 2001}, {"unit": "Atlantis"}]}
    path = write(
        tmp_path,
        [{"number": 95, "years": [{"year": 2024, "source": "s", "attested_on": "2024-06-01", **members}]}],
    )
    done = run_cli(settings, path)
    assert done.returncode == 1
    note = "clusters.0.years.0.members.0.note: Không được dài quá 2000 ký tự."
    problem = f"lỗi: chưa nhập dữ liệu nào: {path}: {note}"
    assert problem in done.stderr.splitlines()  # a single problem: one line


async def test_a_file_that_is_not_yaml_is_one_clear_problem(database: Database, tmp_path: Path) -> None:
    path = tmp_path / "broken.yaml"
    path.write_text("format: [unclosed", encoding="utf-8")
    with pytest.raises(HistoryImportError) as failure, use_locale("en"):
        await run_import(database, path)
    assert "not valid yaml" in failure.value.problems[0]
    missing = tmp_path / "missing.yaml"
    with pytest.raises(HistoryImportError) as failure, use_locale("en"):
        await run_import(database, missing)
    assert "cannot be read" in failure.value.problems[0]
    with pytest.raises(HistoryImportError) as failure:
        await run_import(database, missing)
    assert f"{missing}: không đọc được tệp (" in failure.value.problems[0]


async def test_schema_problems_do_not_hide_reference_problems(database: Database, tmp_path: Path) -> None:
    """A bad date in one year and an unknown unit in another: both are listed, nothing is written."""
    path = tmp_path / "history.yaml"
    path.write_text(
        """
format: thidua-history/1
sources: {s: {title: Test}}
clusters:
  - number: 95
    years:
      - {year: 2024, source: s, attested_on: 2024-13-01, members: [{unit: Hà Nội}]}
      - {year: 2025.0, source: s, attested_on: 2025-06-01, members: [{unit: Hà Nội}]}
      - {year: 2026, source: s, attested_on: 2026-06-01, members: [{unit: Atlantis}]}
""",
        encoding="utf-8",
    )
    with pytest.raises(HistoryImportError) as failure:
        await run_import(database, path)
    problems = failure.value.problems
    assert any(p.startswith("clusters.0.years.0.attested_on") for p in problems), problems
    assert any(p.startswith("clusters.0.years.1.year") for p in problems), problems
    assert any("Atlantis" in p for p in problems), problems
    assert not any(".:" in p for p in problems)


async def test_each_kind_is_imported_once_and_a_contradiction_is_a_problem(
    database: Database, admin: httpx.AsyncClient, tmp_path: Path
) -> None:
    """Run twice, a file changes nothing; a file that says otherwise of stored records someone
    changed since (the leadership, resaved through the API) lists each of them (and a member
    citing an unknown source), and writes nothing."""
    award = {"award_type": "ministry_flag", "unit": "Hà Nội", "facts": {"nomination": "stated"}}
    year = {
        "year": 2024,
        "source": "s",
        "attested_on": "2024-06-01",
        "members": [{"unit": "Hà Nội"}, {"unit": "Cao Bằng"}],
        "leadership": {"leader": "Hà Nội", "deputy": "Cao Bằng"},
        "awards": [award],
    }
    first = write(tmp_path, [{"number": 97, "years": [year]}])
    created = await run_import(database, first)
    assert (created.clusters_created, created.memberships_created) == (1, 2)
    assert (created.leaderships_created, created.awards_created) == (1, 1)
    again = await run_import(database, first)
    assert again.model_dump() == {
        **dict.fromkeys(again.model_dump(), 0),
        "memberships_unchanged": 2,
        "leaderships_unchanged": 1,
        "awards_unchanged": 1,
    }

    url = "/v1/clusters/97/years/2024/leadership"
    stored = await admin.get(url)
    body = {k: stored.json()["decision"][k] for k in ("decided_on", "conference", "source")}
    ids = {k: stored.json()[k]["unit"]["id"] for k in ("leader", "deputy")}
    resaved = await admin.put(
        url,
        json={
            "leader_unit_id": ids["leader"],
            "deputy_unit_id": ids["deputy"],
            **body,
            "note": "Đã xác minh",
        },
        headers={"If-Match": stored.headers["etag"]},
    )
    assert resaved.status_code == 200, resaved.text
    other = {
        **year,
        "members": [*year["members"], {"unit": "Lạng Sơn", "source": "nowhere"}],
        "leadership": {"leader": "Cao Bằng"},
        "awards": [{**award, "quote": "Not what the source said the first time."}],
    }
    second = tmp_path / "second"
    second.mkdir()
    with pytest.raises(HistoryImportError) as failure, use_locale("en"):
        await run_import(database, write(second, [{"number": 97, "years": [other]}]))
    where = "clusters[0] (cluster 97).years[0] (2024)"
    assert failure.value.problems == [
        f"{where}.members[2] (Lạng Sơn): unknown source 'nowhere'",
        f"{where}.leadership: A different leadership is already recorded for this year.",
        f"{where}.awards[0] (Hà Nội): A different award is already recorded for this unit and year.",
    ]
    third = tmp_path / "third"
    third.mkdir()
    members = [*year["members"], {"unit": "Lạng Sơn"}]
    after = await run_import(
        database, write(third, [{"number": 97, "years": [{**year, "members": members}]}])
    )
    assert (after.memberships_created, after.memberships_unchanged) == (1, 2)  # nothing was written
    assert (after.leaderships_unchanged, after.awards_unchanged) == (1, 1)


async def test_pledges_a_stated_outcome_and_a_correction_of_what_the_import_wrote(
    database: Database, admin: httpx.AsyncClient, tmp_path: Path
) -> None:
    """A covenant's pledges and an award stated as granted (no decision number) load; the file
    corrected makes new versions of what the import itself wrote (the earlier ones kept in the
    revisions); a record someone changed since is reported, not overwritten."""
    target = {"comparator": "eq", "threshold": 100, "basis": "absolute", "scope": "each_member"}
    covenant: dict = {
        "key_contents": ["Giữ vững an ninh"],
        "targets": [{**target, "metric": "crime_reports_handled_rate", "label": "100% … tiếp nhận, xử lý"}],
        "pledges": [
            {
                "kind": "amount",
                "scope": "cluster_total",
                "metric": "charity_houses_vnd",
                "quantity": 180000000,
                "label": "đóng góp 180 triệu",
            }
        ],
    }
    award = {
        "award_type": "ministry_flag",
        "unit": "Hà Nội",
        "status": "granted",
        "authority": "Bộ trưởng Bộ Công an",
        "facts": {"decision": "stated"},
        "quote": "Công an Hà Nội được tặng Cờ thi đua của Bộ Công an",
    }
    year = {
        "year": 2024,
        "source": "s",
        "attested_on": "2024-06-01",
        "members": [{"unit": "Hà Nội"}, {"unit": "Cao Bằng"}],
        "covenant": covenant,
        "awards": [award],
    }
    created = await run_import(database, write(tmp_path, [{"number": 95, "years": [year]}]))
    assert (created.covenants_created, created.pledge_lists_created, created.awards_created) == (1, 1, 1)
    granted = (await admin.get("/v1/awards", params={"status": "granted", "cluster": 95})).json()["items"]
    decisions = [(a["unit"]["name"], a["transitions"][-1]["decision_number"]) for a in granted]
    assert decisions == [("Hà Nội", None)]
    assert granted[0]["transitions"][-1]["authority"] == "Bộ trưởng Bộ Công an"

    covenant["targets"][0]["metric"] = "crime_reports_processed_rate"
    covenant["pledges"][0]["label"] = "Các đơn vị thống nhất đóng góp 180 triệu"
    corrected = await run_import(database, write(tmp_path, [{"number": 95, "years": [year]}]))
    assert (corrected.covenants_corrected, corrected.pledge_lists_corrected) == (1, 1)
    assert (corrected.awards_unchanged, corrected.memberships_unchanged) == (1, 2)
    base = "/v1/clusters/95/years/2024"
    stored = await admin.get(f"{base}/covenant")
    assert (stored.json()["version"], stored.json()["targets"][0]["metric"]) == (
        2,
        "crime_reports_processed_rate",
    )
    revisions = (await admin.get(f"{base}/covenant/revisions")).json()["items"]
    assert [r["data"]["targets"][0]["metric"] for r in revisions] == [
        "crime_reports_handled_rate",
        "crime_reports_processed_rate",
    ]
    pledges = (await admin.get(f"{base}/pledges")).json()
    assert (pledges["version"], pledges["pledges"][0]["label"]) == (
        2,
        "Các đơn vị thống nhất đóng góp 180 triệu",
    )
    again = await run_import(database, write(tmp_path, [{"number": 95, "years": [year]}]))
    assert (again.covenants_unchanged, again.pledge_lists_unchanged, again.covenants_corrected) == (1, 1, 0)

    body = stored.json()
    keep = ("metric", "comparator", "threshold", "basis", "scope", "label")
    resaved = await admin.put(
        f"{base}/covenant",
        json={
            "source": body["source"],
            "key_contents": body["key_contents"],
            "targets": [{k: t[k] for k in keep} for t in body["targets"]],
            "note": "Đã đối chiếu với biên bản",
        },
        headers={"If-Match": stored.headers["etag"]},
    )
    assert resaved.status_code == 200, resaved.text
    covenant["targets"][0]["threshold"] = 99
    with pytest.raises(HistoryImportError) as failure, use_locale("en"):
        await run_import(database, write(tmp_path, [{"number": 95, "years": [year]}]))
    where = "clusters[0] (cluster 95).years[0] (2024).covenant"
    assert failure.value.problems == [f"{where}: A different covenant is already recorded for this year."]
    assert (await admin.get(f"{base}/covenant")).json()["version"] == 3
