"""A scoring framework and scores for the tests."""

from typing import Any

import httpx

BASE = "/v1/clusters/70/years/2024"
FRAMEWORK_URL = f"{BASE}/scoring-framework"
STANDINGS_URL = f"{BASE}/standings"


def framework(**changes: Any) -> dict[str, Any]:
    """Two criteria (groups "Xây dựng lực lượng", "Nghiệp vụ"), a bonus, a penalty, four classes,
    the cluster and one department as scorers, summed, ties shared."""
    body: dict[str, Any] = {
        "criteria": [
            {"code": "A", "name": "Xây dựng lực lượng", "group": "Xây dựng lực lượng", "max_points": 40},
            {"code": "B", "name": "Bảo đảm an ninh, trật tự", "group": "Nghiệp vụ", "max_points": 60},
            {"code": "BONUS", "name": "Điểm thưởng", "max_points": 5, "kind": "bonus"},
            {"code": "PEN", "name": "Điểm trừ", "max_points": 10, "kind": "penalty"},
        ],
        "classes": [
            {"code": "XS", "name": "Xuất sắc", "min_points": 190},
            {"code": "T", "name": "Tốt", "min_points": 170},
            {"code": "K", "name": "Khá", "min_points": 140},
            {"code": "TB", "name": "Trung bình", "min_points": None},
        ],
        "scorers": [
            {"code": "CUM", "name": "Cụm thi đua số 70", "kind": "cluster"},
            {"code": "X01", "name": "Cục Công tác Đảng và công tác chính trị", "kind": "department"},
        ],
        "combination": "sum",
        "tie_break": "shared",
        "source": "Quy chế Cụm 70",
    }
    body.update(changes)
    return body


def items(a: float, b: float, bonus: float | None = None, pen: float | None = None) -> dict[str, Any]:
    rows = [{"criterion": "A", "points": a}, {"criterion": "B", "points": b}]
    if bonus is not None:
        rows.append({"criterion": "BONUS", "points": bonus})
    if pen is not None:
        rows.append({"criterion": "PEN", "points": pen})
    return {"items": rows, "note": None}


def sheet_url(scorer: str, unit: int) -> str:
    return f"{BASE}/scores/{scorer}/units/{unit}"


async def put_framework(client: httpx.AsyncClient, **changes: Any) -> httpx.Response:
    """Create, or replace under the current ETag."""
    current = await client.get(FRAMEWORK_URL)
    headers = {"If-Match": current.headers["etag"]} if current.status_code == 200 else {}
    return await client.put(FRAMEWORK_URL, json=framework(**changes), headers=headers)


async def score(client: httpx.AsyncClient, scorer: str, unit: int, body: dict[str, Any]) -> httpx.Response:
    """Create, or replace under the current ETag."""
    current = await client.get(sheet_url(scorer, unit))
    headers = {"If-Match": current.headers["etag"]} if current.status_code == 200 else {}
    return await client.put(sheet_url(scorer, unit), json=body, headers=headers)
