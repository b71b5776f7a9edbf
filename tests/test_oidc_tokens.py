"""JWT access tokens from an OpenID Connect issuer (`app/auth/tokens.py`, `app/auth/oidc.py`).

A real, small issuer runs over HTTP on 127.0.0.1 in a thread of the test process: it serves its
discovery document and a JWKS the test controls, and counts what it serves. Tokens are signed
with PyJWT and keys made with `cryptography`. The verifier's clocks are the test's (`Clocks`),
so intervals, lifetimes and the cache are moved forward without sleeping. No database.
"""

import base64
import hashlib
import hmac
import json
import logging
import threading
import time
import uuid
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from jwt.algorithms import ECAlgorithm, RSAAlgorithm
from prometheus_client import REGISTRY
from pydantic import ValidationError

from app.auth.tokens import (
    ASYMMETRIC_ALGORITHMS,
    ProviderUnavailable,
    RefusalReason,
    TokenRefused,
    TokenVerifier,
    VerifiedToken,
    looks_like_jwt,
    token_verifier,
)
from app.core.config import OIDC_ASYMMETRIC_ALGORITHMS, Settings

AUDIENCE = "https://thidua.test/api"
DISCOVERY = "/.well-known/openid-configuration"
JWKS = "/jwks"

# --- The issuer -----------------------------------------------------------------------------------


class Provider:
    """An OpenID provider's key endpoints on a free loopback port, in a thread."""

    def __init__(self) -> None:
        self.keys: list[dict[str, Any]] = []
        self.hits: Counter[str] = Counter()
        self.discovery_issuer: str | None = None
        """What the discovery document says the issuer is (None: the truth)."""
        provider = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                provider.hits[self.path] += 1
                if self.path == DISCOVERY:
                    body: object = {
                        "issuer": provider.discovery_issuer or provider.url,
                        "jwks_uri": provider.url + JWKS,
                        "response_types_supported": ["code"],
                    }
                elif self.path == JWKS:
                    body = {"keys": list(provider.keys)}
                else:
                    self.send_error(404)
                    return
                data = json.dumps(body).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"
        self._thread = threading.Thread(target=self._server.serve_forever, args=(0.01,), daemon=True)
        self._thread.start()
        self._stopped = False

    @property
    def jwks_fetches(self) -> int:
        return self.hits[JWKS]

    def stop(self) -> None:
        """Down: nothing listens on its port any more (connections are refused)."""
        if not self._stopped:
            self._stopped = True
            self._server.shutdown()
            self._server.server_close()
            self._thread.join(timeout=5)


@dataclass
class Key:
    kid: str
    private: Any
    alg: str

    def jwk(self, *, with_alg: bool = True) -> dict[str, Any]:
        public = self.private.public_key()
        exported = (RSAAlgorithm if self.alg[0] in "RP" else ECAlgorithm).to_jwk(public, as_dict=True)
        return {**exported, "kid": self.kid, "use": "sig", **({"alg": self.alg} if with_alg else {})}

    def public_pem(self) -> bytes:
        return bytes(
            self.private.public_key().public_bytes(
                serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
            )
        )


@pytest.fixture(scope="module")
def rsa_keys() -> list[Any]:
    return [rsa.generate_private_key(public_exponent=65537, key_size=2048) for _ in range(3)]


@pytest.fixture(scope="module")
def ec_key() -> Any:
    return ec.generate_private_key(ec.SECP256R1())


@pytest.fixture
def provider() -> Iterator[Provider]:
    running = Provider()
    yield running
    running.stop()


@pytest.fixture
def key(provider: Provider, rsa_keys: list[Any]) -> Key:
    """The issuer's current key, published."""
    current = Key("key-1", rsa_keys[0], "RS256")
    provider.keys = [current.jwk()]
    return current


class Clocks:
    """The verifier's wall clock (`exp`, `nbf`, `iat`, the cache) and its monotonic one (the
    fetch intervals), moved forward by the test."""

    def __init__(self) -> None:
        self.now = time.time()
        self.elapsed = 1000.0

    def wall(self) -> float:
        return self.now

    def monotonic(self) -> float:
        return self.elapsed

    def advance(self, seconds: float) -> None:
        self.now += seconds
        self.elapsed += seconds


@pytest.fixture
def clocks() -> Clocks:
    return Clocks()


def oidc_settings(issuer: str, **values: Any) -> Settings:
    defaults: dict[str, Any] = {
        "oidc_issuers": [issuer],
        "oidc_audience": AUDIENCE,
        "oidc_jwks_refresh_min_seconds": 10,
        "oidc_jwks_max_age_seconds": 300,
        "oidc_http_timeout_seconds": 2,
        "retry_after_seconds": 7,
    }
    return Settings(_env_file=None, **{**defaults, **values})  # type: ignore[call-arg]


