"""`HEAD` wherever `GET` is served (RFC 9110 §9.3.2): the same status and headers as the GET
would have, `Content-Length`, `Content-Encoding` and `ETag` included, and no body.

FastAPI registers only `GET` for a GET route, so `HEAD` would be 405. Rather than adding `HEAD`
to every route (and so to every operation of the OpenAPI document, doubling them in generated
clients), this middleware runs a HEAD as the GET inside it and drops the body: whatever it wraps
sees a GET (a HEAD answered from the cache costs what its GET does), whatever wraps it sees the
HEAD. Which those are: the one list in `app.main`.

A 405's `Allow` names HEAD wherever it names GET (`errors.allowed_methods`).
"""

from starlette.types import ASGIApp, Message, Receive, Scope, Send


class HeadMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "HEAD":
            await self.app(scope, receive, send)
            return

        async def without_body(message: Message) -> None:
            if message["type"] == "http.response.body":
                message = {**message, "body": b""}
            elif message["type"] == "http.response.pathsend":  # a file the server would send
                message = {"type": "http.response.body", "body": b""}
            await send(message)

        inner = {**scope, "method": "GET"}
        try:
            await self.app(inner, receive, without_body)
        finally:
            if "route" in inner:  # the route matched, for the metrics outside
                scope["route"] = inner["route"]
