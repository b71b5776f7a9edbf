"""Throughput and latency of the hot read paths, against a real server.

Starts one uvicorn worker on a database of its own (embedded PostgreSQL unless
BENCH_DATABASE_URL is set), loads the reference units and the seed history, then drives
each endpoint from this process with N concurrent keep-alive connections for a fixed time.

    make bench                     # or: .venv/bin/python bench/run.py --seconds 10 --concurrency 32

Uses `wrk` (Debian package `wrk`) when it is installed; otherwise a Python client in this
process, which saturates long before the server does. Either way the client shares the machine
with the server (2 cores here), so the figures are a floor.
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

from app.core.config import get_settings  # noqa: E402
from app.core.embedded import ensure_database  # noqa: E402

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


def cases(base: str, key: str) -> list[tuple[str, str, dict[str, str]]]:
    auth = {"Authorization": f"Bearer {key}", **PHONE}
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
        (
            "same sheet, If-None-Match -> 304",
            SHEET,
            {**auth, "If-None-Match": sheet.headers["etag"]},
        ),
        ("GET /v1/clusters/5/leadership", "/v1/clusters/5/leadership", auth),
        ("GET /v1/clusters/5/members?year=2025", "/v1/clusters/5/members?year=2025", auth),
        ("GET /v1/units/{id}, If-None-Match -> 304", "/v1/units/22", {**auth, "If-None-Match": unit_etag}),
    ]


def with_wrk(url: str, headers: dict[str, str], seconds: float, concurrency: int) -> tuple[float, str, str]:
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
    return rate, p50, p99


async def with_python(
    base: str, path: str, headers: dict[str, str], seconds: float, concurrency: int
) -> tuple[float, str, str]:
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    async with httpx.AsyncClient(base_url=base, limits=limits, timeout=30) as client:
        count, latencies, _ = await drive(client, path, headers, seconds, concurrency)
    latencies.sort()
    p50 = statistics.median(latencies) * 1000
    p99 = latencies[int(len(latencies) * 0.99) - 1] * 1000
    return count / seconds, f"{p50:.1f}ms", f"{p99:.1f}ms"


def measure(base: str, hello: str, key: str, seconds: float, concurrency: int) -> None:
    client = "wrk" if shutil.which("wrk") else "python (httpx)"
    print(f"{seconds:.0f}s per case, {concurrency} connections, 1 uvicorn worker, client: {client}\n")
    print(f"{'case':46} {'req/s':>8} {'p50':>9} {'p99':>9} {'of hello':>9}")
    baseline = None
    for name, url, headers in [("hello-world (FastAPI, same .venv)", hello + "/", PHONE)] + [
        (name, base + path, headers) for name, path, headers in cases(base, key)
    ]:
        if shutil.which("wrk"):
            with_wrk(url, headers, 1, concurrency)
            rate, p50, p99 = with_wrk(url, headers, seconds, concurrency)
        else:
            rate, p50, p99 = asyncio.run(with_python(url, "", headers, seconds, concurrency))
        baseline = baseline or rate
        print(f"{name:46} {rate:8.0f} {p50:>9} {p99:>9} {rate / baseline:9.1%}")
    wire = {}
    for coding in ("identity", "gzip"):
        headers = {"Authorization": f"Bearer {key}", "Accept-Encoding": coding}
        with httpx.stream("GET", base + SHEET, headers=headers) as response:
            wire[coding] = sum(len(chunk) for chunk in response.iter_raw())
    print(f"\nthe sheet on the wire: {wire['identity']} bytes identity, {wire['gzip']} gzip")


def main(seconds: float, concurrency: int) -> None:
    url, key = prepare()
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
            env={**os.environ, "DATABASE_URL": url},
        )
        for target, at in (("app.main:app", port), ("bench.hello:app", hello_port))
    ]
    try:
        measure(f"http://127.0.0.1:{port}", f"http://127.0.0.1:{hello_port}", key, seconds, concurrency)
    finally:
        for server in servers:
            server.terminate()
            server.wait(timeout=10)


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=8)
    parser.add_argument("--concurrency", type=int, default=8)
    args = parser.parse_args()
    main(args.seconds, args.concurrency)
