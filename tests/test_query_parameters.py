"""Query parameters (issue 18, item 5): one an operation does not take is 400, never ignored,
on every operation; a filter has one name across the API, and a renamed one keeps its old name,
deprecated (`Deprecation`, `Sunset`, `Link`), refused beside the new one with another value."""

import re
from email.utils import parsedate_to_datetime
from typing import Annotated, Any

import httpx
import pytest
from fastapi import Depends, FastAPI, Request
from pydantic import BaseModel

from app.core.cache import CachedReadMiddleware, ReadCache, cached, key_hash
from app.core.deprecation import RENAMED_AT, SUNSET_AT, DeprecationMiddleware, renamed
from app.core.errors import install_error_handlers
from app.core.params import UnitQuery
from app.core.query import known_parameters
from app.main import app as assembled
from tests.helpers import Keys, bearer, problem

BOGUS = "zzz"
DEPRECATION_FIELDS = ("deprecation", "sunset", "link")


def unknown(response: httpx.Response, *names: str) -> dict[str, Any]:
    """A 400 `unknown-parameter` naming exactly `names`."""
    body = problem(response, 400, "unknown-parameter")
    assert body["parameters"] == list(names), body
    for name in names:
        assert f"`{name}`" in body["detail"]
    return body


# --- unknown parameters ------------------------------------------------------------------------


@pytest.mark.usefixtures("seeded")
async def test_an_unknown_filter_is_refused_not_ignored(admin: httpx.AsyncClient) -> None:
    """The issue's case: `GET /v1/memberships?unit_id=70` answered every membership."""
    body = unknown(await admin.get("/v1/memberships", params={"unit_id": "70"}), "unit_id")
    assert body["accepted_parameters"] == ["unit", "cluster", "year", "as_of", "limit", "cursor"]
    assert "`unit`" in body["detail"]
    body = unknown(await admin.get("/v1/awards", params={"unit": "70", "colour": "red"}), "colour")
    assert "unit" in body["accepted_parameters"]
    assert "unit_id" not in body["accepted_parameters"], "deprecated names are not offered"
    unknown(await admin.get("/v1/votes?year=2024&Year=2024&sort=id&sort=name"), "Year", "sort")
    unknown(await admin.get("/v1/units?zzz"), BOGUS)  # a name without a value is a name too


async def test_an_operation_without_parameters_says_so(admin: httpx.AsyncClient) -> None:
    body = unknown(await admin.get("/v1/units/1", params={BOGUS: "1"}), BOGUS)
    assert body["accepted_parameters"] == []
    body = unknown(await admin.get("/healthz", params={BOGUS: "1"}), BOGUS)
    assert body["accepted_parameters"] == []


async def test_it_is_english_or_vietnamese_and_names_the_parameter_in_both(
    client: httpx.AsyncClient, keys: Keys
) -> None:
    for language in ("en", "vi"):
        response = await client.get(
            "/v1/clusters", params={BOGUS: "1"}, headers={**bearer(keys.reader), "Accept-Language": language}
        )
        unknown(response, BOGUS)
        assert response.headers["content-language"] == language


async def test_a_write_with_an_unknown_parameter_writes_nothing(admin: httpx.AsyncClient) -> None:
    before = (await admin.get("/v1/memberships", params={"unit": "2"})).json()
    body = {"unit_id": 2, "cluster": 1, "valid_from": "2030-01-01"}
    unknown(await admin.post("/v1/memberships", params={"dry_run": "true"}, json=body), "dry_run")
    assert (await admin.get("/v1/memberships", params={"unit": "2"})).json() == before


async def test_the_shape_of_the_request_is_judged_before_its_key(client: httpx.AsyncClient) -> None:
    """Like an undecodable body: the parameter is wrong whoever sends it (the document says
    which parameters every operation takes)."""
    unknown(await client.get("/v1/units", params={BOGUS: "1"}), BOGUS)
    problem(await client.get("/v1/units"), 401, "unauthorized")


