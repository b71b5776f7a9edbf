"""Throughput and latency of the hot read paths, against a real server.

Starts one uvicorn worker on a database of its own (embedded PostgreSQL unless
BENCH_DATABASE_URL is set), loads the reference units and the seed history, then drives
each endpoint from this process with N concurrent keep-alive connections for a fixed time.

    make bench                     # or: .venv/bin/python bench/run.py --seconds 10 --concurrency 32

Uses `wrk` (Debian package `wrk`) when it is installed; otherwise a Python client in this
process, which saturates long before the server does. Either way the client shares the machine
with the server (2 cores here), so the figures are a floor.

The server runs as production does, rate limits on: every request is counted against its key's
budget (`server_env`), with budgets the bench never reaches. `--rate-limits off` measures the
same without the limiter, for comparison.
"""

import argparse
import asyncio
import os
import re
import shutil
import socket
import statistics
import subprocess
import sys
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from app.core.config import Settings, get_settings  # noqa: E402
from app.core.embedded import ensure_database  # noqa: E402
from bench.issuer import Issuer  # noqa: E402

BENCH_BUDGET = "1000000000/minute"
"""Far beyond what one worker serves: the limiter does its work on every request, never refuses."""


def server_env(url: str, *, rate_limits: bool = True) -> dict[str, str]:
    """The environment of a benchmarked server: its database, and rate limits on (as production)
    with budgets no bench reaches."""
    budgets = {
        name.upper(): BENCH_BUDGET
        for name in Settings.model_fields
        if name.startswith("rate_limit_") and name != "rate_limit_enabled"
    }
    return {**os.environ, "DATABASE_URL": url, "RATE_LIMIT_ENABLED": str(rate_limits).lower(), **budgets}


PHONE = {"Accept-Encoding": "gzip"}
"""Sent with every request, as a phone's HTTP stack does (OkHttp, NSURLSession): the reads are
measured as production serves them, compressed where they are large enough."""
SHEET = "/v1/clusters/5/years/2025"


def prepare() -> tuple[str, str]:
    url = os.environ.get("BENCH_DATABASE_URL") or ensure_database(get_settings().data_dir, "thidua_bench")
    env = {**os.environ, "DATABASE_URL": url}
    run = [sys.executable, "-m", "app"]
    subprocess.run([*run, "load-reference"], cwd=ROOT, env=env, check=True, capture_output=True)
    subprocess.run(
        [*run, "import", "data/history/seed_history.yaml"], cwd=ROOT, env=env, check=True, capture_output=True
    )
    key = subprocess.run(
        [*run, "keys", "create", "--role", "reader", "--name", "bench"],
        cwd=ROOT,
        env=env,
        check=True,
        capture_output=True,
        text=True,
    ).stdout.strip()
    return url, key


async def drive(
    client: httpx.AsyncClient, path: str, headers: dict[str, str], seconds: float, concurrency: int
) -> tuple[int, list[float], set[int]]:
    latencies: list[float] = []
    statuses: set[int] = set()
    deadline = time.perf_counter() + seconds

    async def worker() -> None:
        while time.perf_counter() < deadline:
            started = time.perf_counter()
            response = await client.get(path, headers=headers)
            latencies.append(time.perf_counter() - started)
            statuses.add(response.status_code)

    await asyncio.gather(*(worker() for _ in range(concurrency)))
    return len(latencies), latencies, statuses


def cases(base: str, key: str, person: str) -> list[tuple[str, str, dict[str, str]]]:
    auth = {"Authorization": f"Bearer {key}", **PHONE}
    signed_in = {"Authorization": f"Bearer {person}", **PHONE}
    for _ in range(100):
        try:
            if httpx.get(f"{base}/readyz", timeout=1).status_code == 200:
                break
        except httpx.TransportError:
            time.sleep(0.1)
    sheet = httpx.get(f"{base}{SHEET}", headers=auth)
    unit_etag = httpx.get(f"{base}/v1/units/22", headers=auth).headers["etag"]
    return [
        ("healthz (no auth, no DB)", "/healthz", PHONE),
        ("GET /v1/units/{id}", "/v1/units/22", auth),
        ("GET /v1/units?as_of=2025-07-01 (34 rows)", "/v1/units?as_of=2025-07-01", auth),
        ("GET /v1/clusters/5/years/2025 (sheet)", SHEET, auth),
        ("same sheet, a signed-in person (JWT)", SHEET, signed_in),
        (
            "same sheet, If-None-Match -> 304",
            SHEET,
            {**auth, "If-None-Match": sheet.headers["etag"]},
        ),
        ("GET /v1/clusters/5/leadership", "/v1/clusters/5/leadership", auth),
        ("GET /v1/clusters/5/members?year=2025", "/v1/clusters/5/members?year=2025", auth),
        ("GET /v1/units/{id}, If-None-Match -> 304", "/v1/units/22", {**auth, "If-None-Match": unit_etag}),
    ]


