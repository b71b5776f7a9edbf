"""gzip for clients that ask for it (`Accept-Encoding`), on bodies worth compressing.

A body is compressed when the request accepts gzip (RFC 9110 §12.5.3: q-values count, `gzip;q=0`
refuses it, `*` stands for any coding not named, `x-gzip` is gzip), its media type is text-like
(JSON, problem+json, CSV, HTML, JavaScript, CSS; never XLSX, already a zip) and it has at least
`GZIP_MIN_BYTES`. Every answer of such a media type says `Vary: Accept-Encoding`, compressed or not,
since the same request with another `Accept-Encoding` may be answered in another coding.

A compressed representation is another representation, so it has its own strong ETag: the
identity one with `-gzip` before the language (`etag.encoded_etag`). `If-None-Match` compares whole
ETags; `If-Match` compares without the coding (and the language), so an ETag read compressed works
for a write.

Two places compress: `cached()` once, when it stores a rendered entry (its hits then send the
stored gzip bytes: no work per hit), and the representation layer (`app.core.representation`)
everything else (reads that are not cached, answers to writes, problems, the OpenAPI document,
the docs page and its assets). This module is the policy both apply.
"""

import zlib
from dataclasses import dataclass
from functools import lru_cache

import anyio.to_thread

from app.core.config import Settings
from app.core.negotiation import preferences

GZIP = "gzip"
_TEXT_LIKE = frozenset(
    {
        "application/json",
        "application/problem+json",
        "application/javascript",
        "application/xml",
        "image/svg+xml",
    }
)
_IN_THREAD_BYTES = 128 * 1024
"""Bodies from this size are compressed in a worker thread, not on the event loop (Starlette's
choice in its own GZipMiddleware); only the docs page's script is that large."""


@lru_cache(maxsize=256)
def accepts_gzip(accept_encoding: str | None) -> bool:
    """Whether `Accept-Encoding` admits gzip: named with q > 0, or `*` with q > 0 and gzip not
    named. No header (or an empty one) means identity: nothing is compressed unasked. A coding
    with a malformed `q` is ignored (`app.core.negotiation`)."""
    named: float | None = None
    star: float | None = None
    for item in preferences(accept_encoding):
        if item.value in (GZIP, "x-gzip"):
            named = max(named or 0.0, item.q)
        elif item.value == "*":
            star = item.q
    if named is not None:
        return named > 0
    return star is not None and star > 0


def compressible(content_type: str) -> bool:
    """Text-like media types (`text/*`, JSON, problem+json, `+json`, `+xml`, JavaScript)."""
    media = content_type.partition(";")[0].strip().lower()
    return media.startswith("text/") or media in _TEXT_LIKE or media.endswith(("+json", "+xml"))


def gzip_bytes(body: bytes, level: int) -> bytes:
    """A gzip member with no file name and time 0: the same body always gives the same bytes."""
    compressor = zlib.compressobj(level, zlib.DEFLATED, 16 + zlib.MAX_WBITS)
    return compressor.compress(body) + compressor.flush()


@dataclass(frozen=True, slots=True)
class Gzip:
    """The policy (`GZIP_*` settings): what is compressed, and how hard."""

    min_bytes: int
    level: int

    @classmethod
    def from_settings(cls, settings: Settings) -> "Gzip | None":
        """None when `GZIP_ENABLED=false`."""
        return cls(settings.gzip_min_bytes, settings.gzip_level) if settings.gzip_enabled else None

    def applies(self, accept_encoding: str | None, content_type: str, size: int) -> bool:
        return size >= self.min_bytes and compressible(content_type) and accepts_gzip(accept_encoding)

    async def compress(self, body: bytes) -> bytes:
        if len(body) >= _IN_THREAD_BYTES:
            return await anyio.to_thread.run_sync(gzip_bytes, body, self.level)
        return gzip_bytes(body, self.level)
