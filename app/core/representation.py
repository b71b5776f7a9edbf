"""The representation layer: what an answer is sent as, decided in one place, on one pass over it.

For every answer it:

1. **compresses** it when the request accepts gzip and the policy applies (`compression.Gzip`:
   a text-like media type, at least `GZIP_MIN_BYTES`, not encoded already, a status with a
   body), and says `Vary: Accept-Encoding` on every answer of a text-like type, compressed or not
   (merged into the `Vary` there, never twice);
2. **tags** a successful GET with its strong ETag: the handler's own (a versioned record's), else a
   hash of the identity body (`etag.body_etag`), made the gzip one (`etag.encoded_etag`) when the
   body is compressed;
3. **answers 304** when `If-None-Match` names that ETag (`etag.none_match`), without a body,
   `Content-Length`, `Content-Type` or `Content-Encoding`.

The body is buffered at most once, and only when something needs it: the hash of a GET that has
no ETag, or the bytes to compress. An answer that already carries its ETag and its
`Content-Length`, and needs no compressing (a cached entry, rendered and compressed once when it
was stored; an export; a record with its ETag), is decided from its headers and streamed on as it
comes (a 304 drops its body). HEAD reaches this layer as a GET (`app.core.head`).

Where this layer sits among the others: the one list in `app.main` (`MIDDLEWARE`).
"""

from starlette.datastructures import Headers, MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.core.buffering import buffering
from app.core.compression import GZIP, Gzip, compressible
from app.core.etag import body_etag, encoded_etag, none_match
from app.core.i18n import merge_vary

_NO_BODY = frozenset({204, 206, 304})
_NOT_MODIFIED_DROPS = ("content-length", "content-type", "content-encoding")


class RepresentationMiddleware:
    """Compression, ETags and 304s (see the module). `gzip`: the policy, None when
    `GZIP_ENABLED=false`."""

    def __init__(self, app: ASGIApp, gzip: Gzip | None) -> None:
        self.app = app
        self.gzip = gzip

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request = Headers(scope=scope)
        accept_encoding = request.get("accept-encoding")
        if_none_match = request.get("if-none-match")
        is_get = scope["method"] == "GET"
        gzip = self.gzip

        def tagged(start: Message) -> bool:
            """A successful GET: it has an ETag, and `If-None-Match` is compared with it."""
            return is_get and bool(start["status"] == 200)

        def encodable(start: Message, headers: MutableHeaders) -> bool:
            """Whether the policy looks at this answer at all (then it says `Vary: Accept-Encoding`)."""
            return (
                gzip is not None
                and start["status"] not in _NO_BODY
                and "content-encoding" not in headers
                and compressible(headers.get("content-type", ""))
            )

        def compress(headers: MutableHeaders, size: int) -> bool:
            assert gzip is not None
            return gzip.applies(accept_encoding, headers.get("content-type", ""), size)

        async def not_modified(start: Message, headers: MutableHeaders) -> None:
            for name in _NOT_MODIFIED_DROPS:
                if name in headers:
                    del headers[name]
            await send({**start, "status": 304})
            await send({"type": "http.response.body", "body": b""})

        # --- answers decided from their headers: nothing buffered --------------------------------

        def needs_body(start: Message) -> bool:
            headers = MutableHeaders(scope=start)
            if encodable(start, headers):
                merge_vary(headers, "Accept-Encoding")
                length = headers.get("content-length")
                if length is None or not length.isdigit() or compress(headers, int(length)):
                    return True  # the bytes to compress, or the size to decide on
            return tagged(start) and "etag" not in headers  # the body to hash

        dropping = False

        async def streamed(message: Message) -> None:
            """An answer that needs no body to decide: a 304 now if `If-None-Match` names its
            ETag (its body, when it comes, is dropped), else passed on as it comes."""
            nonlocal dropping
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                etag = headers.get("etag")
                if tagged(message) and etag is not None and none_match(if_none_match, etag):
                    dropping = True
                    for name in _NOT_MODIFIED_DROPS:
                        if name in headers:
                            del headers[name]
                    await send({**message, "status": 304})
                    return
                await send(message)
                return
            if dropping:
                if message["type"] == "http.response.pathsend" or not message.get("more_body", False):
                    dropping = False
                    await send({"type": "http.response.body", "body": b""})
                return
            await send(message)

        # --- answers that need their body: buffered once -------------------------------------------

        async def finish(start: Message, body: bytes) -> None:
            headers = MutableHeaders(scope=start)
            etag = headers.get("etag")
            if tagged(start) and etag is None:
                etag = body_etag(body)  # of the identity body, before any coding
            if encodable(start, headers) and compress(headers, len(body)):
                assert gzip is not None
                body = await gzip.compress(body)
                headers["Content-Encoding"] = GZIP
                headers["Content-Length"] = str(len(body))
                if etag is not None:
                    etag = encoded_etag(etag)
            if etag is not None:
                headers["ETag"] = etag
            if tagged(start) and etag is not None and none_match(if_none_match, etag):
                await not_modified(start, headers)
                return
            await send(start)
            await send({"type": "http.response.body", "body": body})

        await self.app(scope, receive, buffering(streamed, needs_body, finish))
