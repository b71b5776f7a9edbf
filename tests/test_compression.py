"""gzip when asked and worth it: compressed once per cached variant (its hits send the stored
bytes), the other answers on the way out; `Vary: Accept-Encoding` on every compressible answer;
a gzip representation has its own ETag (`-gzip` before the language), good for `If-None-Match`
on that variant and for `If-Match` on a write.

httpx decompresses by itself: these tests read the bytes on the wire with `raw()`."""

import gzip
import json
from collections.abc import AsyncIterator

import httpx
import pytest
from asgi_lifespan import LifespanManager
from fastapi import FastAPI, Request, Response
from pydantic import ValidationError

from app.auth.dependencies import CurrentKey
from app.core.cache import cached
from app.core.compression import accepts_gzip, compressible
from app.core.config import Settings
from app.core.database import Database
from app.core.etag import encoded_etag, identity_etag
from app.core.exports import XLSX
from app.main import create_app
from tests.helpers import Keys, bearer
from tests.queries import counting
from tests.test_cache import listening

SHEET = "/v1/clusters/5/years/2025"
GZIP = {"Accept-Encoding": "gzip"}
IDENTITY = {"Accept-Encoding": "identity"}
PER_REQUEST = {"x-request-id", "date", "ratelimit"}
"""Headers of the request, not of the representation (`RateLimit` counts down)."""


async def raw(client: httpx.AsyncClient, path: str, headers: dict[str, str]) -> tuple[httpx.Response, bytes]:
    """The response and its body as sent (not decompressed)."""
    async with client.stream("GET", path, headers=headers) as response:
        body = b"".join([chunk async for chunk in response.aiter_raw()])
    return response, body


def vary(response: httpx.Response) -> list[str]:
    return [v.strip().lower() for v in response.headers.get("vary", "").split(",") if v.strip()]


def same_headers(a: httpx.Response, b: httpx.Response) -> None:
    assert {k: v for k, v in a.headers.items() if k not in PER_REQUEST} == {
        k: v for k, v in b.headers.items() if k not in PER_REQUEST
    }


@pytest.fixture
async def listening_here(app: FastAPI) -> None:
    await listening(app)


# --- what is accepted, what is compressible --------------------------------------------------


@pytest.mark.parametrize(
    ("header", "accepted"),
    [
        ("gzip", True),
        ("GZIP", True),
        ("x-gzip", True),
        ("gzip, deflate, br", True),
        ("deflate, gzip;q=0.5", True),
        ("br;q=1, gzip;q=0.001", True),
        ("*", True),
        ("br, *;q=0.1", True),
        ("gzip;q=1.0", True),
        (None, False),
        ("", False),
        ("identity", False),
        ("deflate, br", False),
        ("gzip;q=0", False),
        ("gzip;q=0.000", False),
        ("gzip ; q=0, deflate", False),
        ("*;q=0", False),
        ("gzip;q=0, *", False),
        ("gzip;q=2", False),
        ("gzip;q=high", False),
    ],
)
def test_accept_encoding_is_read_with_its_q_values(header: str | None, accepted: bool) -> None:
    assert accepts_gzip(header) is accepted


@pytest.mark.parametrize(
    ("content_type", "expected"),
    [
        ("application/json", True),
        ("application/problem+json", True),
        ("text/csv; charset=utf-8", True),
        ("text/html; charset=utf-8", True),
        ("application/javascript", True),
        (XLSX, False),
        ("application/zip", False),
        ("image/png", False),
        ("", False),
    ],
)
def test_only_text_like_media_types_are_compressed(content_type: str, expected: bool) -> None:
    assert compressible(content_type) is expected


def test_the_gzip_etag_keeps_the_language_last() -> None:
    assert encoded_etag('"unit-22-v3-9f3c-vi"') == '"unit-22-v3-9f3c-gzip-vi"'
    assert encoded_etag('"standings-5-2024-v3-9f3c-csv-en"') == '"standings-5-2024-v3-9f3c-csv-gzip-en"'
    assert encoded_etag('"d41d8cd98f00"') == '"d41d8cd98f00-gzip"'
    for etag in ('"unit-22-v3-9f3c-vi"', '"d41d8cd98f00"'):
        assert identity_etag(encoded_etag(etag)) == etag
        assert identity_etag(etag) == etag


# --- over HTTP ---------------------------------------------------------------------------------

LARGE = [
    SHEET,  # cached, with `Vary: Accept`
    "/v1/units?as_of=2025-07-01",  # cached list
    "/v1/metrics",  # not cached
    "/openapi.json",  # not cached, no key
]