async def test_head_and_a_warm_cache_refuse_it_too(admin: httpx.AsyncClient) -> None:
    """The read cache keys its entries by the whole query string and stores only what a handler
    rendered, so a warm read does not answer the same read with a parameter more."""
    url = "/v1/units?as_of=2025-07-01"
    assert (await admin.get(url)).status_code == 200
    assert (await admin.get(url)).status_code == 200
    unknown(await admin.get(f"{url}&{BOGUS}=1"), BOGUS)
    head = await admin.head(f"{url}&{BOGUS}=1")
    assert head.status_code == 400
    assert head.content == b""


def _get_operations() -> list[tuple[str, str]]:
    document = assembled.openapi()
    return [(path, item["get"]["operationId"]) for path, item in document["paths"].items() if "get" in item]


def _filled(path: str) -> str:
    """The path with its parameters filled: any segment does, since the parameters are checked
    before the path's values."""
    return re.sub(r"\{[^/}]+\}", "1", path)


@pytest.mark.parametrize(("path", "operation_id"), _get_operations(), ids=[o for _, o in _get_operations()])
async def test_every_read_refuses_an_unknown_parameter(
    admin: httpx.AsyncClient, path: str, operation_id: str
) -> None:
    url = _filled(path)
    body = unknown(await admin.get(url, params={BOGUS: "1"}), BOGUS)
    assert BOGUS not in body["accepted_parameters"]
    declared = [
        p["name"]
        for p in assembled.openapi()["paths"][path]["get"].get("parameters", [])
        if p.get("in") == "query" and not p.get("deprecated")
    ]
    assert body["accepted_parameters"] == declared, operation_id
    without = await admin.get(url)
    assert not (without.status_code == 400 and without.json().get("type") == "/problems/unknown-parameter"), (
        without.text
    )


def test_every_operation_documents_the_400() -> None:
    document = assembled.openapi()
    missing = [
        f"{method.upper()} {path}"
        for path, item in document["paths"].items()
        for method, operation in item.items()
        if "unknown-parameter" not in operation["responses"].get("400", {}).get("description", "")
    ]
    assert missing == []
    problem_schema = document["components"]["schemas"]["Problem"]["properties"]
    assert {"parameters", "accepted_parameters"} <= problem_schema.keys()


# --- one name per filter -----------------------------------------------------------------------


def test_a_filter_has_one_name_across_the_api() -> None:
    """Every list's filters, by the concept they filter on: one name each (deprecated names
    aside)."""
    names: dict[str, set[str]] = {}
    for item in assembled.openapi()["paths"].values():
        for operation in item.values():
            for parameter in operation.get("parameters", []):
                if parameter.get("in") != "query" or parameter.get("deprecated"):
                    continue
                names.setdefault(parameter["name"], set()).add(operation["operationId"])
    assert "unit_id" not in names
    assert names["unit"] == {"listAwards", "listMemberships", "listFigures", "getFiguresTemplate"}
    assert names["cluster"] >= {"listAwards", "listMemberships", "listVotes"}
    assert "cluster_number" not in names


@pytest.mark.usefixtures("seeded")
async def test_the_renamed_unit_filter_works_by_both_names(admin: httpx.AsyncClient) -> None:
    every = (await admin.get("/v1/awards", params={"limit": "200"})).json()["items"]
    unit = every[0]["unit"]["id"]
    theirs = sorted(a["id"] for a in every if a["unit"]["id"] == unit)
    assert 0 < len(theirs) < len(every)

    new = await admin.get("/v1/awards", params={"unit": str(unit), "limit": "200"})
    assert new.status_code == 200
    assert sorted(a["id"] for a in new.json()["items"]) == theirs
    assert not any(field in new.headers for field in DEPRECATION_FIELDS)

    old = await admin.get("/v1/awards", params={"unit_id": str(unit), "limit": "200"})
    assert old.status_code == 200
    assert old.json() == new.json()
    assert old.headers["deprecation"] == f"@{int(RENAMED_AT.timestamp())}"
    assert parsedate_to_datetime(old.headers["sunset"]) == SUNSET_AT
    assert old.headers["sunset"].endswith(" GMT")
    assert old.headers["link"] == '</docs#/awards/listAwards>; rel="deprecation"; type="text/html"'

    both = await admin.get("/v1/awards", params={"unit": str(unit), "unit_id": str(unit), "limit": "200"})
    assert both.json() == new.json()
    assert "deprecation" in both.headers

    with_predecessors = await admin.get(
        "/v1/awards", params={"unit_id": str(unit), "include_predecessors": "1"}
    )
    assert with_predecessors.status_code == 200
    assert "deprecation" in with_predecessors.headers


