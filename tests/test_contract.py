"""Schemathesis against the real app served by uvicorn: all checks, positive and negative
data, with a valid admin key. Settings in schemathesis.toml, hooks in tests/contract/hooks.py.

Every phase runs, in four parts that xdist runs side by side: the explicit examples and the
coverage phase (deterministic: each schema's boundaries and every way to break it), then fuzzing
and stateful sequences with `SCHEMATHESIS_MAX_EXAMPLES` cases per operation (7: the fuzzing took
three times as long with 30, and 10 left `make test` too close to its five minutes), each once
for the cluster-year operations and once for the rest (whole, the coverage run took 50 s, the
longest test of the suite). They are collected first (`tests/conftest.py`), so the longest
tests start while the others fill the second worker."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

from app.core.config import PROJECT_ROOT
from tests.helpers import Keys

pytestmark = pytest.mark.contract


CLUSTERS = "^/v1/clusters"
PARTS = [
    pytest.param("examples,coverage", ["--include-path-regex", CLUSTERS], id="examples,coverage-clusters"),
    pytest.param("examples,coverage", ["--exclude-path-regex", CLUSTERS], id="examples,coverage-others"),
    pytest.param("fuzzing,stateful", ["--include-path-regex", CLUSTERS], id="fuzzing,stateful-clusters"),
    pytest.param("fuzzing,stateful", ["--exclude-path-regex", CLUSTERS], id="fuzzing,stateful-others"),
]


@pytest.mark.parametrize(("phases", "operations"), PARTS)
@pytest.mark.usefixtures("seeded")
def test_schemathesis_finds_nothing(
    live_server: str, keys: Keys, tmp_path: Path, phases: str, operations: list[str]
) -> None:
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
            os.environ.get("SCHEMATHESIS_MAX_EXAMPLES", "7"),
            "--seed",
            "20261125",
            "--workers",
            "1",
            "--phases",
            phases,
            *operations,
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
