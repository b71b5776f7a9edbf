"""Throughput and latency of the hot read paths, against a real server.

Starts one uvicorn worker on a database of its own (embedded PostgreSQL unless
BENCH_DATABASE_URL is set), loads the reference units and the seed history, then drives
each endpoint from this process with N concurrent keep-alive connections for a fixed time.

    make bench                     # or: .venv/bin/python bench/run.py --seconds 10 --concurrency 32

The client shares the machine with the server (2 cores here), so figures are a floor.
"""

import argparse
import asyncio
import os
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


async def measure(base: str, key: str, seconds: float, concurrency: int) -> None:
    auth = {"Authorization": f"Bearer {key}"}
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    async with httpx.AsyncClient(base_url=base, limits=limits, timeout=30) as client:
        for _ in range(100):
            try:
                if (await client.get("/readyz")).status_code == 200:
                    break
            except httpx.TransportError:
                await asyncio.sleep(0.1)
        sheet = await client.get("/v1/clusters/5/years/2025", headers=auth)
        cases = [
            ("healthz (no auth, no DB)", "/healthz", {}),
            ("GET /v1/units/{id}", "/v1/units/22", auth),
            ("GET /v1/units?as_of=2025-07-01 (34 rows)", "/v1/units?as_of=2025-07-01", auth),
            ("GET /v1/clusters/5/years/2025 (sheet)", "/v1/clusters/5/years/2025", auth),
            (
                "same sheet, If-None-Match -> 304",
                "/v1/clusters/5/years/2025",
                {**auth, "If-None-Match": sheet.headers["etag"]},
            ),
            ("GET /v1/clusters/5/leadership", "/v1/clusters/5/leadership", auth),
        ]
        print(f"{seconds:.0f}s per case, {concurrency} connections, 1 uvicorn worker\n")
        print(f"{'case':46} {'req/s':>8} {'p50 ms':>8} {'p99 ms':>8}  status")
        for name, path, headers in cases:
            await drive(client, path, headers, 1.0, concurrency)
            count, latencies, statuses = await drive(client, path, headers, seconds, concurrency)
            latencies.sort()
            p50 = statistics.median(latencies) * 1000
            p99 = latencies[int(len(latencies) * 0.99) - 1] * 1000
            print(f"{name:46} {count / seconds:8.0f} {p50:8.1f} {p99:8.1f}  {sorted(statuses)}")


def main(seconds: float, concurrency: int) -> None:
    url, key = prepare()
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "uvicorn",
            "app.main:app",
            "--port",
            str(port),
            "--log-level",
            "warning",
            "--no-access-log",
        ],
        cwd=ROOT,
        env={**os.environ, "DATABASE_URL": url},
    )
    try:
        asyncio.run(measure(f"http://127.0.0.1:{port}", key, seconds, concurrency))
    finally:
        server.terminate()
        server.wait(timeout=10)


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=5)
    parser.add_argument("--concurrency", type=int, default=16)
    args = parser.parse_args()
    main(args.seconds, args.concurrency)
