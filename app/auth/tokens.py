"""Bearer access tokens from the configured OpenID Connect issuers: JWTs (RFC 9068), verified.

`TokenVerifier.verify(token)` answers a `VerifiedToken`, or raises `TokenRefused` (401, or 403
for a missing scope, with its RFC 6750 challenge; `reason` says why, for programs and the
`thidua_tokens_refused_total{reason}` counter) or `ProviderUnavailable` (503 with `Retry-After`:
the key the token needs is not cached and the provider cannot be reached). In order:

1. the token's shape: a compact JWS of at most `MAX_TOKEN_BYTES` (`malformed`);
2. its `alg` against the allow-list (`OIDC_ALGORITHMS`: asymmetric only, so never `none` and
   never an HMAC whose secret would be a public key) (`algorithm`);
3. its `typ` header, `at+jwt` or `application/at+jwt` (RFC 9068 §2.1), when
   `OIDC_REQUIRE_AT_JWT_TYP` says so (`type`);
4. its `iss`, one of `OIDC_ISSUERS` exactly (`issuer`), which says whose keys to use;
5. the issuer's key named by `kid` (`unknown_key`; fetched as `app.auth.oidc` says), whose `kty`
   (and `crv`) must fit the algorithm and whose own `alg`, if it has one, must be it
   (`algorithm`);
6. the signature (`bad_signature`); only then are the claims believed:
7. `sub` (a string), `exp` (required), `nbf` and `iat` (if present), with
   `OIDC_CLOCK_SKEW_SECONDS` of skew either way (`malformed`, `expired`, `not_yet_valid`);
8. `aud`, required, holding `OIDC_AUDIENCE` (`audience`);
9. the scopes, from `scope` (a space-separated string) or `scp` (a list, or a string), holding
   every one of `OIDC_REQUIRED_SCOPES` (`scope`).

**The verified-token cache.** A verified token is kept under the SHA-256 of its text (never the
text) until `min(exp, verified + OIDC_TOKEN_CACHE_TTL_SECONDS)`, at most
`OIDC_TOKEN_CACHE_SIZE` tokens, least recently used dropped first; a cache hit checks nothing
again. A token already verified therefore stays valid until that bound even if its key is
removed from the JWKS, except that a JWKS refresh that finds a key removed drops at once the
cached tokens it had verified. So a removed key stops working: for tokens not cached, at the
first JWKS refresh after `OIDC_JWKS_MAX_AGE_SECONDS`; for cached ones, within
`OIDC_TOKEN_CACHE_TTL_SECONDS` at the latest (sooner when a refresh finds it removed). The
token's own `exp` always holds.

Nothing here logs a token or a claim set.
"""

import base64
import binascii
import hashlib
import json
import logging
import math
import re
import ssl
import time
from collections import OrderedDict
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cache
from types import MappingProxyType
from typing import Any, Literal, get_args

import httpx
import jwt
from jwt.exceptions import InvalidKeyError, InvalidSignatureError, PyJWKError, PyJWTError
from prometheus_client import Counter

from app.auth.oidc import IssuerKeys, Jwk, ProviderUnavailable
from app.core.config import Settings

__all__ = [
    "ASYMMETRIC_ALGORITHMS",
    "AT_JWT_TYPES",
    "ProviderUnavailable",
    "RefusalReason",
    "TokenRefused",
    "TokenVerifier",
    "VerifiedToken",
    "looks_like_jwt",
    "token_verifier",
]

logger = logging.getLogger(__name__)

RefusalReason = Literal[
    "malformed",
    "algorithm",
    "type",
    "issuer",
    "unknown_key",
    "bad_signature",
    "expired",
    "not_yet_valid",
    "audience",
    "scope",
]
"""Why a token was refused: the `reason` of `TokenRefused` and of the refusals counter."""

REFUSED = Counter("thidua_tokens_refused_total", "Bearer access tokens refused, by reason", ("reason",))
_REFUSED = {reason: REFUSED.labels(reason) for reason in get_args(RefusalReason)}
"""Every reason's child made at once: each series reads 0 before its first refusal."""

ASYMMETRIC_ALGORITHMS: Mapping[str, tuple[str, str | None]] = MappingProxyType(
    {
        "RS256": ("RSA", None),
        "RS384": ("RSA", None),
        "RS512": ("RSA", None),
        "PS256": ("RSA", None),
        "PS384": ("RSA", None),
        "PS512": ("RSA", None),
        "ES256": ("EC", "P-256"),
        "ES384": ("EC", "P-384"),
        "ES512": ("EC", "P-521"),
        "EdDSA": ("OKP", "Ed25519"),
    }
)
"""The algorithms `OIDC_ALGORITHMS` may name, with the key type (and curve) each needs."""

