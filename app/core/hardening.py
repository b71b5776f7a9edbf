"""Two answers every request gets, whatever route it reaches.

- A request body with a `Content-Encoding` (gzip, deflate, br, …) is refused with 415 and
  `Accept-Encoding: identity` (RFC 7694 §3), before anything reads it. Accepting gzip would need a
  bound on the decompressed size (a few KiB of gzip can inflate to gigabytes, past
  `MAX_REQUEST_BYTES`, which counts the bytes on the wire); no client of ours needs it.
- Every answer says `X-Content-Type-Options: nosniff`: a browser takes each answer for the type
  it names and never guesses another (an uploaded document is never run as a page or a script).
  Problems set it themselves too (`problem_response`), for the 500s sent outside every middleware.
"""

from starlette.datastructures import Headers
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.core.errors import problem_response
from app.core.i18n import _

NOSNIFF = ("X-Content-Type-Options", "nosniff")
_NOSNIFF_NAME = NOSNIFF[0].lower().encode("latin-1")
_NOSNIFF_RAW = (_NOSNIFF_NAME, NOSNIFF[1].encode("latin-1"))
_IDENTITY = frozenset({"", "identity"})


class RequestEncodingMiddleware:
    """415 for a request whose body has a content coding (`identity` alone is no coding); GET,
    HEAD and OPTIONS, whose bodies nothing reads, pass."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["method"] not in ("GET", "HEAD", "OPTIONS"):
            codings = [
                coding.strip().lower()
                for value in Headers(scope=scope).getlist("content-encoding")
                for coding in value.split(",")
            ]
            refused = [c for c in codings if c not in _IDENTITY]
            if refused:
                response = problem_response(
                    415,
                    slug="unsupported-content-encoding",
                    detail=_(
                        "Request bodies are accepted without a content coding only; send the body "
                        "as is, without `Content-Encoding: {coding}`.",
                        coding=refused[0],
                    ),
                    headers={"Accept-Encoding": "identity"},
                    instance=scope.get("path"),
                )
                await response(scope, receive, send)
                return
        await self.app(scope, receive, send)


class NoSniffMiddleware:
    """`X-Content-Type-Options: nosniff` on every answer."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_nosniff(message: Message) -> None:
            if message["type"] == "http.response.start":  # set, as `MutableHeaders` sets: never twice
                raw = [
                    (name, value)
                    for name, value in message.get("headers", ())
                    if name.lower() != _NOSNIFF_NAME
                ]
                raw.append(_NOSNIFF_RAW)
                message["headers"] = raw
            await send(message)

        await self.app(scope, receive, send_with_nosniff)
