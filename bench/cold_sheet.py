"""The year sheet cold (read cache off) against a FastAPI hello-world, in the same run (issue 23,
item 2: at least 5% of hello-world's throughput).

Starts, as `bench/run.py` does, one uvicorn worker with the read cache off on a database of its
own (`BENCH_DATABASE_URL`, else the embedded `thidua_bench_cold`: the reference units and the seed
history), one hello-world worker, then drives hello-world, each
sheet, and hello-world again with `wrk` (or the Python client), rate limits on and gzip asked as
a phone asks. Throughput moves with whatever else the machine runs; the server's CPU time per
request, and its ratio to hello-world's, hardly does: both are printed.

    .venv/bin/python bench/cold_sheet.py --seconds 8 --concurrency 8
"""

import argparse
import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from app.core.config import get_settings  # noqa: E402
from app.core.embedded import ensure_database  # noqa: E402
from bench.run import PHONE, Measured, drive_case, prepare, ready, server, server_env  # noqa: E402

SHEETS = (
    ("the sheet of cluster 5, 2025 (issue 23's case)", "/v1/clusters/5/years/2025"),
    ("the sheet of cluster 4, 2024 (covenant, pledges)", "/v1/clusters/4/years/2024"),
    ("its summary", "/v1/clusters/4/years/2024/summary"),
    ("cluster 4's years (a sheet per year)", "/v1/clusters/4/years"),
)
GOAL = 0.05


def main(seconds: float, concurrency: int) -> None:
    if "BENCH_DATABASE_URL" not in os.environ:  # a database of its own: `make bench` may run beside it
        os.environ["BENCH_DATABASE_URL"] = ensure_database(get_settings().data_dir, "thidua_bench_cold")
    url, key = prepare()
    env = {**server_env(url), "CACHE_ENABLED": "false"}
    auth = {"Authorization": f"Bearer {key}", **PHONE}
    with (
        server("app.main:app", env) as (cold, cold_pid),
        server("bench.hello:app", env) as (hello, hello_pid),
    ):
        ready(cold)
        ready(hello, "/")
        print(f"{seconds:.0f}s per case, {concurrency} connections, 1 uvicorn worker, read cache off\n")
        first = drive_case(hello + "/", PHONE, seconds, concurrency, hello_pid)
        measured = [
            (name, drive_case(cold + path, auth, seconds, concurrency, cold_pid)) for name, path in SHEETS
        ]
        last = drive_case(hello + "/", PHONE, seconds, concurrency, hello_pid)
    rate = (first.rate + last.rate) / 2
    cpu = (first.cpu + last.cpu) / 2 if first.cpu and last.cpu else None
    print(f"{'case':50} {'req/s':>8} {'p50':>9} {'p99':>9} {'of hello':>9} {'CPU/req':>9} {'CPU ×':>7}")
    print(
        _row(
            "hello-world (mean of its two runs)",
            Measured(first.case, rate, first.p50, first.p99, cpu),
            rate,
            cpu,
        )
    )
    for name, result in measured:
        print(_row(name, result, rate, cpu))
    share = measured[0][1].rate / rate
    holds = "holds" if share >= GOAL else "does NOT hold"
    print(f"\ngoal: the sheet cold at least {GOAL:.0%} of hello-world: {share:.1%}, {holds}")


def _row(name: str, result: Measured, rate: float, cpu: float | None) -> str:
    times = f"{result.cpu / cpu:6.1f}×" if result.cpu and cpu else f"{'-':>7}"
    per_request = f"{result.cpu * 1e6:.0f}us" if result.cpu else "-"
    return (
        f"{name:50} {result.rate:8.0f} {result.p50:>9} {result.p99:>9} {result.rate / rate:9.1%} "
        f"{per_request:>9} {times}"
    )


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=8)
    parser.add_argument("--concurrency", type=int, default=8)
    args = parser.parse_args()
    main(args.seconds, args.concurrency)
