""" "Today" is the date in Vietnam wherever the server runs: at 00:30 on 2025-07-01 in Hà Nội a
UTC clock still says 2025-06-30, and the reform took effect that day."""

from datetime import UTC, date, datetime

import httpx
import pytest

from app.core import time
from tests.helpers import join, unit_id


@pytest.fixture
def half_past_midnight_in_hanoi(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(time, "utcnow", lambda: datetime(2025, 6, 30, 17, 30, tzinfo=UTC))


@pytest.mark.usefixtures("half_past_midnight_in_hanoi")
def test_today_is_the_date_in_vietnam() -> None:
    assert time.today("Asia/Ho_Chi_Minh") == date(2025, 7, 1)


async def test_current_members_default_to_vietnams_today(
    admin: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Thái Bình's membership ends on 2025-06-30 and Hưng Yên's starts on 2025-07-01: at 00:30 in
    Hà Nội on 2025-07-01 the current members are Hưng Yên's, whatever UTC says."""
    await admin.post("/v1/clusters", json={"number": 94})
    thai_binh = await unit_id(admin, "Thái Bình", "2025-01-01")
    hung_yen = await unit_id(admin, "Hưng Yên", "2025-07-01")
    assert (await join(admin, thai_binh, 94, "2025-01-01", "2025-06-30")).status_code == 201
    assert (await join(admin, hung_yen, 94, "2025-07-01")).status_code == 201
    monkeypatch.setattr(time, "utcnow", lambda: datetime(2025, 6, 30, 17, 30, tzinfo=UTC))
    current = (await admin.get("/v1/clusters/94/members")).json()["items"]
    assert [m["unit"]["id"] for m in current] == [hung_yen]
