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
if none of its tags was dropped in between (nor everything, nor the listener lost): a write to
what it does not show does not keep it from being stored.

**Each thing once** (issue 23). A miss is rendered once however many readers ask for it
meanwhile: the first reader leads a **flight** (`begin`, `land`), the others wait for its entry
(`Flight`). A dropped entry stays **stale** (`Stale`) while it is rendered again, and stands in
for that render for readers whose reads are concurrent with it:

- **A write renders again what it dropped here that was being read hard** (`settle`, called as
  its answer starts: `HOT_READS_PER_SECOND`, at most `REVALIDATED_AT_MOST`), and answers once
  that render has landed; meanwhile its readers get the stale entry at once (their reads are
  concurrent with the write), and from its answer on nobody does (`retire`): whoever reads after
  a write on this instance reads it, as before, and the readers of a sheet whose cluster writes
  every 100 ms wait for no render. What it dropped that was not read hard is left to its next
  reader, who renders it (once).
- **A drop another instance notified** keeps its stale entry for readers, and the first of them
  has it rendered again behind it (`app.core.cache.reads`): as before, such a write is seen here
  once its notification has come and been applied, and now once its render has landed.
- **No reader gets a representation older than its own last write.** A write's answer records
  its caller with the generation then (`wrote`); a stale entry, or a flight's result, goes to a
  caller only if it was rendered from that generation or later (its queries began after the
  write committed).
- **A stale entry is served no longer than the proof in force when it was dropped**
  (`proven_until` then): a heartbeat sent at `t` proves every commit before `t` applied, and the
  drop came later, so the write that dropped it committed after `t`, and the entry is never more
  than `CACHE_STALENESS_BOUND_SECONDS` staler than the database; a flight is joined, and a raced
  render held (`hold`), on the same terms. Losing the listener, or a late proof, drops stale
  entries and flights with the rest.
"""

import asyncio
import logging
import math
import time
import uuid
import weakref
from collections import OrderedDict
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
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

REVALIDATED_AT_MOST = 32
"""The entries a write renders again before it answers, at most: the most read."""
HOT_READS_PER_SECOND = 8
"""An entry a write dropped is rendered again by the write only if it was being read this often
(in the last whole second, or the one under way): what many readers would otherwise all miss.
Any other is left to its next reader, as after any drop."""

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
    generation: int = field(default=-1, compare=False)
    """The cache's generation when its render began (set by `store`): it shows every write whose
    answer was sent before then (`ReadCache.wrote`)."""
    wire: tuple[tuple[bytes, bytes], ...] = field(init=False, repr=False, compare=False)
    """Its headers as the fast path sends them with the body (`ETag`, the others,
    `Content-Type`, `Content-Encoding`, `Content-Length`), encoded once."""
    wire_304: tuple[tuple[bytes, bytes], ...] = field(init=False, repr=False, compare=False)
    """The same for a 304: without `Content-Type`, `Content-Encoding` and `Content-Length`."""

    def __post_init__(self) -> None:
        kept = [(b"etag", self.etag.encode("latin-1"))]
        kept += [(k.encode("latin-1"), v.encode("latin-1")) for k, v in self.headers]
        body = [(b"content-type", self.content_type.encode("latin-1"))]
        if self.encoding:
            body.append((b"content-encoding", self.encoding.encode("latin-1")))
        body.append((b"content-length", str(len(self.body)).encode("latin-1")))
        object.__setattr__(self, "wire", (*kept, *body))
        object.__setattr__(self, "wire_304", tuple(kept))


@dataclass(eq=False)
class Flight:
    """A render in progress for one key: the readers who ask meanwhile wait for its entry (None
    if it failed: then they render themselves)."""

    generation: int
    """The generation its render began from: the writes it shows, as `Entry.generation`."""
    joinable_until: float
    """The monotonic time until which a reader may still wait for it (the proof in force when it
    began, as for a stale entry)."""
    entry: "asyncio.Future[Entry | None]" = field(
        default_factory=lambda: asyncio.get_running_loop().create_future()
    )


@dataclass(frozen=True, slots=True)
class Stale:
    """A dropped entry, kept to stand in for its revalidation."""

    entry: Entry
    until: float
    """The monotonic time past which it is never served: the proof in force when it was dropped."""
    dropped: int
    """The generation its drop made."""
    local: bool
    """Dropped after a commit on this instance (a write it is still answering), not by another
    instance's notification."""


def _kind(tag: str) -> str:
    return tag.split(":", 1)[0]