def cpu_seconds(pid: int) -> float | None:
    """User + system CPU time a process has used (Linux `/proc`; None elsewhere)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def with_wrk(
    url: str, headers: dict[str, str], seconds: float, concurrency: int
) -> tuple[float, str, str, int]:
    flags = [arg for name, value in headers.items() for arg in ("-H", f"{name}: {value}")]
    out = subprocess.run(
        ["wrk", "-t1", f"-c{concurrency}", f"-d{seconds:.0f}s", "--latency", *flags, url],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    rate = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]
    p50 = re.search(r"^\s+50%\s+(\S+)", out, re.M).group(1)  # type: ignore[union-attr]
    p99 = re.search(r"^\s+99%\s+(\S+)", out, re.M).group(1)  # type: ignore[union-attr]
    count = int(re.search(r"(\d+) requests in", out).group(1))  # type: ignore[union-attr]
    return rate, p50, p99, count


async def with_python(
    base: str, path: str, headers: dict[str, str], seconds: float, concurrency: int
) -> tuple[float, str, str, int]:
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    async with httpx.AsyncClient(base_url=base, limits=limits, timeout=30) as client:
        count, latencies, _ = await drive(client, path, headers, seconds, concurrency)
    latencies.sort()
    p50 = statistics.median(latencies) * 1000
    p99 = latencies[int(len(latencies) * 0.99) - 1] * 1000
    return count / seconds, f"{p50:.1f}ms", f"{p99:.1f}ms", count


def measure(
    base: str,
    hello: str,
    key: str,
    person: str,
    seconds: float,
    concurrency: int,
    rate_limits: bool,
    pids: tuple[int, int],
) -> None:
    """Per case: throughput, latency, and the server's CPU time per request, whose ratio to
    hello-world's holds on a machine busy with other work (throughput there does not)."""
    client = "wrk" if shutil.which("wrk") else "python (httpx)"
    limits = "on" if rate_limits else "off"
    print(
        f"{seconds:.0f}s per case, {concurrency} connections, 1 uvicorn worker, client: {client}, "
        f"rate limits: {limits}\n"
    )
    print(f"{'case':46} {'req/s':>8} {'p50':>9} {'p99':>9} {'of hello':>9} {'CPU/req':>9} {'(hello)':>8}")
    app_pid, hello_pid = pids
    baseline: float | None = None
    hello_cpu: float | None = None
    for name, url, headers, pid in [("hello-world (FastAPI, same .venv)", hello + "/", PHONE, hello_pid)] + [
        (name, base + path, headers, app_pid) for name, path, headers in cases(base, key, person)
    ]:
        before = cpu_seconds(pid)
        if shutil.which("wrk"):
            with_wrk(url, headers, 1, concurrency)
            before = cpu_seconds(pid)
            rate, p50, p99, count = with_wrk(url, headers, seconds, concurrency)
        else:
            rate, p50, p99, count = asyncio.run(with_python(url, "", headers, seconds, concurrency))
        after = cpu_seconds(pid)
        cpu = (after - before) / count if before is not None and after is not None and count else None
        baseline = baseline or rate
        hello_cpu = hello_cpu or cpu
        cost = f"{cpu * 1e6:7.0f}us" if cpu else f"{'-':>9}"
        share = f"{hello_cpu / cpu:8.1%}" if cpu and hello_cpu else f"{'-':>8}"
        print(f"{name:46} {rate:8.0f} {p50:>9} {p99:>9} {rate / baseline:9.1%} {cost} {share}")
    wire = {}
    for coding in ("identity", "gzip"):
        headers = {"Authorization": f"Bearer {key}", "Accept-Encoding": coding}
        with httpx.stream("GET", base + SHEET, headers=headers) as response:
            wire[coding] = sum(len(chunk) for chunk in response.iter_raw())
    print(f"\nthe sheet on the wire: {wire['identity']} bytes identity, {wire['gzip']} gzip")


def main(seconds: float, concurrency: int, rate_limits: bool) -> None:
    url, key = prepare()
    issuer = Issuer()
    person = issuer.token("bench-person", ["thidua:reader"])
    with socket.socket() as s, socket.socket() as t:
        s.bind(("127.0.0.1", 0))
        t.bind(("127.0.0.1", 0))
        port, hello_port = s.getsockname()[1], t.getsockname()[1]
    servers = [
        subprocess.Popen(
            [
                sys.executable,
                "-m",
                "uvicorn",
                target,
                "--port",
                str(at),
                "--log-level",
                "warning",
                "--no-access-log",
            ],
            cwd=ROOT,
            env={**server_env(url, rate_limits=rate_limits), **issuer.settings()},
        )
        for target, at in (("app.main:app", port), ("bench.hello:app", hello_port))
    ]
    try:
        base, hello = f"http://127.0.0.1:{port}", f"http://127.0.0.1:{hello_port}"
        pids = (servers[0].pid, servers[1].pid)
        measure(base, hello, key, person, seconds, concurrency, rate_limits, pids)
    finally:
        issuer.close()
        for server in servers:
            server.terminate()
            server.wait(timeout=10)


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=8)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument(
        "--rate-limits", choices=("on", "off"), default="on", help="off: the limiter left out, to compare"
    )
    args = parser.parse_args()
    main(args.seconds, args.concurrency, args.rate_limits == "on")