Make = Callable[..., Awaitable[TokenVerifier]]


@pytest.fixture
async def make_verifier(provider: Provider, clocks: Clocks) -> AsyncIterator[Make]:
    made: list[TokenVerifier] = []

    async def make(**values: Any) -> TokenVerifier:
        verifier = TokenVerifier(
            oidc_settings(provider.url, **values), clock=clocks.wall, monotonic=clocks.monotonic
        )
        made.append(verifier)
        return verifier

    yield make
    for verifier in made:
        await verifier.aclose()


@pytest.fixture
async def verifier(make_verifier: Make) -> TokenVerifier:
    return await make_verifier()


def claims(provider: Provider, clocks: Clocks, **changes: Any) -> dict[str, Any]:
    """A person's access token's claims, as Keycloak writes them (`changes` replace or, as
    None, remove some)."""
    now = int(clocks.now)
    base: dict[str, Any] = {
        "iss": provider.url,
        "sub": "6f1c1f2e-officer",
        "aud": [AUDIENCE, "account"],
        "exp": now + 300,
        "iat": now,
        "nbf": now,
        "jti": str(uuid.uuid4()),
        "azp": "thidua-web",
        "scope": "openid profile thidua",
        "name": "Nguyễn Văn An",
        "preferred_username": "an.nv",
        "realm_access": {"roles": ["cluster:5"]},
    }
    base.update(changes)
    return {name: value for name, value in base.items() if value is not None}


def sign(payload: dict[str, Any], key: Key, *, alg: str | None = None, **header: Any) -> str:
    return jwt.encode(payload, key.private, algorithm=alg or key.alg, headers={"kid": key.kid, **header})


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def unsigned(header: dict[str, Any], payload: dict[str, Any], signature: bytes = b"") -> str:
    return f"{b64(json.dumps(header).encode())}.{b64(json.dumps(payload).encode())}.{b64(signature)}"


def refusals(reason: str) -> float:
    return REGISTRY.get_sample_value("thidua_tokens_refused_total", {"reason": reason}) or 0.0


async def refused(verifier: TokenVerifier, token: str) -> TokenRefused:
    with pytest.raises(TokenRefused) as caught:
        await verifier.verify(token)
    return caught.value


# --- A good token ---------------------------------------------------------------------------------


async def test_a_good_token_is_verified_once_then_served_from_the_cache(
    verifier: TokenVerifier, provider: Provider, key: Key, clocks: Clocks
) -> None:
    payload = claims(provider, clocks)
    token = sign(payload, key)
    assert looks_like_jwt(token)
    assert verifier.cached(token) is None

    verified = await verifier.verify(token)

    assert verified == VerifiedToken(
        issuer=provider.url,
        subject="6f1c1f2e-officer",
        audience=(AUDIENCE, "account"),
        scopes=frozenset({"openid", "profile", "thidua"}),
        client_id="thidua-web",
        expires_at=verified.expires_at,
        name="Nguyễn Văn An",
        claims=verified.claims,
    )
    assert verified.expires_at.timestamp() == payload["exp"]
    assert verified.claims["realm_access"] == {"roles": ["cluster:5"]}
    with pytest.raises(TypeError):
        verified.claims["sub"] = "someone else"  # type: ignore[index]
    assert provider.hits == {DISCOVERY: 1, JWKS: 1}

    again = await verifier.verify(token)
    assert again is verified  # a cache hit: no signature check, no fetch
    assert verifier.cached(token) is verified
    assert provider.hits == {DISCOVERY: 1, JWKS: 1}

    other = await verifier.verify(sign(claims(provider, clocks, sub="another"), key))
    assert other.subject == "another"
    assert provider.hits == {DISCOVERY: 1, JWKS: 1}  # the key was cached


async def test_other_algorithms_and_claim_spellings(
    make_verifier: Make, provider: Provider, rsa_keys: list[Any], ec_key: Any, clocks: Clocks
) -> None:
    """ES256; PS256 with an RSA key that names no `alg`; `scp` as a list; `client_id` before
    `azp`; the name claim configurable, falling back to `preferred_username`."""
    es = Key("ec-1", ec_key, "ES256")
    ps = Key("rsa-ps", rsa_keys[1], "PS256")
    provider.keys = [es.jwk(), ps.jwk(with_alg=False)]
    verifier = await make_verifier(oidc_name_claim="given_name", oidc_required_scopes="thidua")

    by_ec = await verifier.verify(
        sign(claims(provider, clocks, scope=None, scp=["thidua", "read"], client_id="machine"), es)
    )
    assert by_ec.scopes == {"thidua", "read"}
    assert by_ec.client_id == "machine"
    assert by_ec.name == "an.nv"  # no given_name

    by_ps = await verifier.verify(sign(claims(provider, clocks, aud=AUDIENCE, given_name="An"), ps))
    assert by_ps.audience == (AUDIENCE,)
    assert by_ps.name == "An"