class ReadCache:
    """Rendered entries (LRU, bounded) and the principals of API keys, both dropped by tag; the
    stale entries and the flights that revalidate them."""

    def __init__(self, *, enabled: bool = True, max_entries: int = 10_000) -> None:
        self.enabled = enabled
        self.max_entries = max_entries
        self.revalidated_at_most = REVALIDATED_AT_MOST
        self.hot_reads_per_second = HOT_READS_PER_SECOND
        self.instance = uuid.uuid4().hex[:16]
        """Names this process's notifications, which it has dropped already (after its commit)."""
        self.listening = False
        """LISTEN established and its heartbeat not (yet) failed; `usable` also needs a recent proof."""
        self._proven_until = -math.inf
        """The monotonic time until which the listener's last heartbeat vouches for the cache."""
        self._generation = 0
        self._cleared = 0
        """The generation of the last drop of everything."""
        self._dropped: dict[str, int] = {}
        """Each tag's last drop, by generation: a render that began before it is not stored."""
        self._entries: OrderedDict[tuple[str, ...], Entry] = OrderedDict()
        self._by_tag: dict[str, set[tuple[str, ...]]] = {}
        self._keys: dict[str, Any] = {}
        self._stale: OrderedDict[tuple[str, ...], Stale] = OrderedDict()
        """Dropped entries that may stand in for their revalidation."""
        self._heat: dict[tuple[str, ...], list[float]] = {}
        """How often each entry is read: `[second began, reads in it, reads in the one before]`."""
        self._flights: dict[tuple[str, ...], Flight] = {}
        self._writes: dict[str, int] = {}
        """Who wrote (`Caller.rate_limit_key`), and the generation when its answer was sent."""
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

    def mark(self) -> int:
        """The generation now, usable or not: where a write's drops begin (`settle`)."""
        return self._generation

    def __len__(self) -> int:
        return len(self._entries)

    # --- entries ---------------------------------------------------------------------------

    def get(self, key: tuple[str, ...]) -> Entry | None:
        now = time.monotonic()
        if not self.enabled or now > self._proven_until:
            return None
        entry = self._entries.get(key)
        if entry is not None:
            self._entries.move_to_end(key)
            self._read(key, now)
        return entry

    def _read(self, key: tuple[str, ...], now: float) -> None:
        heat = self._heat.get(key)
        if heat is None:
            self._heat[key] = [now, 1.0, 0.0]
        elif now - heat[0] < 1.0:
            heat[1] += 1
        else:
            heat[2] = heat[1] if now - heat[0] < 2.0 else 0.0
            heat[0], heat[1] = now, 1.0

    def _hot(self, key: tuple[str, ...], now: float) -> float:
        """Reads of `key` in the last second (or the one under way), if it is hot; else 0."""
        heat = self._heat.get(key)
        if heat is None or now - heat[0] >= 2.0:
            return 0.0
        reads = max(heat[1], heat[2]) if now - heat[0] < 1.0 else heat[1]
        return reads if reads >= self.hot_reads_per_second else 0.0

    def store(self, key: tuple[str, ...], entry: Entry, generation: int | None) -> bool:
        """Keeps `entry` (rendered from `generation`) unless one of its tags was dropped since."""
        if generation is None or not self.usable or not self._current(entry.tags, generation):
            return False
        self._unlink(key)
        self._stale.pop(key, None)
        self._entries[key] = replace(entry, generation=generation)
        for tag in entry.tags:
            self._by_tag.setdefault(tag, set()).add(key)
        while len(self._entries) > self.max_entries:
            self._unlink(next(iter(self._entries)))
        return True

    def _current(self, tags: Iterable[str], generation: int) -> bool:
        """Whether nothing `tags` names was dropped after `generation` (nor everything)."""
        if generation < self._cleared:
            return False
        dropped = self._dropped
        return all(dropped.get(tag, -1) <= generation for tag in tags)

    def _unlink(self, key: tuple[str, ...]) -> Entry | None:
        entry = self._entries.pop(key, None)
        if entry is None:
            return None
        for tag in entry.tags:
            keys = self._by_tag.get(tag)
            if keys is not None:
                keys.discard(key)
                if not keys:
                    del self._by_tag[tag]
        return entry

    # --- each thing once: stale entries, flights, writers -------------------------------------

    def wrote(self, who: str) -> None:
        """`who` has been answered a write: from now on it gets no stale entry, and waits for no
        flight, rendered before this."""
        if not self._stale and not self._flights:
            self._writes.clear()  # nothing older is held: every record is moot
        elif len(self._writes) >= self.max_entries:
            self._forget_stale()  # rather than forget a writer
        self._writes[who] = self._generation

    def _since(self, who: str | None) -> int:
        """The generation a representation shown to `who` must be rendered from."""
        return self._writes.get(who, -1) if who is not None else -1

    def stale(self, key: tuple[str, ...], who: str | None) -> Entry | None:
        """The dropped entry of `key`, if `who` may have it: rendered after its last write, within
        the proof in force when it was dropped. (Whoever serves it sees to its revalidation.)"""
        held = self._stale.get(key)
        if held is None or not self.usable:
            return None
        if time.monotonic() > held.until:
            del self._stale[key]
            return None
        return held.entry if held.entry.generation >= self._since(who) else None

    def in_flight(self, key: tuple[str, ...]) -> bool:
        """Whether a render of `key` is under way (its revalidation, when it is stale)."""
        return key in self._flights

    def hold(self, key: tuple[str, ...], entry: Entry, generation: int, until: float) -> None:
        """Keeps `entry`, rendered from `generation` but not stored (a write dropped one of its
        tags meanwhile), in place of the stale entry of `key` if it is newer, until `until` (the
        proof in force when its render began: it shows every commit proven then)."""
        held = self._stale.get(key)  # none: nothing stands in (never, or a write retired it)
        if held is None or held.entry.generation >= generation or time.monotonic() > until:
            return
        self._stale[key] = Stale(replace(entry, generation=generation), until, held.dropped, held.local)
        self._stale.move_to_end(key)

    def settle(self, since: int) -> list[tuple[tuple[str, ...], int]]:
        """What a write that began at generation `since` dropped here (this instance's stale
        entries dropped after it), each with the generation of its drop: the hot ones (read at
        least `hot_reads_per_second`), at most `revalidated_at_most`, the most read first, which
        the write renders again before it answers; the others are retired at once."""
        now = time.monotonic()
        ours = [
            (key, held.dropped) for key, held in self._stale.items() if held.local and held.dropped > since
        ]
        heat = {key: self._hot(key, now) for key, _dropped in ours}
        ours.sort(key=lambda found: heat[found[0]], reverse=True)
        hot = [found for found in ours[: self.revalidated_at_most] if heat[found[0]]]
        self.retire(ours[len(hot) :])
        return hot

    def revalidation(self, key: tuple[str, ...], dropped: int) -> Flight | None:
        """The render of `key` in flight that began after its drop (at generation `dropped`)."""
        flight = self._flights.get(key)
        return flight if flight is not None and flight.generation >= dropped else None

    def retire(self, dropped: list[tuple[tuple[str, ...], int]]) -> None:
        """A write has answered: the stale entries it dropped are never served again, nor waited
        for are the renders that began before their drop."""
        for key, generation in dropped:
            held = self._stale.get(key)
            if held is not None and held.dropped <= generation:
                del self._stale[key]
            flight = self._flights.get(key)
            if flight is not None and flight.generation < generation:
                del self._flights[key]

    def flight(self, key: tuple[str, ...], who: str | None) -> Flight | None:
        """The render in flight for `key` that `who` may wait for: begun after its last write,
        within the proof in force when it began."""
        flight = self._flights.get(key)
        if flight is None or time.monotonic() > flight.joinable_until:
            return None
        return flight if flight.generation >= self._since(who) else None

    def begin(self, key: tuple[str, ...], generation: int | None) -> Flight | None:
        """A render of `key` from `generation` begins (None: nothing may be cached, so no flight)."""
        if generation is None:
            return None
        flight = self._flights[key] = Flight(generation, self._proven_until)
        return flight

    def land(self, key: tuple[str, ...], flight: Flight | None, entry: Entry | None) -> None:
        """The render of `flight` ended: its waiters get `entry` (None: it failed)."""
        if flight is None:
            return
        if self._flights.get(key) is flight:
            del self._flights[key]
        if not flight.entry.done():
            flight.entry.set_result(entry)

    def _forget_stale(self) -> None:
        self._stale.clear()
        self._flights.clear()
        self._writes.clear()
        self._heat.clear()

    # --- API keys --------------------------------------------------------------------------

    def key(self, key_hash: str) -> Any | None:
        return self._keys.get(key_hash) if self.usable else None

    def store_key(self, key_hash: str, principal: Any, generation: int | None) -> None:
        if generation is None or not self.usable or not self._current((KEYS,), generation):
            return
        if len(self._keys) >= self.max_entries:
            self._keys.clear()
        self._keys[key_hash] = principal

    # --- invalidation ----------------------------------------------------------------------

    def drop(self, tags: Iterable[str], *, local: bool = True) -> None:
        """Drops every entry carrying one of `tags` (`*`: everything); each stays stale until the
        proof in force now lapses. `local`: after a commit on this instance (not another
        instance's notification)."""
        self._generation += 1
        until, moment = self._proven_until, time.monotonic()
        stale = self._stale
        while stale and next(iter(stale.values())).until < moment:
            stale.popitem(last=False)
        tags = list(tags)
        if local and stale:  # what another's drop left stale, this write changes again: its own
            dropped = set(tags)
            for key, held in list(stale.items()):
                if held.entry.tags & dropped:
                    stale[key] = replace(held, dropped=self._generation, local=True)
        for tag in tags:
            INVALIDATIONS.labels(_kind(tag)).inc()
            if tag == ALL:
                self.clear()
                return
            self._dropped[tag] = self._generation
            if tag == KEYS:
                self._keys.clear()
            for key in list(self._by_tag.get(tag, ())):
                entry = self._unlink(key)
                if entry is not None and until >= moment:
                    stale[key] = Stale(entry, until, self._generation, local)
        while len(stale) > self.max_entries:
            stale.popitem(last=False)
        if len(self._heat) > 2 * self.max_entries:
            self._heat = {key: self._heat[key] for key in self._entries if key in self._heat}

    def clear(self) -> None:
        self._generation += 1
        self._cleared = self._generation
        self._dropped.clear()
        self._entries.clear()
        self._by_tag.clear()
        self._keys.clear()
        self._forget_stale()

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
