"""What a read's session may run (`Database.read_sessionmaker`): queries only.

A GET or HEAD runs each statement on its own, with no transaction around them, so a write of
several statements there could land half done, and a lock would hold nothing. No read writes
today; this check keeps it so. It reads the statement's text (once per text: the statements are
the app's own, a few hundred of them), with string literals, quoted names and comments left out,
and refuses what writes or locks: a data-changing keyword, `SELECT … INTO`, a row lock (`FOR
UPDATE`, `FOR SHARE` and their kin), `NOTIFY`, and the functions that change state (`nextval`,
`set_config`, advisory locks, `pg_notify`). A text check, not a proof: it cannot see into a
function the statement calls."""

import re
from functools import lru_cache

_HIDDEN = re.compile(r"'(?:[^']|'')*'|\"(?:[^\"]|\"\")*\"|--[^\n]*|/\*.*?\*/", re.DOTALL)
"""String literals, quoted names and comments: words there are data, not SQL."""
_QUERY = re.compile(r"[\s(]*(SELECT|WITH|VALUES|TABLE)\b", re.IGNORECASE)
"""A query begins so (a union of limited selects begins with a parenthesis)."""
_WRITES = re.compile(
    r"\b(INSERT|UPDATE|DELETE|MERGE|INTO|TRUNCATE|NOTIFY|LOCK|SHARE)\b"
    r"|\b(nextval|setval|set_config|pg_notify|pg_(try_)?advisory_\w+|txid_current|pg_current_xact_id)\s*\(",
    re.IGNORECASE,
)
"""What writes or locks: `FOR UPDATE` holds `UPDATE`, `FOR [KEY] SHARE` holds `SHARE`."""


class WriteOnRead(RuntimeError):
    """A GET or HEAD ran a statement that writes or locks: a bug (500), refused before it runs."""


def refuse_writes(statement: str) -> None:
    """Raises `WriteOnRead` unless `statement` only reads."""
    if _writes(statement):
        raise WriteOnRead(f"a read ran a statement that is not a query: {statement[:80]!r}")


@lru_cache(maxsize=2048)
def _writes(statement: str) -> bool:
    shown = _HIDDEN.sub(" ", statement)
    return not _QUERY.match(shown) or _WRITES.search(shown) is not None
