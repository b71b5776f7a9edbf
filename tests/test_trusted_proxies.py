"""Whose `X-Forwarded-For` is believed (issue 18, item 5): only the proxies `TRUSTED_PROXIES` names,
none by default. Over real servers started as production starts them (`python -m app serve`,
`tests/live.py`): a client on 127.0.0.1 that forges the header, a new address each time, gets no
fresh anonymous budget by default (uvicorn's own default believed 127.0.0.1, and its
`FORWARDED_ALLOW_IPS` is not read), and does when the setting trusts 127.0.0.1."""

import httpx
import pytest

from app.__main__ import proxy_options
from app.core.config import Settings
from tests.helpers import problem
from tests.live import serve

pytestmark = pytest.mark.xdist_group("trusted-proxies")

BUDGET = 3
LIMITED = {"RATE_LIMIT_ANONYMOUS": f"{BUDGET}/hour"}


def _anonymous(base: str, forwarded_for: str) -> httpx.Response:
    return httpx.get(f"{base}/v1/units/22", headers={"X-Forwarded-For": forwarded_for})


def _left(answer: httpx.Response) -> int:
    """`r` of `RateLimit: "anonymous";r=2;t=3600`."""
    name, remaining, _ = answer.headers["ratelimit"].split(";")
    assert name == '"anonymous"'
    return int(remaining.removeprefix("r="))


def test_by_default_a_forged_address_gets_no_fresh_budget(settings: Settings) -> None:
    assert settings.database_url is not None
    # uvicorn's own knob, which used to decide, says "believe everyone": it is not read.
    with serve(settings.database_url, TRUSTED_PROXIES="", FORWARDED_ALLOW_IPS="*", **LIMITED) as base:
        answers = [_anonymous(base, f"203.0.113.{i}") for i in range(1, BUDGET + 2)]
    for i, answer in enumerate(answers[:BUDGET]):
        problem(answer, 401, "unauthorized")
        assert _left(answer) == BUDGET - 1 - i, "one budget: the connection's address"
    problem(answers[BUDGET], 429, "rate-limited")


def test_only_the_proxies_named_are_believed(settings: Settings) -> None:
    assert settings.database_url is not None
    with serve(settings.database_url, TRUSTED_PROXIES="10.0.0.0/8", **LIMITED) as base:
        elsewhere = [_anonymous(base, f"203.0.113.{i}") for i in range(1, BUDGET + 2)]
    assert [_left(a) for a in elsewhere[:BUDGET]] == list(range(BUDGET - 1, -1, -1)), "127.0.0.1 is not 10/8"
    problem(elsewhere[BUDGET], 429, "rate-limited")

    with serve(settings.database_url, TRUSTED_PROXIES="10.0.0.0/8,127.0.0.1", **LIMITED) as base:
        rotating = [_anonymous(base, f"203.0.113.{i}") for i in range(1, BUDGET + 3)]
        same = [_anonymous(base, "198.51.100.7") for _ in range(BUDGET + 1)]
    for answer in rotating:
        problem(answer, 401, "unauthorized")
        assert _left(answer) == BUDGET - 1, "each forwarded address has its own budget"
    problem(same[BUDGET - 1], 401, "unauthorized")
    problem(same[BUDGET], 429, "rate-limited")


def test_the_setting_is_a_list_of_addresses_and_networks() -> None:
    assert Settings().trusted_proxies == []
    assert proxy_options(Settings()) == {"proxy_headers": False, "forwarded_allow_ips": []}
    trusted = Settings(trusted_proxies=" 10.0.0.5, 172.16.0.0/12 ,::1")  # type: ignore[arg-type]
    assert trusted.trusted_proxies == ["10.0.0.5", "172.16.0.0/12", "::1"]
    assert proxy_options(trusted) == {
        "proxy_headers": True,
        "forwarded_allow_ips": ["10.0.0.5", "172.16.0.0/12", "::1"],
    }
    assert Settings(trusted_proxies="*").trusted_proxies == ["*"]  # type: ignore[arg-type]
    for wrong in ("nginx", "10.0.0.300", "10.0.0.0/33"):
        with pytest.raises(ValueError, match="TRUSTED_PROXIES"):
            Settings(trusted_proxies=wrong)  # type: ignore[arg-type]
