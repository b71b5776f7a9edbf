"""The signing keys of the configured OpenID Connect issuers: discovery, JWKS, and when to fetch again.

For each issuer the discovery document (`<issuer>/.well-known/openid-configuration`) names the
`jwks_uri`; its keys are kept by `kid`, signing keys only (a key whose `use` is not `sig`, or
whose `key_ops` leave out `verify`, and every symmetric `oct` key, are dropped when read, so no
public key can ever be taken for an HMAC secret). Keys are fetched:

- on first need (or by `prefetch()` at start-up);
- when a token names a `kid` the cache does not hold (rotation), at most once per
  `refresh_min` seconds per issuer: a flood of made-up kids costs one fetch per interval;
- when the cached set is older than `max_age` seconds, so that a key the provider removed stops
  verifying. While the provider is unreachable the keys already held keep verifying (a key is
  not removed by an outage); a key that is needed and not held is `ProviderUnavailable` (503),
  never a pass and never a 401.

One refresh (discovery when not yet read, then the JWKS) is bounded as a whole by `timeout`
seconds. Nothing here logs a token or a claim: only issuers, counts and causes.
"""

import asyncio
import contextlib
import ipaddress
import json
import logging
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import httpx
from prometheus_client import Counter

from app.core.errors import AppError
from app.core.i18n import _

logger = logging.getLogger(__name__)

DISCOVERY_PATH = "/.well-known/openid-configuration"
MAX_DOCUMENT_BYTES = 1_048_576
"""The largest discovery document or JWKS read (a real JWKS is a few KiB)."""
MAX_KEYS = 100
"""The most signing keys kept per issuer (providers publish two or three)."""

JWKS_FETCHES = Counter(
    "thidua_oidc_jwks_fetches_total",
    "Fetches of an OIDC issuer's signing keys (discovery and JWKS), by outcome",
    ("outcome",),
)
_FETCHED = JWKS_FETCHES.labels("ok")
_FAILED = JWKS_FETCHES.labels("failed")

Jwk = dict[str, Any]
"""One JSON Web Key as the provider published it (public parameters only)."""


class ProviderUnavailable(AppError):
    """The issuer's keys could not be fetched (unreachable, too slow, or an answer that is not a
    discovery document or a JWKS) while the key a token needs is not cached. Answered as a
    database outage is: 503 with `Retry-After`, one log line, no traceback; never a 401 (the
    token may be good) and never a pass.

    `cause` names what failed, for logs (`ConnectError`, `ReadTimeout`, `HTTP 500`, `not JSON`,
    `issuer mismatch`); it never holds a token or a claim."""

    status, slug = 503, "identity-provider-unavailable"

    def __init__(self, issuer: str, cause: str, *, retry_after: int) -> None:
        super().__init__(
            _(
                "The identity provider is unavailable or did not answer in time; retry in {seconds} s.",
                seconds=retry_after,
            ),
            headers={"Retry-After": str(retry_after)},
        )
        self.issuer = issuer
        self.cause = cause
        self.retry_after = retry_after

    def __str__(self) -> str:
        return f"identity provider {self.issuer} unavailable: {self.cause}"


class _FetchFailed(Exception):
    def __init__(self, cause: str, *, rediscover: bool = False) -> None:
        super().__init__(cause)
        self.cause = cause
        self.rediscover = rediscover
        """Whether the discovery document should be read again first next time (the JWKS
        answered but not with keys: it may have moved)."""


@dataclass(slots=True, eq=False)
class _IssuerState:
    url: str
    jwks_uri: str | None = None
    keys: dict[str, Jwk] = field(default_factory=dict)
    """kid → signing key."""
    unnamed: list[Jwk] = field(default_factory=list)
    """Signing keys published without a kid (a token without a kid uses the only one)."""
    fetched_at: float | None = None
    """When the keys were last fetched (monotonic seconds); None: never."""
    attempted_at: float | None = None
    """When a fetch was last tried, whatever came of it."""
    failure: str | None = None
    """Why the last try failed; None when it succeeded."""
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)

    def find(self, kid: str | None) -> Jwk | None:
        if kid is not None:
            return self.keys.get(kid)
        candidates = [*self.keys.values(), *self.unnamed]
        return candidates[0] if len(candidates) == 1 else None


