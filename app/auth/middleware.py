"""`AuthMiddleware`: the request's bearer credential, read once, as an `Identity` in the scope."""

from typing import Any

from starlette.datastructures import Headers
from starlette.types import ASGIApp, Receive, Scope, Send

from app.auth.principal import Principal, load_principal
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
    if isinstance(known, Principal):
        return Identity(presented=True, caller=known)

    async def lookup(connection: Any) -> Caller | None:
        if connection is not None:
            return await load_principal(connection, cache, hashed)
        async with state.database.engine.connect() as own:  # short-lived: returned at once
            return await load_principal(own, cache, hashed)

    return Identity(presented=True, pending=lookup)
