"""For middleware that must see a whole response body before its headers go out: the ETag of a
body (`etag.py`) and its compression (`compression.py`)."""

from collections.abc import Awaitable, Callable

from starlette.types import Message, Send

Finish = Callable[[Message, bytes], Awaitable[None]]
"""Sends the held `http.response.start` and the whole body, changed as it needs."""


def buffering(send: Send, wanted: Callable[[Message], bool], finish: Finish) -> Send:
    """A `send` that passes on every response whose `http.response.start` `wanted` refuses; for
    the others it holds the start, gathers the body and calls `finish(start, body)` once it is
    complete. Anything but a body after a held start (a file the server sends itself) goes on
    after the start, unchanged."""
    start: Message | None = None
    chunks: list[bytes] = []

    async def buffered(message: Message) -> None:
        nonlocal start
        if message["type"] == "http.response.start":
            if wanted(message):
                start = message
            else:
                await send(message)
            return
        if start is None:
            await send(message)
            return
        if message["type"] != "http.response.body":
            held, start = start, None
            await send(held)
            await send(message)
            return
        chunks.append(message.get("body", b""))
        if not message.get("more_body", False):
            held, start = start, None
            await finish(held, b"".join(chunks))

    return buffered
