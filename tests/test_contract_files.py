"""The schema the models describe is the one the migrations build; the committed OpenAPI
document is the one the app serves."""

import json

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from app.core.config import PROJECT_ROOT
from app.core.database import Database
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
            "units_code_unique_in_time",
        ]


def test_committed_openapi_matches_the_app() -> None:
    committed = json.loads((PROJECT_ROOT / "openapi" / "openapi.json").read_text(encoding="utf-8"))
    assert committed == json.loads(json.dumps(app.openapi())), "run `make openapi` and commit the result"


def test_every_operation_is_documented() -> None:
    for path, operations in app.openapi()["paths"].items():
        for method, operation in operations.items():
            assert operation.get("summary"), (method, path)
            assert operation.get("tags"), (method, path)
            for status, response in operation["responses"].items():
                if status.startswith(("4", "5")):
                    assert "application/problem+json" in response["content"], (method, path, status)