async def test_the_clock_skew_is_stated_and_holds_both_ways(
    make_verifier: Make, provider: Provider, key: Key, clocks: Clocks
) -> None:
    verifier = await make_verifier(oidc_clock_skew_seconds=60)
    now = int(clocks.now)
    assert await verifier.verify(sign(claims(provider, clocks, exp=now - 30), key))
    assert await verifier.verify(sign(claims(provider, clocks, nbf=now + 30, iat=now + 30), key))
    assert (await refused(verifier, sign(claims(provider, clocks, exp=now - 61), key))).reason == "expired"
    late = await refused(verifier, sign(claims(provider, clocks, nbf=now + 61), key))
    assert late.reason == "not_yet_valid"


async def test_rfc_9068_typ_when_required(
    make_verifier: Make, provider: Provider, key: Key, clocks: Clocks
) -> None:
    keycloak_like = sign(claims(provider, clocks), key, typ="JWT")
    lenient = await make_verifier()
    assert await lenient.verify(keycloak_like)

    strict = await make_verifier(oidc_require_at_jwt_typ=True)
    assert (await refused(strict, keycloak_like)).reason == "type"
    assert (await refused(strict, sign(claims(provider, clocks), key))).reason == "type"  # PyJWT's typ: JWT
    assert await strict.verify(sign(claims(provider, clocks), key, typ="at+jwt"))
    assert await strict.verify(sign(claims(provider, clocks), key, typ="application/at+JWT"))


# --- Refused, each with its reason ----------------------------------------------------------------


def _expired(p: Provider, c: Clocks, k: Key, other: Key) -> str:
    return sign(claims(p, c, exp=int(c.now) - 3600, iat=int(c.now) - 7200, nbf=None), k)


def _not_yet_valid(p: Provider, c: Clocks, k: Key, other: Key) -> str:
    return sign(claims(p, c, nbf=int(c.now) + 600), k)


def _issued_in_the_future(p: Provider, c: Clocks, k: Key, other: Key) -> str:
    return sign(claims(p, c, iat=int(c.now) + 600, nbf=None), k)


def _forged(p: Provider, c: Clocks, k: Key, other: Key) -> str:
    return sign(claims(p, c), Key(k.kid, other.private, k.alg))  # another key, the same kid


def _tampered(p: Provider, c: Clocks, k: Key, other: Key) -> str:
    header, _payload, signature = sign(claims(p, c), k).split(".")
    return f"{header}.{b64(json.dumps(claims(p, c, sub='admin')).encode())}.{signature}"


def _wrong_audience(p: Provider, c: Clocks, k: Key, other: Key) -> str:
    return sign(claims(p, c, aud=["https://another.test/api", "account"]), k)


def _no_audience(p: Provider, c: Clocks, k: Key, other: Key) -> str:
    return sign(claims(p, c, aud=None), k)


def _wrong_issuer(p: Provider, c: Clocks, k: Key, other: Key) -> str:
    return sign(claims(p, c, iss="https://id.example/realms/bocongan"), k)


def _issuer_with_a_slash(p: Provider, c: Clocks, k: Key, other: Key) -> str:
    return sign(claims(p, c, iss=p.url + "/"), k)  # exactly as configured, or not at all


def _alg_none(p: Provider, c: Clocks, k: Key, other: Key) -> str:
    return unsigned({"alg": "none", "typ": "JWT", "kid": k.kid}, claims(p, c))


def _hmac_with_the_public_key(p: Provider, c: Clocks, k: Key, other: Key) -> str:
    """HS256 whose secret is the issuer's public key, as PEM: anyone can make it (PyJWT itself
    refuses to sign it, so it is signed by hand)."""
    header = b64(json.dumps({"alg": "HS256", "typ": "JWT", "kid": k.kid}).encode())
    payload = b64(json.dumps(claims(p, c)).encode())
    mac = hmac.new(k.public_pem(), f"{header}.{payload}".encode(), hashlib.sha256).digest()
    return f"{header}.{payload}.{b64(mac)}"