AT_JWT_TYPES = frozenset({"at+jwt", "application/at+jwt"})
"""RFC 9068 §2.1: the `typ` of a JWT access token (compared without case)."""

MAX_TOKEN_BYTES = 16_384
"""A longer bearer token is refused unread (a Keycloak token with many roles is 2-4 KiB)."""

_JWS = re.compile(r"[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*")


def looks_like_jwt(token: str) -> bool:
    """Whether a bearer credential has a JWT's shape (three base64url parts, a JSON header), as
    an API key (`thd_…`) never has: for the caller to choose how to check it."""
    return token.startswith("eyJ") and _JWS.fullmatch(token) is not None


@dataclass(frozen=True, slots=True)
class VerifiedToken:
    """An access token whose signature, issuer, audience, lifetime and scopes were checked."""

    issuer: str
    subject: str
    """`sub`: with `issuer`, who the token is about (a person, or for client credentials the
    client itself)."""
    audience: tuple[str, ...]
    scopes: frozenset[str]
    client_id: str | None
    """`client_id` (RFC 9068), else `azp` (Keycloak): the client the token was issued to."""
    expires_at: datetime
    """`exp`, in UTC."""
    name: str | None
    """The display name: the `OIDC_NAME_CLAIM` claim, else `preferred_username`, else None."""
    claims: Mapping[str, Any]
    """Every claim, read-only at the top level (for the role-claim reader). Never log it."""

    def __repr__(self) -> str:  # no claim in a traceback or a log by accident
        return (
            f"VerifiedToken(issuer={self.issuer!r}, subject={self.subject!r}, client_id={self.client_id!r})"
        )


class TokenRefused(Exception):
    """A bearer token that is not a valid access token for this API. `reason` says why (a
    `RefusalReason`); `status`, `error` and `challenge` are the RFC 6750 answer: 401
    `invalid_token`, or for a missing scope 403 `insufficient_scope` (§3.1) naming the scopes.
    The message never holds the token or a claim."""

    def __init__(self, reason: RefusalReason, message: str, *, scopes: tuple[str, ...] = ()) -> None:
        super().__init__(f"{reason}: {message}")
        self.reason: RefusalReason = reason
        self.message = message
        self.scopes = scopes

    @property
    def error(self) -> Literal["invalid_token", "insufficient_scope"]:
        return "insufficient_scope" if self.reason == "scope" else "invalid_token"

    @property
    def status(self) -> int:
        return 403 if self.reason == "scope" else 401

    @property
    def challenge(self) -> str:
        """The `WWW-Authenticate` value."""
        if self.reason == "scope":
            return f'Bearer error="insufficient_scope", scope="{" ".join(self.scopes)}"'
        return 'Bearer error="invalid_token"'


@dataclass(frozen=True, slots=True)
class _Cached:
    token: VerifiedToken
    until: float
    """Wall-clock seconds: min(exp, verified + TTL)."""
    kid: str | None


