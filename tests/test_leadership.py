"""Leader and deputy per year, rotation history and the suggestion for next year."""

import httpx
import pytest

from tests.helpers import problem, unit_id


@pytest.fixture
async def cluster_60(admin: httpx.AsyncClient) -> dict[str, int]:
    """Cluster 60 with four members from 2020 on: Hà Nội, Cao Bằng, Điện Biên, Lai Châu."""
    assert (await admin.post("/v1/clusters", json={"number": 60})).status_code == 201
    units = {}
    for name in ("Hà Nội", "Cao Bằng", "Điện Biên", "Lai Châu"):
        units[name] = await unit_id(admin, name, "2025-07-01")
        body = {"unit_id": units[name], "cluster": 60, "valid_from": "2020-01-01"}
        assert (await admin.post("/v1/memberships", json=body)).status_code == 201
    return units


async def put(
    admin: httpx.AsyncClient, year: int, leader: int, deputy: int | None = None, **headers: str
) -> httpx.Response:
    return await admin.put(
        f"/v1/clusters/60/years/{year}/leadership",
        json={
            "leader_unit_id": leader,
            "deputy_unit_id": deputy,
            "decided_on": f"{year - 1}-11-20",
        },
        headers=headers,
    )


async def test_set_replace_and_keep_history(admin: httpx.AsyncClient, cluster_60: dict[str, int]) -> None:
    u = cluster_60
    created = await put(admin, 2021, u["Hà Nội"], u["Cao Bằng"])
    assert created.status_code == 201, created.text
    assert created.json()["leader"]["unit"]["name"] == "Hà Nội"
    assert created.json()["decision"]["decided_on"] == "2020-11-20"
    problem(await put(admin, 2021, u["Cao Bằng"], u["Hà Nội"]), 428, "precondition-required")
    replaced = await put(admin, 2021, u["Cao Bằng"], u["Hà Nội"], **{"If-Match": created.headers["etag"]})
    assert replaced.status_code == 200
    assert replaced.json()["version"] == 2
    problem(
        await put(admin, 2021, u["Hà Nội"], None, **{"If-Match": created.headers["etag"]}),
        412,
        "precondition-failed",
    )
    revisions = (await admin.get("/v1/clusters/60/years/2021/leadership/revisions")).json()["items"]
    assert [r["data"]["leader"]["unit"]["name"] for r in revisions] == ["Hà Nội", "Cao Bằng"]
    problem(await put(admin, 2022, u["Hà Nội"], **{"If-Match": '"x"'}), 412, "precondition-failed")


async def test_leader_and_deputy_must_be_members_and_differ(
    admin: httpx.AsyncClient, cluster_60: dict[str, int]
) -> None:
    son_la = await unit_id(admin, "Sơn La", "2025-07-01")
    body = problem(await put(admin, 2021, son_la), 409, "not-a-member")
    assert "not a member of cluster 60 in 2021" in body["detail"]
    problem(await put(admin, 2019, cluster_60["Hà Nội"]), 409, "not-a-member")
    problem(await put(admin, 2021, cluster_60["Hà Nội"], cluster_60["Hà Nội"]), 422, "validation")
    assert (await admin.get("/v1/clusters/60/leadership")).json()["items"] == []


async def test_least_recent_rotation_suggestion(admin: httpx.AsyncClient, cluster_60: dict[str, int]) -> None:
    u = cluster_60
    for year, leader, deputy in (
        (2021, "Hà Nội", "Cao Bằng"),
        (2022, "Cao Bằng", "Điện Biên"),
        (2023, "Điện Biên", "Hà Nội"),
    ):
        assert (await put(admin, year, u[leader], u[deputy])).status_code == 201
    suggestion = (await admin.get("/v1/clusters/60/years/2024/leadership/suggestion")).json()
    assert suggestion["rotation_custom"] == "least_recent"
    assert suggestion["leader"]["unit"]["name"] == "Lai Châu"
    assert "not led" in suggestion["leader"]["reason"]
    assert suggestion["deputy"]["unit"]["name"] == "Hà Nội"
    assert "2021" in suggestion["deputy"]["reason"]
    assert [c["unit"]["name"] for c in suggestion["candidates"]] == [
        "Lai Châu",
        "Hà Nội",
        "Cao Bằng",
        "Điện Biên",
    ]


async def test_deputy_succeeds_custom(admin: httpx.AsyncClient, cluster_60: dict[str, int]) -> None:
    u = cluster_60
    assert (await put(admin, 2021, u["Hà Nội"], u["Điện Biên"])).status_code == 201
    etag = (await admin.get("/v1/clusters/60")).headers["etag"]
    patched = await admin.patch(
        "/v1/clusters/60", json={"rotation_custom": "deputy_succeeds"}, headers={"If-Match": etag}
    )
    assert patched.status_code == 200
    suggestion = (await admin.get("/v1/clusters/60/years/2022/leadership/suggestion")).json()
    assert suggestion["leader"]["unit"]["name"] == "Điện Biên"
    assert "Deputy in 2021" in suggestion["leader"]["reason"]
    assert suggestion["deputy"]["unit"]["name"] in {"Cao Bằng", "Lai Châu"}


async def test_no_members_no_suggestion(admin: httpx.AsyncClient) -> None:
    await admin.post("/v1/clusters", json={"number": 61})
    problem(await admin.get("/v1/clusters/61/years/2026/leadership/suggestion"), 409, "no-members-recorded")
    problem(await admin.get("/v1/clusters/62/leadership"), 404, "not-found")
    problem(await admin.get("/v1/clusters/61/years/2026/leadership"), 404, "not-found")
