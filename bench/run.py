"""Throughput and latency of the read paths, against a real server, and the goals of issue 23.

Starts one uvicorn worker on a database of its own (embedded PostgreSQL unless
BENCH_DATABASE_URL is set), loads the reference units and the seed history, then drives
each endpoint from this process with N concurrent keep-alive connections for a fixed time:
the cached reads and their 304s, the reads that are not cached (the unit's awards with
predecessors, lineage, the rule sets, the award types), and the year sheet cold (a second
worker with the read cache off). Then the sheet under writes (`sheet_under_writes.py`: its
cluster's reported figures replaced every 100 ms) and the limiter's own cost in this process.
Last, each goal beside its measured figure, and whether it holds.

    make bench                     # or: .venv/bin/python bench/run.py --seconds 10 --concurrency 32

Uses `wrk` (Debian package `wrk`, which `make bench` installs when it is missing) when it is
installed; otherwise a Python client in this process, which saturates long before the server
does. Either way the client shares the machine with the server (2 cores here), so throughput
is a floor, and moves with whatever else the machine runs; the server's CPU time per request
(from `/proc`), and its ratio to hello-world's in the same run, hardly does: the goals are
said in it.

The server runs as production does, rate limits on: every request is counted against its key's
budget (`server_env`), with budgets the bench never reaches. `--rate-limits off` measures the
same without the limiter, for comparison.
"""

import argparse
import asyncio
import math
import os
import re
import shutil
import socket
import statistics
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import httpx
from starlette.types import Message, Receive, Scope, Send

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from app.core.config import Settings, get_settings  # noqa: E402
from app.core.embedded import ensure_database  # noqa: E402
from bench.issuer import Issuer  # noqa: E402

if TYPE_CHECKING:
    from bench.sheet_under_writes import Figures

BENCH_BUDGET = "1000000000/minute"
"""Far beyond what one worker serves: the limiter does its work on every request, never refuses."""


def server_env(url: str, *, rate_limits: bool = True, cache: bool = True) -> dict[str, str]:
    """The environment of a benchmarked server: its database, and rate limits on (as production)
    with budgets no bench reaches; `cache=False` for a cold read."""
    budgets = {
        name.upper(): BENCH_BUDGET
        for name in Settings.model_fields
        if name.startswith("rate_limit_") and name != "rate_limit_enabled"
    }
    return {
        **os.environ,
        "DATABASE_URL": url,
        "RATE_LIMIT_ENABLED": str(rate_limits).lower(),
        "CACHE_ENABLED": str(cache).lower(),
        **budgets,
    }


PHONE = {"Accept-Encoding": "gzip"}
"""Sent with every request, as a phone's HTTP stack does (OkHttp, NSURLSession): the reads are
measured as production serves them, compressed where they are large enough."""
SHEET = "/v1/clusters/5/years/2025"
AWARDS = "/v1/awards?unit=70&include_predecessors=true"
"""Hưng Yên's awards and those of Thái Bình, the unit it succeeded on 2025-07-01."""


def prepare() -> tuple[str, str]:
    url = os.environ.get("BENCH_DATABASE_URL") or ensure_database(get_settings().data_dir, "thidua_bench")
    env = {**os.environ, "DATABASE_URL": url}
    run = [sys.executable, "-m", "app"]
    subprocess.run([*run, "load-reference"], cwd=ROOT, env=env, check=True, capture_output=True)
    subprocess.run(
        [*run, "import", "data/history/seed_history.yaml"], cwd=ROOT, env=env, check=True, capture_output=True
    )
    return url, _key(url, "reader")


def admin_key(url: str) -> str:
    """An admin key (the writes of `sheet_under_writes.py`)."""
    return _key(url, "admin")


def _key(url: str, role: str) -> str:
    return subprocess.run(
        [sys.executable, "-m", "app", "keys", "create", "--role", role, "--name", f"bench {role}"],
        cwd=ROOT,
        env={**os.environ, "DATABASE_URL": url},
        check=True,
        capture_output=True,
        text=True,
    ).stdout.strip()


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


