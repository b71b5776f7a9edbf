"""deploy/nginx.conf at work: Debian's nginx in front of two uvicorn replicas of the real app. It
passes requests and request ids on, sends each API key to one replica, refuses a body over
client_max_body_size itself, and closes a connection whose headers stop halfway (slow-client
protection, which uvicorn lacks) after client_header_timeout, shortened here to 1 s.

Debian's nginx (1.22) predates the upstream `resolve` parameter (1.27.3), so the replicas are
named by address; everything else is the file as compose.yaml mounts it. Without nginx the tests
fail under CI (`CI=true`) and are skipped elsewhere, saying why (`make nginx` installs it)."""

import json
import os
import re
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from app.core.config import PROJECT_ROOT, Settings
from tests.live import free_port, serve

pytestmark = pytest.mark.xdist_group("proxy")

NGINX = Path("/usr/sbin/nginx")
WITHIN_SECONDS = 30.0
"""Bound on each wait (nginx starting, a connection closing): never a measurement."""


def _in_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() not in ("", "0", "false", "no")


@dataclass
class Proxy:
    base: str
    port: int
    access_log: Path

    def log_lines(self) -> list[str]:
        return self.access_log.read_text().splitlines()


def replace_once(text: str, old: str, new: str) -> str:
    assert text.count(old) == 1, f"deploy/nginx.conf no longer has {old!r}"
    return text.replace(old, new)


def configuration(folder: Path, replicas: list[str], port: int) -> Path:
    conf = (PROJECT_ROOT / "deploy" / "nginx.conf").read_text()
    conf = replace_once(conf, "server api:8000 resolve;", " ".join(f"server {r};" for r in replicas))
    conf = replace_once(conf, "listen 80;", f"listen 127.0.0.1:{port};")
    conf = replace_once(conf, "client_header_timeout 10s;", "client_header_timeout 1s;")
    conf = replace_once(conf, "access_log /dev/stdout thidua;", f"access_log {folder}/access.log thidua;")
    (folder / "thidua.conf").write_text(conf)
    main = folder / "nginx.conf"
    main.write_text(
        f"pid {folder}/nginx.pid;\nerror_log {folder}/error.log;\nevents {{}}\n"
        f"http {{\n    include {folder}/thidua.conf;\n}}\n"
    )
    return main


def _wait_listening(port: int, nginx: subprocess.Popen[bytes], folder: Path) -> None:
    deadline = time.monotonic() + WITHIN_SECONDS
    while True:
        assert nginx.poll() is None, (folder / "error.log").read_text()
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            assert time.monotonic() < deadline, "nginx did not listen"
            time.sleep(0.1)


def _need_nginx() -> None:
    if not os.access(NGINX, os.X_OK):
        reason = f"{NGINX} not found: `make nginx` installs Debian's nginx"
        if _in_ci():
            pytest.fail(reason)
        pytest.skip(reason)


@contextmanager
def running_nginx(replicas: list[str]) -> Iterator[Proxy]:
    """deploy/nginx.conf served by Debian's nginx on a free port, in front of `replicas`
    (`host:port`)."""
    with tempfile.TemporaryDirectory(prefix="thidua-nginx-") as name:
        folder = Path(name)
        port = free_port()
        main = configuration(folder, replicas, port)
        nginx = subprocess.Popen([str(NGINX), "-c", str(main), "-g", "daemon off;"])
        try:
            _wait_listening(port, nginx, folder)
            yield Proxy(f"http://127.0.0.1:{port}", port, folder / "access.log")
        finally:
            nginx.terminate()
            nginx.wait(timeout=WITHIN_SECONDS)


@pytest.fixture(scope="module")
def proxy(settings: Settings) -> Iterator[Proxy]:
    _need_nginx()
    assert settings.database_url is not None
    with ExitStack() as stack:
        replicas = [stack.enter_context(serve(settings.database_url)) for _ in range(2)]
        yield stack.enter_context(running_nginx([r.removeprefix("http://") for r in replicas]))


def logged(proxy: Proxy, request_id: str) -> str:
    """The access log line of the request with that id (nginx writes it after the answer has gone:
    wait for it)."""
    deadline = time.monotonic() + WITHIN_SECONDS
    while not (lines := [line for line in proxy.log_lines() if line.endswith(f"request_id={request_id}")]):
        assert time.monotonic() < deadline, (request_id, proxy.log_lines()[-5:])
        time.sleep(0.05)
    assert len(lines) == 1, lines
    return lines[0]