def _hmac_with_the_jwk(p: Provider, c: Clocks, k: Key, other: Key) -> str:
    header = b64(json.dumps({"alg": "HS256", "kid": k.kid}).encode())
    payload = b64(json.dumps(claims(p, c)).encode())
    secret = json.dumps(k.jwk()).encode()
    return (
        f"{header}.{payload}.{b64(hmac.new(secret, f'{header}.{payload}'.encode(), hashlib.sha256).digest())}"
    )


def _ec_alg_on_an_rsa_key(p: Provider, c: Clocks, k: Key, other: Key) -> str:
    es = ec.generate_private_key(ec.SECP256R1())
    return sign(claims(p, c), Key(k.kid, es, "ES256"))


def _ps256_on_a_key_for_rs256(p: Provider, c: Clocks, k: Key, other: Key) -> str:
    return sign(claims(p, c), k, alg="PS256")  # the key's JWK says alg RS256


def _unknown_kid(p: Provider, c: Clocks, k: Key, other: Key) -> str:
    return sign(claims(p, c), Key("no-such-key", other.private, "RS256"))


def _no_sub(p: Provider, c: Clocks, k: Key, other: Key) -> str:
    return sign(claims(p, c, sub=None), k)


def _no_exp(p: Provider, c: Clocks, k: Key, other: Key) -> str:
    return sign(claims(p, c, exp=None), k)


def _exp_as_text(p: Provider, c: Clocks, k: Key, other: Key) -> str:
    return sign(claims(p, c, exp=str(int(c.now) + 300)), k)


def _missing_scope(p: Provider, c: Clocks, k: Key, other: Key) -> str:
    return sign(claims(p, c, scope="openid profile"), k)


REFUSED_TOKENS: list[tuple[Callable[[Provider, Clocks, Key, Key], str], RefusalReason]] = [
    (_expired, "expired"),
    (_not_yet_valid, "not_yet_valid"),
    (_issued_in_the_future, "not_yet_valid"),
    (_forged, "bad_signature"),
    (_tampered, "bad_signature"),
    (_wrong_audience, "audience"),
    (_no_audience, "audience"),
    (_wrong_issuer, "issuer"),
    (_issuer_with_a_slash, "issuer"),
    (_alg_none, "algorithm"),
    (_hmac_with_the_public_key, "algorithm"),
    (_hmac_with_the_jwk, "algorithm"),
    (_ec_alg_on_an_rsa_key, "algorithm"),
    (_ps256_on_a_key_for_rs256, "algorithm"),
    (_unknown_kid, "unknown_key"),
    (_no_sub, "malformed"),
    (_no_exp, "malformed"),
    (_exp_as_text, "malformed"),
    (_missing_scope, "scope"),
]


@pytest.mark.parametrize(
    ("make_token", "reason"), REFUSED_TOKENS, ids=[f.__name__[1:] for f, _ in REFUSED_TOKENS]
)
async def test_a_bad_token_is_refused_with_its_reason(
    make_verifier: Make,
    provider: Provider,
    key: Key,
    rsa_keys: list[Any],
    clocks: Clocks,
    make_token: Callable[[Provider, Clocks, Key, Key], str],
    reason: RefusalReason,
) -> None:
    verifier = await make_verifier(oidc_required_scopes="thidua", oidc_algorithms="RS256,PS256,ES256")
    token = make_token(provider, clocks, key, Key("other", rsa_keys[1], "RS256"))
    counted = refusals(reason)

    error = await refused(verifier, token)

    assert error.reason == reason
    assert refusals(reason) == counted + 1
    assert verifier.cached(token) is None
    assert token not in str(error)
    assert "officer" not in str(error)
    if reason == "scope":
        assert (error.status, error.error) == (403, "insufficient_scope")
        assert error.challenge == 'Bearer error="insufficient_scope", scope="thidua"'
    else:
        assert (error.status, error.error) == (401, "invalid_token")
        assert error.challenge == 'Bearer error="invalid_token"'
    assert provider.jwks_fetches <= 1  # one fetch at most, whatever the token


@pytest.mark.parametrize(
    "token",
    [
        "",
        "thd_3kF9aQnotajwt",
        "not.a.jwt",
        "eyJhbGciOiJSUzI1NiJ9.e30",
        "a.b.c.d.e",
        unsigned({"alg": "RS256"}, {})[:-1] + "%",
        f"{b64(b'not json')}.{b64(b'{}')}.c2ln",
        f"{b64(b'[1, 2]')}.{b64(b'{}')}.c2ln",
        f"{b64(json.dumps({'alg': 'RS256', 'kid': 'key-1'}).encode())}.{b64(b'[]')}.c2ln",
        f"{b64(json.dumps({'alg': 'RS256', 'kid': 7}).encode())}.{b64(b'{}')}.c2ln",
        "eyJ" + "A" * 20_000 + ".e30.c2ln",
    ],
)
async def test_malformed_tokens(verifier: TokenVerifier, provider: Provider, key: Key, token: str) -> None:
    assert (await refused(verifier, token)).reason == "malformed"
    assert provider.jwks_fetches == 0  # refused before any key is looked for


