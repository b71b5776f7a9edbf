"""Invalidation: exact and transactional, coherent across instances, by tag.

A write calls `await invalidate(session, *tags)` inside its transaction: `pg_notify` there is
delivered to every instance only on commit (never on a rollback), and the tags are dropped on this
instance right after the commit (a session `after_commit` event), so the instance that wrote serves
its own next read fresh at once. A write on a connection of its own rather than a request's session
(a ballot: `app.votes.ballots`) calls `notify` in its transaction instead, and drops the tags it
returns from its cache once its transaction has committed.

Both go through one payload, built and read here only: `<instance> <tag> <tag> …`, the sending
cache's instance (whose listener skips it: that instance dropped the tags after its commit) or `-`
(every instance applies it), then the tags, sorted, or `*` (`ALL`) alone when they would not fit.

The tags a read depends on and a write invalidates: `ALL` and `KEYS` here (`app.core.cache.store`),
and each feature's own, in its `tags` module (`app.units.tags`: `UNITS`, `unit_tag`,
`units_shown`; `app.clusters.tags`: `cluster_tag`; `app.metrics.tags`; `app.rules.tags`).
"""

from collections.abc import Iterable
from typing import Any

from sqlalchemy import event, text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession
from sqlalchemy.orm import Session

from app.core.cache.store import ALL, KEYS, ReadCache
from app.core.config import Settings

__all__ = [
    "ALL",
    "KEYS",
    "invalidate",
    "notify",
    "read_payload",
    "session_info",
]

_MAX_PAYLOAD = 7000
ANYONE = "-"
"""The sender of a notification sent without a cache (a ballot's own connection, the command
line): every instance applies it, the one whose commit it was included."""
_SESSION_TAGS = "cache_tags"
_SESSION_CACHE = "read_cache"
_NOTIFY = text("SELECT pg_notify(:channel, :payload)")


# --- the payload -------------------------------------------------------------------------------


def _payload(tags: Iterable[str], sender: ReadCache | None) -> str:
    """`<instance> <tag> <tag> …` (`-` without a sending cache; `*` alone when too long)."""
    payload = " ".join(sorted(tags))
    if len(payload) > _MAX_PAYLOAD:
        payload = ALL
    return f"{sender.instance if sender is not None else ANYONE} {payload}"


def read_payload(payload: object) -> tuple[str, list[str]]:
    """The sender and the tags of a notification's payload."""
    sender, *tags = str(payload).split()
    return sender, tags


async def notify(
    connection: AsyncConnection | AsyncSession,
    tags: Iterable[str],
    *,
    channel: str,
    sender: ReadCache | None = None,
) -> frozenset[str]:
    """Inside the transaction of `connection`: every instance drops `tags` once (and only if) it
    commits; `channel` is the one the instances listen on (`CACHE_CHANNEL`).

    For a caller on a connection of its own (a request's session has `invalidate`): a connection
    has no after-commit event, so the caller drops the tags this returns (those sent, empty ones
    left out) from its own cache once its transaction has committed. With `sender`, that cache's
    listener skips the notification; without it, every instance applies it, the sender's too.
    """
    wanted = frozenset(t for t in tags if t)
    if not wanted:
        return wanted
    await connection.execute(_NOTIFY, {"channel": channel, "payload": _payload(wanted, sender)})
    return wanted


# --- a request's session -----------------------------------------------------------------------


async def invalidate(session: AsyncSession, *tags: str) -> None:
    """Inside a write's transaction: every instance drops `tags` once (and only if) it commits.

    The notification goes out with the commit; this instance drops them right after the commit.
    """
    wanted = {t for t in tags if t}
    if not wanted:
        return
    pending: set[str] = session.info.setdefault(_SESSION_TAGS, set())
    new = wanted - pending
    if not new:
        return
    pending.update(new)
    cache = session.info.get(_SESSION_CACHE)
    channel = session.info.get("cache_channel", "thidua_cache")
    await notify(session, new, channel=channel, sender=cache if isinstance(cache, ReadCache) else None)


@event.listens_for(Session, "after_commit")
def _dropped_after_commit(session: Session) -> None:
    tags = session.info.pop(_SESSION_TAGS, None)
    cache = session.info.get(_SESSION_CACHE)
    if tags and isinstance(cache, ReadCache):
        cache.drop(tags)


@event.listens_for(Session, "after_rollback")
def _forgotten_after_rollback(session: Session) -> None:
    session.info.pop(_SESSION_TAGS, None)


def session_info(cache: ReadCache | None, settings: Settings) -> dict[str, Any]:
    """What every session of a database carries: the cache to drop from after a commit, and the
    channel to notify."""
    return {_SESSION_CACHE: cache, "cache_channel": settings.cache_channel}