def test_requests_and_their_ids_pass_through(proxy: Proxy) -> None:
    answer = httpx.get(f"{proxy.base}/healthz", headers={"X-Request-ID": "deploy-1"})
    assert answer.status_code == 200
    assert answer.json() == {"status": "ok"}
    assert answer.headers["x-request-id"] == "deploy-1"
    assert '"GET /healthz HTTP/1.1" 200' in logged(proxy, "deploy-1")

    answer = httpx.get(f"{proxy.base}/readyz")
    assert answer.status_code == 200
    logged(proxy, answer.headers["x-request-id"])  # nginx's id, which the app kept


def test_each_key_reaches_one_replica(proxy: Proxy) -> None:
    upstreams: dict[str, set[str]] = {}
    for key in [f"thd_key{i}" for i in range(20)] + [""]:
        for attempt in range(3):
            request_id = f"hash-{key or 'anonymous'}-{attempt}"
            headers = {"X-Request-ID": request_id} | ({"Authorization": f"Bearer {key}"} if key else {})
            assert httpx.get(f"{proxy.base}/healthz", headers=headers).status_code == 200
            upstream = re.search(r"upstream=(\S+)", logged(proxy, request_id))
            assert upstream is not None
            upstreams.setdefault(key, set()).add(upstream[1])
    assert all(len(seen) == 1 for seen in upstreams.values()), upstreams
    assert len(set().union(*upstreams.values())) == 2, "the keys spread over both replicas"


def test_a_body_over_the_limit_is_refused_by_nginx_as_a_problem(proxy: Proxy) -> None:
    size = Settings().max_batch_bytes + 1
    with socket.create_connection(("127.0.0.1", proxy.port), timeout=WITHIN_SECONDS) as conn:
        conn.sendall(
            f"POST /v1/figures:batch HTTP/1.1\r\nHost: x\r\nContent-Type: text/csv\r\n"
            f"X-Request-ID: too-large-1\r\nContent-Length: {size}\r\nConnection: close\r\n\r\n".encode()
        )
        answer = b""
        with suppress(ConnectionResetError):  # nginx resets once it has answered: the body never came
            while chunk := conn.recv(65536):
                answer += chunk
    head, _, body = answer.partition(b"\r\n\r\n")
    lines = head.decode().split("\r\n")
    headers = {k.lower(): v.strip() for k, _, v in (line.partition(":") for line in lines[1:])}
    assert lines[0] == "HTTP/1.1 413 Request Entity Too Large"
    assert headers["content-type"] == "application/problem+json"
    assert headers["content-language"] == "vi"
    assert json.loads(body) == {
        "type": "/problems/payload-too-large",
        "title": "Nội dung quá lớn",
        "status": 413,
        "request_id": "too-large-1",
    }
    assert "upstream=-" in logged(proxy, "too-large-1"), "refused before any replica saw it"


def test_no_replica_answering_is_a_503_problem_in_the_language_asked_for(settings: Settings) -> None:
    _need_nginx()
    with running_nginx([f"127.0.0.1:{free_port()}"]) as dead:  # nothing listens there
        answer = httpx.get(
            f"{dead.base}/v1/units", headers={"Accept-Language": "en", "X-Request-ID": "down-1"}
        )
    assert answer.status_code == 503
    assert answer.headers["content-type"] == "application/problem+json"
    assert answer.headers["retry-after"] == "5"
    assert answer.headers["content-language"] == "en"
    assert answer.json() == {
        "type": "/problems/service-unavailable",
        "title": "Service Unavailable",
        "status": 503,
        "request_id": "down-1",
    }


def test_a_connection_whose_headers_stop_halfway_is_closed(proxy: Proxy) -> None:
    with socket.create_connection(("127.0.0.1", proxy.port), timeout=WITHIN_SECONDS) as conn:
        conn.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Slow: ")
        try:
            received = conn.recv(1024)
        except ConnectionResetError:  # reset_timedout_connection
            received = b""
        except TimeoutError:
            pytest.fail(f"still open after {WITHIN_SECONDS:g} s")
    assert received == b"", received
