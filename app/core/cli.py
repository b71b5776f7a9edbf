"""What the command line says when a user's mistake stops it: one line on stderr, in
`DEFAULT_LOCALE`, and a non-zero exit status (2 for a wrong command line, 1 otherwise), never a
traceback. `guarded` runs a command and turns the mistakes `explain` knows into that line; any
other exception is a bug and keeps its traceback."""

import argparse
import errno
import os
import re
import socket
import sys
from collections.abc import Callable
from typing import NoReturn

import asyncpg
from pydantic import ValidationError
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError

from app.core.config import Settings, get_settings
from app.core.database import DatabaseUrlError, masked
from app.core.errors import AppError
from app.core.i18n import LOCALES, N_, Locale, _, use_locale
from app.core.unavailable import chain, raised_in
from app.core.validation import field_message

USAGE = 2
FAILURE = 1
INTERRUPTED = 130
DEFAULT_PORT = 5432
_DRIVERS = ("asyncpg", "sqlalchemy", "alembic")


class UsageError(Exception):
    """The command line is wrong; the message (localized) says how."""


class Parser(argparse.ArgumentParser):
    """`argparse`, whose errors are one localized line (`UsageError`) instead of the usage text
    and an English message; `-h` is argparse's own help."""

    def error(self, message: str) -> NoReturn:
        self.mistake(_argparse(message))

    def mistake(self, message: str) -> NoReturn:
        """Stop on a wrong command line that `message` (localized) explains."""
        raise UsageError(_("{message} (see {command} -h)", message=message, command=self.prog))


# argparse's messages (Python 3.11+), read back into ours: argparse translates with gettext
# catalogs of its own, which we do not ship.
_ARGUMENT = re.compile(r"argument (?P<argument>\S+): (?P<message>.+)", re.DOTALL)
_ARGPARSE: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"the following arguments are required: (?P<names>.+)"), N_("missing: {names}")),
    (re.compile(r"unrecognized arguments: (?P<arguments>.+)"), N_("not understood: {arguments}")),
    (
        re.compile(r"invalid choice: (?P<value>.+?) \(choose from (?P<choices>.+)\)"),
        N_("{value} is not one of {choices}"),
    ),
    (re.compile(r"invalid int value: (?P<value>.+)"), N_("{value} is not a whole number")),
    (re.compile(r"expected one argument"), N_("a value is missing")),
    (
        re.compile(r"ambiguous option: (?P<option>\S+) could match (?P<matches>.+)"),
        N_("{option} could mean {matches}"),
    ),
)


def _argparse(message: str) -> str:
    argument = None
    if found := _ARGUMENT.fullmatch(message):
        argument, message = found["argument"], found["message"]
    for pattern, text in _ARGPARSE:
        if found := pattern.fullmatch(message):
            message = _(text, **found.groupdict())
            break
    else:
        message = _("the command line is not valid: {message}", message=message)
    return _("{argument}: {message}", argument=argument, message=message) if argument else message


def guarded(command: Callable[[], int]) -> int:
    """Run `command`; a mistake it ends with becomes one line on stderr and its exit status."""
    with use_locale(_cli_locale()):
        try:
            return command()
        except BaseException as exc:
            explained = explain(exc)
            if explained is None:
                raise
            status, line = explained
            print(line, file=sys.stderr)
            return status


def explain(exc: BaseException) -> tuple[int, str] | None:
    """The exit status and the line for a mistake (None: a bug, not a mistake)."""
    if isinstance(exc, ValidationError) and exc.title == Settings.__name__:
        with use_locale(_locale_without_settings()):
            return FAILURE, _("error: {message}", message=_setting_problem(exc))
    if isinstance(exc, KeyboardInterrupt):
        return INTERRUPTED, _("Interrupted.")
    if isinstance(exc, UsageError):
        return USAGE, _("error: {message}", message=exc)
    if isinstance(exc, DatabaseUrlError):
        return FAILURE, _("error: {message}", message=exc)
    if isinstance(exc, AppError):
        return FAILURE, _("error: {message}", message=exc.detail)
    reason = _connection_problem(exc, get_settings())
    if reason is not None:
        return FAILURE, _(
            "error: cannot connect to the database {url}: {reason}.",
            url=_tried(get_settings()),
            reason=reason,
        )
    return None


def _cli_locale() -> Locale:
    """`DEFAULT_LOCALE`, the language the command speaks (the settings are read here, at the
    process's entry; when they are wrong, `explain` says so in the language it can find)."""
    try:
        return get_settings().default_locale
    except ValidationError:
        return _locale_without_settings()


def _locale_without_settings() -> Locale:
    """The language when the settings themselves are wrong: DEFAULT_LOCALE if it is valid."""
    wanted = os.environ.get("DEFAULT_LOCALE", "").strip().lower()
    return next(
        (locale for locale in LOCALES if locale == wanted), Settings.model_fields["default_locale"].default
    )


def _setting_problem(exc: ValidationError) -> str:
    first = exc.errors()[0]
    if not first["loc"]:  # settings inconsistent together: the message names each of them
        return field_message(first)
    name = ".".join(str(part) for part in first["loc"]).upper()
    return _("the setting {name} is not valid: {message}", name=name, message=field_message(first))


def _tried(settings: Settings) -> str:
    """The URL connected to, password hidden, its port spelled out."""
    if settings.database_url is None:
        return _("(embedded, in {path})", path=settings.data_dir / "pg")
    url = _configured(settings)
    if url is None:
        return masked(settings.database_url)
    if url.host and not url.port and not url.host.startswith("/"):
        url = url.set(port=DEFAULT_PORT)
    return masked(url.render_as_string(hide_password=False))


def _configured(settings: Settings) -> URL | None:
    """DATABASE_URL, parsed, if it is set and can be."""
    try:
        return make_url(settings.database_url) if settings.database_url else None
    except (ArgumentError, ValueError):
        return None


def _connection_problem(exc: BaseException, settings: Settings) -> str | None:
    """Why connecting failed, if `exc` says so: a refused or silent address, an unknown host,
    or a server that refused the user, the password or the database."""
    url = _configured(settings)
    user = (url.username if url else None) or "postgres"
    for error in chain(exc):
        if isinstance(error, asyncpg.InvalidPasswordError):
            return _("the password of user {user} was refused", user=user)
        if isinstance(error, asyncpg.InvalidAuthorizationSpecificationError):
            return _("user {user} was refused ({reason})", user=user, reason=error)
        if isinstance(error, asyncpg.InvalidCatalogNameError):
            return _("database {database} does not exist", database=url.database if url else "?")
        if isinstance(error, asyncpg.PostgresError) and str(getattr(error, "sqlstate", "")).startswith(
            ("08", "53300", "57P03")
        ):
            return _("the server refused the connection ({reason})", reason=error)
        if not isinstance(error, OSError) or not raised_in(error, _DRIVERS):
            continue
        if isinstance(error, TimeoutError):
            return _(
                "no answer within {seconds} s (DB_CONNECT_TIMEOUT_SECONDS)",
                seconds=f"{settings.db_connect_timeout_seconds:g}",
            )
        if isinstance(error, socket.gaierror):
            return _("unknown host {host}", host=url.host if url else "?")
        if isinstance(error, ConnectionRefusedError) or f"[Errno {errno.ECONNREFUSED}]" in str(error):
            return _("connection refused (nothing listens on that host and port)")
        if isinstance(error, FileNotFoundError):
            return _("no server socket in {directory}", directory=url.query.get("host") if url else "?")
        return str(error) or type(error).__name__
    return None
