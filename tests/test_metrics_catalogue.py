"""The catalogue as covenants write it (issue 21): the metrics real covenants and year-end reports
count, each with its source; similar words kept apart; the reference loaded twice changes nothing,
and a changed row is a new version with its revision."""

import csv
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select

from app.core.config import Settings
from app.core.database import Database
from app.core.errors import Unprocessable
from app.core.identity import REFERENCE
from app.core.models import Revision
from app.metrics.catalogue import load_catalogue, read_rows
from app.metrics.models import Metric
from app.metrics.service import RESOURCE
from app.reference import load_reference

REFERENCE_FILE = Path(__file__).resolve().parents[1] / "data" / "reference" / "metrics.csv"

# key: (Vietnamese name, unit of measure, kind, numerator, denominator)
ADDED: dict[str, tuple[str, str, str, str | None, str | None]] = {
    "large_fires": ("Số vụ cháy lớn", "cases", "count", None, None),
    "fires": ("Số vụ cháy", "cases", "count", None, None),
    "drug_offenders_arrested": ("Số đối tượng phạm tội về ma túy bị bắt", "persons", "count", None, None),
    "officer_headcount": ("Quân số cán bộ, chiến sĩ", "persons", "count", None, None),
    "disciplinary_violation_rate": (
        "Tỷ lệ cán bộ, chiến sĩ vi phạm kỷ luật",
        "percent",
        "rate",
        "disciplinary_violations",
        "officer_headcount",
    ),
    "serious_disciplinary_violations": (
        "Cán bộ, chiến sĩ vi phạm kỷ luật nghiêm trọng",
        "persons",
        "count",
        None,
        None,
    ),
    "crime_reports_processed": (
        "Tin báo, tố giác tội phạm và kiến nghị khởi tố đã tiếp nhận, xử lý",
        "cases",
        "count",
        None,
        None,
    ),
    "crime_reports_processed_rate": (
        "Tỷ lệ tin báo, tố giác tội phạm và kiến nghị khởi tố được tiếp nhận, xử lý",
        "percent",
        "rate",
        "crime_reports_processed",
        "crime_reports_received",
    ),
    "commendations": ("Lượt tập thể, cá nhân được khen thưởng", "items", "count", None, None),
    "charity_houses": ("Nhà tình nghĩa được xây dựng, bàn giao", "items", "count", None, None),
    "charity_houses_vnd": ("Trị giá nhà tình nghĩa", "vnd", "amount", None, None),
    "comradeship_houses": ("Nhà “Nghĩa tình đồng đội” được xây dựng, bàn giao", "items", "count", None, None),
    "comradeship_houses_vnd": ("Trị giá nhà “Nghĩa tình đồng đội”", "vnd", "amount", None, None),
    "wanted_fugitives_caught": ("Đối tượng truy nã bị bắt, vận động đầu thú", "persons", "count", None, None),
    "economic_crime_cases": (
        "Vụ vi phạm, tội phạm về tham nhũng, kinh tế, buôn lậu phát hiện",
        "cases",
        "count",
        None,
        None,
    ),
}


async def _catalogue(admin: httpx.AsyncClient) -> dict[str, dict[str, Any]]:
    page = await admin.get("/v1/metrics", params={"limit": 200})
    assert page.status_code == 200, page.text
    assert page.json()["next_cursor"] is None
    return {m["key"]: m for m in page.json()["items"]}


async def test_each_added_metric_is_served_with_its_name_unit_kind_parts_and_source(
    admin: httpx.AsyncClient,
) -> None:
    served = await _catalogue(admin)
    for key, (name_vi, unit, kind, numerator, denominator) in ADDED.items():
        metric = served[key]
        assert (metric["name_vi"], metric["unit_of_measure"], metric["kind"]) == (name_vi, unit, kind), key
        assert (metric["numerator"], metric["denominator"]) == (numerator, denominator), key
        assert "http" in (metric["source"] or ""), key  # a public address
        assert metric["description"], key
        assert (metric["version"], metric["recorded_by"]) == (1, REFERENCE.recorded_by), key
    assert list(served) == [r["key"] for r in read_rows(REFERENCE_FILE)]  # listed in the file's order
    one = await admin.get("/v1/metrics/disciplinary_violation_rate")
    assert one.json() == served["disciplinary_violation_rate"]
    for rate in (m for m in served.values() if m["kind"] == "rate"):  # every rate's parts are served
        assert {rate["numerator"], rate["denominator"]} <= served.keys()