@pytest.mark.usefixtures("seeded", "listening_here")
@pytest.mark.parametrize("path", LARGE)
async def test_a_large_answer_is_gzip_when_asked(admin: httpx.AsyncClient, path: str) -> None:
    plain, plain_body = await raw(admin, path, IDENTITY)
    assert plain.status_code == 200
    assert len(plain_body) >= 1024
    assert "content-encoding" not in plain.headers
    packed, packed_body = await raw(admin, path, GZIP)
    assert packed.status_code == 200
    assert packed.headers["content-encoding"] == "gzip"
    assert int(packed.headers["content-length"]) == len(packed_body) < len(plain_body) / 3
    assert gzip.decompress(packed_body) == plain_body
    assert json.loads(gzip.decompress(packed_body)) == json.loads(plain_body)
    assert packed.headers["content-type"] == plain.headers["content-type"]
    # Another representation: its own ETag, the identity one with `-gzip` before the language.
    assert packed.headers["etag"] == encoded_etag(plain.headers["etag"]) != plain.headers["etag"]
    for response in (plain, packed):
        assert "accept-encoding" in vary(response)
        assert "accept-language" in vary(response)
        assert len(vary(response)) == len(set(vary(response)))  # none twice
    if path == SHEET:
        assert "accept" in vary(packed)
    # And again: the same bytes (the cached ones for the cached reads).
    again, again_body = await raw(admin, path, {"Accept-Encoding": "deflate, gzip, br"})
    assert again_body == packed_body
    assert again.headers["etag"] == packed.headers["etag"]


@pytest.mark.usefixtures("seeded", "listening_here")
@pytest.mark.parametrize(
    "accept_encoding", [None, "identity", "gzip;q=0", "deflate, gzip;q=0", "*;q=0", "br", "gzip;q=0, *"]
)
async def test_not_compressed_unless_gzip_is_accepted(
    admin: httpx.AsyncClient, accept_encoding: str | None
) -> None:
    del admin.headers["accept-encoding"]  # httpx sends `gzip, deflate` unless told otherwise
    headers = {} if accept_encoding is None else {"Accept-Encoding": accept_encoding}
    for path in (SHEET, "/v1/metrics"):
        response, body = await raw(admin, path, headers)
        assert response.status_code == 200
        assert "content-encoding" not in response.headers
        assert len(body) >= 1024
        assert json.loads(body)
        assert not response.headers["etag"].endswith('-gzip-en"')
        assert "accept-encoding" in vary(response)


@pytest.mark.usefixtures("listening_here")
async def test_a_small_answer_stays_plain(admin: httpx.AsyncClient) -> None:
    for path in ("/v1/units/1", "/healthz"):
        response, body = await raw(admin, path, GZIP)
        assert response.status_code == 200
        assert len(body) < 1024
        assert "content-encoding" not in response.headers
        assert json.loads(body)
        assert "accept-encoding" in vary(response)  # it could be compressed, were it larger
    problem, body = await raw(admin, "/v1/units/999999", GZIP)
    assert problem.status_code == 404
    assert "content-encoding" not in problem.headers
    assert json.loads(body)["status"] == 404


@pytest.mark.usefixtures("seeded", "listening_here")
async def test_a_cache_hit_is_the_stored_gzip(admin: httpx.AsyncClient, database: Database) -> None:
    first, first_body = await raw(admin, SHEET, GZIP)
    assert first.headers["content-encoding"] == "gzip"
    with counting(database) as statements:
        hit, hit_body = await raw(admin, SHEET, GZIP)
        not_modified, empty = await raw(admin, SHEET, {**GZIP, "If-None-Match": first.headers["etag"]})
    assert statements == []
    assert hit_body == first_body
    same_headers(hit, first)
    assert not_modified.status_code == 304
    assert empty == b""
    assert not_modified.headers["etag"] == first.headers["etag"]
    assert "content-encoding" not in not_modified.headers
    assert "accept-encoding" in vary(not_modified)
    # The identity ETag names the other representation: not a match for the gzip one.
    plain = await admin.get(SHEET, headers=IDENTITY)
    other = await admin.get(SHEET, headers={**GZIP, "If-None-Match": plain.headers["etag"]})
    assert other.status_code == 200
    assert other.headers["content-encoding"] == "gzip"
    assert (
        await admin.get(SHEET, headers={**IDENTITY, "If-None-Match": plain.headers["etag"]})
    ).status_code == 304


