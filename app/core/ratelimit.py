"""Per-key rate limits: 429 with `Retry-After`, and the `RateLimit` / `RateLimit-Policy` fields of
the IETF httpapi draft on every limited answer.

Each API key has a budget by its role, reads and writes counted apart (a provincial system's
pushes are not its reads); requests without a valid key (none, unknown, revoked) share the
`anonymous` budget of their client address. The counters are `limits`' sliding window counters
in this process's memory: **per instance** (behind the proxy, hash on `Authorization` so a key
always reaches the same instance and its budget is exact). `/healthz`, `/readyz` and `/metrics`
are never limited.

Why these `limits` parts: the sliding window counter keeps two counters per key and policy (O(1)
per request, whatever the quota) and, unlike a fixed window, cannot be spent twice across a
window's edge; the moving window keeps a timestamp per request (a list as long as the quota).

Why one synchronous call (`SlidingWindowCounters.hit`) rather than the strategy's `hit` then
`get_window_stats`: those are two trips through the asyncio storage's coroutines, each wrapped
twice for its errors (a memory dict cannot fail) and reading both counters again, about 20 µs of
a request's 40 in the limiter; the `RateLimit` field needs what the hit has just read (both
counters and their ages), so one call reads the counters, decides, counts, and answers all three:
limits' storage, its keys (`RateLimitItem.key_for`, `sliding_window_keys`), its weighting and its
reset arithmetic, done once, with no await (the storage is this process's memory; nothing can come
between the read and the count). The 429 and the fields mean what they meant.

Its sweep of expired counters, though, reads every key, and limits 5 starts one after every hit:
O(keys) per request (measured: 40 µs with 100 keys, 1 ms with 10,000), which a flood from many
addresses would turn against everyone. `SlidingWindowCounters` sweeps at most once a second
instead; a counter past its expiry reads as zero until then, so only memory waits.

The limiter reads the caller from the request's `Identity` (`app.core.identity`), which the auth
middleware in front of it left: known at once for a key in the key cache. A credential not known
yet is first counted against the client's address, in the `anonymous` budget, and looked up only
if that budget allows (a short-lived connection, returned before the request's own session takes
one): a flood of made-up keys costs no query once the address's budget is spent. A valid key then
takes that count back and spends its own budget; an unknown one has been counted where it
belongs. While the lookup fails (the database down) the request is not counted, and the route's
dependency raises the failure (503).
"""

import math
import time
from collections.abc import Iterable
from contextlib import suppress
from dataclasses import dataclass, field
from typing import Any

from limits import RateLimitItem, parse
from limits.aio.storage import MemoryStorage
from prometheus_client import Counter
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.core.config import Settings
from app.core.errors import problem_response
from app.core.i18n import _
from app.core.identity import identity_of
from app.core.request_session import (
    READ_METHODS,
    REQUEST_SESSION,
    close_request_session,
    open_request_session,
)

SWEEP_EVERY_SECONDS = 1.0
"""How often expired counters are dropped from memory (they count as zero as soon as they expire)."""
RATE_LIMITED = Counter(
    "thidua_rate_limited_total", "Requests refused with 429 (over their budget)", ("role", "policy")
)
WRITE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
ANONYMOUS = "anonymous"


@dataclass(frozen=True, slots=True)
class Policy:
    """One budget: its name in the `RateLimit` fields (`reads`, `writes`, `anonymous`) and its rate."""

    name: str
    rate: RateLimitItem
    _around: tuple[str, str] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        head, _, tail = self.rate.key_for(self.name, "\0").partition("\0")
        object.__setattr__(self, "_around", (head, tail))

    def key(self, who: str) -> str:
        """The storage key of `who`'s counters: `self.rate.key_for(self.name, who)`, its parts
        around `who` worked out once."""
        head, tail = self._around
        return f"{head}{who}{tail}"

    @property
    def window(self) -> int:
        return self.rate.get_expiry()

    @property
    def item(self) -> str:
        """Its `RateLimit-Policy` list member: `"reads";q=600;w=60`."""
        return f'"{self.name}";q={self.rate.amount};w={self.window}'


@dataclass(frozen=True, slots=True)
class Budget:
    """What one kind of caller may do: its reads, its writes (the same policy for a reader), and the
    `RateLimit-Policy` field its answers carry (every policy it has, in the same words each time)."""

    reads: Policy
    writes: Policy
    label: str
    """The role in the metrics (`anonymous` without a valid key)."""
    policy_field: bytes


