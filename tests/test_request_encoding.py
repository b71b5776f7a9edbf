"""Request bodies come as they are (issue 18, item 5): a `Content-Encoding` is 415 with
`Accept-Encoding: identity` (RFC 7694), before anything reads the body, so no compressed body can
inflate past `MAX_REQUEST_BYTES`; nothing is written."""

import gzip
import json
import zlib

import httpx
import pytest
from fastapi import FastAPI

from app.core.config import Settings
from tests.helpers import problem

CLUSTER = {"number": 61, "note": "nén"}


def _refused(answer: httpx.Response) -> None:
    body = problem(answer, 415, "unsupported-content-encoding")
    assert answer.headers["accept-encoding"] == "identity"
    assert "Content-Encoding" in body["detail"]


@pytest.mark.parametrize(
    ("coding", "encode"),
    [
        ("gzip", gzip.compress),
        ("x-gzip", gzip.compress),
        ("deflate", zlib.compress),
        ("br", lambda body: body),  # whatever the bytes: the coding alone is refused
        ("identity, gzip", gzip.compress),
        ("GZIP", gzip.compress),
    ],
)
async def test_a_coded_body_is_refused_and_nothing_is_written(
    admin: httpx.AsyncClient, coding: str, encode: object
) -> None:
    assert callable(encode)
    body = encode(json.dumps(CLUSTER).encode())
    headers = {"Content-Type": "application/json", "Content-Encoding": coding}
    _refused(await admin.post("/v1/clusters", content=body, headers=headers))
    problem(await admin.get("/v1/clusters/61"), 404, "not-found")


async def test_every_method_with_a_body_is_guarded(admin: httpx.AsyncClient) -> None:
    created = await admin.post("/v1/clusters", json=CLUSTER)
    assert created.status_code == 201, created.text
    etag = (await admin.get("/v1/clusters/61")).headers["etag"]
    coded = {"Content-Type": "application/json", "Content-Encoding": "gzip", "If-Match": etag}
    patch = gzip.compress(json.dumps({"note": "sửa"}).encode())
    _refused(await admin.patch("/v1/clusters/61", content=patch, headers=coded))
    put = gzip.compress(json.dumps({"leader_unit_id": 1}).encode())
    _refused(await admin.put("/v1/clusters/61/years/2024/leadership", content=put, headers=coded))
    assert (await admin.get("/v1/clusters/61")).json()["version"] == 1
    # `identity` is no coding, and reads are not concerned.
    identity = {**coded, "Content-Encoding": "identity"}
    patched = await admin.patch(
        "/v1/clusters/61", content=json.dumps({"note": "sửa"}).encode(), headers=identity
    )
    assert patched.status_code == 200, patched.text
    assert (await admin.get("/v1/clusters", headers={"Content-Encoding": "gzip"})).status_code == 200


async def test_a_gzip_bomb_is_refused_before_it_is_read(admin: httpx.AsyncClient, settings: Settings) -> None:
    """64 MiB of zeros in about 64 KiB: far past MAX_REQUEST_BYTES once inflated, never inflated."""
    bomb = gzip.compress(b"0" * (64 * 1024 * 1024), compresslevel=9)
    assert len(bomb) < settings.max_request_bytes
    headers = {"Content-Type": "application/json", "Content-Encoding": "gzip"}
    _refused(await admin.post("/v1/figures:batch", content=bomb, headers=headers))


async def test_the_refusal_speaks_the_request_language(admin: httpx.AsyncClient) -> None:
    headers = {"Content-Type": "application/json", "Content-Encoding": "gzip", "Accept-Language": "vi"}
    answer = await admin.post("/v1/clusters", content=gzip.compress(b"{}"), headers=headers)
    _refused(answer)
    assert answer.headers["content-language"] == "vi"
    assert answer.json()["title"] == "Kiểu nội dung không được hỗ trợ"


def test_every_operation_with_a_body_documents_the_415(app: FastAPI) -> None:
    document = app.openapi()
    checked = 0
    for path, item in document["paths"].items():
        for method in ("post", "put", "patch"):
            operation = item.get(method)
            if operation is None or "requestBody" not in operation:
                continue
            checked += 1
            refused = operation["responses"].get("415")
            assert refused is not None, (method, path)
            assert "Content-Encoding" in refused["description"], (method, path)
            assert "Accept-Encoding" in refused["headers"], (method, path)
    assert checked > 20
