"""`HEAD` wherever `GET`: the GET's status and headers (`ETag`, `Content-Type`, `Content-Length`,
`Content-Encoding`, `Vary`, …) and no body, for cached reads (the fast path too), uncached ones,
lists, exports, the OpenAPI document and the docs page; 405 where there is no GET, whose `Allow`
names HEAD wherever it names GET."""

import re
import socket
from urllib.parse import urlsplit

import httpx
import pytest
from fastapi import FastAPI

from app.core.database import Database
from tests.helpers import Keys, bearer, problem
from tests.queries import counting
from tests.test_cache import listening

SHEET = "/v1/clusters/5/years/2025"
PER_REQUEST = {"x-request-id", "date", "ratelimit"}
"""Headers of the request, not of the representation (`RateLimit` counts down)."""


def representation(response: httpx.Response) -> dict[str, str]:
    return {k: v for k, v in response.headers.items() if k not in PER_REQUEST}


@pytest.fixture(autouse=True)
async def listening_here(app: FastAPI) -> None:
    await listening(app)


@pytest.mark.usefixtures("seeded")
@pytest.mark.parametrize(
    "path",
    [
        "/v1/units/22",  # cached: the second HEAD is a hit answered before routing
        "/v1/units?as_of=2025-07-01",  # a cached list
        SHEET,
        "/v1/metrics",  # not cached
        "/v1/memberships?cluster=5&year=2025",  # a list, not cached
        SHEET + "?format=csv",
        SHEET + "?format=xlsx",
        "/v1/figures/template.csv",
        "/openapi.json",
        "/docs",
        "/healthz",
    ],
)
@pytest.mark.parametrize("accept_encoding", ["gzip", "identity"])
async def test_head_is_get_without_the_body(
    admin: httpx.AsyncClient, path: str, accept_encoding: str
) -> None:
    headers = {"Accept-Encoding": accept_encoding}
    got = await admin.get(path, headers=headers)
    assert got.status_code == 200
    for _ in range(2):  # the first may render, the second is answered from the cache where cached
        head = await admin.head(path, headers=headers)
        assert head.status_code == 200
        assert head.content == b""
        assert representation(head) == representation(got)
        assert {"etag", "content-type", "content-length"} <= head.headers.keys()


@pytest.mark.usefixtures("seeded")
async def test_head_from_the_cache_and_with_if_none_match(
    admin: httpx.AsyncClient, database: Database
) -> None:
    got = await admin.get(SHEET, headers={"Accept-Encoding": "gzip"})
    with counting(database) as statements:
        head = await admin.head(SHEET, headers={"Accept-Encoding": "gzip"})
    assert statements == []  # the GET's entry, the key known: answered before routing
    assert head.headers["content-encoding"] == "gzip"
    assert head.headers["content-length"] == got.headers["content-length"]
    assert head.content == b""
    for path, etag in ((SHEET, got.headers["etag"]), ("/v1/metrics", None)):
        etag = etag or (await admin.get(path)).headers["etag"]
        not_modified = await admin.head(path, headers={"If-None-Match": etag})
        assert not_modified.status_code == 304
        assert not_modified.headers["etag"] == etag
        assert not_modified.content == b""


async def test_head_refusals_have_no_body(client: httpx.AsyncClient, keys: Keys) -> None:
    unauthorized = await client.head("/v1/units/1")
    assert unauthorized.status_code == 401
    assert unauthorized.headers["www-authenticate"].startswith("Bearer")
    assert unauthorized.headers["content-type"] == "application/problem+json"
    assert unauthorized.content == b""
    missing = await client.head("/v1/units/999999", headers=bearer(keys.reader))
    assert missing.status_code == 404
    assert missing.content == b""


async def test_head_where_there_is_no_get_is_405(admin: httpx.AsyncClient) -> None:
    refused = await admin.head("/v1/successions")
    assert refused.status_code == 405
    assert refused.headers["allow"] == "POST"
    assert refused.content == b""
    # A method a path with GET does not serve: `Allow` names HEAD with GET.
    problem(await admin.delete("/v1/units"), 405, "about:blank")
    assert (await admin.delete("/v1/units/1")).headers["allow"] == "GET, HEAD, PATCH"
    assert (await admin.post("/v1/clusters/5")).headers["allow"] == "GET, HEAD, PATCH"
    assert (await admin.put("/v1/clusters")).headers["allow"] == "GET, HEAD, POST"


async def test_head_is_counted_as_head_by_route(admin: httpx.AsyncClient) -> None:
    for _ in range(3):  # rendered, then from the fast path
        assert (await admin.head("/v1/units/7")).status_code == 200
    metrics = (await admin.get("/metrics")).text
    counted = re.search(
        r'^thidua_http_requests_total\{method="HEAD",route="/v1/units/\{unit_id\}",status="200"\} (\S+)$',
        metrics,
        re.M,
    )
    assert counted is not None
    assert float(counted.group(1)) >= 3


def exchange(base: str, request: str) -> bytes:
    """What the server sends back on a socket for one request (`Connection: close`)."""
    url = urlsplit(base)
    with socket.create_connection((url.hostname or "127.0.0.1", url.port or 80), timeout=10) as s:
        s.sendall(request.encode("latin-1"))
        chunks = []
        while chunk := s.recv(65536):
            chunks.append(chunk)
    return b"".join(chunks)


def head_fields(head: bytes) -> dict[str, str]:
    lines = head.decode("latin-1").split("\r\n")[1:]
    return {name.lower(): value.strip() for name, _, value in (line.partition(":") for line in lines if line)}


def test_over_a_socket_head_keeps_content_length_and_sends_nothing_more(live_server: str, keys: Keys) -> None:
    """uvicorn agrees: the GET's `Content-Length` (of the gzip body), and not one byte after the
    header block."""
    for path, auth in (("/v1/units?as_of=2025-07-01", True), ("/openapi.json", False)):
        headers = {"Accept-Encoding": "gzip", **(bearer(keys.reader) if auth else {})}
        with httpx.Client(base_url=live_server, headers=headers) as http:
            got = http.get(path)
            assert got.status_code == 200
            assert got.headers["content-encoding"] == "gzip"
            lines = "".join(f"{k}: {v}\r\n" for k, v in headers.items())
            answer = exchange(
                live_server, f"HEAD {path} HTTP/1.1\r\nHost: t\r\n{lines}Connection: close\r\n\r\n"
            )
            head, separator, rest = answer.partition(b"\r\n\r\n")
            assert separator
            assert head.startswith(b"HTTP/1.1 200 ")
            assert rest == b""
            fields = head_fields(head)
            assert fields["content-length"] == got.headers["content-length"]
            assert fields["content-encoding"] == "gzip"
            assert fields["etag"] == got.headers["etag"]
            assert "transfer-encoding" not in fields
