"""The year sheet's read latency (p50/p99) while 10,000-row figure batches are pushed, beside idle.

Starts one uvicorn worker on the bench database (embedded PostgreSQL unless BENCH_DATABASE_URL is
set) with the reference units, the seed history and the metric catalogue, pushes the 10,000-row
CSV of `figures_batch.py` once (creating its sets, so both phases read the same sheet), then, for
each sheet, in the same run: a window of `--seconds` with `--concurrency` keep-alive readers alone
(idle), the same window while a thread pushes the batch back to back through HTTP (the replace
rounds), and, to tell the database's share from the server's, while it writes the same rows
with `figures_batch.raw_push` (COPY + upsert, no HTTP) back to back.
All traffic stays on 127.0.0.1; every window is bounded in time.

    make bench-sheet              # or: .venv/bin/python bench/sheet_under_push.py --seconds 5
"""

import argparse
import asyncio
import datetime
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import asyncpg
import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from app.figures.queries import RESOURCE  # noqa: E402
from bench import figures_batch, run  # noqa: E402

SHEETS = [
    ("GET /v1/clusters/5/years/2025", "/v1/clusters/5/years/2025"),
    ("GET /v1/clusters/4/years/2024 (covenant)", "/v1/clusters/4/years/2024"),
]
GOAL = 2.0
"""The sheet's p99 while batches are pushed through HTTP, at most this many times idle."""
MONTH = 8  # the pushed sets: periods 2025-08-01..2025-08-dd, removed before and after the run
START = datetime.date(2025, MONTH, 1)


@contextmanager
def serve(url: str) -> Iterator[tuple[str, int]]:
    """One uvicorn worker on `url`'s database, ready: its base URL and process id."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "uvicorn",
            "app.main:app",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--log-level",
            "warning",
            "--no-access-log",
        ],
        cwd=ROOT,
        env=run.server_env(url),
    )
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(100):
            try:
                if httpx.get(f"{base}/readyz", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            time.sleep(0.1)
        yield base, server.pid
    finally:
        server.terminate()
        server.wait(timeout=10)


async def clear(dsn: str) -> None:
    """Only the bench's own sets (and their revisions): the seed history stays."""
    ours = "SELECT id FROM figure_sets WHERE period_start = $1"
    connection = await asyncpg.connect(dsn)
    try:
        async with connection.transaction():
            await connection.execute(
                f"DELETE FROM revisions WHERE resource = $2 AND resource_id IN ({ours})", START, RESOURCE
            )
            await connection.execute(f"DELETE FROM figure_sets WHERE id IN ({ours})", START)
    finally:
        await connection.close()


def pusher(
    push: Callable[[bytes], object], bodies: list[bytes], stop: threading.Event, done: list[float]
) -> None:
    """Back-to-back pushes until `stop`; appends each push's end time (perf_counter), or the error."""
    try:
        while not stop.is_set():
            push(bodies[len(done) % len(bodies)])
            done.append(time.perf_counter())
    except (SystemExit, Exception) as error:
        print(f"a push failed: {error}", file=sys.stderr)
        done.append(float("nan"))


async def window(
    base: str, path: str, reader: str, seconds: float, concurrency: int
) -> tuple[list[float], set[int]]:
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    async with httpx.AsyncClient(base_url=base, limits=limits, timeout=30) as client:
        _, latencies, statuses = await run.drive(
            client, path, {"Authorization": f"Bearer {reader}"}, seconds, concurrency
        )
    return sorted(latencies), statuses


def percentiles(latencies: list[float]) -> tuple[float, float]:
    p50 = latencies[len(latencies) // 2]
    p99 = latencies[max(int(len(latencies) * 0.99) - 1, 0)]
    return p50 * 1000, p99 * 1000


def main(seconds: float, concurrency: int) -> None:
    url, admin = figures_batch.prepare()
    _, reader = run.prepare()  # the seed history and a reader key
    dsn = url.replace("postgresql+asyncpg://", "postgresql://")
    asyncio.run(clear(dsn))
    with serve(url) as (base, _pid):
        auth = {"Authorization": f"Bearer {admin}"}
        units = [
            u["id"]
            for u in httpx.get(
                f"{base}/v1/units", params={"as_of": "2025-07-01", "limit": 200}, headers=auth
            ).json()["items"]
        ]
        metrics = [
            (m["key"], m["kind"])
            for m in httpx.get(f"{base}/v1/metrics", params={"limit": 200}, headers=auth).json()["items"]
        ]
        bodies = [figures_batch.make_csv(units, metrics, MONTH, seed) for seed in (1, 2, 3)]
        with httpx.Client(base_url=base, timeout=120) as client:
            created = figures_batch.http_push(client, admin, bodies[0])  # the create round
        print(
            f"{figures_batch.ROWS}-row CSV batch ({len(units)} units × {len(metrics)} metrics × periods), "
            f"created in {created * 1000:.0f} ms; 1 uvicorn worker; readers: {concurrency} connections "
            f"× {seconds:.0f}s per window; pushes: 1 thread, back to back (replace rounds): through HTTP, "
            "then raw COPY + upsert\n"
        )
        print(f"{'sheet':42} {'phase':>8} {'reads':>6} {'p50':>8} {'p99':>8} {'pushes':>7} {'p99 ×':>6}")
        with httpx.Client(base_url=base, timeout=120) as client:
            phases: list[tuple[str, Callable[[bytes], object] | None]] = [
                ("idle", None),
                ("HTTP", lambda body: figures_batch.http_push(client, admin, body)),
                ("raw COPY", lambda body: asyncio.run(figures_batch.raw_push(dsn, body))),
            ]
            during: list[tuple[str, float, float, float]] = []
            for name, path in SHEETS:
                asyncio.run(window(base, path, reader, 1, concurrency))  # warm-up
                idle99 = 0.0
                for phase, push in phases:
                    stop, done = threading.Event(), list[float]()
                    thread = (
                        threading.Thread(target=pusher, args=(push, bodies, stop, done)) if push else None
                    )
                    if thread:
                        thread.start()
                    started = time.perf_counter()
                    latencies, statuses = asyncio.run(window(base, path, reader, seconds, concurrency))
                    ended = time.perf_counter()
                    stop.set()
                    if thread:
                        thread.join(timeout=120)
                    if statuses != {200} or any(t != t for t in done):
                        raise SystemExit(f"{path} ({phase}): statuses {statuses}, a push failed: see above")
                    p50, p99 = percentiles(latencies)
                    idle99 = idle99 or p99
                    if phase == "HTTP":
                        during.append((name, p99 / idle99, idle99, p99))
                    pushes = f"{sum(started < t <= ended for t in done)}" if push else ""
                    ratio = f"{p99 / idle99:5.2f}×" if push else ""
                    print(
                        f"{name if phase == 'idle' else '':42} {phase:>8} {len(latencies):>6} "
                        f"{p50:6.1f}ms {p99:6.1f}ms {pushes:>7} {ratio:>6}"
                    )
        print(f"\ngoal (issue 23, item 5): reads on the same worker keep a p99 within {GOAL:.0f}× of idle")
        for name, times, idle, busy in during:
            holds = "yes" if times <= GOAL else "NO"
            print(
                f"  {name:42} {times:5.2f}× idle ({idle:.1f} → {busy:.1f} ms) "
                f"during HTTP pushes: holds {holds}"
            )
    asyncio.run(clear(dsn))


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=5)
    parser.add_argument("--concurrency", type=int, default=4)
    args = parser.parse_args()
    main(args.seconds, args.concurrency)