# --- Keys: rotation, removal, the refetch's rate limit, the provider down -------------------------


async def test_a_rotated_key_verifies_after_one_refetch(
    verifier: TokenVerifier, provider: Provider, key: Key, rsa_keys: list[Any], clocks: Clocks
) -> None:
    old_token = sign(claims(provider, clocks), key)
    await verifier.verify(old_token)
    assert provider.jwks_fetches == 1

    new = Key("key-2", rsa_keys[1], "RS256")
    provider.keys = [key.jwk(), new.jwk()]  # the provider publishes its next key, then signs with it
    clocks.advance(11)  # more than OIDC_JWKS_REFRESH_MIN_SECONDS since the last fetch

    assert (await verifier.verify(sign(claims(provider, clocks), new))).subject == "6f1c1f2e-officer"
    assert provider.jwks_fetches == 2
    assert await verifier.verify(sign(claims(provider, clocks, sub="b"), new))
    assert await verifier.verify(sign(claims(provider, clocks, sub="c"), key))  # the old key still works
    assert await verifier.verify(old_token)
    assert provider.jwks_fetches == 2


async def test_a_flood_of_unknown_kids_costs_one_fetch_per_interval(
    verifier: TokenVerifier, provider: Provider, key: Key, rsa_keys: list[Any], clocks: Clocks
) -> None:
    await verifier.verify(sign(claims(provider, clocks), key))
    clocks.advance(11)
    made_up = [Key(f"made-up-{n}", rsa_keys[1], "RS256") for n in range(5)]
    for fake in made_up:
        assert (await refused(verifier, sign(claims(provider, clocks), fake))).reason == "unknown_key"
    assert provider.jwks_fetches == 2  # the first unknown kid fetched; the others waited

    # A real new key inside the same interval waits for it too; then it is seen.
    new = Key("key-2", rsa_keys[2], "RS256")
    provider.keys = [key.jwk(), new.jwk()]
    clocks.advance(5)
    assert (await refused(verifier, sign(claims(provider, clocks), new))).reason == "unknown_key"
    assert provider.jwks_fetches == 2
    clocks.advance(5)
    assert await verifier.verify(sign(claims(provider, clocks), new))
    assert provider.jwks_fetches == 3


async def test_concurrent_unknown_kids_share_one_fetch(
    verifier: TokenVerifier, provider: Provider, key: Key, rsa_keys: list[Any], clocks: Clocks
) -> None:
    import asyncio

    tokens = [sign(claims(provider, clocks, sub=f"p{n}"), key) for n in range(10)]
    results = await asyncio.gather(*(verifier.verify(t) for t in tokens))
    assert [r.subject for r in results] == [f"p{n}" for n in range(10)]
    assert provider.hits == {DISCOVERY: 1, JWKS: 1}


async def test_a_removed_key_stops_verifying(
    make_verifier: Make, provider: Provider, key: Key, rsa_keys: list[Any], clocks: Clocks
) -> None:
    """Decided: a token already verified stays valid until min(exp, verified +
    OIDC_TOKEN_CACHE_TTL_SECONDS), unless a JWKS refresh finds its key removed first, which
    drops it from the cache at once."""
    verifier = await make_verifier(oidc_jwks_max_age_seconds=60, oidc_token_cache_ttl_seconds=120)
    new = Key("key-2", rsa_keys[1], "RS256")
    provider.keys = [key.jwk(), new.jwk()]
    cached = sign(claims(provider, clocks), key)
    await verifier.verify(cached)
    survivor = sign(claims(provider, clocks), new)
    await verifier.verify(survivor)

    provider.keys = [new.jwk()]  # key-1 rotated away
    clocks.advance(30)
    assert verifier.cached(cached) is not None  # the keys are not stale yet: nothing refetched

    clocks.advance(31)  # the keys are now older than OIDC_JWKS_MAX_AGE_SECONDS
    fresh = sign(claims(provider, clocks, sub="someone"), key)
    assert (await refused(verifier, fresh)).reason == "unknown_key"
    assert provider.jwks_fetches == 2
    assert verifier.cached(cached) is None  # dropped with its key
    assert (await refused(verifier, cached)).reason == "unknown_key"
    assert verifier.cached(survivor) is not None
    assert await verifier.verify(sign(claims(provider, clocks), new))
    assert provider.jwks_fetches == 2


