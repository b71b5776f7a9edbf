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
window's edge; the moving window keeps a timestamp per request (a list as long as the quota). The
asyncio storage, although its calls are coroutines, costs the server less than the synchronous
one, which starts a timer thread from the request path every 10 ms and blocks the event loop
until that thread runs (measured: about 20 µs per request in process, against 50).

Its sweep of expired counters, though, reads every key, and limits 5 starts one after every hit:
O(keys) per request (measured: 40 µs with 100 keys, 1 ms with 10,000), which a flood from many
addresses would turn against everyone. `SweptMemoryStorage` sweeps at most once a second instead;
a counter past its expiry reads as zero until then, so only memory waits.

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
from dataclasses import dataclass

from limits import RateLimitItem, parse
from limits.aio.storage import MemoryStorage
from limits.aio.strategies import SlidingWindowCounterRateLimiter
from prometheus_client import Counter
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.core.config import Settings
from app.core.errors import problem_response
from app.core.i18n import _
from app.core.identity import identity_of

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


class SweptMemoryStorage(MemoryStorage):
    """`limits`' asyncio memory storage, its sweep of expired counters started at most once every
    `sweep_every` seconds rather than after every hit (the one hook it has is private)."""

    def __init__(self, sweep_every: float = SWEEP_EVERY_SECONDS) -> None:
        super().__init__()
        self.sweep_every = sweep_every
        self._next_sweep = 0.0

    async def _MemoryStorage__schedule_expiry(self) -> None:
        now = time.monotonic()
        if now < self._next_sweep:
            return
        self._next_sweep = now + self.sweep_every
        await super()._MemoryStorage__schedule_expiry()  # type: ignore[misc]  # private: mangled


class RateLimitMiddleware:
    """Counts every request but those to `exempt` paths against its caller's budget; over it, 429
    problem+json with `Retry-After`. Sits inside the request-id, language and CORS middleware (a
    429 carries `X-Request-ID`, speaks the request's language and is readable by a browser app)
    and outside the cached read path (cache hits are counted too)."""

    def __init__(self, app: ASGIApp, *, settings: Settings, exempt: Iterable[str] = ()) -> None:
        self.app = app
        self.budgets = budgets(settings)
        self.exempt = frozenset(exempt)
        self.limiter = SlidingWindowCounterRateLimiter(SweptMemoryStorage())

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] in self.exempt:
            await self.app(scope, receive, send)
            return
        write = scope["method"] in WRITE_METHODS
        identity = identity_of(scope)
        caller = identity.caller
        budget, who = self.budgets[None], f"address:{_address(scope)}"
        if caller is None:
            policy = budget.writes if write else budget.reads
            allowed = await self.limiter.hit(policy.rate, policy.name, who)
            if allowed and identity.pending is not None:  # counted first: only then looked up
                counted = _current_window(self.limiter, policy, who)
                try:
                    caller = await identity.resolve()
                except Exception:  # not counted; the route's dependency raises it (503)
                    await _take_back(self.limiter, counted)
                    await self.app(scope, receive, send)
                    return
                if caller is not None:  # a valid key: its own budget, not the address's
                    await _take_back(self.limiter, counted)
        if caller is not None:
            budget, who = self.budgets[caller.rate_limit_group], caller.rate_limit_key
            policy = budget.writes if write else budget.reads
            allowed = await self.limiter.hit(policy.rate, policy.name, who)
        stats = await self.limiter.get_window_stats(policy.rate, policy.name, who)
        reset = max(0, math.ceil(stats.reset_time - time.time()))
        if not allowed:
            await self._refuse(scope, receive, send, budget, policy, max(1, reset))
            return
        fields = [
            (b"ratelimit-policy", budget.policy_field),
            (b"ratelimit", f'"{policy.name}";r={stats.remaining};t={reset}'.encode("latin-1")),
        ]

        async def send_with_fields(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [*message.get("headers", ()), *fields]
            await send(message)

        await self.app(scope, receive, send_with_fields)

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


def _current_window(limiter: SlidingWindowCounterRateLimiter, policy: Policy, who: str) -> str:
    """The storage key of the counter a hit of `who` on `policy` has just raised."""
    storage = limiter.storage
    assert isinstance(storage, MemoryStorage)
    expiry = policy.rate.get_expiry()
    return storage.sliding_window_keys(policy.rate.key_for(policy.name, who), expiry, time.time())[1]


async def _take_back(limiter: SlidingWindowCounterRateLimiter, counter: str) -> None:
    """Undoes one hit on `counter` (`_current_window`): the request was counted against its
    address before its key was looked up, and the key turned out valid (or not answerable)."""
    storage = limiter.storage
    assert isinstance(storage, MemoryStorage)
    await storage.decr(counter)


def _address(scope: Scope) -> str:
    """The client's address (behind a proxy, uvicorn's `--proxy-headers` make it the real one)."""
    client = scope.get("client")
    return str(client[0]) if client else "unknown"
