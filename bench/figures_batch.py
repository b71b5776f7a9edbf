"""A 10,000-row CSV figures batch through HTTP beside a raw `COPY` + upsert of the same rows.

Starts one uvicorn worker on a database of its own (embedded PostgreSQL unless
BENCH_DATABASE_URL is set) with the reference units and the metric catalogue, then, in the same
run and alternately, pushes a 10,000-row CSV (every unit after the 2025 reform × every metric
× periods) through `POST /v1/figures:batch`, and writes the same rows straight into the same
tables with asyncpg: `COPY` of the CSV into a temporary table, then the upsert of the sets, their
values and one revision per set (the same statements the service runs, less the checks). Round
1 creates the sets, later rounds replace them (a new version each). The HTTP side starts with the
request and ends with the answer; the raw side with the COPY and ends with the commit.

    make bench-figures            # or: .venv/bin/python bench/figures_batch.py --rounds 5
"""

import argparse
import asyncio
import csv
import io
import os
import socket
import statistics
import subprocess
import sys
import time
from pathlib import Path

import asyncpg
import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from app.core.config import get_settings  # noqa: E402
from app.core.embedded import ensure_database  # noqa: E402
from app.figures.queries import RESOURCE, SET_JSON  # noqa: E402
from bench.run import server_env  # noqa: E402

ROWS = 10_000
HEADER = ["don_vi_id", "nam", "tu_ngay", "den_ngay", "chi_tieu", "gia_tri", "tu_so", "mau_so"]


def prepare() -> tuple[str, str]:
    url = os.environ.get("BENCH_DATABASE_URL") or ensure_database(get_settings().data_dir, "thidua_bench")
    env = {**os.environ, "DATABASE_URL": url}
    run = [sys.executable, "-m", "app"]
    subprocess.run([*run, "load-reference"], cwd=ROOT, env=env, check=True, capture_output=True)
    key = subprocess.run(
        [*run, "keys", "create", "--role", "admin", "--name", "bench figures"],
        cwd=ROOT,
        env=env,
        check=True,
        capture_output=True,
        text=True,
    ).stdout.strip()
    return url, key


def make_csv(units: list[int], metrics: list[tuple[str, str]], month: int, seed: int) -> bytes:
    """`ROWS` rows: every unit × every metric × periods `2025-<month>-01..2025-<month>-<day>`."""
    rows: list[list[str]] = []
    day = 1
    while len(rows) < ROWS:
        for unit in units:
            for key, kind in metrics:
                n = (len(rows) * 7 + seed) % 991
                value, parts = (str(n), ["", ""]) if kind != "rate" else ("", [str(n % 90), "90"])
                rows.append(
                    [
                        str(unit),
                        "2025",
                        f"2025-{month:02d}-01",
                        f"2025-{month:02d}-{day:02d}",
                        key,
                        value,
                        *parts,
                    ]
                )
                if len(rows) == ROWS:
                    break
            if len(rows) == ROWS:
                break
        day += 1
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(HEADER)
    writer.writerows(rows)
    return out.getvalue().encode()


RAW_STATEMENTS = [
    """INSERT INTO figure_sets (unit_id, year, period_start, period_end, version, recorded_by)
       SELECT DISTINCT unit_id, year, period_start, period_end, 1, 'bench-raw' FROM stage
       ON CONFLICT (unit_id, period_start, period_end) DO UPDATE SET year = EXCLUDED.year,
         version = figure_sets.version + 1, recorded_by = EXCLUDED.recorded_by, recorded_at = now()""",
    """CREATE TEMP TABLE touched ON COMMIT DROP AS
       SELECT DISTINCT fs.id FROM figure_sets fs JOIN stage s ON fs.unit_id = s.unit_id
         AND fs.period_start = s.period_start AND fs.period_end = s.period_end""",
    "DELETE FROM figure_values WHERE figure_set_id IN (SELECT id FROM touched)",
    """INSERT INTO figure_values (figure_set_id, metric_id, value, numerator, denominator)
       SELECT fs.id, m.id, s.value, s.numerator, s.denominator FROM stage s
       JOIN figure_sets fs ON fs.unit_id = s.unit_id AND fs.period_start = s.period_start
         AND fs.period_end = s.period_end
       JOIN metrics m ON m.key = s.metric""",
    f"""INSERT INTO revisions (resource, resource_id, version, data, recorded_by, recorded_at)
        SELECT '{RESOURCE}', fs.id, fs.version, CAST({SET_JSON} AS jsonb), fs.recorded_by, fs.recorded_at
        FROM figure_sets fs WHERE fs.id IN (SELECT id FROM touched)""",
]


async def raw_push(dsn: str, body: bytes) -> float:
    connection = await asyncpg.connect(dsn)
    try:
        started = time.perf_counter()
        async with connection.transaction():
            await connection.execute(
                "CREATE TEMP TABLE stage (unit_id int, year int, period_start date, period_end date, "
                "metric text, value numeric, numerator numeric, denominator numeric) ON COMMIT DROP"
            )
            await connection.copy_to_table("stage", source=io.BytesIO(body), format="csv", header=True)
            for statement in RAW_STATEMENTS:
                await connection.execute(statement)
        return time.perf_counter() - started
    finally:
        await connection.close()


def http_push(client: httpx.Client, key: str, body: bytes) -> float:
    started = time.perf_counter()
    response = client.post(
        "/v1/figures:batch",
        content=b"\xef\xbb\xbf" + body,
        headers={"Authorization": f"Bearer {key}", "Content-Type": "text/csv"},
    )
    elapsed = time.perf_counter() - started
    if response.status_code != 200:
        raise SystemExit(f"the batch failed: {response.status_code} {response.text[:500]}")
    return elapsed


def main(rounds: int) -> None:
    url, key = prepare()
    dsn = url.replace("postgresql+asyncpg://", "postgresql://")
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
        env=server_env(url),
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
        auth = {"Authorization": f"Bearer {key}"}
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
        asyncio.run(_clear(dsn))
        http_times, raw_times = [], []
        print(f"{ROWS} rows ({len(units)} units × {len(metrics)} metrics × periods), 1 uvicorn worker\n")
        print(f"{'round':>5} {'HTTP batch':>11} {'raw COPY':>9} {'ratio':>6}")
        with httpx.Client(base_url=base, timeout=120) as client:
            for round_ in range(1, rounds + 1):
                # Same rows for both, in different months so each writes its own sets.
                http_body, raw_body = make_csv(units, metrics, 8, round_), make_csv(units, metrics, 9, round_)
                h = http_push(client, key, http_body)
                r = asyncio.run(raw_push(dsn, raw_body))
                http_times.append(h)
                raw_times.append(r)
                kind = "create" if round_ == 1 else "replace"
                print(f"{round_:>5} {h * 1000:9.0f}ms {r * 1000:7.0f}ms {h / r:5.2f}×  ({kind})")
        h, r = statistics.median(http_times[1:] or http_times), statistics.median(raw_times[1:] or raw_times)
        print(
            f"\nmedian of the replace rounds: HTTP {h * 1000:.0f} ms, raw {r * 1000:.0f} ms, "
            f"ratio {h / r:.2f}×"
        )
    finally:
        server.terminate()
        server.wait(timeout=10)


async def _clear(dsn: str) -> None:
    connection = await asyncpg.connect(dsn)
    try:
        await connection.execute("DELETE FROM revisions WHERE resource = $1", RESOURCE)
        await connection.execute("DELETE FROM figure_sets")
    finally:
        await connection.close()


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=5)
    main(parser.parse_args().rounds)
