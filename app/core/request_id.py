"""`X-Request-ID`: the client's when well-formed, else a new one; on every response, problem and
log line of the request."""

import os
import re
from contextvars import ContextVar

from starlette.types import ASGIApp, Message, Receive, Scope, Send

HEADER = "X-Request-ID"
_NAME = HEADER.lower().encode("latin-1")
_WELL_FORMED = re.compile(r"[A-Za-z0-9._:-]{1,128}")
_request_id: ContextVar[str | None] = ContextVar("request_id", default=None)


def current_request_id() -> str | None:
    """The id of the request being served, if any."""
    return _request_id.get()


def accept_or_make(value: str | None) -> str:
    """The client's id if it is 1–128 of `A-Z a-z 0-9 . _ : -`; otherwise 128 fresh random bits in
    hex (32 characters, as a uuid4 hex was, without building its object)."""
    return value if value is not None and _WELL_FORMED.fullmatch(value) else os.urandom(16).hex()


class RequestIdMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        given = next((value for name, value in scope["headers"] if name == _NAME), None)
        request_id = accept_or_make(given.decode("latin-1") if given is not None else None)
        field = (_NAME, request_id.encode("latin-1"))

        async def send_with_id(message: Message) -> None:
            if message["type"] == "http.response.start":  # set, never twice (a replay's own is dropped)
                raw = [(name, value) for name, value in message.get("headers", ()) if name.lower() != _NAME]
                raw.append(field)
                message["headers"] = raw
            await send(message)

        token = _request_id.set(request_id)
        await self.app(scope, receive, send_with_id)
        # Reset only on success: an exception leaves the id set for the server's error handler
        # outside this middleware (its 500 problem and log lines); the request's task ends there.
        _request_id.reset(token)
