"""The store: rendered entries and the principals of API keys, dropped by tag, in use only while
the listener vouches for them.

Entries are rendered responses (body bytes, ETag, content type) per variant (path and query,
`Accept`, the negotiated language, whether gzip is accepted: then the bytes are compressed), each
carrying the **tags** it depends on (`unit:12`, `cluster:5`, `units`, `keys`, …); `drop` removes
every entry carrying one of the tags it is given (`*`, `ALL`: everything; `keys`, `KEYS`: the
key cache too). Who calls `drop` is `app.core.cache.invalidation` (after a local commit) and
`app.core.cache.listener` (on another instance's notification).

While the listener is not listening (not yet connected, connection lost, keep-alive failed) the
cache is empty and every read goes to the database: nothing is served that cannot be proven
current. The store is used, and a cached API key accepted, only until the time the listener's
last heartbeat vouches for (`usable`, `prove`); a cached answer is therefore never more than
`CACHE_STALENESS_BOUND_SECONDS` staler than the database.

Races: a read captures the cache's **generation** before its queries and stores its result only
if no invalidation (nor loss of the listener) happened in between.
"""

import logging
import math
import time
import uuid
import weakref
from collections import OrderedDict
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from prometheus_client import Counter, Gauge

log = logging.getLogger("thidua.cache")

INVALIDATIONS = Counter(
    "thidua_cache_invalidations_total", "Tags invalidated (local commits and notifications)", ("tag_kind",)
)
LISTENING = Gauge(
    "thidua_cache_listening",
    "Read caches of this process listening for invalidations, their listener proven live within "
    "the staleness bound, in use (a server has one: 1 or 0)",
)

ALL = "*"
"""The tag of a notification that drops everything (payload too long, or a bulk load)."""
KEYS = "keys"
"""The tag that also drops the cached principals of API keys."""


@dataclass(frozen=True, slots=True)
class Entry:
    body: bytes
    etag: str
    content_type: str
    tags: frozenset[str]
    headers: tuple[tuple[str, str], ...] = ()
    """Other representation headers (`Content-Disposition`, `Vary`)."""
    encoding: str = ""
    """`gzip` when `body` is compressed (`Content-Encoding`, on a 200 only); else empty."""
    kind: str = ""
    """The route's path template, for the metrics."""
    route: Any = None
    """The route that rendered it (the metrics middleware labels by it)."""


def _kind(tag: str) -> str:
    return tag.split(":", 1)[0]


class ReadCache:
    """Rendered entries (LRU, bounded) and the principals of API keys, both dropped by tag."""

    def __init__(self, *, enabled: bool = True, max_entries: int = 10_000) -> None:
        self.enabled = enabled
        self.max_entries = max_entries
        self.instance = uuid.uuid4().hex[:16]
        """Names this process's notifications, which it has dropped already (after its commit)."""
        self.listening = False
        """LISTEN established and its heartbeat not (yet) failed; `usable` also needs a recent proof."""
        self._proven_until = -math.inf
        """The monotonic time until which the listener's last heartbeat vouches for the cache."""
        self._generation = 0
        self._entries: OrderedDict[tuple[str, ...], Entry] = OrderedDict()
        self._by_tag: dict[str, set[tuple[str, ...]]] = {}
        self._keys: dict[str, Any] = {}
        _CACHES.add(self)

    # --- state -----------------------------------------------------------------------------

    @property
    def usable(self) -> bool:
        """Whether entries and keys may be served: on, and the listener proven live recently
        enough (one clock read and a compare; not listening means a proof time of -inf)."""
        return self.enabled and time.monotonic() <= self._proven_until

    @property
    def proven_until(self) -> float:
        """The monotonic time until which the cache may be used (-inf: not listening)."""
        return self._proven_until

    def generation(self) -> int | None:
        """The token a read captures before its queries; None when nothing may be cached."""
        return self._generation if self.usable else None

    def __len__(self) -> int:
        return len(self._entries)

    # --- entries ---------------------------------------------------------------------------

    def get(self, key: tuple[str, ...]) -> Entry | None:
        if not self.usable:
            return None
        entry = self._entries.get(key)
        if entry is not None:
            self._entries.move_to_end(key)
        return entry

    def store(self, key: tuple[str, ...], entry: Entry, generation: int | None) -> bool:
        """Keeps `entry` unless something was invalidated since `generation` was captured."""
        if generation is None or not self.usable or generation != self._generation:
            return False
        self._unlink(key)
        self._entries[key] = entry
        for tag in entry.tags:
            self._by_tag.setdefault(tag, set()).add(key)
        while len(self._entries) > self.max_entries:
            self._unlink(next(iter(self._entries)))
        return True

    def _unlink(self, key: tuple[str, ...]) -> None:
        entry = self._entries.pop(key, None)
        if entry is None:
            return
        for tag in entry.tags:
            keys = self._by_tag.get(tag)
            if keys is not None:
                keys.discard(key)
                if not keys:
                    del self._by_tag[tag]

    # --- API keys --------------------------------------------------------------------------

    def key(self, key_hash: str) -> Any | None:
        return self._keys.get(key_hash) if self.usable else None

    def store_key(self, key_hash: str, principal: Any, generation: int | None) -> None:
        if generation is None or not self.usable or generation != self._generation:
            return
        if len(self._keys) >= self.max_entries:
            self._keys.clear()
        self._keys[key_hash] = principal

    # --- invalidation ----------------------------------------------------------------------

    def drop(self, tags: Iterable[str]) -> None:
        """Drops every entry carrying one of `tags` (`*`: everything)."""
        self._generation += 1
        for tag in tags:
            INVALIDATIONS.labels(_kind(tag)).inc()
            if tag == ALL:
                self.clear()
                return
            if tag == KEYS:
                self._keys.clear()
            for key in list(self._by_tag.get(tag, ())):
                self._unlink(key)

    def clear(self) -> None:
        self._generation += 1
        self._entries.clear()
        self._by_tag.clear()
        self._keys.clear()

    def set_listening(self, listening: bool, until: float = math.inf) -> None:
        """Listening (LISTEN just succeeded; usable until the monotonic time `until`, which the
        listener always gives: without one, as in a unit test, a cache listens for good) or not.
        Either way the cache is dropped: notifications may have been missed."""
        self.clear()
        self.listening = listening
        self._proven_until = until if listening else -math.inf

    def prove(self, until: float) -> None:
        """A heartbeat came back: usable until the monotonic time `until`. If the last proof had
        lapsed meanwhile (reads went through), the cache is dropped first, as after a reconnect."""
        if not self.listening:
            return
        if time.monotonic() > self._proven_until:
            log.info("cache listener proven live again after a gap; cache dropped")
            self.clear()
        self._proven_until = max(self._proven_until, until)


_CACHES: weakref.WeakSet[ReadCache] = weakref.WeakSet()
"""Every read cache of this process, for the `thidua_cache_listening` gauge."""
LISTENING.set_function(lambda: sum(1 for cache in list(_CACHES) if cache.usable))
"""Evaluated at each scrape, so a listener whose proof has lapsed counts 0 at once."""
