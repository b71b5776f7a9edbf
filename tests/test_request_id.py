"""`X-Request-ID` on every response, in every problem and on every log line."""

import json
import logging
import subprocess
import sys

import httpx
import pytest
from fastapi import FastAPI

from app.core.config import PROJECT_ROOT
from app.core.logs import TEXT_FORMAT, RequestIdFilter
from tests.helpers import problem


@pytest.mark.parametrize("request_id", ["abc", "4f1c2a7e-9b3d", "gw:edge-1.req_42", "x" * 128])
async def test_a_well_formed_id_is_echoed(client: httpx.AsyncClient, request_id: str) -> None:
    response = await client.get("/healthz", headers={"X-Request-ID": request_id})
    assert response.headers["x-request-id"] == request_id


@pytest.mark.parametrize("request_id", ["", "has space", "x" * 129, "semi;colon", "a/b", "ünicode".encode()])
async def test_a_malformed_id_is_replaced(client: httpx.AsyncClient, request_id: str | bytes) -> None:
    response = await client.get("/healthz", headers={"X-Request-ID": request_id})
    generated = response.headers["x-request-id"]
    assert generated != request_id
    assert len(generated) == 32
    int(generated, 16)


async def test_each_request_without_one_gets_its_own(client: httpx.AsyncClient) -> None:
    first, second = (await client.get("/healthz"), await client.get("/healthz"))
    assert first.headers["x-request-id"] != second.headers["x-request-id"]


async def test_problems_carry_it_in_the_body_and_the_header(client: httpx.AsyncClient) -> None:
    response = await client.get("/v1/units", headers={"X-Request-ID": "no-key-1"})
    body = problem(response, 401, "unauthorized")
    assert body["request_id"] == response.headers["x-request-id"] == "no-key-1"


async def test_304_413_and_405_carry_it(admin: httpx.AsyncClient) -> None:
    first = await admin.get("/v1/units")
    not_modified = await admin.get(
        "/v1/units", headers={"If-None-Match": first.headers["etag"], "X-Request-ID": "r304"}
    )
    assert not_modified.status_code == 304
    assert not_modified.headers["x-request-id"] == "r304"

    too_large = await admin.post(
        "/v1/clusters", json={"number": 77, "note": "x" * 2_000_000}, headers={"X-Request-ID": "r413"}
    )
    assert (
        problem(too_large, 413, "payload-too-large")["request_id"]
        == too_large.headers["x-request-id"]
        == "r413"
    )

    not_allowed = await admin.delete("/v1/units", headers={"X-Request-ID": "r405"})
    assert (
        problem(not_allowed, 405, "about:blank")["request_id"]
        == not_allowed.headers["x-request-id"]
        == "r405"
    )


async def test_a_500_and_its_log_record_carry_it(
    app: FastAPI, admin: httpx.AsyncClient, caplog: pytest.LogCaptureFixture
) -> None:
    async def explode() -> None:
        raise RuntimeError("boom")

    app.add_api_route("/test-only/explode", explode)
    stamp = RequestIdFilter()
    caplog.handler.addFilter(stamp)
    try:
        transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
        async with httpx.AsyncClient(transport=transport, base_url="http://thidua.test") as c:
            response = await c.get("/test-only/explode", headers={"X-Request-ID": "r500"})
    finally:
        caplog.handler.removeFilter(stamp)
        app.router.routes.pop()
    assert problem(response, 500, "internal")["request_id"] == response.headers["x-request-id"] == "r500"
    [record] = [r for r in caplog.records if r.name == "app.core.errors"]
    assert record.request_id == "r500"  # type: ignore[attr-defined]


def test_json_log_lines() -> None:
    script = (
        "import logging, logging.config\n"
        "from app.core.logs import log_config\n"
        "logging.config.dictConfig(log_config('json', 'info'))\n"
        "logging.getLogger('app.test').warning('hello %s', 'world')\n"
        "logging.getLogger('uvicorn.access').info('access')\n"
    )
    run = subprocess.run(
        [sys.executable, "-c", script], cwd=PROJECT_ROOT, capture_output=True, text=True, check=True
    )
    lines = [json.loads(line) for line in run.stderr.splitlines()]
    assert [(e["logger"], e["level"], e["message"]) for e in lines] == [
        ("app.test", "WARNING", "hello world"),
        ("uvicorn.access", "INFO", "access"),
    ]
    assert all(e["request_id"] == "-" and e["time"] for e in lines)


def test_text_log_lines_name_the_request() -> None:
    record = logging.LogRecord("app.test", logging.INFO, __file__, 1, "hello", None, None)
    RequestIdFilter().filter(record)
    assert "[-] hello" in logging.Formatter(TEXT_FORMAT).format(record)