async def test_the_old_and_new_names_with_different_values_are_refused(admin: httpx.AsyncClient) -> None:
    response = await admin.get("/v1/awards", params={"unit": "2", "unit_id": "3"})
    body = problem(response, 400, "conflicting-parameters")
    assert body["parameters"] == ["unit", "unit_id"]
    assert "`unit_id`" in body["detail"]
    assert "`unit`" in body["detail"]
    assert "deprecation" in response.headers
    # The old name is checked as the new one is.
    problem(await admin.get("/v1/awards", params={"unit_id": "0"}), 422, "validation")


def test_the_old_name_is_documented_as_deprecated() -> None:
    operation = assembled.openapi()["paths"]["/v1/awards"]["get"]
    parameters = {p["name"]: p for p in operation["parameters"] if p.get("in") == "query"}
    assert parameters["unit_id"]["deprecated"] is True
    assert "`unit`" in parameters["unit_id"]["description"]
    assert "deprecated" not in parameters["unit"]
    assert parameters["unit_id"]["schema"]["minimum"] == parameters["unit"]["schema"]["minimum"] == 1
    assert "conflicting-parameters" in operation["responses"]["400"]["description"]
    for status, response in operation["responses"].items():
        # A 429 comes from the rate limiter, before any route is matched.
        assert ({"Deprecation", "Sunset", "Link"} <= response["headers"].keys()) is (status != "429")
    memberships = assembled.openapi()["paths"]["/v1/memberships"]["get"]["responses"]["200"]
    assert "Deprecation" not in memberships["headers"]


# --- a renamed parameter answered from the read cache ---------------------------------------------


class Thing(BaseModel):
    unit: int | None


async def test_a_cached_answer_still_says_the_name_is_deprecated() -> None:
    """Cache hits are answered before routing; the fields come from the route they stored."""
    renders: list[int | None] = []
    application = FastAPI(dependencies=[Depends(known_parameters)])
    install_error_handlers(application, retry_after=1)
    cache = application.state.cache = ReadCache()
    cache.set_listening(True)
    cache.store_key(key_hash("k"), object(), cache.generation())

    @application.get("/things", operation_id="listThings", tags=["things"])
    async def things(
        request: Request, unit: Annotated[int | None, renamed(UnitQuery, name="unit", old="unit_id")]
    ) -> Any:
        async def render() -> Thing:
            renders.append(unit)
            return Thing(unit=unit)

        return await cached(request, tags=["things"], render=render)

    application.add_middleware(CachedReadMiddleware)
    application.add_middleware(DeprecationMiddleware)
    transport = httpx.ASGITransport(app=application)
    async with httpx.AsyncClient(transport=transport, base_url="http://t.test", headers=bearer("k")) as c:
        first = await c.get("/things?unit_id=3")
        again = await c.get("/things?unit_id=3")
        assert renders == [3], "the second was a hit"
        for response in (first, again):
            assert response.json() == {"unit": 3}
            assert response.headers["deprecation"] == f"@{int(RENAMED_AT.timestamp())}"
            assert (
                response.headers["link"] == '</docs#/things/listThings>; rel="deprecation"; type="text/html"'
            )
        fresh = await c.get("/things?unit=3")
        assert "deprecation" not in fresh.headers
        unknown(await c.get("/things?unit_id=3&zzz=1"), BOGUS)
        assert renders == [3, 3]
