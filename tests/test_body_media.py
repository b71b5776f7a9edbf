"""A JSON operation sent another media type answers 415 `unsupported-media-type`, naming the type
it reads, never a 422 that calls a JSON object "not an object"; a JSON body with the right type
still meets its schema's 422. Swept over every JSON-body operation of the app's own document."""

import json
import re

import httpx
import pytest

from app.main import app as assembled
from tests.helpers import problem

SPEC = assembled.openapi()
JSON_BODIES = [
    (method.upper(), path)
    for path, operations in SPEC["paths"].items()
    for method, operation in operations.items()
    if isinstance(operation, dict)
    and "application/json" in operation.get("requestBody", {}).get("content", {})
]


def concrete(path: str) -> str:
    return re.sub(r"\{(\w+)\}", lambda m: {"number": "5", "year": "2025"}.get(m.group(1), "1"), path)


async def test_a_json_object_sent_as_text_is_415_naming_the_media_type(admin: httpx.AsyncClient) -> None:
    sent = await admin.post(
        "/v1/clusters", content=json.dumps({"number": 61}), headers={"Content-Type": "text/plain"}
    )
    body = problem(sent, 415, "unsupported-media-type")
    assert "application/json" in body["detail"]
    assert "text/plain" in body["detail"]
    form = await admin.post(
        "/v1/clusters", content="number=61", headers={"Content-Type": "application/x-www-form-urlencoded"}
    )
    problem(form, 415, "unsupported-media-type")
    problem(await admin.get("/v1/clusters/61"), 404, "not-found")  # nothing was written
    invalid = await admin.post("/v1/clusters", json={"number": "sixty-one"})
    assert [e["loc"] for e in problem(invalid, 422, "validation")["errors"]] == [["body", "number"]]


RECORD_FIRST = {"/v1/conferences/{conference_id}", "/v1/votes/{vote_id}"}
"""Paths whose record is looked up (by a dependency) before the body is read: with record 1
absent they answer 404 or 403 first, whatever the body."""


@pytest.mark.parametrize(
    ("method", "path"), [(m, p) for m, p in JSON_BODIES if not any(p.startswith(r) for r in RECORD_FIRST)]
)
async def test_no_json_operation_reads_text_as_a_malformed_object(
    admin: httpx.AsyncClient, method: str, path: str
) -> None:
    response = await admin.request(
        method, concrete(path), content=b"{}", headers={"Content-Type": "text/plain"}
    )
    assert "application/json" in problem(response, 415, "unsupported-media-type")["detail"]
