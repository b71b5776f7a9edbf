"""The representation layer (`app.core.representation`): one pass that compresses, tags, answers
304 and merges `Vary`, buffering a body only when it needs it."""

import gzip as gzip_module

import httpx
from starlette.types import Message, Receive, Scope, Send

from app.core.compression import Gzip
from app.core.etag import body_etag, encoded_etag
from app.core.i18n import use_locale
from app.core.representation import RepresentationMiddleware

BODY = b'{"items": "' + b"x" * 4000 + b'"}'


def _inner(headers: list[tuple[bytes, bytes]], chunks: list[bytes], seen: list[str]) -> object:
    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        for i, chunk in enumerate(chunks):
            seen.append(f"sent {i}")
            await send({"type": "http.response.body", "body": chunk, "more_body": i < len(chunks) - 1})

    return app


async def _get(app: object, **headers: str) -> tuple[httpx.Response, list[Message]]:
    messages: list[Message] = []

    async def wrapped(scope: Scope, receive: Receive, send: Send) -> None:
        async def spy(message: Message) -> None:
            messages.append(message)
            await send(message)

        with use_locale("vi"):
            await app(scope, receive, spy)  # type: ignore[operator]

    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=wrapped), base_url="http://t") as client:
        return await client.get("/", headers=headers), messages


async def test_a_body_without_an_etag_is_hashed_compressed_and_tagged_once() -> None:
    seen: list[str] = []
    inner = _inner([(b"content-type", b"application/json")], [BODY[:100], BODY[100:]], seen)
    layer = RepresentationMiddleware(inner, Gzip(min_bytes=1024, level=6))  # type: ignore[arg-type]
    answer, _ = await _get(layer, **{"Accept-Encoding": "gzip"})
    with use_locale("vi"):
        etag = encoded_etag(body_etag(BODY))
    assert answer.headers["etag"] == etag
    assert answer.headers["content-encoding"] == "gzip"
    assert answer.headers["vary"] == "Accept-Encoding"
    assert answer.content == BODY  # httpx decodes
    again, _ = await _get(layer, **{"Accept-Encoding": "gzip", "If-None-Match": etag})
    assert again.status_code == 304
    assert again.content == b""
    assert "content-encoding" not in again.headers
    assert "content-length" not in again.headers
    assert again.headers["etag"] == etag


async def test_an_answer_with_its_etag_and_length_streams_and_304s_from_its_headers() -> None:
    """A cached entry (already compressed) or an export: nothing to hash nor compress."""
    coded = gzip_module.compress(BODY)
    headers = [
        (b"content-type", b"application/json"),
        (b"content-encoding", b"gzip"),
        (b"content-length", str(len(coded)).encode()),
        (b"etag", b'"unit-1-v1-abc-gzip-vi"'),
        (b"vary", b"Accept-Encoding"),
    ]
    seen: list[str] = []
    layer = RepresentationMiddleware(_inner(headers, [coded[:10], coded[10:]], seen), Gzip(1024, 6))  # type: ignore[arg-type]
    answer, messages = await _get(layer, **{"Accept-Encoding": "gzip"})
    assert answer.content == BODY
    assert [m.get("more_body", False) for m in messages[1:]] == [True, False]  # streamed as it came
    assert answer.headers["vary"] == "Accept-Encoding"  # merged, not repeated
    not_modified, messages = await _get(
        layer, **{"Accept-Encoding": "gzip", "If-None-Match": '"unit-1-v1-abc-gzip-vi"'}
    )
    assert not_modified.status_code == 304
    assert not_modified.content == b""
    assert "content-length" not in not_modified.headers
    assert "content-type" not in not_modified.headers
    assert [m["type"] for m in messages] == ["http.response.start", "http.response.body"]


async def test_without_gzip_it_still_tags_and_304s() -> None:
    seen: list[str] = []
    layer = RepresentationMiddleware(_inner([(b"content-type", b"text/csv")], [b"a,b\r\n"], seen), None)  # type: ignore[arg-type]
    answer, _ = await _get(layer, **{"Accept-Encoding": "gzip"})
    assert "content-encoding" not in answer.headers
    assert "vary" not in answer.headers
    again, _ = await _get(layer, **{"If-None-Match": answer.headers["etag"]})
    assert again.status_code == 304
