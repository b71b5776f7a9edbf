"""`AuthMiddleware`: the request's bearer credential (an API key, or an access token from a
configured OpenID provider), read once, as an `Identity` in the scope."""

from typing import Any

from starlette.datastructures import Headers
from starlette.types import ASGIApp, Receive, Scope, Send

from app.auth.principal import Principal, load_principal
from app.auth.signed_in import Ungranted, signed_in_principal, still_valid
from app.auth.tokens import TokenRefused, TokenVerifier, looks_like_jwt
from app.core.cache import ReadCache
from app.core.identity import IDENTITY, Caller, Identity, bearer_token, key_hash


class AuthMiddleware:
    """Reads `Authorization: Bearer …` once and leaves the request's `Identity` under
    `scope[IDENTITY]`: the caller at once when the key cache knows the key (no I/O), else the
    pending lookup, which its first reader runs (the rate limiter once it has counted the request
    against the client's address, or the route's dependency on the request's own session). Sits
    outside the rate limiter and the cached read path, which read it; it answers nothing itself."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            scope[IDENTITY] = identify(scope)
        await self.app(scope, receive, send)


def identify(scope: Scope) -> Identity:
    token = bearer_token(Headers(scope=scope))
    if token is None:
        return Identity()
    hashed = key_hash(token)
    state = scope["app"].state
    cache: ReadCache | None = getattr(state, "cache", None)
    known = cache.key(hashed) if cache is not None else None
    if isinstance(known, Principal) and still_valid(known):
        return Identity(presented=True, caller=known)
    verifier: TokenVerifier | None = getattr(state, "tokens", None)
    if verifier is not None and looks_like_jwt(token):
        return _signed_in(token, hashed, verifier, cache, state)

    async def lookup(connection: Any) -> Caller | None:
        if connection is not None:
            return await load_principal(connection, cache, hashed)
        async with state.database.engine.connect() as own:  # short-lived: returned at once
            return await load_principal(own, cache, hashed)

    return Identity(presented=True, pending=lookup)


def _signed_in(
    token: str, hashed: str, verifier: TokenVerifier, cache: ReadCache | None, state: Any
) -> Identity:
    """An access token not in the key cache: verified (the verifier's own cache first, then the
    signature; an unknown key fetches the issuer's keys once), then mapped to its principal, kept
    in the key cache until it expires. A refused token leaves its reason (`Identity.refusal`) for
    the 401; an unreachable provider raises (503), as an unreachable database does."""
    identity = Identity(presented=True)

    async def lookup(connection: Any) -> Caller | None:
        generation = cache.generation() if cache is not None else None
        try:
            verified = verifier.cached(token) or await verifier.verify(token)
        except TokenRefused as refused:
            identity.refusal = refused
            return None
        try:
            if connection is not None:
                principal = await signed_in_principal(connection, verified, state.settings)
            else:
                async with state.database.engine.connect() as own:  # short-lived, as for a key
                    principal = await signed_in_principal(own, verified, state.settings)
        except Ungranted as ungranted:
            identity.refusal = ungranted
            return None
        if cache is not None:
            cache.store_key(hashed, principal, generation)
        return principal

    identity.pending = lookup
    return identity