class IssuerKeys:
    """The signing keys of every configured issuer, fetched as the module docstring says."""

    def __init__(
        self,
        issuers: Iterable[str],
        *,
        http: httpx.AsyncClient,
        timeout: float,
        refresh_min: float,
        max_age: float,
        retry_after: int,
        on_removed: Callable[[str, frozenset[str]], None] | None = None,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self._issuers = {url: _IssuerState(url) for url in issuers}
        self._http = http
        self._timeout = timeout
        self._refresh_min = refresh_min
        self._max_age = max_age
        self._retry_after = retry_after
        self._on_removed = on_removed
        self._monotonic = monotonic

    @property
    def issuers(self) -> frozenset[str]:
        return frozenset(self._issuers)

    async def key(self, issuer: str, kid: str | None) -> Jwk | None:
        """The issuer's signing key `kid` (None: the issuer's only key, if it has exactly one),
        fetched if need be; None when the issuer's current keys have no such key.

        Raises `ProviderUnavailable` when the keys had to be fetched and could not be, and no
        key `kid` is held. `issuer` must be one of the configured issuers (`KeyError` if not)."""
        state = self._issuers[issuer]
        found = state.find(kid)
        if found is not None and (not self._stale(state) or state.lock.locked()):
            return found  # fresh, or being refreshed by another request: no wait
        async with state.lock:
            found = state.find(kid)
            if found is not None and not self._stale(state):
                return found  # another request fetched them while this one waited
            if self._may_fetch(state):
                try:
                    await self._refresh(state)
                except _FetchFailed as failed:
                    if found is not None:
                        return found  # the provider is down: keys already held keep verifying
                    raise ProviderUnavailable(issuer, failed.cause, retry_after=self._retry_after) from None
                return state.find(kid)
            # Tried too recently to try again.
            if found is not None:
                return found
            if state.failure is not None:
                raise ProviderUnavailable(issuer, state.failure, retry_after=self._retry_after)
            return None

    async def prefetch(self) -> None:
        """Fetch every issuer's keys now (at start-up): a failure is logged, never raised, so the
        service starts without its provider (keys keep working; tokens wait for it)."""
        for state in self._issuers.values():
            async with state.lock:
                if state.fetched_at is None and self._may_fetch(state):
                    with contextlib.suppress(_FetchFailed):  # logged by _refresh
                        await self._refresh(state)

    def _stale(self, state: _IssuerState) -> bool:
        return state.fetched_at is None or self._monotonic() - state.fetched_at >= self._max_age

    def _may_fetch(self, state: _IssuerState) -> bool:
        return state.attempted_at is None or self._monotonic() - state.attempted_at >= self._refresh_min

    async def _refresh(self, state: _IssuerState) -> None:
        """Fetch the issuer's keys (its discovery document first, if not yet read) and replace
        the cached ones; raises `_FetchFailed`, leaving the cached keys as they were."""
        state.attempted_at = self._monotonic()
        try:
            keys, unnamed = await self._fetch(state)
        except _FetchFailed as failed:
            state.failure = failed.cause
            _FAILED.inc()
            held = len(state.keys) + len(state.unnamed)
            logger.warning(
                "OIDC issuer %s: keys not fetched (%s); %s",
                state.url,
                failed.cause,
                f"the {held} held keep verifying" if held else "no key held",
            )
            raise
        removed = frozenset(state.keys) - frozenset(keys)
        first = state.fetched_at is None
        changed = first or frozenset(keys) != frozenset(state.keys)
        state.keys, state.unnamed = keys, unnamed
        state.fetched_at, state.failure = state.attempted_at, None
        _FETCHED.inc()
        logger.log(
            logging.INFO if changed else logging.DEBUG,
            "OIDC issuer %s: %d signing keys%s",
            state.url,
            len(keys) + len(unnamed),
            "" if first or not changed else f" ({len(removed)} removed)",
        )
        if removed and self._on_removed is not None:
            self._on_removed(state.url, removed)

    async def _fetch(self, state: _IssuerState) -> tuple[dict[str, Jwk], list[Jwk]]:
        try:
            async with asyncio.timeout(self._timeout):
                if state.jwks_uri is None:
                    state.jwks_uri = await self._discover(state.url)
                try:
                    return _signing_keys(await self._get(state.jwks_uri))
                except _FetchFailed as failed:
                    if failed.rediscover:
                        state.jwks_uri = None  # it may have moved: read the discovery document again
                    raise
        except TimeoutError:
            raise _FetchFailed(f"no answer within {self._timeout:g} s") from None

    async def _discover(self, issuer: str) -> str:
        document = await self._get(issuer.rstrip("/") + DISCOVERY_PATH)
        if document.get("issuer") != issuer:
            # OpenID Connect Discovery §4.3: the document must name the issuer exactly as configured.
            raise _FetchFailed("issuer mismatch: the discovery document names another issuer")
        jwks_uri = document.get("jwks_uri")
        if not isinstance(jwks_uri, str) or not secure_url(jwks_uri):
            raise _FetchFailed("no https jwks_uri in the discovery document")
        return jwks_uri

    async def _get(self, url: str) -> dict[str, Any]:
        """A JSON object from `url` (no redirects; at most MAX_DOCUMENT_BYTES)."""
        try:
            async with self._http.stream("GET", url, headers={"Accept": "application/json"}) as response:
                if response.status_code != 200:
                    raise _FetchFailed(f"HTTP {response.status_code}", rediscover=True)
                body = bytearray()
                async for chunk in response.aiter_bytes():
                    body += chunk
                    if len(body) > MAX_DOCUMENT_BYTES:
                        raise _FetchFailed("answer too large", rediscover=True)
        except httpx.HTTPError as exc:
            raise _FetchFailed(type(exc).__name__) from None
        try:
            document = json.loads(body)
        except (ValueError, RecursionError):
            raise _FetchFailed("not JSON", rediscover=True) from None
        if not isinstance(document, dict):
            raise _FetchFailed("not a JSON object", rediscover=True)
        return document


_SIGNING_KTY = frozenset({"RSA", "EC", "OKP"})


def _signing_keys(jwks: dict[str, Any]) -> tuple[dict[str, Jwk], list[Jwk]]:
    """The asymmetric signing keys of a JWKS, by kid (and those without one)."""
    published = jwks.get("keys")
    if not isinstance(published, list):
        raise _FetchFailed("not a JWKS (no `keys` list)", rediscover=True)
    keys: dict[str, Jwk] = {}
    unnamed: list[Jwk] = []
    for jwk in published:
        if not isinstance(jwk, dict) or jwk.get("kty") not in _SIGNING_KTY:
            continue  # symmetric (`oct`) keys never verify a token here
        if jwk.get("use", "sig") != "sig":
            continue
        ops = jwk.get("key_ops")
        if ops is not None and (not isinstance(ops, list) or "verify" not in ops):
            continue
        if any(private in jwk for private in ("d", "p", "q", "dp", "dq", "qi", "k")):
            continue  # a private (or secret) key published by mistake: never used
        kid = jwk.get("kid")
        if len(keys) + len(unnamed) >= MAX_KEYS:
            break
        if isinstance(kid, str):
            keys.setdefault(kid, jwk)
        elif kid is None:
            unnamed.append(jwk)
    return keys, unnamed


def secure_url(url: str) -> bool:
    """An `https` URL, or an `http` one on the loopback interface (a provider on the same host,
    as in the tests): keys fetched in clear over a network could be swapped by anyone on it."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return False
    if not parts.hostname:
        return False
    if parts.scheme == "https":
        return True
    return parts.scheme == "http" and is_loopback(parts.hostname)


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False
