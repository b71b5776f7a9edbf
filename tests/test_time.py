""" "Today" is the date in Vietnam wherever the server runs: at 00:30 on 2025-07-01 in Hà Nội a
UTC clock still says 2025-06-30, and the reform took effect that day."""

from datetime import UTC, date, datetime

import httpx
import pytest

from app.core import time


@pytest.fixture
def half_past_midnight_in_hanoi(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(time, "utcnow", lambda: datetime(2025, 6, 30, 17, 30, tzinfo=UTC))


@pytest.mark.usefixtures("half_past_midnight_in_hanoi")
def test_today_is_the_date_in_vietnam() -> None:
    assert time.today() == date(2025, 7, 1)


@pytest.mark.usefixtures("half_past_midnight_in_hanoi")
async def test_current_members_default_to_vietnams_today(admin: httpx.AsyncClient) -> None:
    await admin.post("/v1/clusters", json={"number": 94})
    answer = (await admin.get("/v1/clusters/94/members")).json()
    assert answer["as_of"] == "2025-07-01"
