"""An in-process read cache with exact, transactional invalidation, coherent across instances.

- `store`: the rendered entries and the API keys' principals (`ReadCache`, `Entry`), dropped by
  tag, used only while the listener vouches for them; the generation that settles races; the
  flights and stale entries that render each miss once and keep readers from waiting for it.
- `invalidation`: `invalidate()` in a write's transaction (and `notify()` on a connection of the
  caller's own), the after-commit drop, the one NOTIFY payload. The tags are the features' own
  (`app.units.tags`, `app.clusters.tags`, …), except `ALL` and `KEYS`.
- `reads`: `cached()`, the key of an answer (`scope_key`), and the fast path before routing
  (`CachedReadMiddleware`, which also has a write render again what it dropped that was read
  hard, before it answers).
- `listener`: the dedicated `LISTEN` connection, and the heartbeat that bounds how stale a cached
  answer can be (`Listener`).

The names the rest of the app imports are all here: `from app.core.cache import …`.
"""

from app.core.cache.invalidation import (
    ALL,
    KEYS,
    invalidate,
    notify,
    session_info,
)
from app.core.cache.listener import Listener, listener_dsn
from app.core.cache.reads import CachedReadMiddleware, cached, cached_page, json_answer, scope_key
from app.core.cache.store import Entry, ReadCache
from app.core.identity import key_hash  # what the key cache is keyed by (the tests import it here)

__all__ = [
    "ALL",
    "KEYS",
    "CachedReadMiddleware",
    "Entry",
    "Listener",
    "ReadCache",
    "cached",
    "cached_page",
    "invalidate",
    "json_answer",
    "key_hash",
    "listener_dsn",
    "notify",
    "scope_key",
    "session_info",
]
