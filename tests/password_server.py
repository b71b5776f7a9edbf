"""A PostgreSQL server of its own that asks for a password over TCP (the embedded one trusts its
socket), for the CLI's "wrong password" and "no such database" errors; and a TCP port that
accepts connections but never answers, for its connect timeout."""

import os
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from app.core.embedded import SYSTEM_USER, postgres_bin
from tests.live import free_port

USER = "postgres"


@dataclass(frozen=True)
class PasswordServer:
    port: int
    password: str

    def url(self, *, password: str | None = None, database: str = "postgres") -> str:
        return f"postgresql://{USER}:{password or self.password}@127.0.0.1:{self.port}/{database}"


def _run(*args: str) -> None:
    as_user = SYSTEM_USER if os.geteuid() == 0 else None
    subprocess.run(args, check=True, capture_output=True, user=as_user, start_new_session=True)


@contextmanager
def password_server() -> Iterator[PasswordServer]:
    """A fresh cluster (scram-sha-256 for every connection) on a free loopback port; stopped
    and deleted afterwards, whatever happens."""
    root = Path(tempfile.mkdtemp(prefix="thidua-pw-"))
    root.chmod(0o755)
    if os.geteuid() == 0:
        shutil.chown(root, SYSTEM_USER, SYSTEM_USER)
    server = PasswordServer(port=free_port(), password="right-password")
    pgdata, pwfile = root / "pg", root / "pwfile"
    bin_ = postgres_bin()
    try:
        pwfile.write_text(server.password)
        if os.geteuid() == 0:
            shutil.chown(pwfile, SYSTEM_USER, SYSTEM_USER)
        _run(
            str(bin_ / "initdb"), "-D", str(pgdata), "-U", USER, "--auth=scram-sha-256", f"--pwfile={pwfile}"
        )
        options = f"-h 127.0.0.1 -p {server.port} -k {root}"
        _run(str(bin_ / "pg_ctl"), "-D", str(pgdata), "-o", options, "-l", str(root / "log"), "-w", "start")
        yield server
    finally:
        if (pgdata / "postmaster.pid").exists():
            _run(str(bin_ / "pg_ctl"), "-D", str(pgdata), "-m", "immediate", "-w", "stop")
        shutil.rmtree(root, ignore_errors=True)


@contextmanager
def silent_port() -> Iterator[int]:
    """A loopback port whose connections are accepted (by the kernel's backlog) and never
    answered: a server that is there but does not respond."""
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(16)
        yield int(listener.getsockname()[1])
