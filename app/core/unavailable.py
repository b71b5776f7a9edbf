"""Which failures mean the database is unreachable or too slow (503 with `Retry-After`), not a bug."""

from collections.abc import Iterator

import asyncpg
from sqlalchemy import exc as sa

SESSION_ENDED_SQLSTATES = frozenset(
    {
        "57P01",  # admin_shutdown
        "57P02",  # crash_shutdown
        "57P03",  # cannot_connect_now: starting up, shutting down, in recovery
    }
)
"""The server ended the session: its connection is gone (`plans.fetch` invalidates it)."""
_SQLSTATES = SESSION_ENDED_SQLSTATES | {
    "57014",  # query_canceled: statement_timeout
    "53300",  # too_many_connections
}
_DRIVERS = ("asyncpg", "sqlalchemy")


def unavailable_cause(error: BaseException) -> str | None:
    """If `error`, or an error it was raised from, says the database cannot be reached, refused or
    dropped the connection, or did not answer in time: the class of the deepest such error, for
    logs (`TimeoutError`, `asyncpg.exceptions.QueryCanceledError`). Otherwise None."""
    causes = [e for e in chain(error) if _says_unavailable(e)]
    if not causes:
        return None
    cls = type(causes[-1])
    return cls.__qualname__ if cls.__module__ == "builtins" else f"{cls.__module__}.{cls.__qualname__}"


def chain(error: BaseException) -> Iterator[BaseException]:
    """`error`, then the error it was raised from or during, and so on."""
    seen: set[int] = set()
    current: BaseException | None = error
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        yield current
        current = current.__cause__ or (None if current.__suppress_context__ else current.__context__)


def _says_unavailable(error: BaseException) -> bool:
    if isinstance(error, sa.TimeoutError):  # no pooled connection free within DB_POOL_TIMEOUT_SECONDS
        return True
    if isinstance(error, sa.DBAPIError):
        return error.connection_invalidated or isinstance(error, sa.OperationalError | sa.InterfaceError)
    if isinstance(error, asyncpg.PostgresError):
        state = str(getattr(error, "sqlstate", "") or "")
        return state in _SQLSTATES or state.startswith("08")
    if isinstance(error, asyncpg.InterfaceError):
        return isinstance(error, asyncpg.ConnectionDoesNotExistError)
    # Connection refused or reset, socket missing, connect or command timeout (TimeoutError is an
    # OSError): the database's only when the driver raised it, not a file the app could not read.
    return isinstance(error, OSError) and raised_in(error, _DRIVERS)


def raised_in(error: BaseException, packages: tuple[str, ...]) -> bool:
    """Whether `error` went through code of one of `packages` (top-level names)."""
    traceback = error.__traceback__
    while traceback is not None:
        module = str(traceback.tb_frame.f_globals.get("__name__", ""))
        if module.split(".", 1)[0] in packages:
            return True
        traceback = traceback.tb_next
    return False
