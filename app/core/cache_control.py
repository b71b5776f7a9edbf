"""`Cache-Control` on every answer (RFC 9111), so that a browser, a phone's HTTP stack or a proxy
knows what it may keep and for how long.

- Records and everything else a credential reads: `private, no-cache`. A client may keep the
  answer but asks again before using it, with its ETag (`If-None-Match`): a 304 costs a few
  hundred bytes. A shared cache never keeps it (it is the caller's).
- Reference data (the metric catalogue, the rule sets, the award catalogue): `private,
  max-age=<REFERENCE_MAX_AGE_SECONDS>`: it changes a few times a year, by a data load or an admin,
  so a client may use it for that long without asking.
- What anyone may read and is the same for everyone (the problem pages, the docs, the OpenAPI
  document): `public, max-age=<REFERENCE_MAX_AGE_SECONDS>`.
- Errors, writes, and the operations' probes and metrics: `no-store`.

A route that says its own `Cache-Control` keeps it."""

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.core.request_session import READ_METHODS

REFERENCE_PREFIXES = ("/v1/metrics", "/v1/rule-sets", "/v1/award-types")
PUBLIC_PREFIXES = ("/problems", "/docs", "/openapi.json", "/static-offline-docs")
NEVER_STORED = ("/healthz", "/readyz", "/metrics")


def policy(method: str, path: str, status: int, max_age: int) -> bytes:
    """The `Cache-Control` of an answer."""
    if method not in READ_METHODS or status not in (200, 203, 304) or path.startswith(NEVER_STORED):
        return b"no-store"
    if path.startswith(PUBLIC_PREFIXES):
        return f"public, max-age={max_age}".encode()
    if path.startswith(REFERENCE_PREFIXES):
        return f"private, max-age={max_age}".encode()
    return b"private, no-cache"


class CacheControlMiddleware:
    def __init__(self, app: ASGIApp, max_age: int) -> None:
        self.app = app
        self.max_age = max_age

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def sending(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = message.get("headers", [])
                if not any(name.lower() == b"cache-control" for name, _value in headers):
                    value = policy(scope["method"], scope["path"], message["status"], self.max_age)
                    message = {**message, "headers": [*headers, (b"cache-control", value)]}
            await send(message)

        await self.app(scope, receive, sending)
