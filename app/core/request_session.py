"""The request's one session when it is opened before routing.

A key not in the key cache is looked up by the rate limiter, before routing (it must know whose
budget to count). For a read (GET, HEAD: no body to wait for) it is looked up on the session the
route will use, opened for the purpose and left in the scope under `REQUEST_SESSION`: the route's
`SessionDep` takes it over, and the limiter closes it when the request ends. One connection per
request; a read's session runs each statement on its own (`Database.read_sessionmaker`), so a
cold read sends its key's lookup and its own queries with no `BEGIN` or `COMMIT` between them. A
request with a body is looked up on a connection of the lookup's own, at once returned.
"""

import asyncio
from typing import Any

from starlette.types import Scope

READ_METHODS = frozenset({"GET", "HEAD"})
"""The methods that only read: no body, and a session of their own kind (`Database.session_for`)."""

REQUEST_SESSION = "thidua.session"
"""`scope[REQUEST_SESSION]`: the session opened before routing (never copied into a replayed
request's scope, which renders apart, later, in a task of its own)."""


def open_request_session(scope: Scope) -> Any:
    """The request's session, opened now (an `AsyncSession`; no connection is taken until its
    first statement)."""
    session = scope.get(REQUEST_SESSION)
    if session is None:
        session = scope[REQUEST_SESSION] = scope["app"].state.database.session_for(scope["method"])
    return session


async def close_request_session(scope: Scope) -> None:
    """Closes the session `open_request_session` opened, if any (a transaction still open is
    rolled back and its connection returned to the pool)."""
    session = scope.pop(REQUEST_SESSION, None)
    if session is not None:  # shielded, as `AsyncSession.__aexit__` closes: a cancelled request
        await asyncio.shield(session.close())  # still returns its connection cleanly
