"""The caller a valid credential resolves to, and the lookup of an API key."""

from dataclasses import dataclass
from typing import Any

from sqlalchemy import bindparam, select
from sqlmodel import col

from app.auth.models import ApiKey
from app.auth.roles import Role
from app.core.cache import ReadCache
from app.core.identity import Actor
from app.core.plans import fetch


@dataclass(frozen=True, slots=True)
class Principal:
    """A caller with a valid credential: an API key, or a person (or a machine) signed in with an
    access token (`app.auth.signed_in`). What the dependencies check (`role`, scoped to a cluster
    or a unit), what the rate limiter counts by (`app.core.identity.Caller`), and who is recorded
    for what it writes (`actor`)."""

    key_id: int | None
    """The API key's id; None for a token's caller."""
    name: str
    role: Role
    cluster_id: int | None
    unit_id: int | None
    signed_in: Actor | None = None
    """A token's caller: the person or client, by issuer and subject."""
    budget_key: str | None = None
    """A token's caller's own rate-limit budget (a digest of issuer and subject)."""
    expires_at: float | None = None
    """A token's caller: when the token expires (wall-clock seconds); never for a key."""

    @property
    def actor(self) -> Actor:
        """Who is recorded for what this caller writes."""
        if self.signed_in is not None:
            return self.signed_in
        return Actor("key", str(self.key_id), self.name)

    @property
    def rate_limit_key(self) -> str:
        return self.budget_key or f"key:{self.key_id}"

    @property
    def rate_limit_group(self) -> str:
        return self.role.value


_KEY_BY_HASH = select(
    col(ApiKey.id), col(ApiKey.name), col(ApiKey.role), col(ApiKey.cluster_id), col(ApiKey.unit_id)
).where(col(ApiKey.key_hash) == bindparam("key_hash"), col(ApiKey.revoked_at).is_(None))
"""Every request with a key not in the key cache runs it: built once."""


async def load_principal(connection: Any, cache: ReadCache | None, key_hash: str) -> Principal | None:
    """The principal of a valid key (None: unknown or revoked) with one query on `connection` (a
    session or a connection), kept in the key cache."""
    generation = cache.generation() if cache is not None else None
    rows = await fetch(connection, _KEY_BY_HASH, {"key_hash": key_hash})
    if not rows:
        return None
    (row,) = rows
    principal = Principal(row.id, row.name, Role(row.role), row.cluster_id, row.unit_id)
    if cache is not None:
        cache.store_key(key_hash, principal, generation)
    return principal
