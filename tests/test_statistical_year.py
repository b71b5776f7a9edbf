"""The statistical year (issue 21, item 3): a cluster-year's reporting period is data. By default
15 December of the year before to 14 December (`data/reference/reporting_periods.yaml`), or the
covenant's own; the evaluation, the sheet's summary and the figures' template use it."""

from datetime import UTC, date, datetime
from typing import Any

import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError

from app.core import time
from app.core.config import Settings
from app.core.database import Database
from app.rules.reporting_periods import YearStart, load_reporting_periods, period_of
from tests.helpers import join, problem, unit_id

CLUSTER = 87
YEAR_URL = f"/v1/clusters/{CLUSTER}/years/2025"
EVALUATION = f"{YEAR_URL}/evaluation"
COVENANT = f"{YEAR_URL}/covenant"
TARGETS = [
    {
        "metric": "social_order_crimes",
        "comparator": "le",
        "threshold": -5,
        "basis": "change_vs_previous_period",
        "scope": "each_member",
    },
    {
        "metric": "crime_reports_handled_rate",
        "comparator": "ge",
        "threshold": 90,
        "basis": "absolute",
        "scope": "cluster_total",
    },
]


async def push(
    admin: httpx.AsyncClient, unit: int, period: str, year: int, crimes: int, handled: int
) -> None:
    values = [
        {"metric": "social_order_crimes", "value": crimes},
        {"metric": "crime_reports_handled_rate", "numerator": handled, "denominator": 100},
    ]
    response = await admin.put(f"/v1/units/{unit}/figures/{period}", json={"year": year, "values": values})
    assert response.status_code == 201, response.text


@pytest.fixture
async def cluster(admin: httpx.AsyncClient) -> dict[str, int]:
    """Cluster 87 since 2023: Hà Nội and Cao Bằng; a 2025 covenant stating no period, and each
    member's figures for the statistical years 2024 and 2025 (15 December to 14 December)."""
    assert (await admin.post("/v1/clusters", json={"number": CLUSTER})).status_code == 201
    units = {name: await unit_id(admin, name, "2025-06-01") for name in ("Hà Nội", "Cao Bằng")}
    for unit in units.values():
        assert (await join(admin, unit, CLUSTER, "2023-01-01")).status_code == 201
    created = await admin.put(COVENANT, json={"signed_on": "2025-03-01", "targets": TARGETS})
    assert created.status_code == 201, created.text
    assert (created.json()["period_start"], created.json()["period_end"]) == (None, None)
    for name, (crimes_2024, crimes_2025, handled) in {
        "Hà Nội": (300, 270, 95),
        "Cao Bằng": (100, 99, 90),
    }.items():
        await push(admin, units[name], "2023-12-15..2024-12-14", 2024, crimes_2024, handled)
        await push(admin, units[name], "2024-12-15..2025-12-14", 2025, crimes_2025, handled)
    return units


SET_PERIOD = text(
    "UPDATE covenants SET period_start = :start, period_end = :end "
    "WHERE year = 2025 AND cluster_id = (SELECT id FROM clusters WHERE number = :number)"
)


def day(iso: str | None) -> date | None:
    return None if iso is None else date.fromisoformat(iso)


def verdicts(body: dict[str, Any]) -> dict[tuple[int, int | None], str]:
    return {(r["target_index"], r["unit_id"]): r["verdict"] for r in body["rows"]}


async def test_the_evaluation_and_the_sheet_judge_the_statistical_year(
    admin: httpx.AsyncClient, cluster: dict[str, int]
) -> None:
    ha_noi, cao_bang = cluster["Hà Nội"], cluster["Cao Bằng"]
    answer = await admin.get(EVALUATION)
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert (body["period_start"], body["period_end"], body["period_basis"]) == (
        "2024-12-15",
        "2025-12-14",
        "default",
    )
    assert (body["baseline_start"], body["baseline_end"]) == ("2023-12-15", "2024-12-14")
    rule = body["period_rule"]
    assert rule["code"] == "statistical-year-decree-09-2019"
    assert rule["confidence"] == "analogue"
    assert rule["basis"][0]["document"].startswith("Nghị định 09/2019/NĐ-CP")
    # Hà Nội 270 against 300 (−10%), Cao Bằng 99 against 100 (−1%); (95 + 90) / 200 = 92.5% ≥ 90%.
    assert verdicts(body) == {(0, ha_noi): "met", (0, cao_bang): "not_met", (1, None): "met"}
    total = next(r for r in body["rows"] if r["unit_id"] is None)
    assert total["value"] == "92.5"

    # The calendar year, asked for, finds no figure set that tiles it: every row unknown.
    calendar = await admin.get(EVALUATION, params={"period_start": "2025-01-01", "period_end": "2025-12-31"})
    assert calendar.json()["period_basis"] == "requested"
    assert calendar.json()["period_rule"] is None
    assert set(verdicts(calendar.json()).values()) == {"unknown"}
    # A day given alone: the reporting period completes it, and the answer names the rule.
    half = (await admin.get(EVALUATION, params={"period_end": "2025-06-14"})).json()
    assert (half["period_start"], half["period_end"], half["period_basis"]) == (
        "2024-12-15",
        "2025-06-14",
        "requested",
    )
    assert half["period_rule"]["code"] == rule["code"]
    problem(await admin.get(EVALUATION, params={"period_end": "2024-12-01"}), 422, "unprocessable")

    # The sheet counts the same verdicts over the same period, and says which.
    summary = (await admin.get(YEAR_URL)).json()["evaluation"]
    assert (summary["met"], summary["not_met"], summary["unknown"]) == (2, 1, 0)
    assert (summary["period_start"], summary["period_end"], summary["period_basis"]) == (
        "2024-12-15",
        "2025-12-14",
        "default",
    )
    assert summary["period_rule"] == rule


