"""The real app served by uvicorn in a child process, for the tests that need a socket (schemathesis,
the browser): on a free loopback port, against the test database, ready when `/readyz` says so.

It is started as production starts it, `python -m app serve` (migrations and reference data, both
already there, then uvicorn with the settings' options: `TRUSTED_PROXIES` among them), without the
seed history."""

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import httpx

from app.core.config import PROJECT_ROOT, Settings

READY_WITHIN_SECONDS = 30.0
RATE_LIMITS_NEVER_REACHED = {
    name: "1000000/minute"
    for name in Settings.model_fields
    if name.startswith("rate_limit_") and name != "rate_limit_enabled"
}
"""The test servers limit every request as production does, with budgets no test reaches
(schemathesis sends thousands with one admin key); `tests/test_rate_limits.py` sets low ones."""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Uvicorn:
    """A running server: its process (to kill) and its base URL."""

    process: subprocess.Popen[bytes]
    base: str


def start(
    database_url: str,
    ready_within: float = READY_WITHIN_SECONDS,
    *,
    cache: bool = True,
    port: int | None = None,
    **settings: str,
) -> Uvicorn:
    """Start `python -m app serve` on `http://127.0.0.1:<port>` (a free one by default) with
    `DATABASE_URL=database_url`, its read cache off unless `cache`, and `settings` (environment
    names); return once `/readyz` answers 200. The caller stops it (`stop`)."""
    port = port or free_port()
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "HOST": "127.0.0.1",
        "PORT": str(port),
        "LOAD_HISTORY_ON_SERVE": "false",
        "LOG_LEVEL": "warning",
        "RATE_LIMIT_ENABLED": "true",
        "CACHE_ENABLED": "true" if cache else "false",
        **{name.upper(): rate for name, rate in RATE_LIMITS_NEVER_REACHED.items()},
        **settings,
    }
    process = subprocess.Popen(
        [sys.executable, "-m", "app", "serve"], cwd=PROJECT_ROOT, env=env, stdout=subprocess.DEVNULL
    )
    server = Uvicorn(process, f"http://127.0.0.1:{port}")
    try:
        _wait_ready(process, server.base, ready_within)
    except BaseException:
        stop(server)
        raise
    return server


def stop(server: Uvicorn) -> None:
    server.process.terminate()
    try:
        server.process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        server.process.kill()
        server.process.wait(timeout=10)


@contextmanager
def serve(
    database_url: str, ready_within: float = READY_WITHIN_SECONDS, *, cache: bool = True, **settings: str
) -> Iterator[str]:
    """A server (`start`) for the block: its base URL; stopped afterwards."""
    server = start(database_url, ready_within, cache=cache, **settings)
    try:
        yield server.base
    finally:
        stop(server)


def _wait_ready(server: subprocess.Popen[bytes], base: str, within: float) -> None:
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise RuntimeError(f"uvicorn exited with {server.returncode} before it was ready")
        try:
            if httpx.get(f"{base}/readyz", timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.1)
    raise RuntimeError(f"{base}/readyz did not answer 200 within {within:g} s")