CACHED, NOT_MODIFIED, OTHER, ITEM_4, COLD = "cached", "304", "other", "item 4", "cold"
"""A case's kind: a cached read (item 3's CPU goal), a 304, one of the reads item 4 named as
uncached (each a cached read since 5.0.0 or 5.1.0, measured as production serves it), the sheet
with the read cache off, or anything else (the probe, hello-world)."""


@dataclass(frozen=True)
class Case:
    name: str
    path: str
    headers: dict[str, str]
    kind: str = CACHED
    server: str = "app"
    """`app`, or `cold`: the worker with the read cache off."""


def ready(base: str, probe: str = "/readyz") -> None:
    """Waits until `base` answers `probe` with 200 (at most 20 s)."""
    for _ in range(200):
        try:
            if httpx.get(f"{base}{probe}", timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.1)
    raise SystemExit(f"{base} did not become ready")


def cases(base: str, key: str, person: str) -> list[Case]:
    auth = {"Authorization": f"Bearer {key}", **PHONE}
    signed_in = {"Authorization": f"Bearer {person}", **PHONE}
    ready(base)
    sheet = httpx.get(f"{base}{SHEET}", headers=auth)
    unit_etag = httpx.get(f"{base}/v1/units/22", headers=auth).headers["etag"]
    return [
        Case("healthz (no auth, no DB)", "/healthz", PHONE, OTHER),
        Case("GET /v1/units/{id}", "/v1/units/22", auth),
        Case("GET /v1/units?as_of=2025-07-01 (34 rows)", "/v1/units?as_of=2025-07-01", auth),
        Case("GET /v1/clusters/5/years/2025 (sheet)", SHEET, auth),
        Case("same sheet, a signed-in person (JWT)", SHEET, signed_in),
        Case(
            "same sheet, If-None-Match -> 304",
            SHEET,
            {**auth, "If-None-Match": sheet.headers["etag"]},
            NOT_MODIFIED,
        ),
        Case("GET /v1/clusters/5/leadership", "/v1/clusters/5/leadership", auth),
        Case("GET /v1/clusters/5/members?year=2025", "/v1/clusters/5/members?year=2025", auth),
        Case(
            "GET /v1/units/{id}, If-None-Match -> 304",
            "/v1/units/22",
            {**auth, "If-None-Match": unit_etag},
            NOT_MODIFIED,
        ),
        Case("awards of a unit, with predecessors", AWARDS, auth, ITEM_4),
        Case("GET /v1/units/{id}/lineage", "/v1/units/22/lineage", auth, ITEM_4),
        Case("GET /v1/rule-sets", "/v1/rule-sets", auth, ITEM_4),
        Case("GET /v1/rule-sets/for-year/2025", "/v1/rule-sets/for-year/2025", auth, ITEM_4),
        Case("GET /v1/award-types", "/v1/award-types", auth, ITEM_4),
        Case("the sheet cold (read cache off)", SHEET, auth, COLD, "cold"),
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
    if "Non-2xx or 3xx responses" in out:
        raise SystemExit(f"{url}: answers other than 2xx or 3xx:\n{out}")
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


@dataclass(frozen=True)
class Measured:
    case: Case
    rate: float
    p50: str
    p99: str
    cpu: float | None
    """Seconds of the server's CPU per request."""


def drive_case(url: str, headers: dict[str, str], seconds: float, concurrency: int, pid: int) -> Measured:
    """Throughput, latency, and the server's CPU time per request (after a one-second warm-up)."""
    if shutil.which("wrk"):
        with_wrk(url, headers, 1, concurrency)
        before = cpu_seconds(pid)
        rate, p50, p99, count = with_wrk(url, headers, seconds, concurrency)
    else:
        asyncio.run(with_python(url, "", headers, 1, concurrency))
        before = cpu_seconds(pid)
        rate, p50, p99, count = asyncio.run(with_python(url, "", headers, seconds, concurrency))
    after = cpu_seconds(pid)
    cpu = (after - before) / count if before is not None and after is not None and count else None
    return Measured(Case("", url, headers), rate, p50, p99, cpu)


def measure(
    bases: dict[str, str],
    hello: str,
    key: str,
    person: str,
    seconds: float,
    concurrency: int,
    rate_limits: bool,
    pids: dict[str, int],
) -> tuple[Measured, list[Measured]]:
    """Per case: throughput, latency, and the server's CPU time per request, whose ratio to
    hello-world's holds on a machine busy with other work (throughput there does not).
    Hello-world is measured first and last, and counts as the mean of both."""
    client = "wrk" if shutil.which("wrk") else "python (httpx)"
    limits = "on" if rate_limits else "off"
    print(
        f"{seconds:.0f}s per case, {concurrency} connections, 1 uvicorn worker, client: {client}, "
        f"rate limits: {limits}, every request with Accept-Encoding: gzip\n"
    )
    print(f"{'case':46} {'req/s':>8} {'p50':>9} {'p99':>9} {'of hello':>9} {'CPU/req':>9} {'CPU ×':>6}")
    hello_case = Case("hello-world (FastAPI, same .venv)", "/", PHONE, OTHER, "hello")
    ready(hello, "/")
    first = replace_case(drive_case(hello + "/", PHONE, seconds, concurrency, pids["hello"]), hello_case)
    results = []
    for case in cases(bases["app"], key, person):
        print(f"  {case.name}…", file=sys.stderr, flush=True)
        ready(bases[case.server])
        measured = drive_case(
            bases[case.server] + case.path, case.headers, seconds, concurrency, pids[case.server]
        )
        results.append(replace_case(measured, case))
    last = replace_case(drive_case(hello + "/", PHONE, seconds, concurrency, pids["hello"]), hello_case)
    baseline = Measured(
        hello_case,
        (first.rate + last.rate) / 2,
        first.p50,
        first.p99,
        (first.cpu + last.cpu) / 2 if first.cpu and last.cpu else first.cpu or last.cpu,
    )
    for measured in (first, *results, last):
        print(row(measured, baseline))
    print(f"(hello-world counts as the mean of its two runs: {baseline.rate:.0f} req/s, {_us(baseline.cpu)})")
    wire = {}
    for coding in ("identity", "gzip"):
        headers = {"Authorization": f"Bearer {key}", "Accept-Encoding": coding}
        with httpx.stream("GET", bases["app"] + SHEET, headers=headers) as response:
            wire[coding] = sum(len(chunk) for chunk in response.iter_raw())
    print(f"\nthe sheet on the wire: {wire['identity']} bytes identity, {wire['gzip']} gzip")
    return baseline, results


def interleaved(
    base: str, hello: str, key: str, seconds: float, concurrency: int, pids: dict[str, int], rounds: int = 3
) -> dict[str, list[float]]:
    """The CPU-per-request ratios the goals are said in, each measured right after hello-world,
    `rounds` times (a busy machine moves both together; the ratio of neighbours holds best)."""
    auth = {"Authorization": f"Bearer {key}", **PHONE}
    etag = httpx.get(f"{base}{SHEET}", headers=auth).headers["etag"]
    ratios: dict[str, list[float]] = {CACHED: [], NOT_MODIFIED: []}
    for _ in range(rounds):
        yardstick = drive_case(hello + "/", PHONE, seconds, concurrency, pids["hello"]).cpu
        for kind, headers in ((CACHED, auth), (NOT_MODIFIED, {**auth, "If-None-Match": etag})):
            cpu = drive_case(base + SHEET, headers, seconds, concurrency, pids["app"]).cpu
            if cpu and yardstick:
                ratios[kind].append(cpu / yardstick)
    return ratios


def replace_case(measured: Measured, case: Case) -> Measured:
    return Measured(case, measured.rate, measured.p50, measured.p99, measured.cpu)


def _us(cpu: float | None) -> str:
    return f"{cpu * 1e6:.0f}us" if cpu else "-"


def cpu_ratio(measured: Measured, baseline: Measured) -> float | None:
    """CPU per request against hello-world's: 1.25 means a quarter more."""
    return measured.cpu / baseline.cpu if measured.cpu and baseline.cpu else None


def row(measured: Measured, baseline: Measured) -> str:
    ratio = cpu_ratio(measured, baseline)
    times = f"{ratio:5.2f}×" if ratio else f"{'-':>6}"
    share = measured.rate / baseline.rate
    return (
        f"{measured.case.name:46} {measured.rate:8.0f} {measured.p50:>9} {measured.p99:>9} "
        f"{share:9.1%} {_us(measured.cpu):>9} {times}"
    )


def limiter_cost(rounds: int = 5, calls: int = 20_000) -> float:
    """The rate limiter's own time per request, in this process: `RateLimitMiddleware` around an
    app that answers at once, for a caller known without I/O, less that app alone (the best of
    `rounds`)."""
    from app.core.identity import IDENTITY, Identity
    from app.core.ratelimit import RateLimitMiddleware

    @dataclass(frozen=True)
    class Reader:
        key_id: int = 1
        rate_limit_key: str = "key:1"
        rate_limit_group: str = "reader"

    async def answer(scope: Scope, receive: Receive, send: Send) -> None:
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"{}"})

    async def sink(message: Message) -> None:
        return None

    async def nothing() -> Message:
        return {"type": "http.disconnect"}

    limited = RateLimitMiddleware(answer, settings=Settings(rate_limit_reader=BENCH_BUDGET))
    identity = Identity(presented=True, caller=Reader())

    async def best(app: Callable[[Scope, Receive, Send], Awaitable[None]]) -> float:
        fastest = math.inf
        for _ in range(rounds):
            started = time.perf_counter()
            for _ in range(calls):
                scope = {"type": "http", "method": "GET", "path": SHEET, IDENTITY: identity}
                await app(scope, nothing, sink)
            fastest = min(fastest, (time.perf_counter() - started) / calls)
        return fastest

    async def both() -> float:
        return await best(limited) - await best(answer)

    return asyncio.run(both())


