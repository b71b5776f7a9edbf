"""API keys: bearer authentication and role checks."""

import secrets
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy import bindparam, select
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession
from sqlmodel import col

from app.core.cache import PRINCIPAL_STATE, ReadCache, key_hash
from app.core.database import SessionDep
from app.core.errors import Forbidden, Unauthorized
from app.core.i18n import _
from app.keys.models import ApiKey, Role

KEY_PREFIX = "thd_"

_bearer = HTTPBearer(
    auto_error=False,
    description="An API key: `Authorization: Bearer thd_…`. Create the first admin key with "
    "`python -m app keys create --role admin --name NAME`.",
)


def new_key() -> str:
    return KEY_PREFIX + secrets.token_urlsafe(32)


def hash_key(raw: str) -> str:
    """Keys are 256-bit random tokens, so a plain SHA-256 is a safe stored form."""
    return key_hash(raw)


@dataclass(frozen=True, slots=True)
class Principal:
    key_id: int
    name: str
    role: Role
    cluster_id: int | None
    unit_id: int | None

    @property
    def actor(self) -> str:
        return f"key:{self.key_id}:{self.name}"


def _unauthorized(detail: str, error: str | None = None) -> Unauthorized:
    challenge = 'Bearer realm="thidua"'
    if error:
        challenge += f', error="{error}"'
    return Unauthorized(detail, headers={"WWW-Authenticate": challenge})


_KEY_BY_HASH = select(
    col(ApiKey.id), col(ApiKey.name), col(ApiKey.role), col(ApiKey.cluster_id), col(ApiKey.unit_id)
).where(col(ApiKey.key_hash) == bindparam("key_hash"), col(ApiKey.revoked_at).is_(None))
"""Every request runs it: built once."""


async def load_principal(
    connection: AsyncSession | AsyncConnection, cache: ReadCache | None, key_hash: str
) -> Principal | None:
    """The principal of a valid key (None: unknown or revoked) with one query, kept in the cache."""
    generation = cache.generation() if cache is not None else None
    row = (await connection.execute(_KEY_BY_HASH, {"key_hash": key_hash})).first()
    if row is None:
        return None
    principal = Principal(row.id, row.name, Role(row.role), row.cluster_id, row.unit_id)
    if cache is not None:
        cache.store_key(key_hash, principal, generation)
    return principal


async def current_key(
    request: Request,
    session: SessionDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Principal:
    """A valid key costs no SQL once seen: valid keys are held in the read cache, dropped (tag
    `keys`) when a key is created or revoked, here at once and on other instances by NOTIFY. The
    rate limiter, when on, has looked the key up already (`PRINCIPAL_STATE`)."""
    if credentials is None or credentials.scheme.lower() != "bearer":
        raise _unauthorized(_("An API key is required: `Authorization: Bearer <key>`."))
    state = request.scope.get("state") or {}
    if PRINCIPAL_STATE in state:
        found = state[PRINCIPAL_STATE]
        if isinstance(found, Exception):
            raise found
    else:
        key_hash = hash_key(credentials.credentials)
        cache: ReadCache | None = getattr(request.app.state, "cache", None)
        found = cache.key(key_hash) if cache is not None else None
        if found is None:
            found = await load_principal(session, cache, key_hash)
    if found is None:
        raise _unauthorized(_("The API key is unknown or revoked."), "invalid_token")
    assert isinstance(found, Principal)
    return found


CurrentKey = Annotated[Principal, Depends(current_key)]
"""Any valid key: what every read needs."""


async def admin_key(key: CurrentKey) -> Principal:
    if key.role is not Role.admin:
        raise Forbidden(_("This operation needs an admin key."))
    return key


AdminKey = Annotated[Principal, Depends(admin_key)]


async def cluster_writer_key(key: CurrentKey) -> Principal:
    if key.role not in (Role.admin, Role.cluster):
        raise Forbidden(_("This operation needs an admin key or the cluster's key."))
    return key


ClusterWriterKey = Annotated[Principal, Depends(cluster_writer_key)]
"""An admin key or a cluster key; the handler then checks it is this cluster's."""


def ensure_cluster_writer(key: Principal, cluster_id: int) -> None:
    """Admins, or the secretariat key of this very cluster."""
    if key.role is Role.admin or (key.role is Role.cluster and key.cluster_id == cluster_id):
        return
    raise Forbidden(_("This operation needs an admin key or this cluster's key."))