@pytest.mark.usefixtures("listening_here")
async def test_a_hit_answered_before_routing_is_gzip(admin: httpx.AsyncClient, app: FastAPI) -> None:
    """The fast path (`CachedReadMiddleware`) sends the entry `cached()` compressed and stored:
    the handler runs once per variant."""
    calls: list[str] = []
    document = {"items": [{"id": i, "name": f"Đơn vị {i}"} for i in range(200)]}

    async def handler(request: Request, _: CurrentKey) -> Response:
        calls.append(request.headers.get("accept-encoding", ""))

        async def render() -> Response:
            return json_answer_of(document)

        return await cached(request, tags=["cluster:98"], render=render)

    app.add_api_route("/test-only/large", handler, include_in_schema=False)
    first, first_body = await raw(admin, "/test-only/large", GZIP)
    hit, hit_body = await raw(admin, "/test-only/large", GZIP)
    assert calls == ["gzip"]
    assert hit.headers["content-encoding"] == "gzip"
    assert hit_body == first_body
    same_headers(hit, first)
    assert json.loads(gzip.decompress(hit_body)) == document
    not_modified, _ = await raw(admin, "/test-only/large", {**GZIP, "If-None-Match": hit.headers["etag"]})
    assert not_modified.status_code == 304
    assert "content-encoding" not in not_modified.headers
    plain, plain_body = await raw(admin, "/test-only/large", {"Accept-Encoding": "gzip;q=0"})
    assert calls == ["gzip", "gzip;q=0"]  # another variant: rendered once more
    assert "content-encoding" not in plain.headers
    assert json.loads(plain_body) == document
    # Spelled differently, accepting gzip all the same: the same variant, from the fast path.
    await raw(admin, "/test-only/large", {"Accept-Encoding": "br, gzip;q=0.8"})
    assert len(calls) == 2
    app.state.cache.drop(["cluster:98"])


def json_answer_of(document: object) -> Response:
    return Response(json.dumps(document, ensure_ascii=False).encode(), media_type="application/json")


@pytest.mark.usefixtures("seeded", "listening_here")
async def test_an_uncached_read_gives_304_for_its_gzip_variant(admin: httpx.AsyncClient) -> None:
    first = await admin.get("/v1/metrics", headers=GZIP)
    assert first.headers["content-encoding"] == "gzip"
    not_modified, body = await raw(admin, "/v1/metrics", {**GZIP, "If-None-Match": first.headers["etag"]})
    assert not_modified.status_code == 304
    assert body == b""
    assert not_modified.headers["etag"] == first.headers["etag"]
    assert "content-encoding" not in not_modified.headers
    assert "content-length" not in not_modified.headers


@pytest.mark.usefixtures("seeded", "listening_here")
async def test_a_write_accepts_the_etag_of_a_gzipped_read(admin: httpx.AsyncClient) -> None:
    """The ETag of a gzip representation names the same version: `If-Match` takes it."""
    path = "/v1/clusters/5/years/2025/leadership"
    read = await admin.get(path, headers=GZIP)
    assert read.headers["content-encoding"] == "gzip"
    etag = read.headers["etag"]
    assert etag.endswith('-gzip-en"')
    body = read.json()
    update = {
        "leader_unit_id": body["leader"]["unit"]["id"],
        "deputy_unit_id": body["deputy"]["unit"]["id"],
        **{k: body["decision"][k] for k in ("decided_on", "conference", "source")},
        "note": "sửa",  # a change: the same body would be no new version
    }
    written = await admin.put(path, json=update, headers={**GZIP, "If-Match": etag})
    assert written.status_code == 200, written.text
    assert written.json()["version"] == body["version"] + 1
    stale = await admin.put(path, json=update, headers={"If-Match": etag})
    assert stale.status_code == 412
    assert stale.json()["current_etag"] == identity_etag(written.headers["etag"])


@pytest.mark.usefixtures("seeded", "listening_here")
async def test_small_exports_stay_plain_and_xlsx_is_never_compressed(admin: httpx.AsyncClient) -> None:
    """Under the seeds the sheet's CSV is under 1 KiB and goes plain, while the figures template
    (one row per metric of the catalogue, 33) is over it and goes compressed; the XLSX is a zip
    already."""
    response, body = await raw(admin, SHEET + "?format=csv", GZIP)
    assert response.status_code == 200
    assert len(body) < 1024
    assert "content-encoding" not in response.headers
    assert body.startswith("\ufeff".encode())
    assert "accept-encoding" in vary(response)
    template, template_body = await raw(admin, "/v1/figures/template.csv", GZIP)
    assert template.status_code == 200
    assert template.headers["content-encoding"] == "gzip"
    assert gzip.decompress(template_body).startswith("\ufeff".encode())
    sheet, sheet_body = await raw(admin, SHEET + "?format=xlsx", GZIP)
    assert sheet.status_code == 200
    assert len(sheet_body) >= 1024
    assert "content-encoding" not in sheet.headers
    assert sheet_body[:2] == b"PK"  # the zip an XLSX is, sent as it is
    assert "accept-encoding" not in vary(sheet)
    assert {"accept", "accept-language"} <= set(vary(sheet))


