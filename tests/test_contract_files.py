"""The schema the models describe is the one the migrations build; the committed OpenAPI
document is the one the app serves."""

import json
import re
import tomllib

import jsonschema_rs
import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from app.core.config import PROJECT_ROOT
from app.core.database import Database
from app.core.i18n import use_locale
from app.core.openapi import _name_union_bodies
from app.core.openapi_i18n import COMMITTED_LOCALE
from app.main import app
from app.models import metadata


async def test_models_and_migrations_agree(database: Database) -> None:
    def diff(connection):  # type: ignore[no-untyped-def]
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        return compare_metadata(context, metadata)

    async with database.engine.connect() as connection:
        differences = await connection.run_sync(diff)
    assert differences == []


async def test_exclusion_constraints_exist(database: Database) -> None:
    async with database.engine.connect() as connection:
        rows = await connection.exec_driver_sql(
            "SELECT conname FROM pg_constraint WHERE contype = 'x' ORDER BY 1"
        )
        assert [r[0] for r in rows] == [
            "memberships_one_cluster_per_day",
            "reporting_period_rules_no_overlap",
            "rule_sets_no_overlap",
            "units_code_unique_in_time",
        ]


_NAMES = """
SELECT c.conrelid::regclass::text, c.conname, c.contype::text,
       coalesce((SELECT array_agg(a.attname::text ORDER BY k.n)
                 FROM unnest(c.conkey) WITH ORDINALITY AS k(attnum, n)
                 JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = k.attnum), '{}')
FROM pg_constraint c
WHERE c.connamespace = 'public'::regnamespace AND c.conrelid <> 'alembic_version'::regclass
UNION ALL
SELECT i.tablename::text, i.indexname::text, 'i', '{}'
FROM pg_indexes i
WHERE i.schemaname = 'public' AND i.tablename <> 'alembic_version'
  AND i.indexname NOT IN (SELECT conname FROM pg_constraint WHERE contype IN ('p', 'u', 'x'))
"""


def _follows_the_convention(table: str, name: str, kind: str, columns: list[str]) -> bool:
    """`app.core.naming`: PostgreSQL's own names for what the models leave unnamed (a key, a unique
    or foreign key on its columns, a NOT NULL, an index), and a name the models give (a check, an
    exclusion, a named foreign key or index) after its table's, once."""
    joined = "_".join(columns)
    if kind == "p":
        return name == f"{table}_pkey"
    if kind == "u":
        return name == f"{table}_{joined}_key"
    if kind == "n":
        return name == f"{table}_{joined}_not_null"
    own = name.removeprefix(f"{table}_")
    if own == name or own.startswith(f"{table}_"):
        return False
    if kind == "f":
        return own.endswith("_fkey")
    return kind in ("c", "x", "i")


async def test_constraint_and_index_names_follow_one_convention(database: Database) -> None:
    """Every constraint and index of the migrated schema is named by the convention, and as the
    models name it (Alembic's comparison leaves the names of checks out)."""
    async with database.engine.connect() as connection:
        rows = [tuple(r) for r in await connection.exec_driver_sql(_NAMES)]
    assert [r[:3] for r in rows if not _follows_the_convention(*r)] == []
    in_database = {(table, name) for table, name, kind, _ in rows if kind != "n"}
    in_models = {
        (table.name, str(item.name))
        for table in metadata.sorted_tables
        for item in [*table.constraints, *table.indexes]
    }
    assert sorted(in_database ^ in_models) == []


def test_committed_openapi_matches_the_app() -> None:
    committed = json.loads((PROJECT_ROOT / "openapi" / "openapi.json").read_text(encoding="utf-8"))
    with use_locale(COMMITTED_LOCALE):  # the committed document is the default language's
        served = json.loads(json.dumps(app.openapi()))
    assert committed == served, "run `make openapi` and commit the result"


def test_every_operation_is_documented() -> None:
    for path, operations in app.openapi()["paths"].items():
        for method, operation in operations.items():
            assert operation.get("summary"), (method, path)
            assert operation.get("tags"), (method, path)
            for status, response in operation["responses"].items():
                if status.startswith(("4", "5")):
                    assert "application/problem+json" in response["content"], (method, path, status)


def _has_example(schema: dict, components: dict, seen: frozenset[str] = frozenset()) -> bool:
    """An example on the schema, or on what it is made of (a $ref, list items, page items)."""
    if "example" in schema or "examples" in schema:
        return True
    if "$ref" in schema:
        name = schema["$ref"].rsplit("/", 1)[-1]
        return name not in seen and _has_example(components[name], components, seen | {name})
    if "oneOf" in schema or "anyOf" in schema:
        variants = schema.get("oneOf") or schema.get("anyOf")
        return any(_has_example(v, components, seen) for v in variants)
    if schema.get("type") == "array":
        return _has_example(schema.get("items", {}), components, seen)
    if "items" in schema.get("properties", {}):
        return _has_example(schema["properties"]["items"], components, seen)
    return False


