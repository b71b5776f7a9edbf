"""Standings: totals per scorer and combined, ranks with ties as the framework says, classes,
missing scores named, a fixed number of queries, freezes and their snapshots."""

from typing import Any

import httpx

from app.clusters.years import GroupingRef, resolve
from app.core.database import Database
from app.scoring.service import current_standings, rank_of, standings_at
from tests.helpers import bearer, join, problem, unit_id
from tests.queries import counting
from tests.scoring.helpers import BASE, STANDINGS_URL, framework, items, put_framework, score

FREEZES = f"{BASE}/standings/freezes"


async def score_all(
    admin: httpx.AsyncClient, units: dict[str, int], points: dict[str, tuple[Any, Any]]
) -> None:
    """`points`: by unit name, the (CUM, X01) items."""
    for name, (cum, x01) in points.items():
        assert (await score(admin, "CUM", units[name], cum)).status_code in (200, 201)
        assert (await score(admin, "X01", units[name], x01)).status_code in (200, 201)


def by_name(standings: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {r["unit_name"]: r for r in standings["rows"]}


async def test_sum_totals_ranks_classes_and_missing_scores_named(
    admin: httpx.AsyncClient, cluster_70: dict[str, int]
) -> None:
    assert (await put_framework(admin)).status_code == 201
    await score_all(
        admin,
        cluster_70,
        {
            "Cao Bằng": (items(40, 58, bonus=2), items(39, 57)),  # 100 + 96 = 196
            "Hà Giang": (items(35, 50, pen=1.5), items(35, 51)),  # 83.5 + 86 = 169.5
            "Lào Cai": (items(38, 55), items(36, 50)),  # 93 + 86 = 179
        },
    )
    assert (
        await score(admin, "CUM", cluster_70["Lai Châu"], {"items": [{"criterion": "A", "points": 40}]})
    ).status_code == 201
    response = await admin.get(STANDINGS_URL)
    assert response.status_code == 200, response.text
    assert response.headers["etag"].startswith('"standings-70-2024-v')
    assert "Accept" in response.headers["vary"]
    body = response.json()
    assert body["frozen"] is False
    assert body["freeze"] is None
    rows = by_name(body)
    assert [r["unit_name"] for r in body["rows"]] == ["Cao Bằng", "Lào Cai", "Hà Giang", "Lai Châu"]
    assert rows["Cao Bằng"]["scorer_totals"] == [
        {"scorer": "CUM", "total": 100},
        {"scorer": "X01", "total": 96},
    ]
    assert (rows["Cao Bằng"]["combined_total"], rows["Cao Bằng"]["rank"], rows["Cao Bằng"]["class_code"]) == (
        196,
        1,
        "XS",
    )
    assert (rows["Lào Cai"]["combined_total"], rows["Lào Cai"]["rank"], rows["Lào Cai"]["class_name"]) == (
        179,
        2,
        "Tốt",
    )
    assert (rows["Hà Giang"]["combined_total"], rows["Hà Giang"]["rank"], rows["Hà Giang"]["class_code"]) == (
        169.5,
        3,
        "K",
    )
    lai_chau = rows["Lai Châu"]
    assert lai_chau["rank"] is None
    assert lai_chau["unranked_reason"] == "missing_scores"
    assert lai_chau["combined_total"] is None
    assert lai_chau["class_code"] is None
    assert lai_chau["scorer_totals"] == [{"scorer": "CUM", "total": None}, {"scorer": "X01", "total": None}]
    assert lai_chau["missing"] == [
        {"scorer": "CUM", "criterion": "B"},
        {"scorer": "X01", "criterion": "A"},
        {"scorer": "X01", "criterion": "B"},
    ]


async def test_weighted_mean(admin: httpx.AsyncClient, cluster_70: dict[str, int]) -> None:
    scorers = [{**s, "weight": w} for s, w in zip(framework()["scorers"], (3, 1), strict=True)]
    assert (
        await put_framework(admin, combination="weighted", scorers=scorers, classes=[])
    ).status_code == 201
    await score_all(
        admin,
        cluster_70,
        {"Cao Bằng": (items(40, 50), items(30, 50)), "Lào Cai": (items(30, 50), items(40, 50))},
    )
    rows = by_name((await admin.get(STANDINGS_URL)).json())
    assert rows["Cao Bằng"]["combined_total"] == 87.5  # (3 × 90 + 80) / 4
    assert rows["Lào Cai"]["combined_total"] == 82.5
    assert (rows["Cao Bằng"]["rank"], rows["Lào Cai"]["rank"]) == (1, 2)
    assert rows["Cao Bằng"]["class_code"] is None


async def test_mean_of_three_is_shown_to_four_decimals(
    admin: httpx.AsyncClient, cluster_70: dict[str, int]
) -> None:
    scorers = [*framework()["scorers"], {"code": "X02", "name": "Cục Cảnh sát hình sự", "kind": "department"}]
    assert (await put_framework(admin, combination="mean", scorers=scorers)).status_code == 201
    unit = cluster_70["Cao Bằng"]
    for code, body in (("CUM", items(40, 50)), ("X01", items(40, 50)), ("X02", items(40, 51))):
        assert (await score(admin, code, unit, body)).status_code == 201
    assert by_name((await admin.get(STANDINGS_URL)).json())["Cao Bằng"]["combined_total"] == 90.3333


TIED = {
    "Cao Bằng": (items(40, 50), items(40, 50)),  # 180; groups: XDLL 80, NV 100
    "Hà Giang": (items(30, 60), items(30, 60)),  # 180; XDLL 60, NV 120
    "Lào Cai": (items(35, 55), items(35, 55)),  # 180; XDLL 70, NV 110
    "Lai Châu": (items(20, 50), items(20, 50)),  # 140
}


async def test_ties_shared(admin: httpx.AsyncClient, cluster_70: dict[str, int]) -> None:
    assert (await put_framework(admin)).status_code == 201
    await score_all(admin, cluster_70, TIED)
    rows = by_name((await admin.get(STANDINGS_URL)).json())
    assert {n: r["rank"] for n, r in rows.items()} == {
        "Cao Bằng": 1,
        "Hà Giang": 1,
        "Lào Cai": 1,
        "Lai Châu": 4,
    }


async def test_ties_broken_by_the_framework_order(
    admin: httpx.AsyncClient, cluster_70: dict[str, int]
) -> None:
    changes = {"tie_break": "by_criteria_then_shared", "tie_break_order": ["Nghiệp vụ"]}
    assert (await put_framework(admin, **changes)).status_code == 201
    await score_all(admin, cluster_70, TIED)
    body = (await admin.get(STANDINGS_URL)).json()
    assert [(r["unit_name"], r["rank"]) for r in body["rows"]] == [
        ("Hà Giang", 1),
        ("Lào Cai", 2),
        ("Cao Bằng", 3),
        ("Lai Châu", 4),
    ]


async def test_a_fixed_number_of_queries_whatever_the_cluster_size(
    admin: httpx.AsyncClient, database: Database, cluster_70: dict[str, int]
) -> None:
    assert (await put_framework(admin)).status_code == 201
    await score_all(admin, cluster_70, {"Cao Bằng": TIED["Cao Bằng"]})
    with counting(database) as small:
        assert (await admin.get(STANDINGS_URL)).status_code == 200
    for name in ("Sơn La", "Điện Biên", "Yên Bái"):
        unit = await unit_id(admin, name, "2024-06-01")
        assert (await join(admin, unit, 70, "2024-01-01", "2024-12-31")).status_code == 201
        await score_all(admin, {name: unit}, {name: TIED["Lào Cai"]})
    with counting(database) as large:
        body = (await admin.get(STANDINGS_URL)).json()
    assert len(body["rows"]) == 7
    assert len(large) == len(small) <= 6, large


async def test_freeze_blocks_writes_and_the_snapshot_stays_readable(
    admin: httpx.AsyncClient, client: httpx.AsyncClient, cluster_70: dict[str, int], cluster_key: Any
) -> None:
    assert (await put_framework(admin)).status_code == 201
    await score_all(admin, cluster_70, TIED)
    before = (await admin.get(STANDINGS_URL)).json()
    key = bearer(await cluster_key(70))
    frozen = await client.post(FREEZES, headers={**key, "Idempotency-Key": "freeze-1"})
    assert frozen.status_code == 201, frozen.text
    freeze = frozen.json()
    assert freeze["number"] == 1
    assert freeze["frozen_by"].endswith("cluster 70")
    assert frozen.headers["location"] == f"{FREEZES}/1"
    snapshot = freeze["standings"]
    assert snapshot["frozen"] is True
    assert snapshot["version"] == before["version"]
    assert snapshot["rows"] == before["rows"]
    replay = await client.post(FREEZES, headers={**key, "Idempotency-Key": "freeze-1"})
    assert replay.status_code == 201
    assert replay.headers["idempotent-replayed"] == "true"
    assert problem(await client.post(FREEZES, headers=key), 409, "standings-frozen")["freeze_number"] == 1

    blocked = problem(await score(admin, "CUM", cluster_70["Cao Bằng"], items(1, 1)), 409, "standings-frozen")
    assert blocked["freeze_number"] == 1
    assert "1" in blocked["detail"]
    problem(await score(admin, "X01", cluster_70["Lai Châu"], items(1, 1)), 409, "standings-frozen")
    assert problem(await put_framework(admin, note="x"), 409, "standings-frozen")["freeze_number"] == 1
    current = (await admin.get(STANDINGS_URL)).json()
    assert current["frozen"] is True
    assert current["freeze"]["number"] == 1
    assert current["rows"] == before["rows"]

    problem(
        await client.post(f"{FREEZES}/1/thaw", json={"reason": "sửa điểm"}, headers=key), 403, "forbidden"
    )
    thawed = await admin.post(f"{FREEZES}/1/thaw", json={"reason": "Cục X01 điều chỉnh điểm"})
    assert thawed.status_code == 200, thawed.text
    assert thawed.json()["thaw_reason"] == "Cục X01 điều chỉnh điểm"
    assert thawed.json()["thawed_by"]
    problem(await admin.post(f"{FREEZES}/1/thaw", json={"reason": "again"}), 409, "freeze-already-thawed")
    assert (await score(admin, "CUM", cluster_70["Cao Bằng"], items(1, 1))).status_code == 200

    old = await admin.get(f"{STANDINGS_URL}/versions/{before['version']}")
    assert old.status_code == 200
    assert old.json()["rows"] == before["rows"]
    assert old.json()["freeze"]["thaw_reason"]
    now = (await admin.get(STANDINGS_URL)).json()
    assert now["version"] == before["version"] + 1
    assert now["frozen"] is False
    assert (await admin.get(f"{STANDINGS_URL}/versions/{now['version']}")).json()["rows"] == now["rows"]
    problem(await admin.get(f"{STANDINGS_URL}/versions/{before['version'] - 1}"), 404, "not-found")
    listed = (await admin.get(FREEZES)).json()["items"]
    assert [(f["number"], f["thawed_at"] is not None) for f in listed] == [(1, True)]
    assert (await admin.get(f"{FREEZES}/1")).json()["standings"]["rows"] == before["rows"]


async def test_no_framework_no_standings(admin: httpx.AsyncClient, cluster_70: dict[str, int]) -> None:
    problem(await admin.get(STANDINGS_URL), 404, "not-found")
    problem(await admin.post(FREEZES), 409, "no-scoring-framework")


async def test_the_python_interface(
    admin: httpx.AsyncClient, database: Database, cluster_70: dict[str, int]
) -> None:
    changes = {"tie_break": "by_criteria_then_shared", "tie_break_order": ["Nghiệp vụ"]}
    assert (await put_framework(admin, **changes)).status_code == 201
    await score_all(admin, cluster_70, TIED)
    assert (await admin.post(FREEZES)).status_code == 201
    version = (await admin.get(STANDINGS_URL)).json()["version"]
    async with database.sessionmaker() as session:
        cluster_id = (await resolve(session, GroupingRef.cluster(70))).id
        now = await current_standings(session, cluster_id, 2024)
        assert now is not None
        assert now.frozen
        assert now.version == version
        assert rank_of(now, cluster_70["Hà Giang"]) == 1
        assert rank_of(now, cluster_70["Cao Bằng"]) == 3
        assert rank_of(now, 999999) is None
        row = now.row(cluster_70["Hà Giang"])
        assert row is not None
        assert row.combined_total == 180
        assert row.class_code == "T"
        at = await standings_at(session, cluster_id, 2024, version)
        assert at is not None
        assert at.rows == now.rows
        assert await standings_at(session, cluster_id, 2024, version + 5) is None
        assert await current_standings(session, cluster_id, 2023) is None