async def instance(settings: Settings, keys: Keys, **changes: object) -> AsyncIterator[httpx.AsyncClient]:
    """Another instance of the service on the test database, with `changes` to its settings."""
    application = create_app(settings.model_copy(update=changes))
    async with LifespanManager(application):
        await listening(application)
        transport = httpx.ASGITransport(app=application)
        async with httpx.AsyncClient(
            transport=transport, base_url="http://other.test", headers=bearer(keys.admin)
        ) as c:
            yield c


@pytest.fixture
async def eager(settings: Settings, keys: Keys) -> AsyncIterator[httpx.AsyncClient]:
    """`GZIP_MIN_BYTES=100`: the seeds' small records and exports are compressed too."""
    async for c in instance(settings, keys, gzip_min_bytes=100, gzip_level=9):
        yield c


@pytest.fixture
async def uncompressed(settings: Settings, keys: Keys) -> AsyncIterator[httpx.AsyncClient]:
    """`GZIP_ENABLED=false`."""
    async for c in instance(settings, keys, gzip_enabled=False):
        yield c


@pytest.mark.usefixtures("seeded")
async def test_csv_exports_are_compressed(eager: httpx.AsyncClient) -> None:
    for path in (SHEET + "?format=csv", "/v1/figures/template.csv"):
        plain, plain_body = await raw(eager, path, IDENTITY)
        for _ in range(2):  # rendered (the sheet: and stored), then from the cache
            packed, packed_body = await raw(eager, path, GZIP)
            assert packed.headers["content-encoding"] == "gzip"
            assert gzip.decompress(packed_body) == plain_body
            assert packed.headers["content-type"] == "text/csv; charset=utf-8"
            assert packed.headers.get("content-disposition") == plain.headers.get("content-disposition")
            assert packed.headers["etag"] == encoded_etag(plain.headers["etag"])
            assert {"accept-encoding", "accept-language"} <= set(vary(packed))
            assert "accept" in vary(packed)  # an export varies with `Accept` (the template: CSV or XLSX)


@pytest.mark.usefixtures("seeded")
@pytest.mark.parametrize("path", ["/v1/units/22", "/v1/clusters/5"])  # cached, not cached
async def test_a_patch_accepts_the_etag_of_a_gzipped_read(eager: httpx.AsyncClient, path: str) -> None:
    """The ETag of a gzip representation names the same version: `If-Match` takes it."""
    read = await eager.get(path, headers=GZIP)
    assert read.headers["content-encoding"] == "gzip"
    etag = read.headers["etag"]
    assert etag.endswith('-gzip-vi"')
    name = read.json().get("name")
    change = {"note": "Theo Quyết định số 1"} if "clusters" in path else {"name": f"{name} (sửa)"}
    written = await eager.patch(path, json=change, headers={**GZIP, "If-Match": etag})
    assert written.status_code == 200, written.text
    assert written.json()["version"] == read.json()["version"] + 1
    stale = await eager.patch(path, json=change, headers={"If-Match": etag})
    assert stale.status_code == 412
    assert stale.json()["current_etag"] == identity_etag(written.headers["etag"])
    fresh = await eager.get(path, headers=GZIP)
    assert fresh.headers["etag"] == written.headers["etag"]  # the answer to the write was gzip too
    again = await eager.get(path, headers={**GZIP, "If-None-Match": fresh.headers["etag"]})
    assert again.status_code == 304


async def test_the_docs_page_and_its_script_are_compressed(client: httpx.AsyncClient) -> None:
    page = await client.get("/docs", headers=GZIP)
    assert page.status_code == 200
    script = next(s for s in page.text.split('"') if s.endswith(".js") and "bundle" in s)
    response, body = await raw(client, script, GZIP)
    assert response.status_code == 200
    assert response.headers["content-encoding"] == "gzip"
    plain, plain_body = await raw(client, script, IDENTITY)
    assert gzip.decompress(body) == plain_body
    assert response.headers["etag"] == encoded_etag(plain.headers["etag"])


@pytest.mark.usefixtures("seeded")
async def test_gzip_can_be_switched_off(uncompressed: httpx.AsyncClient) -> None:
    for path in (SHEET, SHEET, "/v1/metrics"):
        response, body = await raw(uncompressed, path, GZIP)
        assert response.status_code == 200
        assert "content-encoding" not in response.headers
        assert "accept-encoding" not in vary(response)
        assert json.loads(body)


def test_the_settings_are_checked(monkeypatch: pytest.MonkeyPatch) -> None:
    for name, value in (("GZIP_LEVEL", "0"), ("GZIP_LEVEL", "10"), ("GZIP_MIN_BYTES", "-1")):
        monkeypatch.setenv(name, value)
        with pytest.raises(ValidationError, match=name.lower()):
            Settings()
        monkeypatch.delenv(name)
