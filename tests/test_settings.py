"""Settings are checked at start-up, with messages that name the variable."""

import gc
import sys

import pytest
from fastapi import FastAPI
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


# --- Settings checked together -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("values", "named"),
    [
        ({"PAGE_DEFAULT_LIMIT": "300"}, ("PAGE_DEFAULT_LIMIT=300", "PAGE_MAX_LIMIT=200")),
        ({"PAGE_DEFAULT_LIMIT": "0"}, ("PAGE_DEFAULT_LIMIT=0", "PAGE_MAX_LIMIT=200")),
        ({"PAGE_MAX_LIMIT": "20"}, ("PAGE_DEFAULT_LIMIT=50", "PAGE_MAX_LIMIT=20")),
        (
            {"MAX_REQUEST_BYTES": "20000000"},
            ("MAX_REQUEST_BYTES=20000000", "MAX_BATCH_BYTES=16777216"),
        ),
        (
            {"CACHE_RECONNECT_MIN_SECONDS": "10"},
            ("CACHE_RECONNECT_MIN_SECONDS=10", "CACHE_RECONNECT_MAX_SECONDS=5"),
        ),
        ({"GZIP_MIN_BYTES": "2000000"}, ("GZIP_MIN_BYTES=2000000", "GZIP_ENABLED=false")),
        ({"DB_POOL_SIZE": "0"}, ("DB_POOL_SIZE=0", "DB_MAX_OVERFLOW=10")),
        ({"DB_MAX_OVERFLOW": "-1"}, ("DB_POOL_SIZE=10", "DB_MAX_OVERFLOW=-1")),
        (
            {"READINESS_TIMEOUT_SECONDS": "30"},
            (
                "READINESS_TIMEOUT_SECONDS=30",
                "DB_CONNECT_TIMEOUT_SECONDS=2",
                "DB_STATEMENT_TIMEOUT_SECONDS=5",
            ),
        ),
        (
            {"IDEMPOTENCY_TTL_HOURS": "1", "IDEMPOTENCY_SWEEP_MINUTES": "90"},
            ("IDEMPOTENCY_SWEEP_MINUTES=90", "IDEMPOTENCY_TTL_HOURS=1"),
        ),
    ],
)
def test_settings_that_contradict_each_other_are_refused_naming_each(
    monkeypatch: pytest.MonkeyPatch, values: dict[str, str], named: tuple[str, ...]
) -> None:
    for name, value in values.items():
        monkeypatch.setenv(name, value)
    with pytest.raises(ValidationError) as refused:
        Settings()
    message = str(refused.value)
    for said in named:
        assert said in message


def test_every_contradiction_is_said_at_once(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PAGE_DEFAULT_LIMIT", "500")
    monkeypatch.setenv("CACHE_RECONNECT_MIN_SECONDS", "60")
    with pytest.raises(ValidationError, match=r"PAGE_DEFAULT_LIMIT.*; CACHE_RECONNECT_MIN_SECONDS"):
        Settings()


def test_settings_at_their_bounds_together_are_accepted(monkeypatch: pytest.MonkeyPatch) -> None:
    for name, value in {
        "PAGE_DEFAULT_LIMIT": "200",
        "MAX_REQUEST_BYTES": "16777216",
        "CACHE_RECONNECT_MIN_SECONDS": "5",
        "GZIP_MIN_BYTES": "1048576",
        "READINESS_TIMEOUT_SECONDS": "7",
        "IDEMPOTENCY_TTL_HOURS": "1",
        "IDEMPOTENCY_SWEEP_MINUTES": "60",
        "DB_MAX_OVERFLOW": "0",
    }.items():
        monkeypatch.setenv(name, value)
    settings = Settings()
    assert (settings.page_default_limit, settings.max_request_bytes) == (200, 16_777_216)


def test_a_large_gzip_minimum_is_fine_when_gzip_is_off(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GZIP_ENABLED", "false")
    monkeypatch.setenv("GZIP_MIN_BYTES", "2000000")
    assert Settings().gzip_min_bytes == 2_000_000


async def test_a_started_app_tunes_the_interpreter_for_its_event_loop(
    app: FastAPI, settings: Settings
) -> None:
    """Threads (a figures batch read off the loop) give the interpreter back every
    THREAD_SWITCH_INTERVAL_MS, and what was loaded at startup is out of the collector's passes."""
    assert sys.getswitchinterval() == pytest.approx(settings.thread_switch_interval_ms / 1000)
    assert gc.get_freeze_count() > 10_000
