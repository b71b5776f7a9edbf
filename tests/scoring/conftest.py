"""Cluster 70 in 2024 with four members, for the scoring tests."""

import httpx
import pytest

from tests.helpers import join, unit_id

MEMBERS = ("Cao Bằng", "Hà Giang", "Lào Cai", "Lai Châu")


@pytest.fixture
async def cluster_70(admin: httpx.AsyncClient) -> dict[str, int]:
    """Cluster 70 with four members over 2024; the ids by name."""
    assert (await admin.post("/v1/clusters", json={"number": 70})).status_code == 201
    units = {}
    for name in MEMBERS:
        units[name] = await unit_id(admin, name, "2024-06-01")
        assert (await join(admin, units[name], 70, "2024-01-01", "2024-12-31")).status_code == 201
    return units
