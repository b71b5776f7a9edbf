"""Schemathesis against the real app served by uvicorn: all checks, positive and negative
data, with a valid admin key. Settings in schemathesis.toml, hooks in tests/contract/hooks.py."""

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from app.core.config import PROJECT_ROOT, Settings
from tests.conftest import Keys

pytestmark = pytest.mark.contract


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def live_server(settings: Settings, seeded: None) -> Iterator[str]:
    port = _free_port()
    env = {**os.environ, "DATABASE_URL": settings.database_url or "", "LOG_LEVEL": "warning"}
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "uvicorn",
            "app.main:app",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--log-level",
            "warning",
        ],
        cwd=PROJECT_ROOT,
        env=env,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(100):
            try:
                if httpx.get(f"{base}/readyz", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.1)
        else:
            pytest.fail("the server did not become ready")
        yield base
    finally:
        server.terminate()
        server.wait(timeout=10)


def test_schemathesis_finds_nothing(live_server: str, keys: Keys, tmp_path: Path) -> None:
    st = Path(sys.executable).with_name("st")
    env = {
        **os.environ,
        "SCHEMATHESIS_HOOKS": "tests.contract.hooks",
        "PYTHONPATH": str(PROJECT_ROOT),
        "THIDUA_ADMIN_KEY": keys.admin,
    }
    run = subprocess.run(
        [
            str(st),
            "run",
            f"{live_server}/openapi.json",
            "--checks",
            "all",
            "--mode",
            "all",
            "--max-examples",
            os.environ.get("SCHEMATHESIS_MAX_EXAMPLES", "30"),
            "--seed",
            "20261125",
            "--workers",
            "1",
            "--report",
            "junit",
            "--report-dir",
            str(tmp_path),
        ],
        cwd=PROJECT_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    )
    summary = run.stdout[-6000:]
    assert run.returncode == 0, summary
    assert "Authentication failed" not in run.stdout, summary