async def test_a_cached_token_outlives_its_removed_key_only_until_the_ttl(
    make_verifier: Make, provider: Provider, key: Key, rsa_keys: list[Any], clocks: Clocks
) -> None:
    verifier = await make_verifier(oidc_token_cache_ttl_seconds=20, oidc_jwks_max_age_seconds=20)
    token = sign(claims(provider, clocks), key)
    await verifier.verify(token)
    provider.keys = [Key("key-2", rsa_keys[1], "RS256").jwk()]
    clocks.advance(15)
    assert await verifier.verify(token) is not None  # a cache hit: no key looked at
    assert provider.jwks_fetches == 1
    clocks.advance(6)  # past the TTL and the keys' max age: checked in full, its key gone
    assert (await refused(verifier, token)).reason == "unknown_key"
    assert provider.jwks_fetches == 2


async def test_provider_down_and_the_key_not_cached_is_unavailable(
    verifier: TokenVerifier, provider: Provider, key: Key, clocks: Clocks
) -> None:
    provider.stop()
    token = sign(claims(provider, clocks), key)
    started = time.perf_counter()
    with pytest.raises(ProviderUnavailable) as caught:
        await verifier.verify(token)
    assert time.perf_counter() - started < 1  # refused connections: at once
    unavailable = caught.value
    assert (unavailable.status, unavailable.slug) == (503, "identity-provider-unavailable")
    assert unavailable.headers == {"Retry-After": "7"}
    assert unavailable.issuer == provider.url
    assert unavailable.cause == "ConnectError"
    assert token not in str(unavailable)
    # Within the refetch interval the provider is not tried again, and it is still a 503.
    with pytest.raises(ProviderUnavailable):
        await verifier.verify(token)
    assert verifier.cached(token) is None


async def test_provider_down_with_the_key_cached_still_verifies(
    verifier: TokenVerifier, provider: Provider, key: Key, rsa_keys: list[Any], clocks: Clocks
) -> None:
    await verifier.verify(sign(claims(provider, clocks), key))
    provider.stop()
    clocks.advance(400)  # the keys are stale: a refetch is tried, and fails

    assert await verifier.verify(sign(claims(provider, clocks, sub="during-the-outage"), key))
    assert await verifier.verify(sign(claims(provider, clocks, sub="and-after"), key))
    # A key it does not hold cannot be checked: 503, not 401.
    with pytest.raises(ProviderUnavailable):
        await verifier.verify(sign(claims(provider, clocks), Key("key-2", rsa_keys[1], "RS256")))


async def test_a_slow_provider_is_unavailable_after_the_timeout(
    make_verifier: Make, provider: Provider, key: Key, clocks: Clocks
) -> None:
    import socket

    silent = socket.socket()
    silent.bind(("127.0.0.1", 0))
    silent.listen(8)  # accepts connections, never answers
    try:
        issuer = f"http://127.0.0.1:{silent.getsockname()[1]}"
        verifier = TokenVerifier(
            oidc_settings(issuer, oidc_http_timeout_seconds=0.2),
            clock=clocks.wall,
            monotonic=clocks.monotonic,
        )
        started = time.perf_counter()
        with pytest.raises(ProviderUnavailable) as caught:
            await verifier.verify(sign(claims(provider, clocks, iss=issuer), key))
        assert time.perf_counter() - started < 1
        assert "ReadTimeout" in caught.value.cause or "no answer" in caught.value.cause
        await verifier.aclose()
    finally:
        silent.close()


async def test_a_discovery_document_naming_another_issuer_is_not_believed(
    verifier: TokenVerifier, provider: Provider, key: Key, clocks: Clocks
) -> None:
    provider.discovery_issuer = "https://evil.example"
    with pytest.raises(ProviderUnavailable) as caught:
        await verifier.verify(sign(claims(provider, clocks), key))
    assert caught.value.cause.startswith("issuer mismatch")
    assert provider.jwks_fetches == 0