def _budget(label: str, reads: Policy, writes: Policy) -> Budget:
    field = ", ".join(p.item for p in dict.fromkeys((reads, writes)))
    return Budget(reads, writes, label, field.encode("latin-1"))


OWN_WRITES = ("admin", "cluster", "unit")
"""The groups with a write budget of their own (`RATE_LIMIT_<GROUP>_READS` / `_WRITES`)."""
READER = "reader"


def budgets(settings: Settings) -> dict[str | None, Budget]:
    """The budget of each caller group (`Caller.rate_limit_group`), and of requests without a
    valid credential (`None`)."""

    def own(group: str) -> Budget:
        """A group with reads and writes of its own: `rate_limit_<group>_reads`, `…_writes`."""
        reads, writes = (str(getattr(settings, f"rate_limit_{group}_{kind}")) for kind in ("reads", "writes"))
        return _budget(group, Policy("reads", parse(reads)), Policy("writes", parse(writes)))

    reader = Policy("reads", parse(settings.rate_limit_reader))
    anonymous = Policy(ANONYMOUS, parse(settings.rate_limit_anonymous))
    return {
        **{group: own(group) for group in OWN_WRITES},
        READER: _budget(READER, reader, reader),
        None: _budget(ANONYMOUS, anonymous, anonymous),
    }


@dataclass(frozen=True, slots=True)
class Hit:
    """What one request did to its budget, and what its `RateLimit` field says."""

    allowed: bool
    remaining: int
    """What is left of the budget after this request (0 when refused)."""
    reset: int
    """Whole seconds until the effective window frees a request (0: nothing counted)."""
    counter: str | None
    """The storage key of the counter raised (None when refused): what a take-back lowers."""


class SlidingWindowCounters(MemoryStorage):
    """`limits`' asyncio memory storage, used as its sliding window counter uses it, in one
    synchronous call per request (`hit`), its sweep of expired counters at most once every
    `sweep_every` seconds rather than after every hit (see the module for both reasons). Its
    asynchronous API (`decr`, for a take-back) reads and writes the same counters."""

    def __init__(self, sweep_every: float = SWEEP_EVERY_SECONDS) -> None:
        super().__init__()
        self.sweep_every = sweep_every
        self._next_sweep = 0.0

    def hit(self, rate: RateLimitItem, key: str) -> Hit:
        """One request against `rate` for `key` (`rate.key_for(…)`): limits' sliding window counter
        (`acquire_sliding_window_entry`, then `get_window_stats`), read, decided and counted at once."""
        now = time.time()
        self.sweep_if_due()
        limit, expiry = rate.amount, rate.get_expiry()
        previous_key, current_key = self.sliding_window_keys(key, expiry, now)
        previous, current = self._count(previous_key, now), self._count(current_key, now)
        previous_ttl = (1 - (((now - expiry) / expiry) % 1)) * expiry if previous else 0.0
        current_ttl = (1 - ((now / expiry) % 1)) * expiry + expiry
        weighted = previous * previous_ttl / expiry
        allowed = math.floor(weighted + current) + 1 <= limit
        if allowed:
            current += 1
            self.storage[current_key] = current
            if current == 1:  # a new counter lives two windows (as `incr` sets it)
                self.expirations[current_key] = now + 2 * expiry
        remaining = max(0, limit - math.floor(weighted + current))
        reset = min(
            previous_ttl % (expiry / previous) if previous else math.inf,
            current_ttl % expiry if current else math.inf,
        )
        seconds = math.ceil(reset) if reset != math.inf else 0
        return Hit(allowed, remaining, seconds, current_key if allowed else None)

    def _count(self, key: str, now: float) -> int:
        """A counter's value, zero (and dropped) once expired: limits' `get`, without the await."""
        if self.expirations.get(key, 0) <= now:
            self.storage.pop(key, None)
            self.expirations.pop(key, None)
            self.locks.pop(key, None)
            return 0
        return self.storage.get(key, 0)

    def sweep_if_due(self) -> None:
        """Drops expired counters, at most once every `sweep_every` seconds."""
        moment = time.monotonic()
        if moment < self._next_sweep:
            return
        self._next_sweep = moment + self.sweep_every
        self.sweep()

    def sweep(self) -> None:
        """Drops every expired counter (O(counters); only the memory was waiting)."""
        now = time.time()
        for key in [key for key, expires in self.expirations.items() if expires <= now]:
            self.storage.pop(key, None)
            self.expirations.pop(key, None)
            self.locks.pop(key, None)

    async def _MemoryStorage__schedule_expiry(self) -> None:
        """The hook limits' own calls (`incr`, `decr`) start its sweep from: ours, when due."""
        self.sweep_if_due()