@dataclass(frozen=True)
class Goal:
    what: str
    measured: float | None
    shown: str
    goal: str
    holds: bool | None


def goals(
    baseline: Measured,
    results: list[Measured],
    limiter: float,
    writes: "Figures",
    ratios: dict[str, list[float]],
) -> list[Goal]:
    from bench.sheet_under_writes import GOAL

    by_name = {m.case.name: m for m in results}
    cold = by_name["the sheet cold (read cache off)"]
    cached, revalidated = (
        statistics.median(ratios[k]) if ratios[k] else None for k in (CACHED, NOT_MODIFIED)
    )

    def each(kind: str) -> str:
        return ", ".join(f"{r:.2f}" for r in ratios[kind])

    made = [
        Goal(
            "1. sheet p99, reported figures replaced every 100 ms",
            writes.ratio,
            f"{writes.ratio:.2f}× idle ({writes.idle_p99:.1f} → {writes.busy_p99:.1f} ms)",
            f"≤ {GOAL:.0f}× idle",
            writes.ratio <= GOAL,
        ),
        Goal(
            "1. renders of the sheet per write (single flight)",
            writes.per_write,
            f"{writes.per_write:.2f} ({writes.renders:.0f} for {writes.writes})",
            "1",
            writes.per_write <= 1.0,
        ),
        Goal(
            "2. the sheet cold, throughput vs hello-world",
            cold.rate / baseline.rate,
            f"{cold.rate / baseline.rate:.1%} ({_us(cold.cpu)} CPU)",
            "≥ 5%",
            cold.rate / baseline.rate >= 0.05,
        ),
        Goal(
            "3. the limiter, per request (in process)",
            limiter,
            f"{limiter * 1e6:.1f} µs",
            "about 10 µs (was 40)",
            limiter <= 12e-6,
        ),
        Goal(
            "3. cached read (the sheet), CPU per request vs hello",
            cached,
            f"{cached:.2f}× (median of {each(CACHED)})" if cached else "-",
            "≤ 1.25×",
            cached <= 1.25 if cached else None,
        ),
        Goal(
            "3. 304 (the sheet), CPU per request vs hello",
            revalidated,
            f"{revalidated:.2f}× (median of {each(NOT_MODIFIED)})" if revalidated else "-",
            "≤ 1.10×",
            revalidated <= 1.10 if revalidated else None,
        ),
    ]
    for measured in results:
        if measured.case.kind == ITEM_4:
            ratio = cpu_ratio(measured, baseline)
            made.append(
                Goal(
                    f"4. {measured.case.name}",
                    measured.rate / baseline.rate,
                    f"{measured.rate / baseline.rate:.1%} of hello ({ratio:.1f}× its CPU)"
                    if ratio
                    else f"{measured.rate / baseline.rate:.1%} of hello",
                    "a share of hello",
                    None,
                )
            )
    return made