async def test_symmetric_and_private_keys_in_the_jwks_are_never_used(
    verifier: TokenVerifier, provider: Provider, key: Key, rsa_keys: list[Any], clocks: Clocks
) -> None:
    secret = b"published-by-mistake"
    provider.keys = [
        {"kty": "oct", "kid": "hmac", "k": b64(secret), "alg": "HS256"},
        {**Key("enc", rsa_keys[1], "RS256").jwk(), "use": "enc"},
        key.jwk(),
    ]
    payload = claims(provider, clocks)
    header = b64(json.dumps({"alg": "HS256", "kid": "hmac"}).encode())
    body = b64(json.dumps(payload).encode())
    forged = f"{header}.{body}.{b64(hmac.new(secret, f'{header}.{body}'.encode(), hashlib.sha256).digest())}"
    assert (await refused(verifier, forged)).reason == "algorithm"
    encryption_key = sign(payload, Key("enc", rsa_keys[1], "RS256"))
    assert (await refused(verifier, encryption_key)).reason == "unknown_key"
    assert await verifier.verify(sign(payload, key))


# --- The verified-token cache ---------------------------------------------------------------------


async def test_a_cached_token_lives_until_its_exp_or_the_ttl(
    make_verifier: Make, provider: Provider, key: Key, clocks: Clocks
) -> None:
    verifier = await make_verifier(oidc_token_cache_ttl_seconds=60)
    short = sign(claims(provider, clocks, exp=int(clocks.now) + 30), key)
    long = sign(claims(provider, clocks, exp=int(clocks.now) + 3600), key)
    await verifier.verify(short)
    await verifier.verify(long)
    clocks.advance(31)
    assert verifier.cached(short) is None  # past its exp
    assert verifier.cached(long) is not None
    clocks.advance(30)
    assert verifier.cached(long) is None  # past the TTL
    assert await verifier.verify(long)  # verified again, in full
    assert verifier.cached(long) is not None


async def test_the_cache_is_bounded_and_keyed_by_a_digest(
    make_verifier: Make, provider: Provider, key: Key, clocks: Clocks
) -> None:
    verifier = await make_verifier(oidc_token_cache_size=2)
    tokens = [sign(claims(provider, clocks, sub=f"p{n}"), key) for n in range(3)]
    for token in tokens:
        await verifier.verify(token)
    assert [verifier.cached(t) is not None for t in tokens] == [False, True, True]
    held = list(verifier._cache)
    assert held == [hashlib.sha256(t.encode()).digest() for t in tokens[1:]]
    assert all(token.encode() not in held for token in tokens)

    off = await make_verifier(oidc_token_cache_size=0)
    await off.verify(tokens[0])
    assert off.cached(tokens[0]) is None