async def test_a_covenants_own_period_wins_and_is_checked(
    admin: httpx.AsyncClient, cluster: dict[str, int], database: Database
) -> None:
    etag = (await admin.get(COVENANT)).headers["etag"]
    own = {
        "signed_on": "2025-03-01",
        "targets": TARGETS,
        "period_start": "2024-12-15",
        "period_end": "2025-06-14",
    }
    # One day alone, backwards, or 367 days: invalid on its own.
    for start, end in (("2024-12-15", None), ("2025-06-14", "2024-12-15"), ("2024-12-15", "2025-12-16")):
        bad = {**own, "period_start": start, "period_end": end}
        refused = problem(await admin.put(COVENANT, json=bad, headers={"If-Match": etag}), 422, "validation")
        assert refused["errors"][0]["loc"] == ["body"], refused
    # Not a period of 2025: neither its first nor its last day in 2025.
    outside = {**own, "period_start": "2024-01-01", "period_end": "2024-12-14"}
    refused = problem(
        await admin.put(COVENANT, json=outside, headers={"If-Match": etag}), 422, "unprocessable"
    )
    assert refused["field"] == "period_start"

    replaced = await admin.put(COVENANT, json=own, headers={"If-Match": etag})
    assert replaced.status_code == 200, replaced.text
    assert (replaced.json()["period_start"], replaced.json()["period_end"]) == ("2024-12-15", "2025-06-14")
    body = (await admin.get(EVALUATION)).json()
    assert (body["period_start"], body["period_end"], body["period_basis"], body["period_rule"]) == (
        "2024-12-15",
        "2025-06-14",
        "covenant",
        None,
    )
    assert (await admin.get(YEAR_URL)).json()["evaluation"]["period_basis"] == "covenant"
    template = await admin.get("/v1/figures/template.csv", params={"year": "2025", "cluster": str(CLUSTER)})
    assert template.text.splitlines()[1].startswith(",,,2025,2024-12-15,2025-06-14,")

    # The database holds the same rules.
    for name, start, end in (
        ("covenants_period_both_or_neither", "2024-12-15", None),
        ("covenants_period_ordered", "2025-06-14", "2024-12-15"),
        ("covenants_period_at_most_366_days", "2024-12-15", "2025-12-16"),
        ("covenants_period_in_year", "2024-01-01", "2024-12-14"),
    ):
        async with database.sessionmaker() as session, session.begin():
            with pytest.raises(IntegrityError, match=name):
                await session.execute(SET_PERIOD, {"start": day(start), "end": day(end), "number": CLUSTER})


async def test_the_template_is_filled_with_a_statistical_year(
    admin: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch, database: Database, settings: Settings
) -> None:
    # 2025-12-15 at half past midnight in Hà Nội (still the 14th in UTC): next year's period.
    monkeypatch.setattr(time, "utcnow", lambda: datetime(2025, 12, 14, 17, 30, tzinfo=UTC))
    lines = (await admin.get("/v1/figures/template.csv")).text.splitlines()
    assert lines[0].startswith("\ufeffdon_vi_id,ma_don_vi,ngay_hieu_luc,nam,tu_ngay,den_ngay,chi_tieu")
    assert all(line.startswith(",,,2026,2025-12-15,2026-12-14,") for line in lines[1:])
    for year, first in (
        ("2025", ",,,2025,2024-12-15,2025-12-14,"),
        ("2018", ",,,2018,2018-01-01,2018-12-31,"),
    ):
        assert (
            (await admin.get("/v1/figures/template.csv", params={"year": year}))
            .text.splitlines()[1]
            .startswith(first)
        ), "no rule covers 2018: the calendar year"
    problem(await admin.get("/v1/figures/template.csv", params={"cluster": "999"}), 404, "not-found")

    # The rule itself: leap years, and a second load changes nothing.
    starts = YearStart(month=12, day=15, years_before=1)
    assert period_of(starts, 2024) == (date(2023, 12, 15), date(2024, 12, 14))
    assert period_of(YearStart(month=1, day=1, years_before=0), 2024) == (
        date(2024, 1, 1),
        date(2024, 12, 31),
    )
    async with database.sessionmaker() as session, session.begin():
        assert await load_reporting_periods(session, settings.reference_dir / "reporting_periods.yaml") == 0
