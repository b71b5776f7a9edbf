"""A covenant's pledges (issue 21, item 5): each member's or the members' together, amounts and
counts checked against the figures the members report over the reporting period, tasks against
the statuses the secretariat sets; statuses survive a replacement of the list; the sheet and its
XLSX show them; the seeds' joint pledge and a historical granted flag."""

import io
from typing import Any

import httpx
import pytest
from openpyxl import load_workbook
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError

from app.core.database import Database
from app.core.exports import XLSX
from app.pledges.schemas import PledgesOut
from app.pledges.service import without_figures
from tests.helpers import join, problem, unit_id

CLUSTER = 86
BASE = f"/v1/clusters/{CLUSTER}/years/2025"
PLEDGES = f"{BASE}/pledges"

EACH = {
    "kind": "amount",
    "label": "Mỗi đơn vị đóng góp 20 triệu đồng xây nhà tình nghĩa",
    "metric": "charity_houses_vnd",
    "quantity": 20000000,
}
JOINT = {**EACH, "label": "Cả Cụm đóng góp 50 triệu đồng", "scope": "cluster_total", "quantity": 50000000}
HOUSES = {
    "kind": "count",
    "label": "Mỗi đơn vị xây 1 nhà tình nghĩa",
    "metric": "charity_houses",
    "quantity": 1,
}
TASK = {"kind": "task", "label": "Thăm, tặng quà gia đình chính sách"}
DONE = {"status": "done", "on": "2025-07-27", "source": "Báo cáo sơ kết 6 tháng"}


async def push(admin: httpx.AsyncClient, unit: int, period: tuple[str, str], **values: int) -> None:
    start, end = period
    body = {"year": 2025, "values": [{"metric": k, "value": v} for k, v in values.items()]}
    response = await admin.put(f"/v1/units/{unit}/figures/{start}..{end}", json=body)
    assert response.status_code == 201, response.text


def checks(pledge: dict[str, Any]) -> list[tuple[str | None, str, str | None]]:
    return [(c["unit"]["name"] if c["unit"] else None, c["outcome"], c["value"]) for c in pledge["checks"]]