async def test_nothing_logs_a_token_or_a_claim(
    make_verifier: Make,
    provider: Provider,
    key: Key,
    rsa_keys: list[Any],
    clocks: Clocks,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    verifier = await make_verifier()
    good = sign(claims(provider, clocks), key)
    bad = sign(claims(provider, clocks, aud="elsewhere"), key)
    verified = await verifier.verify(good)
    assert "Nguyễn" not in repr(verified)
    assert "cluster:5" not in repr(verified)
    await refused(verifier, bad)
    await refused(verifier, sign(claims(provider, clocks), Key("made-up", rsa_keys[1], "RS256")))
    provider.stop()
    clocks.advance(400)
    with pytest.raises(ProviderUnavailable):
        await verifier.verify(sign(claims(provider, clocks), Key("key-9", rsa_keys[2], "RS256")))
    logged = "\n".join(f"{r.getMessage()} {r.args!r} {r.exc_text or ''}" for r in caplog.records)
    assert "keys not fetched (ConnectError)" in logged
    for secret in (good, bad, good.split(".")[1], "6f1c1f2e-officer", "Nguyễn", "an.nv", "cluster:5"):
        assert secret not in logged


async def test_prefetch_reads_the_keys_at_start_up_and_never_raises(
    make_verifier: Make, provider: Provider, key: Key, clocks: Clocks
) -> None:
    verifier = await make_verifier()
    await verifier.prefetch()
    assert provider.hits == {DISCOVERY: 1, JWKS: 1}
    assert await verifier.verify(sign(claims(provider, clocks), key))
    assert provider.hits == {DISCOVERY: 1, JWKS: 1}

    provider.stop()
    down = await make_verifier()
    await down.prefetch()  # logged, not raised: the service starts without its provider
    with pytest.raises(ProviderUnavailable):
        await down.verify(sign(claims(provider, clocks), key))


def test_no_verifier_with_hmac_or_none_even_past_the_validators(provider: Provider) -> None:
    settings = oidc_settings(provider.url)
    for algorithms in (["RS256", "HS256"], ["none"]):
        with pytest.raises(ValueError, match="cannot be allowed"):
            TokenVerifier(settings.model_copy(update={"oidc_algorithms": algorithms}))
    with pytest.raises(ValueError, match="OIDC_AUDIENCE"):
        TokenVerifier(settings.model_copy(update={"oidc_audience": None}))


# --- Settings -------------------------------------------------------------------------------------


def test_sign_in_is_off_by_default(monkeypatch: pytest.MonkeyPatch) -> None:
    settings = Settings(_env_file=None)  # type: ignore[call-arg]
    assert settings.oidc_issuers == []
    assert token_verifier(settings) is None
    assert (settings.oidc_algorithms, settings.oidc_clock_skew_seconds) == (["RS256", "PS256", "ES256"], 60)
    assert settings.oidc_require_at_jwt_typ is False
    assert (settings.oidc_name_claim, settings.oidc_roles_claim) == ("name", "realm_access.roles")
    assert (settings.oidc_grants_source, settings.oidc_ungranted) == ("claims", "none")
    assert (settings.oidc_docs_client_id, settings.public_reads) == ("", False)
    assert tuple(ASYMMETRIC_ALGORITHMS) == OIDC_ASYMMETRIC_ALGORITHMS


def test_settings_read_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OIDC_ISSUERS", "https://id.example/realms/bocongan, http://127.0.0.1:9000")
    monkeypatch.setenv("OIDC_AUDIENCE", AUDIENCE)
    monkeypatch.setenv("OIDC_ALGORITHMS", "ES256,RS256")
    monkeypatch.setenv("OIDC_REQUIRED_SCOPES", "thidua  openid")
    monkeypatch.setenv("OIDC_GRANTS_SOURCE", "register")
    monkeypatch.setenv("PUBLIC_READS", "true")
    settings = Settings(_env_file=None)  # type: ignore[call-arg]
    assert settings.oidc_issuers == ["https://id.example/realms/bocongan", "http://127.0.0.1:9000"]
    assert settings.oidc_algorithms == ["ES256", "RS256"]
    assert settings.oidc_required_scopes == ["thidua", "openid"]
    assert (settings.oidc_grants_source, settings.public_reads) == ("register", True)


@pytest.mark.parametrize(
    ("values", "named"),
    [
        ({"OIDC_ISSUERS": "https://id.example/realms/bocongan"}, ("OIDC_AUDIENCE", "OIDC_ISSUERS=https")),
        ({"OIDC_ISSUERS": "https://id.example", "OIDC_AUDIENCE": " "}, ("OIDC_AUDIENCE",)),
        ({"OIDC_ALGORITHMS": "RS256,HS256"}, ("OIDC_ALGORITHMS", "'HS256'", "HMAC")),
        ({"OIDC_ALGORITHMS": "none"}, ("OIDC_ALGORITHMS", "'none'", "unsigned")),
        ({"OIDC_ALGORITHMS": ""}, ("OIDC_ALGORITHMS", "at least one")),
        ({"OIDC_ISSUERS": "http://id.example/realms/x"}, ("OIDC_ISSUERS", "https")),
        ({"OIDC_ISSUERS": "https://id.example/?realm=x"}, ("OIDC_ISSUERS",)),
        ({"OIDC_ISSUERS": "id.example"}, ("OIDC_ISSUERS",)),
        ({"OIDC_ISSUERS": "https://a.example,https://a.example"}, ("OIDC_ISSUERS", "twice")),
        (
            {"OIDC_JWKS_REFRESH_MIN_SECONDS": "120", "OIDC_JWKS_MAX_AGE_SECONDS": "60"},
            ("OIDC_JWKS_MAX_AGE_SECONDS=60", "OIDC_JWKS_REFRESH_MIN_SECONDS=120"),
        ),
        ({"OIDC_DOCS_CLIENT_ID": "thidua-docs"}, ("OIDC_DOCS_CLIENT_ID=thidua-docs", "OIDC_ISSUERS")),
        ({"OIDC_CLOCK_SKEW_SECONDS": "-1"}, ("oidc_clock_skew_seconds",)),
        ({"OIDC_HTTP_TIMEOUT_SECONDS": "0"}, ("oidc_http_timeout_seconds",)),
        ({"OIDC_GRANTS_SOURCE": "ldap"}, ("oidc_grants_source",)),
        ({"OIDC_UNGRANTED": "write"}, ("oidc_ungranted",)),
        ({"OIDC_ROLES_CLAIM": "realm_access..roles"}, ("oidc_roles_claim",)),
    ],
)
def test_sign_in_settings_are_checked(
    monkeypatch: pytest.MonkeyPatch, values: dict[str, str], named: tuple[str, ...]
) -> None:
    for name, value in values.items():
        monkeypatch.setenv(name, value)
    with pytest.raises(ValidationError) as caught:
        Settings(_env_file=None)  # type: ignore[call-arg]
    for part in named:
        assert part in str(caught.value)
