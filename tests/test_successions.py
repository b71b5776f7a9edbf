"""Recording a merge, split or rename, and what it does to memberships and leaderships."""

import httpx

from tests.helpers import join, problem, unit_id


async def rename(admin: httpx.AsyncClient, unit: int, code: str, name: str) -> httpx.Response:
    """Rename `unit` on 2030-01-01 into a new unit with `code` and `name`."""
    return await admin.post(
        "/v1/successions",
        json={
            "kind": "rename",
            "effective_date": "2030-01-01",
            "legal_basis": "x",
            "predecessor_id": unit,
            "new_unit": {"code": code, "name": name, "kind": "tinh"},
        },
    )


async def test_merge_closes_units_and_their_memberships(admin: httpx.AsyncClient) -> None:
    son_la = await unit_id(admin, "Sơn La", "2026-01-01")
    lai_chau = await unit_id(admin, "Lai Châu", "2026-01-01")
    await admin.post("/v1/clusters", json={"number": 70})
    for unit in (son_la, lai_chau):
        await join(admin, unit, 70, "2026-01-01")
    await admin.put(
        "/v1/clusters/70/years/2030/leadership",
        json={"leader_unit_id": son_la, "deputy_unit_id": lai_chau},
    )

    response = await admin.post(
        "/v1/successions",
        json={
            "kind": "merge",
            "effective_date": "2030-07-01",
            "legal_basis": "Nghị quyết thử nghiệm",
            "predecessor_ids": [son_la, lai_chau],
            "successor": {"code": "14", "name": "Sơn La", "kind": "tinh"},
        },
    )
    assert response.status_code == 201, response.text
    body = response.json()
    assert {u["valid_to"] for u in body["closed_units"]} == {"2030-06-30"}
    [new] = body["opened_units"]
    assert new["valid_from"] == "2030-07-01"
    assert new["code"] == "14"
    assert {(link["predecessor_id"], link["successor_id"]) for link in body["links"]} == {
        (son_la, new["id"]),
        (lai_chau, new["id"]),
    }
    assert {(m["unit_id"], m["previous_valid_to"], m["valid_to"]) for m in body["memberships_closed"]} == {
        (son_la, None, "2030-06-30"),
        (lai_chau, None, "2030-06-30"),
    }
    assert {(a["year"], a["role"], a["unit"]["id"]) for a in body["leaderships_affected"]} == {
        (2030, "leader", son_la),
        (2030, "deputy", lai_chau),
    }
    members = (await admin.get("/v1/clusters/70/members", params={"as_of": "2030-07-01"})).json()["items"]
    assert members == [], "the successor joins only when the Ministry records it"
    membership = (await admin.get("/v1/memberships", params={"unit": son_la})).json()["items"][0]
    assert membership["version"] == 2
    history = (await admin.get(f"/v1/memberships/{membership['id']}/revisions")).json()["items"]
    assert [r["data"]["valid_to"] for r in history] == [None, "2030-06-30"]
    leadership = (await admin.get("/v1/clusters/70/years/2030/leadership")).json()
    assert leadership["leader"]["ceased_on"] == "2030-06-30"
    assert leadership["leader"]["successors"][0]["id"] == new["id"]
    lineage = (await admin.get(f"/v1/units/{new['id']}/lineage")).json()
    assert {p["unit"]["id"] for p in lineage["predecessors"]} == {son_la, lai_chau}


async def test_a_ceased_unit_cannot_cease_again(admin: httpx.AsyncClient) -> None:
    thai_binh = await unit_id(admin, "Thái Bình", "2025-01-01")
    response = await rename(admin, thai_binh, "34", "Thái Bình mới")
    assert "already ceased" in problem(response, 409, "unit-already-ceased")["detail"]


async def test_a_new_unit_cannot_take_a_code_in_use(admin: httpx.AsyncClient) -> None:
    son_la = await unit_id(admin, "Sơn La", "2026-01-01")
    response = await rename(admin, son_la, "01", "Hà Nội 2")
    problem(response, 409, "unit-code-taken")
    assert (await admin.get(f"/v1/units/{son_la}")).json()["valid_to"] is None


async def test_shapes_are_checked(admin: httpx.AsyncClient) -> None:
    base = {"effective_date": "2030-01-01", "legal_basis": "x"}
    new = {"code": "90", "name": "X", "kind": "tinh"}
    problem(
        await admin.post(
            "/v1/successions",
            json={**base, "kind": "merge", "predecessor_ids": [1], "successor": new},
        ),
        422,
        "validation",
    )
    problem(
        await admin.post(
            "/v1/successions",
            json={**base, "kind": "split", "predecessor_id": 1, "successors": [new]},
        ),
        422,
        "validation",
    )
    problem(
        await admin.post(
            "/v1/successions",
            json={**base, "kind": "rename", "predecessor_id": 1, "successor": new},
        ),
        422,
        "validation",
    )
    problem(
        await admin.post(
            "/v1/successions",
            json={**base, "kind": "rename", "predecessor_id": 99999, "new_unit": new},
        ),
        404,
        "not-found",
    )
    itself = {**base, "kind": "merge", "predecessor_ids": [1, 3], "successor": {"unit_id": 1}}
    problem(await admin.post("/v1/successions", json=itself), 409, "succession-invalid")
    assert (await admin.get("/v1/units/1")).json()["valid_to"] is None


async def test_split_with_a_continuing_unit(admin: httpx.AsyncClient) -> None:
    son_la = await unit_id(admin, "Sơn La", "2026-01-01")
    lai_chau = await unit_id(admin, "Lai Châu", "2026-01-01")
    response = await admin.post(
        "/v1/successions",
        json={
            "kind": "split",
            "effective_date": "2030-01-01",
            "legal_basis": "x",
            "predecessor_id": son_la,
            "successors": [
                {"unit_id": lai_chau},
                {"code": "13", "name": "Mộc Châu", "kind": "tinh"},
            ],
        },
    )
    assert response.status_code == 201, response.text
    body = response.json()
    assert [u["id"] for u in body["continuing_units"]] == [lai_chau]
    assert [u["name"] for u in body["opened_units"]] == ["Mộc Châu"]
    assert len(body["links"]) == 2


async def test_memberships_starting_after_the_end_block_the_succession(
    admin: httpx.AsyncClient,
) -> None:
    son_la = await unit_id(admin, "Sơn La", "2026-01-01")
    await admin.post("/v1/clusters", json={"number": 71})
    await join(admin, son_la, 71, "2031-01-01")
    response = await rename(admin, son_la, "14", "Sơn La 2")
    problem(response, 409, "unit-not-in-period")
    assert (await admin.get(f"/v1/units/{son_la}")).json()["valid_to"] is None