async def test_pledges_are_checked_and_task_statuses_survive_a_replacement(
    admin: httpx.AsyncClient, database: Database
) -> None:
    assert (await admin.post("/v1/clusters", json={"number": CLUSTER})).status_code == 201
    cao_bang, ha_noi = [await unit_id(admin, n, "2025-01-01") for n in ("Cao Bằng", "Hà Nội")]
    for unit in (cao_bang, ha_noi):
        assert (await join(admin, unit, CLUSTER, "2024-01-01")).status_code == 201
    body = {"pledges": [EACH, JOINT, HOUSES, TASK]}
    problem(await admin.put(PLEDGES, json=body), 409, "no-covenant")
    covenant = await admin.put(f"{BASE}/covenant", json={"key_contents": ["Giữ vững an ninh"]})
    assert covenant.status_code == 201, covenant.text
    wrong_kind = {"pledges": [{**HOUSES, "metric": "charity_houses_vnd"}]}
    assert (
        problem(await admin.put(PLEDGES, json=wrong_kind), 422, "unprocessable")["field"]
        == "pledges.0.metric"
    )
    problem(await admin.put(PLEDGES, json={"pledges": [{**TASK, "quantity": 1}]}), 422, "validation")
    created = await admin.put(PLEDGES, json=body)
    assert created.status_code == 201, created.text

    # Figures for exactly the reporting period the pledges are judged on.
    period = (created.json()["period_start"], created.json()["period_end"])
    await push(admin, ha_noi, period, charity_houses_vnd=25000000, charity_houses=2)
    await push(admin, cao_bang, period, charity_houses_vnd=15000000)
    read = (await admin.get(PLEDGES)).json()
    each, joint, houses, task = read["pledges"]
    assert checks(each) == [("Cao Bằng", "not_met", "15000000"), ("Hà Nội", "met", "25000000")]
    assert checks(joint) == [(None, "not_met", "40000000")]
    assert checks(houses)[1] == ("Hà Nội", "met", "2")
    assert checks(houses)[0][:2] == ("Cao Bằng", "unknown")  # no charity_houses in its set
    assert checks(task) == [("Cao Bằng", "unknown", None), ("Hà Nội", "unknown", None)]
    assert all(c["why"] for p in read["pledges"] for c in p["checks"])
    assert (await admin.get(BASE)).json()["pledges"] == read  # the sheet shows them (and caches)
    published = without_figures(PledgesOut.model_validate(read))
    assert published is not None
    assert [len(p.checks) for p in published.pledges] == [0, 0, 0, 2]  # figures stay private

    status_url = f"{PLEDGES}/4/members/{cao_bang}"
    set_ = await admin.put(status_url, json=DONE)
    assert set_.status_code == 201, set_.text
    assert (set_.json()["label"], set_.json()["version"]) == (TASK["label"], 1)
    problem(await admin.put(f"{PLEDGES}/1/members/{cao_bang}", json=DONE), 409, "not-a-task")
    lang_son = await unit_id(admin, "Lạng Sơn", "2025-01-01")
    problem(await admin.put(f"{PLEDGES}/4/members/{lang_son}", json=DONE), 409, "not-a-member")
    problem(await admin.put(f"{PLEDGES}/9/members/{cao_bang}", json=DONE), 404, "not-found")
    task = (await admin.get(PLEDGES)).json()["pledges"][3]
    assert checks(task)[0] == ("Cao Bằng", "done", None)
    assert task["checks"][0]["status"]["source"] == DONE["source"]
    assert "2025-07-27" in task["checks"][0]["why"]

    # A replacement keeps the statuses of the positions it keeps, and may not drop or retype one.
    etag = (await admin.get(PLEDGES)).headers["etag"]
    for pledges, field in (
        ([EACH, JOINT, HOUSES], "pledges"),
        ([EACH, JOINT, HOUSES, HOUSES], "pledges.3.kind"),
    ):
        refused = await admin.put(PLEDGES, json={"pledges": pledges}, headers={"If-Match": etag})
        assert problem(refused, 409, "pledge-has-statuses")["field"] == field
    reworded = [EACH, JOINT, HOUSES, {**TASK, "label": "Thăm, tặng quà các gia đình chính sách"}]
    replaced = await admin.put(PLEDGES, json={"pledges": reworded}, headers={"If-Match": etag})
    assert replaced.status_code == 200, replaced.text
    assert replaced.json()["version"] == 2
    assert checks(replaced.json()["pledges"][3])[0] == ("Cao Bằng", "done", None)
    assert len((await admin.get(f"{PLEDGES}/revisions")).json()["items"]) == 2
    again = await admin.put(
        status_url, json={**DONE, "on": "2025-08-01"}, headers={"If-Match": set_.headers["etag"]}
    )
    assert problem(again, 412, "precondition-failed")  # the label it embeds changed
    current = await admin.get(status_url)
    again = await admin.put(
        status_url, json={**DONE, "on": "2025-08-01"}, headers={"If-Match": current.headers["etag"]}
    )
    assert (again.status_code, again.json()["version"]) == (200, 2)
    assert len((await admin.get(f"{status_url}/revisions")).json()["items"]) == 2

    # The database holds the same rules: a measure that does not fit the kind, a status's pledge
    # made an amount.
    for statement in (
        "INSERT INTO pledges (list_id, position, kind, scope, label, metric_id) "
        "SELECT list_id, 9, 'task', 'each_member', 'x', metric_id FROM pledges WHERE position = 1",
        "UPDATE pledges SET kind = 'amount', metric_id = (SELECT metric_id FROM pledges WHERE position = 1), "
        "quantity = 1 WHERE position = 4",
    ):
        with pytest.raises(IntegrityError) as refused:
            async with database.sessionmaker() as session, session.begin():
                await session.execute(text(statement))
        assert "pledges_measure_fits_kind" in str(refused.value) or "pledge_kind_fkey" in str(refused.value)

    # The sheet shows them, and its XLSX has a worksheet for them.
    sheet = (await admin.get(BASE)).json()  # read again after the writes: not a stale copy
    assert sheet["pledges"]["version"] == 2
    assert checks(sheet["pledges"]["pledges"][3])[0] == ("Cao Bằng", "done", None)
    xlsx = await admin.get(BASE, headers={"Accept": XLSX})
    rows = [list(r) for r in load_workbook(io.BytesIO(xlsx.content))["Pledges"].iter_rows(values_only=True)]
    assert rows[1] == ["No.", "Pledge", "Kind", "Metric", "Quantity", "Unit", "Outcome", "Value", "Why"]
    assert rows[4][:8] == [
        2,
        JOINT["label"],
        "Amount",
        "Trị giá nhà tình nghĩa",
        50000000,
        "The members together",
        "Not met",
        40000000,
    ]
    assert rows[-2][5:7] == ["Cao Bằng", "Done"]


async def test_the_seeds_joint_pledge_and_a_granted_flag(admin: httpx.AsyncClient, seeded: None) -> None:
    """Seed 004's 180 million pledged together; Phú Thọ's Government flag for 2025, granted as a
    later article reports it, without a decision number, found among the granted awards."""
    pledges = (await admin.get("/v1/clusters/4/years/2024/pledges")).json()["pledges"]
    assert [(p["kind"], p["scope"], p["metric"], p["quantity"]) for p in pledges] == [
        ("amount", "cluster_total", "charity_houses_vnd", 180000000)
    ]
    assert pledges[0]["label"].startswith("Các đơn vị trong Cụm thi đua cũng thống nhất đóng góp 180 triệu")
    assert [c["outcome"] for c in pledges[0]["checks"]] == ["unknown"]  # no figures pushed
    granted = (await admin.get("/v1/awards", params={"status": "granted"})).json()["items"]
    flag = next(a for a in granted if a["unit"]["name"] == "Phú Thọ")
    assert (flag["award_type"], flag["emulation_year"], flag["cluster"], flag["attested"]) == (
        "government_flag",
        2025,
        4,
        True,
    )
    decision = flag["transitions"][-1]
    assert (decision["to_status"], decision["decision_number"], decision["authority"]) == (
        "granted",
        None,
        "Thủ tướng Chính phủ",
    )
    assert flag["source"]["url"].startswith("https://kienthuc.net.vn/")