class TokenVerifier:
    """Verifies access tokens from `settings.oidc_issuers`: one per app (it holds the keys, the
    verified-token cache and an HTTP client). `aclose()` (or `async with`) closes the client.

    `http` replaces the HTTP client (tests); `clock` (wall-clock seconds: `exp`, `nbf`, `iat`,
    the cache) and `monotonic` (the fetch intervals) replace the clocks."""

    def __init__(
        self,
        settings: Settings,
        *,
        http: httpx.AsyncClient | None = None,
        clock: Callable[[], float] = time.time,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        if not settings.oidc_issuers or not settings.oidc_audience:
            raise ValueError("TokenVerifier needs OIDC_ISSUERS and OIDC_AUDIENCE")
        unsafe = [alg for alg in settings.oidc_algorithms if alg not in ASYMMETRIC_ALGORITHMS]
        if unsafe:  # settings made with model_copy() skip their validators: checked again here
            raise ValueError(f"OIDC_ALGORITHMS: {', '.join(unsafe)} cannot be allowed")
        self._audience = settings.oidc_audience
        self._algorithms = tuple(settings.oidc_algorithms)
        self._skew = settings.oidc_clock_skew_seconds
        self._required_scopes = tuple(settings.oidc_required_scopes)
        self._require_typ = settings.oidc_require_at_jwt_typ
        self._name_claim = settings.oidc_name_claim
        self._cache_size = settings.oidc_token_cache_size
        self._cache_ttl = settings.oidc_token_cache_ttl_seconds
        self._cache: OrderedDict[bytes, _Cached] = OrderedDict()
        self._clock = clock
        self._owns_http = http is None
        self._http = http or httpx.AsyncClient(
            verify=_tls(),
            timeout=settings.oidc_http_timeout_seconds,
            follow_redirects=False,
            limits=httpx.Limits(max_connections=len(settings.oidc_issuers) * 2),
        )
        self.keys = IssuerKeys(
            settings.oidc_issuers,
            http=self._http,
            timeout=settings.oidc_http_timeout_seconds,
            refresh_min=settings.oidc_jwks_refresh_min_seconds,
            max_age=settings.oidc_jwks_max_age_seconds,
            retry_after=settings.retry_after_seconds,
            on_removed=self._forget_keys,
            monotonic=monotonic,
        )
        self._jws = jwt.PyJWS(options={"verify_signature": True, "enforce_minimum_key_length": True})
        self._prepared: dict[tuple[int, str], tuple[Jwk, jwt.PyJWK]] = {}
        """(id of the published JWK, alg) → that JWK and its key for that algorithm, parsed once."""

    async def __aenter__(self) -> "TokenVerifier":
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        if self._owns_http:
            await self._http.aclose()

    async def prefetch(self) -> None:
        """Fetch every issuer's keys now (start-up); a provider that is down is logged, not raised."""
        await self.keys.prefetch()

    def cached(self, token: str) -> VerifiedToken | None:
        """The token if the cache holds it verified and still valid: no I/O, no signature check."""
        if self._cache_size == 0:
            return None
        digest = hashlib.sha256(token.encode()).digest()
        entry = self._cache.get(digest)
        if entry is None:
            return None
        if entry.until <= self._clock():
            del self._cache[digest]
            return None
        self._cache.move_to_end(digest)
        return entry.token

    async def verify(self, token: str) -> VerifiedToken:
        """The verified token, from the cache or checked in full (see the module docstring)."""
        hit = self.cached(token)
        if hit is not None:
            return hit
        try:
            verified, kid = await self._verify(token)
        except TokenRefused as refused:
            _REFUSED[refused.reason].inc()
            logger.debug("bearer token refused: %s", refused.reason)
            raise
        self._remember(token, verified, kid)
        return verified

    async def _verify(self, token: str) -> tuple[VerifiedToken, str | None]:
        if len(token) > MAX_TOKEN_BYTES or _JWS.fullmatch(token) is None:
            raise TokenRefused("malformed", "not a compact JWS")
        header_part, payload_part, _signature = token.split(".")
        header = _json_object(header_part, "header")
        alg = header.get("alg")
        if not isinstance(alg, str) or alg not in self._algorithms:
            raise TokenRefused("algorithm", "the algorithm is not allowed")
        typ = header.get("typ")
        if self._require_typ and (not isinstance(typ, str) or typ.lower() not in AT_JWT_TYPES):
            raise TokenRefused("type", "not a JWT access token (typ at+jwt)")
        kid = header.get("kid")
        if kid is not None and not isinstance(kid, str):
            raise TokenRefused("malformed", "kid is not a string")
        claims = _json_object(payload_part, "payload")  # believed only once the signature holds
        issuer = claims.get("iss")
        if not isinstance(issuer, str) or issuer not in self.keys.issuers:
            raise TokenRefused("issuer", "not a configured issuer")
        jwk = await self.keys.key(issuer, kid)
        if jwk is None:
            raise TokenRefused("unknown_key", "the issuer has no such key")
        key = self._key_for(jwk, alg)
        try:
            self._jws.decode_complete(token, key=key, algorithms=self._algorithms)
        except InvalidSignatureError:
            raise TokenRefused("bad_signature", "the signature does not verify") from None
        except InvalidKeyError:
            raise TokenRefused("algorithm", "the key does not fit the algorithm") from None
        except PyJWTError:
            raise TokenRefused("malformed", "not a valid JWS") from None
        return self._checked(claims, issuer), kid

    def _key_for(self, jwk: Jwk, alg: str) -> jwt.PyJWK:
        """The published key as a key for `alg`: its type (and curve) must be the algorithm's,
        and its own `alg`, if it names one, must be `alg`."""
        kty, crv = ASYMMETRIC_ALGORITHMS[alg]
        if jwk.get("kty") != kty or (crv is not None and jwk.get("crv") != crv):
            raise TokenRefused("algorithm", "the key's type does not fit the algorithm")
        if jwk.get("alg", alg) != alg:
            raise TokenRefused("algorithm", "the key is for another algorithm")
        known = self._prepared.get((id(jwk), alg))
        if known is not None and known[0] is jwk:
            return known[1]
        try:
            prepared = jwt.PyJWK(jwk, algorithm=alg)
        except PyJWKError:  # InvalidKeyError is one too
            raise TokenRefused("algorithm", "the key cannot be used with the algorithm") from None
        if len(self._prepared) >= 1_000:  # keys of past JWKS fetches
            self._prepared.clear()
        self._prepared[(id(jwk), alg)] = (jwk, prepared)  # holding the JWK keeps its id its own
        return prepared

    def _checked(self, claims: dict[str, Any], issuer: str) -> VerifiedToken:
        now = self._clock()
        subject = claims.get("sub")
        if not isinstance(subject, str) or not subject:
            raise TokenRefused("malformed", "no sub")
        exp = _number(claims, "exp")
        if exp is None:
            raise TokenRefused("malformed", "no exp")
        if now >= exp + self._skew:
            raise TokenRefused("expired", "the token has expired")
        for name in ("nbf", "iat"):
            moment = _number(claims, name)
            if moment is not None and now + self._skew < moment:
                raise TokenRefused("not_yet_valid", f"the token is not valid yet ({name})")
        aud = claims.get("aud")
        audience = (aud,) if isinstance(aud, str) else tuple(aud) if isinstance(aud, list) else ()
        if not all(isinstance(a, str) for a in audience):
            raise TokenRefused("malformed", "aud is not a string or a list of strings")
        if self._audience not in audience:
            raise TokenRefused("audience", "the token is not for this API" if audience else "no audience")
        scopes = _scopes(claims)
        missing = [s for s in self._required_scopes if s not in scopes]
        if missing:
            raise TokenRefused("scope", "a required scope is missing", scopes=self._required_scopes)
        try:
            expires_at = datetime.fromtimestamp(exp, UTC)
        except (OverflowError, OSError, ValueError):
            raise TokenRefused("malformed", "exp is out of range") from None
        return VerifiedToken(
            issuer=issuer,
            subject=subject,
            audience=audience,
            scopes=scopes,
            client_id=_string(claims, "client_id") or _string(claims, "azp"),
            expires_at=expires_at,
            name=_string(claims, self._name_claim) or _string(claims, "preferred_username"),
            claims=MappingProxyType(claims),
        )

    def _remember(self, token: str, verified: VerifiedToken, kid: str | None) -> None:
        if self._cache_size == 0 or self._cache_ttl == 0:
            return
        until = min(verified.expires_at.timestamp(), self._clock() + self._cache_ttl)
        digest = hashlib.sha256(token.encode()).digest()
        self._cache[digest] = _Cached(verified, until, kid)
        self._cache.move_to_end(digest)
        while len(self._cache) > self._cache_size:
            self._cache.popitem(last=False)

    def _forget_keys(self, issuer: str, kids: frozenset[str]) -> None:
        """A JWKS refresh found these keys removed: the tokens they verified are dropped too."""
        stale = [d for d, e in self._cache.items() if e.token.issuer == issuer and e.kid in kids]
        for digest in stale:
            del self._cache[digest]
        self._prepared.clear()


def token_verifier(settings: Settings, *, http: httpx.AsyncClient | None = None) -> TokenVerifier | None:
    """The app's verifier, or None when no issuer is configured (sign-in off: keys only)."""
    return TokenVerifier(settings, http=http) if settings.oidc_issuers else None


@cache
def _tls() -> ssl.SSLContext:
    """httpx's TLS context (certifi's roots, or SSL_CERT_FILE / SSL_CERT_DIR), made once per
    process: making one reads the whole CA bundle (~50 ms)."""
    return httpx.create_ssl_context()


def _json_object(part: str, what: str) -> dict[str, Any]:
    try:
        value = json.loads(base64.urlsafe_b64decode(part + "=" * (-len(part) % 4)))
    except (binascii.Error, ValueError, RecursionError):
        raise TokenRefused("malformed", f"the {what} is not base64url JSON") from None
    if not isinstance(value, dict):
        raise TokenRefused("malformed", f"the {what} is not a JSON object")
    return value


def _number(claims: Mapping[str, Any], name: str) -> float | None:
    value = claims.get(name)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise TokenRefused("malformed", f"{name} is not a number")
    return float(value)


def _string(claims: Mapping[str, Any], name: str) -> str | None:
    value = claims.get(name)
    return value if isinstance(value, str) and value else None


def _scopes(claims: Mapping[str, Any]) -> frozenset[str]:
    scope = claims.get("scope")
    if isinstance(scope, str):
        return frozenset(scope.split())
    scp = claims.get("scp")
    if isinstance(scp, str):
        return frozenset(scp.split())
    if isinstance(scp, list):
        return frozenset(s for s in scp if isinstance(s, str))
    return frozenset()