def print_goals(made: list[Goal]) -> None:
    print("\ngoals (issue 23; item 5, reads during the largest figures batch, is `make bench-sheet`):")
    print(f"{'':54} {'measured':34} {'goal':22} holds")
    for goal in made:
        holds = "-" if goal.holds is None else ("yes" if goal.holds else "NO")
        print(f"{goal.what:54} {goal.shown:34} {goal.goal:22} {holds}")


@contextmanager
def server(target: str, env: dict[str, str]) -> Iterator[tuple[str, int]]:
    """One uvicorn worker serving `target` on a free loopback port: its base URL and pid."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "uvicorn",
            target,
            "--port",
            str(port),
            "--log-level",
            "warning",
            "--no-access-log",
        ],
        cwd=ROOT,
        env=env,
    )
    try:
        yield f"http://127.0.0.1:{port}", process.pid
    finally:
        process.terminate()
        process.wait(timeout=10)


def main(seconds: float, concurrency: int, rate_limits: bool) -> None:
    from bench.sheet_under_writes import measure as under_writes
    from bench.sheet_under_writes import report

    url, key = prepare()
    admin = admin_key(url)
    issuer = Issuer()
    person = issuer.token("bench-person", ["thidua:reader"])
    env = {**server_env(url, rate_limits=rate_limits), **issuer.settings()}
    try:
        with (
            server("app.main:app", env) as (base, pid),
            server("app.main:app", {**env, "CACHE_ENABLED": "false"}) as (cold, cold_pid),
            server("bench.hello:app", env) as (hello, hello_pid),
        ):
            bases = {"app": base, "cold": cold}
            pids = {"app": pid, "cold": cold_pid, "hello": hello_pid}
            baseline, results = measure(bases, hello, key, person, seconds, concurrency, rate_limits, pids)
            print("\nthe goals' ratios, each beside hello-world…", file=sys.stderr, flush=True)
            ratios = interleaved(base, hello, key, min(seconds, 5), concurrency, pids)
            print()
            writes = under_writes(base, key, admin, min(seconds, 5), 8)
            report(writes)
        limiter = limiter_cost()
        print(f"the limiter's own time per request, in this process: {limiter * 1e6:.1f} µs")
        print_goals(goals(baseline, results, limiter, writes, ratios))
    finally:
        issuer.close()


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=8)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument(
        "--rate-limits", choices=("on", "off"), default="on", help="off: the limiter left out, to compare"
    )
    args = parser.parse_args()
    main(args.seconds, args.concurrency, args.rate_limits == "on")
