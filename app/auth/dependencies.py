"""The dependencies a route declares for its caller: any valid key, an admin key, a cluster's."""

from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPBearer

from app.auth.middleware import identify
from app.auth.principal import Principal
from app.auth.roles import Role
from app.core.database import SessionDep
from app.core.errors import Forbidden, Unauthorized
from app.core.i18n import _
from app.core.identity import IDENTITY, Identity, identity_of


class _Bearer(HTTPBearer):
    """The bearer scheme as the OpenAPI document declares it; the credential itself was read once
    by `AuthMiddleware`, whose finding this hands on (no second parse of the header)."""

    async def __call__(self, request: Request) -> Identity:  # type: ignore[override]
        if IDENTITY not in request.scope:  # an app without the middleware (a bare test app)
            request.scope[IDENTITY] = identify(request.scope)
        return identity_of(request.scope)


_bearer = _Bearer(
    scheme_name="HTTPBearer",
    auto_error=False,
    description="An API key: `Authorization: Bearer thd_…`. Create the first admin key with "
    "`python -m app keys create --role admin --name NAME`.",
)


def _unauthorized(detail: str, error: str | None = None) -> Unauthorized:
    challenge = 'Bearer realm="thidua"'
    if error:
        challenge += f', error="{error}"'
    return Unauthorized(detail, headers={"WWW-Authenticate": challenge})


async def current_key(identity: Annotated[Identity, Depends(_bearer)], session: SessionDep) -> Principal:
    """The request's principal, as `AuthMiddleware` found it: a key in the key cache costs no
    SQL; one the rate limiter looked up is not looked up again; otherwise (the limiter off) it is
    looked up here on the request's own session, so the request uses one connection. Valid keys
    are held in the key cache, dropped (tag `keys`) when a key is created or revoked, here at once
    and on other instances by NOTIFY."""
    if not identity.presented:
        raise _unauthorized(_("An API key is required: `Authorization: Bearer <key>`."))
    found = await identity.resolve(session)
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