async def test_processed_resolved_and_cleared_are_different_metrics(admin: httpx.AsyncClient) -> None:
    served = await _catalogue(admin)
    processed = served["crime_reports_processed_rate"]
    resolved = served["crime_reports_handled_rate"]
    cleared = served["social_order_clearance_rate"]
    assert len({processed["key"], resolved["key"], cleared["key"]}) == 3
    assert processed["numerator"] == "crime_reports_processed"
    assert resolved["numerator"] == "crime_reports_handled"
    assert processed["denominator"] == resolved["denominator"] == "crime_reports_received"
    assert (cleared["numerator"], cleared["denominator"]) == (
        "social_order_crimes_cleared",
        "social_order_crimes",
    )
    # The names use the press's words, each its own, and each description says how it differs.
    assert "xử lý" in processed["name_vi"]
    assert "giải quyết" not in processed["name_vi"]
    assert "giải quyết" in resolved["name_vi"]
    assert "xử lý" not in resolved["name_vi"]
    assert "làm rõ" in cleared["name_vi"]
    assert "crime_reports_handled_rate" in processed["description"]
    assert "crime_reports_processed_rate" in resolved["description"]
    assert "crime_reports_processed_rate" in cleared["description"]
    assert "crime_reports_handled_rate" in cleared["description"]
    for key in ("crime_reports_processed", "crime_reports_handled"):
        assert "giải quyết" in served[key]["description"]
        assert "xử lý" in served[key]["description"]


async def _snapshot(database: Database) -> tuple[list[tuple[Any, ...]], int]:
    async with database.sessionmaker() as session:
        metrics = [
            (m.key, m.version, m.recorded_at, m.name_vi, m.description, m.source)
            for m in (await session.execute(select(Metric).order_by(Metric.id))).scalars()  # type: ignore[arg-type]
        ]
        revisions = (
            await session.execute(
                select(func.count()).select_from(Revision).where(Revision.resource == RESOURCE)
            )
        ).scalar_one()
    return metrics, revisions


async def test_loading_the_reference_again_changes_nothing(database: Database, settings: Settings) -> None:
    before = await _snapshot(database)
    assert len(before[0]) == len(read_rows(settings.reference_dir / "metrics.csv")) == before[1]
    for _ in range(2):
        async with database.sessionmaker() as session, session.begin():
            report = await load_reference(session, settings.reference_dir)
        assert report.metrics_added == 0
    assert await _snapshot(database) == before


def _write(path: Path, rows: list[dict[str, str]]) -> Path:
    with path.open("w", encoding="utf-8", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    return path


async def _versions(database: Database, key: str) -> list[tuple[int, str, str | None]]:
    async with database.sessionmaker() as session:
        metric = (await session.execute(select(Metric).where(Metric.key == key))).scalar_one()  # type: ignore[arg-type]
        rows = await session.execute(
            select(Revision.version, Revision.recorded_by, Revision.data)
            .where(Revision.resource == RESOURCE, Revision.resource_id == metric.id)
            .order_by(Revision.version)
        )
        return [(r.version, r.recorded_by, r.data.get("source")) for r in rows]


async def test_a_changed_row_is_a_new_version_an_admins_metric_is_left_and_a_key_keeps_its_meaning(
    admin: httpx.AsyncClient, database: Database, settings: Settings, tmp_path: Path
) -> None:
    created = await admin.post(
        "/v1/metrics",
        json={
            "key": "admins_own",
            "name_vi": "Của admin",
            "name_en": "An admin's",
            "unit_of_measure": "cases",
            "kind": "count",
            "source": "Sổ tay (2026)",
        },
    )
    assert created.status_code == 201, created.text
    assert created.json()["source"] == "Sổ tay (2026)"
    rows = read_rows(settings.reference_dir / "metrics.csv")
    fires = next(r for r in rows if r["key"] == "large_fires")
    fires["source"] = "Một nguồn khác: https://example.org/chay-lon"
    admins = {**fires, "key": "admins_own", "name_vi": "Đổi từ tệp"}
    path = _write(tmp_path / "metrics.csv", [*rows, admins])
    for expected in (1, 0):  # the change, then nothing
        async with database.sessionmaker() as session, session.begin():
            assert await load_catalogue(session, path) == expected
    after = (await admin.get("/v1/metrics/large_fires")).json()
    assert (after["version"], after["source"], after["recorded_by"]) == (
        2,
        fires["source"],
        REFERENCE.recorded_by,
    )
    assert [v[:2] for v in await _versions(database, "large_fires")] == [
        (1, REFERENCE.recorded_by),
        (2, REFERENCE.recorded_by),
    ]
    assert (await _versions(database, "large_fires"))[1][2] == fires["source"]
    own = (await admin.get("/v1/metrics/admins_own")).json()
    assert (own["name_vi"], own["version"]) == ("Của admin", 1)

    fires["kind"], fires["unit_of_measure"] = "amount", "vnd"
    with pytest.raises(Unprocessable, match="large_fires"):
        async with database.sessionmaker() as session, session.begin():
            await load_catalogue(session, _write(tmp_path / "meaning.csv", rows))
    assert (await admin.get("/v1/metrics/large_fires")).json()["kind"] == "count"
    part = {**fires, "key": "a_later_part", "kind": "count", "unit_of_measure": "cases"}
    rate = {**fires, "key": "a_new_rate", "kind": "rate", "numerator": "a_later_part", "denominator": "fires"}
    with pytest.raises(Unprocessable, match="a_later_part"):  # a rate comes after its parts
        async with database.sessionmaker() as session, session.begin():
            await load_catalogue(session, _write(tmp_path / "order.csv", [rate, part]))