class RateLimitMiddleware:
    """Counts every request but those to `exempt` paths against its caller's budget; over it, 429
    problem+json with `Retry-After`. Sits inside the request-id, language and CORS middleware (a
    429 carries `X-Request-ID`, speaks the request's language and is readable by a browser app)
    and outside the cached read path (cache hits are counted too)."""

    def __init__(self, app: ASGIApp, *, settings: Settings, exempt: Iterable[str] = ()) -> None:
        self.app = app
        self.budgets = budgets(settings)
        self.exempt = frozenset(exempt)
        self.counters = SlidingWindowCounters()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] in self.exempt:
            await self.app(scope, receive, send)
            return
        try:
            identity = identity_of(scope)
            write = scope["method"] in WRITE_METHODS
            caller = identity.caller
            if caller is None:
                budget = self.budgets[None]
                policy = budget.writes if write else budget.reads
                hit = self.counters.hit(policy.rate, policy.key(f"address:{_address(scope)}"))
                if hit.counter is not None and identity.pending is not None:  # counted, then looked up
                    try:
                        caller = await identity.resolve(_lookup_session(scope))
                    except Exception:  # not counted; the route's dependency raises it (503)
                        await self.counters.decr(hit.counter)
                        with suppress(Exception):  # the lookup's session is broken: the route opens its own
                            await close_request_session(scope)
                        await self.app(scope, receive, send)
                        return
                    if caller is not None:  # a valid key: its own budget, not the address's
                        await self.counters.decr(hit.counter)
            if caller is not None:
                budget = self.budgets[caller.rate_limit_group]
                policy = budget.writes if write else budget.reads
                hit = self.counters.hit(policy.rate, policy.key(caller.rate_limit_key))
            if not hit.allowed:
                await self._refuse(scope, receive, send, budget, policy, max(1, hit.reset))
                return
            fields = (
                (b"ratelimit-policy", budget.policy_field),
                (b"ratelimit", b'"%s";r=%d;t=%d' % (policy.name.encode(), hit.remaining, hit.reset)),
            )

            async def send_with_fields(message: Message) -> None:
                if message["type"] == "http.response.start":
                    message["headers"] = [*message.get("headers", ()), *fields]
                await send(message)

            await self.app(scope, receive, send_with_fields)
        finally:
            if REQUEST_SESSION in scope:  # opened to look a key up: closed when the request ends
                await close_request_session(scope)

    async def _refuse(
        self, scope: Scope, receive: Receive, send: Send, budget: Budget, policy: Policy, retry: int
    ) -> None:
        RATE_LIMITED.labels(budget.label, policy.name).inc()
        response = problem_response(
            429,
            slug="rate-limited",
            detail=_(
                "Too many requests: the budget `{policy}` allows {quota} requests per {window} s; "
                "retry in {seconds} s.",
                policy=policy.name,
                quota=policy.rate.amount,
                window=policy.window,
                seconds=retry,
            ),
            headers={
                "Retry-After": str(retry),
                "RateLimit-Policy": budget.policy_field.decode("latin-1"),
                "RateLimit": f'"{policy.name}";r=0;t={retry}',
            },
            instance=scope["path"],
        )
        await response(scope, receive, send)


def _lookup_session(scope: Scope) -> Any:
    """Where a key is looked up: a read's own session (`open_request_session`: one connection
    and one transaction for the request), or, for a request with a body, None (a short-lived
    connection of the lookup's own), so that no connection is held while the body is uploaded
    and a write's transaction does not start before its body has arrived."""
    return open_request_session(scope) if scope["method"] in READ_METHODS else None


def _address(scope: Scope) -> str:
    """The client's address (behind a proxy, uvicorn's `--proxy-headers` make it the real one)."""
    client = scope.get("client")
    return str(client[0]) if client else "unknown"
