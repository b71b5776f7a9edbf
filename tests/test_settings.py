"""Settings are checked at start-up, with messages that name the variable."""

import pytest
from pydantic import ValidationError

from app.core.config import Settings

SECONDS = [
    "DB_CONNECT_TIMEOUT_SECONDS",
    "DB_POOL_TIMEOUT_SECONDS",
    "DB_STATEMENT_TIMEOUT_SECONDS",
    "READINESS_TIMEOUT_SECONDS",
    "RETRY_AFTER_SECONDS",
]


@pytest.mark.parametrize("name", SECONDS)
@pytest.mark.parametrize("value", ["0", "-3"])
def test_timeouts_must_be_positive(monkeypatch: pytest.MonkeyPatch, name: str, value: str) -> None:
    monkeypatch.setenv(name, value)
    with pytest.raises(ValidationError, match=f"{name} must be a positive number of seconds"):
        Settings()


@pytest.mark.parametrize("value", ["nan", "inf"])
def test_a_timeout_is_a_finite_number(monkeypatch: pytest.MonkeyPatch, value: str) -> None:
    monkeypatch.setenv("DB_STATEMENT_TIMEOUT_SECONDS", value)
    with pytest.raises(ValidationError, match="DB_STATEMENT_TIMEOUT_SECONDS"):
        Settings()


def test_retry_after_is_whole_seconds(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RETRY_AFTER_SECONDS", "2.5")
    with pytest.raises(ValidationError, match="retry_after_seconds"):
        Settings()


def test_log_format_is_text_or_json(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LOG_FORMAT", "xml")
    with pytest.raises(ValidationError, match="log_format"):
        Settings()


@pytest.mark.parametrize("value", ["fr", "vi-VN", ""])
def test_default_locale_is_vi_or_en(monkeypatch: pytest.MonkeyPatch, value: str) -> None:
    monkeypatch.setenv("DEFAULT_LOCALE", value)
    with pytest.raises(ValidationError, match="default_locale"):
        Settings()


@pytest.mark.parametrize("value", ["lots", "0/minute", "10/minute;100/hour", "10/fortnight"])
def test_a_rate_limit_is_one_rate(monkeypatch: pytest.MonkeyPatch, value: str) -> None:
    monkeypatch.setenv("RATE_LIMIT_UNIT_WRITES", value)
    with pytest.raises(ValidationError, match=r"RATE_LIMIT_UNIT_WRITES: .* is not one rate"):
        Settings()


def test_a_rate_limit_takes_the_limits_notation(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RATE_LIMIT_UNIT_WRITES", "30 per 10 seconds")
    assert Settings().rate_limit_unit_writes == "30 per 10 seconds"
