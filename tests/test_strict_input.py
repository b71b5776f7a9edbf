"""The contract says `integer`: JSON booleans, strings and floats are not integers, and path and
query integers are plain decimal digits. Built from the app's OpenAPI document, so every new
operation is covered by itself."""

import re
from typing import Any

import httpx
import pytest

from app.main import app as assembled
from tests.helpers import problem

SPEC = assembled.openapi()
CONCRETE = {"number": "5", "year": "2025"}


def concrete(path: str, override: dict[str, str] | None = None) -> str:
    values = {**CONCRETE, **(override or {})}
    return re.sub(r"\{(\w+)\}", lambda m: values.get(m.group(1), "1"), path)


def _is_integer(schema: dict[str, Any]) -> bool:
    return schema.get("type") == "integer" or any(s.get("type") == "integer" for s in schema.get("anyOf", []))


INTEGER_PARAMETERS = sorted(
    (method.upper(), path, parameter["in"], parameter["name"])
    for path, operations in SPEC["paths"].items()
    for method, operation in operations.items()
    for parameter in operation.get("parameters", [])
    if parameter.get("in") in ("path", "query") and _is_integer(parameter["schema"])
)


def _examples() -> list[tuple[str, str, str, dict[str, Any]]]:
    found = []
    for path, operations in SPEC["paths"].items():
        for method, operation in operations.items():
            content = operation.get("requestBody", {}).get("content", {}).get("application/json")
            if content is None:
                continue
            schema = content["schema"]
            ref = schema.get("$ref")
            if ref is None:
                continue
            example = SPEC["components"]["schemas"][ref.rsplit("/", 1)[1]].get("example")
            if isinstance(example, dict):
                for field, value in example.items():
                    if isinstance(value, int) and not isinstance(value, bool):
                        found.append((method.upper(), path, field, example))
    return sorted(found, key=lambda f: (f[0], f[1], f[2]))


INTEGER_BODY_FIELDS = _examples()


def test_there_is_something_to_check() -> None:
    assert ("GET", "/v1/units/{unit_id}", "path", "unit_id") in INTEGER_PARAMETERS
    assert ("GET", "/v1/units", "query", "limit") in INTEGER_PARAMETERS
    assert ("POST", "/v1/clusters", "number") in {(m, p, f) for m, p, f, _ in INTEGER_BODY_FIELDS}
    assert ("POST", "/v1/memberships", "unit_id") in {(m, p, f) for m, p, f, _ in INTEGER_BODY_FIELDS}


@pytest.mark.parametrize(("method", "path", "where", "name"), INTEGER_PARAMETERS)
@pytest.mark.parametrize("value", ["1.0", "1_0", "true"])
async def test_integer_parameters_are_plain_decimals(
    admin: httpx.AsyncClient, method: str, path: str, where: str, name: str, value: str
) -> None:
    if where == "path":
        url, params = concrete(path, {name: value}), {}
    else:
        url, params = concrete(path), {name: value}
    body = problem(await admin.request(method, url, params=params, json={}), 422, "validation")
    assert [where, name] in [e["loc"] for e in body["errors"]], body


@pytest.mark.parametrize(("method", "path", "field", "example"), INTEGER_BODY_FIELDS)
@pytest.mark.parametrize("kind", ["boolean", "string", "float"])
async def test_integer_body_fields_are_json_integers(
    admin: httpx.AsyncClient, method: str, path: str, field: str, example: dict[str, Any], kind: str
) -> None:
    value = example[field]
    wrong = {"boolean": True, "string": str(value), "float": float(value)}[kind]
    response = await admin.request(method, concrete(path), json={**example, field: wrong})
    body = problem(response, 422, "validation")
    assert any(e["loc"][0] == "body" and field in e["loc"] for e in body["errors"]), body


async def test_a_boolean_does_not_create_cluster_1(admin: httpx.AsyncClient) -> None:
    problem(await admin.post("/v1/clusters", json={"number": True}), 422, "validation")
    problem(await admin.get("/v1/clusters/1"), 404, "not-found")
    problem(await admin.get("/v1/units/1.0"), 422, "validation")
    assert (await admin.get("/v1/units/1")).status_code == 200


async def test_a_trailing_newline_is_not_a_decimal(admin: httpx.AsyncClient) -> None:
    problem(await admin.get("/v1/units/1%0A"), 422, "validation")
    problem(await admin.get("/v1/units", params={"limit": "5\n"}), 422, "validation")
    problem(await admin.get("/v1/units", params={"as_of": "2025-07-01\n"}), 422, "validation")


async def test_a_unit_name_must_be_searchable(admin: httpx.AsyncClient) -> None:
    etag = (await admin.get("/v1/units/3")).headers["etag"]
    for name in ("—", "ß" * 61):
        problem(
            await admin.patch("/v1/units/3", json={"name": name}, headers={"If-Match": etag}),
            422,
            "validation",
        )