def test_every_success_response_and_body_has_an_example() -> None:
    document = app.openapi()
    components = document["components"]["schemas"]
    missing = []
    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            for status, response in operation["responses"].items():
                json_body = response.get("content", {}).get("application/json")
                if status.startswith("2") and json_body and not _has_example(json_body["schema"], components):
                    missing.append(f"{method.upper()} {path} → {status}")
            body = operation.get("requestBody", {}).get("content", {}).get("application/json")
            if body and not _has_example(body["schema"], components):
                missing.append(f"{method.upper()} {path} request body")
    assert missing == [], "\n".join(missing)


OPERATION_ID = re.compile(
    r"^(list|get|create|update|put|record|revoke|thaw|suggest|cast|close)[A-Z][A-Za-z]*$"
)


def test_operation_ids_read_as_method_names() -> None:
    """Chosen on purpose (`listUnits`, `getClusterYear`), unique; a new operation left with
    FastAPI's derived id (`list_units_v1_units_get`) fails here."""
    ids = [op["operationId"] for _, _, op in _operations(app.openapi())]
    assert [i for i in ids if not OPERATION_ID.match(i)] == []
    assert len(ids) == len(set(ids))


def _operations(document: dict) -> list[tuple[str, str, dict]]:
    return [(path, method, op) for path, item in document["paths"].items() for method, op in item.items()]


def _validator(schema: dict, components: dict) -> jsonschema_rs.Validator:
    return jsonschema_rs.validator_for({**schema, "components": components})


def test_every_example_is_valid_against_its_schema() -> None:
    """Mock servers and generated clients trust examples: each must satisfy its own schema."""
    document = app.openapi()
    components = document["components"]
    invalid = []

    def check(where: str, schema: dict, example: object) -> None:
        errors = [e.message for e in _validator(schema, components).iter_errors(example)]
        if errors:
            invalid.append(f"{where}: {errors[:2]}")

    for name, schema in components["schemas"].items():
        if "example" in schema:
            check(name, {"$ref": f"#/components/schemas/{name}"}, schema["example"])
    for path, method, operation in _operations(document):
        contents = [("request", operation.get("requestBody", {}).get("content", {}))] + [
            (status, response.get("content", {})) for status, response in operation["responses"].items()
        ]
        for where, content in contents:
            for media in content.values():
                if "example" in media:
                    check(f"{method.upper()} {path} {where}", media["schema"], media["example"])
    assert invalid == [], "\n".join(invalid)
    assert len([s for s in components["schemas"].values() if "example" in s]) > 20


def test_every_request_body_and_its_unions_have_names() -> None:
    """A union request body inline would be `Body`, `Body1`, … in generated clients: each is a
    component (`app.core.openapi.UNION_BODIES`), and a new one without a name fails to build."""
    document = app.openapi()
    inline = [
        f"{method.upper()} {path}"
        for path, method, op in _operations(document)
        for content in op.get("requestBody", {}).get("content", {}).values()
        if {"oneOf", "anyOf"} & set(content.get("schema", {}))
    ]
    assert inline == []
    schemas = document["components"]["schemas"]
    keys = document["paths"]["/v1/keys"]["post"]["requestBody"]["content"]["application/json"]["schema"]
    assert keys == {"$ref": "#/components/schemas/KeyCreate"}
    assert schemas["KeyCreate"]["discriminator"]["propertyName"] == "role"
    assert schemas["SuccessionCreate"]["discriminator"]["propertyName"] == "kind"
    unnamed = {
        "openapi": "3.1.0",
        "paths": {
            "/x": {
                "post": {
                    "operationId": "createX",
                    "requestBody": {
                        "content": {
                            "application/json": {"schema": {"oneOf": [{"$ref": "#/components/schemas/A"}]}}
                        }
                    },
                }
            }
        },
        "components": {"schemas": {}},
    }
    with pytest.raises(ValueError, match="name its union request body"):
        _name_union_bodies(unnamed)


def test_component_names_are_plain() -> None:
    """Two models with one name make FastAPI qualify both (`app__core__errors__Problem`), which
    renames a type every generated client uses: give each model its own name."""
    names = app.openapi()["components"]["schemas"]
    assert [n for n in names if "__" in n] == []
    assert "Problem" in names


def test_one_version_for_the_package_the_spec_and_the_changelog() -> None:
    project = tomllib.loads((PROJECT_ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    version = project["version"]
    committed = json.loads((PROJECT_ROOT / "openapi" / "openapi.json").read_text(encoding="utf-8"))
    assert app.version == version
    assert committed["info"]["version"] == version
    changelog = (PROJECT_ROOT / "CHANGELOG.md").read_text(encoding="utf-8")
    assert re.search(rf"^## {re.escape(version)}\b", changelog, re.MULTILINE), "CHANGELOG names it"
