"""The year sheet's read latency while its cluster's reported figures are replaced every 100 ms,
beside idle, and how many times the sheet was rendered per write (issue 23, item 1).

Every write drops the sheet; the goal is that the readers do not pay for it: one render per
write (single flight), and a p99 within 3× of idle (the readers who did not write get the sheet
the render in flight replaces). Starts one uvicorn worker on the bench database (embedded
PostgreSQL unless BENCH_DATABASE_URL is set) with the reference units and the seed history;
`make bench` (`bench/run.py`) runs the same measurement on its own server.

    make bench-writes             # or: .venv/bin/python bench/sheet_under_writes.py --seconds 5
"""

import argparse
import asyncio
import re
import shutil
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench import run  # noqa: E402
from bench.sheet_under_push import percentiles, serve, window  # noqa: E402

WRITE_EVERY_SECONDS = 0.1
FIGURES = f"{run.SHEET}/reported-figures"
RENDERS = re.compile(
    r'^thidua_cache_misses_total\{kind="/v1/clusters/\{number\}/years/\{year\}"\} (\S+)$', re.M
)
GOAL = 3.0
"""The sheet's p99 under the writes, at most this many times its idle p99."""


def figures(n: int) -> dict[str, object]:
    """A conference's figures for the whole cluster, the `n`th correction."""
    return {
        "figures": [
            {
                "label": "vụ việc được giải quyết",
                "kind": "value",
                "qualifier": "approximately",
                "value": 900 + n,
            }
        ]
    }


def writer(base: str, admin: str, stop: threading.Event, written: list[int]) -> None:
    """Replaces the cluster's reported figures every `WRITE_EVERY_SECONDS` until `stop` (the first
    write creates them if the seed has none), counting them in `written[0]` (-1: one failed).

    A thread of the readers' process, as `sheet_under_push.py` pushes: this process is one core
    at most (its interpreter lock), so the server keeps the other of this 2-core machine; a
    process of its own would take that core from the server at each write, and measure the
    machine rather than the server."""
    try:
        with httpx.Client(base_url=base, headers={"Authorization": f"Bearer {admin}"}, timeout=30) as client:
            current = client.get(FIGURES)
            etag = current.headers["etag"] if current.status_code == 200 else None
            due = time.perf_counter()
            while not stop.is_set():
                body = figures(written[0])
                answer = client.put(FIGURES, json=body, headers={"If-Match": etag} if etag else {})
                if answer.status_code not in (200, 201):
                    raise SystemExit(f"PUT {FIGURES}: {answer.status_code} {answer.text[:200]}")
                etag = answer.headers["etag"]
                written[0] += 1
                due += WRITE_EVERY_SECONDS
                stop.wait(max(0.0, due - time.perf_counter()))
    except (SystemExit, Exception) as error:
        print(f"a write failed: {error}", file=sys.stderr)
        written[0] = -1


def renders(base: str) -> float:
    """How many times the sheet has been rendered (a read that went to the database)."""
    found = RENDERS.search(httpx.get(f"{base}/metrics").text)
    return float(found.group(1)) if found else 0.0


@dataclass(frozen=True)
class Figures:
    idle_p50: float
    idle_p99: float
    busy_p50: float
    busy_p99: float
    reads: int
    writes: int
    renders: float

    @property
    def ratio(self) -> float:
        return self.busy_p99 / self.idle_p99

    @property
    def per_write(self) -> float:
        return self.renders / self.writes if self.writes else float("nan")


def measure(base: str, reader: str, admin: str, seconds: float, concurrency: int) -> Figures:
    """Readers of the sheet for `seconds` idle, then as long while a thread writes: `wrk` when it
    is installed (as `make bench` drives every case: the server busy, the client's own pauses
    out of the figures), else a Python client."""
    run.ready(base)
    reads = _wrk if shutil.which("wrk") else _python
    reads(base, reader, 1, concurrency)  # warm-up: the sheet is cached
    idle = reads(base, reader, seconds, concurrency)
    stop, written = threading.Event(), [0]
    thread = threading.Thread(target=writer, args=(base, admin, stop, written))
    before = renders(base)
    thread.start()
    while written[0] == 0 and thread.is_alive():  # the readers start with the writes
        time.sleep(0.01)
    busy = reads(base, reader, seconds, concurrency)
    stop.set()
    thread.join(timeout=60)
    rendered = renders(base) - before
    if written[0] < 0:
        raise SystemExit(f"{run.SHEET}: a write failed: see above")
    return Figures(idle[0], idle[1], busy[0], busy[1], busy[2], written[0], rendered)


def _wrk(base: str, reader: str, seconds: float, concurrency: int) -> tuple[float, float, int]:
    """p50 and p99 in ms, and the reads (`wrk` counts only answers; a non-2xx fails the bench)."""
    headers = {"Authorization": f"Bearer {reader}", **run.PHONE}
    _rate, p50, p99, count = run.with_wrk(base + run.SHEET, headers, max(seconds, 1), concurrency)
    return _ms(p50), _ms(p99), count


def _python(base: str, reader: str, seconds: float, concurrency: int) -> tuple[float, float, int]:
    latencies, statuses = asyncio.run(window(base, run.SHEET, reader, seconds, concurrency))
    if statuses != {200}:
        raise SystemExit(f"{run.SHEET}: statuses {statuses}")
    p50, p99 = percentiles(latencies)
    return p50, p99, len(latencies)


def _ms(shown: str) -> float:
    """`wrk`'s `2.43ms`, `533.00us`, `1.01s` in milliseconds."""
    for unit, factor in (("us", 1e-3), ("ms", 1.0), ("s", 1e3)):
        if shown.endswith(unit):
            return float(shown.removesuffix(unit)) * factor
    raise ValueError(shown)


def report(figures: Figures) -> None:
    print(
        f"{run.SHEET}, {figures.reads} reads while its reported figures were replaced every "
        f"{WRITE_EVERY_SECONDS * 1000:.0f} ms ({figures.writes} writes): p50 {figures.idle_p50:.1f} → "
        f"{figures.busy_p50:.1f} ms, p99 {figures.idle_p99:.1f} → {figures.busy_p99:.1f} ms "
        f"({figures.ratio:.2f}× idle; goal ≤ {GOAL:.0f}×); {figures.per_write:.2f} renders per write"
    )


def main(seconds: float, concurrency: int) -> None:
    url, reader = run.prepare()
    admin = run.admin_key(url)
    with serve(url) as (base, _pid):
        report(measure(base, reader, admin, seconds, concurrency))


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=5)
    parser.add_argument("--concurrency", type=int, default=8)
    args = parser.parse_args()
    main(args.seconds, args.concurrency)
