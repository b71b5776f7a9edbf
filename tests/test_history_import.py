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
from app.history.importer import HistoryImportError, import_file


async def run_import(database: Database, path: Path):
    async with database.sessionmaker() as session, session.begin():
        return await import_file(session, path)


async def test_seed_history_imports_once(database: Database, settings: Settings) -> None:
    first = await run_import(database, settings.history_file)
    assert first.clusters_created == 3
    assert first.memberships_created > 30
    assert first.leaderships_created == 8
    assert first.awards_created == 3
    again = await run_import(database, settings.history_file)
    assert again.awards_created == 0
    assert again.awards_unchanged == 3
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
    database: Database, tmp_path: Path
) -> None:
    """Run twice, a file changes nothing; a file that says otherwise of stored records lists
    each of them (and a member citing an unknown source), and writes nothing."""
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
