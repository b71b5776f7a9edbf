"""Hostile figure batches: for the worst bodies the limits allow, the answer's time and size, the
server's memory growth, and the p99 of reads on the same worker while such bodies are pushed.

Starts one uvicorn worker (rate limits on, budgets no bench reaches) on the bench database with
the reference units and the seed history, then for each body: posts it alone (time to the whole
answer, the answer's bytes, the worker's peak RSS growth sampled every 5 ms from /proc), then
reads the year sheet with `--concurrency` connections for `--seconds` idle and again while one
thread posts that body back to back. The bounds (issue 18): answer within 5 s, under 64 KB, RSS
growth under 100 MB.

    make bench-hostile            # or: .venv/bin/python bench/hostile_batch.py --seconds 5
"""

import argparse
import asyncio
import json
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench import run  # noqa: E402
from bench.sheet_under_push import percentiles, serve, window  # noqa: E402

HEADER = "don_vi_id,nam,tu_ngay,den_ngay,chi_tieu,gia_tri,tu_so,mau_so,ghi_chu"
MAX_BYTES = 16 * 1024 * 1024
MAX_ROWS = 10_000
CSV = {"Content-Type": "text/csv"}
JSON = {"Content-Type": "application/json"}


def bodies(unit: int) -> list[tuple[str, bytes, dict[str, str]]]:
    """The bodies, each the worst of its kind within `MAX_BATCH_BYTES` and the row cap."""
    million_x = (HEADER + "\n").encode() + b"x\n" * 1_000_000
    note = "n" * (MAX_BYTES // MAX_ROWS - 120)
    bad_row = f"{unit},20x5,01/07/2025,31/07/2025,NOT A KEY,1.250,-1,1E+5,{note}\n"
    all_bad = (HEADER + "\n" + bad_row * MAX_ROWS).encode()[:MAX_BYTES]
    unknown_keys = {f"k{i}": 0 for i in range(12)}
    json_bad = json.dumps({"rows": [{**unknown_keys, "value": "x", "year": "y"}] * MAX_ROWS}).encode()
    empty_objects = b'{"rows":[' + b",".join([b"{}"] * (MAX_BYTES // 3 - 10)) + b"]}"
    return [
        ("CSV: header + 1,000,000 lines of x (3 MB)", million_x, CSV),
        (f"CSV: {MAX_ROWS:,} rows, every value wrong ({len(all_bad) / 2**20:.0f} MiB)", all_bad, CSV),
        (f"JSON: {MAX_ROWS:,} rows of 14 bad members ({len(json_bad) / 2**20:.1f} MiB)", json_bad, JSON),
        (f"JSON: {MAX_BYTES // 3 - 10:,} empty rows (16 MiB)", empty_objects, JSON),
    ]


def rss(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    return 0


def push_alone(
    base: str, pid: int, key: str, body: bytes, headers: dict[str, str]
) -> tuple[float, int, int, int]:
    """(seconds to the whole answer, answer bytes, status, peak RSS growth in bytes)."""
    before = rss(pid)
    peak = before
    stop = threading.Event()

    def sample() -> None:
        nonlocal peak
        while not stop.is_set():
            peak = max(peak, rss(pid))
            time.sleep(0.005)

    sampler = threading.Thread(target=sample)
    sampler.start()
    started = time.perf_counter()
    response = httpx.post(
        f"{base}/v1/figures:batch",
        content=body,
        headers={**headers, "Authorization": f"Bearer {key}"},
        timeout=300,
    )
    elapsed = time.perf_counter() - started
    stop.set()
    sampler.join()
    return elapsed, len(response.content), response.status_code, peak - before


def main(seconds: float, concurrency: int) -> None:
    url, reader = run.prepare()
    env = {**run.server_env(url)}
    with serve(url) as (base, pid):
        auth = {"Authorization": f"Bearer {reader}"}
        units = httpx.get(f"{base}/v1/units", params={"as_of": "2025-07-01", "limit": 200}, headers=auth)
        unit = next(u["id"] for u in units.json()["items"] if u["name"] == "Hưng Yên")
        unit_key = subprocess.run(
            [
                sys.executable,
                "-m",
                "app",
                "keys",
                "create",
                "--role",
                "unit",
                "--unit",
                str(unit),
                "--name",
                "bench",
            ],
            cwd=ROOT,
            env=env,
            check=True,
            capture_output=True,
            text=True,
        ).stdout.strip()
        print(f"1 uvicorn worker, rate limits on; a unit key of unit {unit}; reads: {run.SHEET}\n")
        print(f"{'body':52} {'status':>6} {'answer':>8} {'bytes':>8} {'RSS +':>8}")
        cases = bodies(unit)
        for name, body, headers in cases:
            push_alone(base, pid, unit_key, body, headers)  # warm-up: the allocator's first growth
            elapsed, size, status, grown = push_alone(base, pid, unit_key, body, headers)
            print(f"{name:52} {status:>6} {elapsed * 1000:6.0f}ms {size:>8,} {grown / 2**20:6.1f}MB")
        print(f"\n{'reads of the sheet while':52} {'reads':>6} {'p50':>8} {'p99':>8} {'p99 ×':>6}")
        asyncio.run(window(base, run.SHEET, reader, 1, concurrency))
        latencies, _ = asyncio.run(window(base, run.SHEET, reader, seconds, concurrency))
        _, idle99 = percentiles(latencies)
        print(f"{'idle':52} {len(latencies):>6} {percentiles(latencies)[0]:6.1f}ms {idle99:6.1f}ms")
        for name, body, headers in cases:
            stop = threading.Event()

            def hammer(
                body: bytes = body, headers: dict[str, str] = headers, stop: threading.Event = stop
            ) -> None:
                while not stop.is_set():
                    push_alone(base, pid, unit_key, body, headers)

            thread = threading.Thread(target=hammer)
            thread.start()
            latencies, statuses = asyncio.run(window(base, run.SHEET, reader, seconds, concurrency))
            stop.set()
            thread.join(timeout=300)
            if statuses != {200}:
                raise SystemExit(f"reads answered {statuses} while pushing {name}")
            p50, p99 = percentiles(latencies)
            print(f"{name:52} {len(latencies):>6} {p50:6.1f}ms {p99:6.1f}ms {p99 / idle99:5.2f}×")
        print("\nbounds: answer within 5 s, under 64 KB, RSS growth under 100 MB")


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=5)
    parser.add_argument("--concurrency", type=int, default=4)
    args = parser.parse_args()
    main(args.seconds, args.concurrency)
