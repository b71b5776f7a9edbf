"""The dependencies a route declares for its caller: any valid key, an admin key, a cluster's."""

from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPBearer

from app.auth.middleware import identify
from app.auth.principal import Principal
from app.auth.roles import Role
from app.auth.signed_in import Ungranted
from app.auth.tokens import TokenRefused
from app.core.config import SettingsDep
from app.core.database import SessionDep
from app.core.errors import Forbidden, Unauthorized
from app.core.i18n import N_, _
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


_REFUSALS = {
    "malformed": N_("The access token is not a well-formed JWT."),
    "algorithm": N_("The access token is signed with an algorithm this service does not accept."),
    "type": N_("The token is not an access token."),
    "issuer": N_("The access token comes from an issuer this service does not trust."),
    "unknown_key": N_("The access token is signed with a key its issuer does not publish."),
    "bad_signature": N_("The access token's signature is not valid."),
    "expired": N_("The access token has expired."),
    "not_yet_valid": N_("The access token is not valid yet."),
    "audience": N_("The access token is not meant for this service (audience)."),
    "scope": N_("The access token lacks a scope this service requires."),
}


def _token_refused(refused: TokenRefused) -> Unauthorized | Forbidden:
    """RFC 6750: 401 `invalid_token`, or 403 `insufficient_scope`, with the reason in words."""
    detail = _(_REFUSALS.get(refused.reason, _REFUSALS["malformed"]))
    headers = {"WWW-Authenticate": refused.challenge}
    return (
        Forbidden(detail, headers=headers) if refused.status == 403 else Unauthorized(detail, headers=headers)
    )


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
        refusal = identity.refusal
        if isinstance(refusal, TokenRefused):
            raise _token_refused(refusal)
        if isinstance(refusal, Ungranted):
            raise Forbidden(_("You are signed in, but hold no grant in this service."))
        raise _unauthorized(_("The API key is unknown or revoked."), "invalid_token")
    assert isinstance(found, Principal)
    return found


CurrentKey = Annotated[Principal, Depends(current_key)]
"""Any valid key: what every read needs."""


async def public_reader(
    identity: Annotated[Identity, Depends(_bearer)], session: SessionDep, settings: SettingsDep
) -> Principal | None:
    """The caller of a read of the published results (`PUBLIC_READS`): the year sheet, frozen
    standings, granted awards. With PUBLIC_READS off (the default) exactly `CurrentKey`. With it
    on, None for a request that presents no credential (anyone may read what is published; the
    rate limiter has counted it against its client address, `RATE_LIMIT_ANONYMOUS`), and for a
    signed-in person with no grant here (`OIDC_UNGRANTED=none`: the limiter counted them by
    address too); the route then answers only what is published. A credential that is presented
    and not valid (unknown, revoked, an expired or forged token) is refused as everywhere (401),
    never read as no credential: the caller learns their credential is wrong."""
    if settings.public_reads:
        if not identity.presented:
            return None
        if await identity.resolve(session) is None and isinstance(identity.refusal, Ungranted):
            return None
    return await current_key(identity, session)


PublicReader = Annotated[Principal | None, Depends(public_reader)]
"""Any valid key, or nobody (None) when PUBLIC_READS is on: what a read of the published results
needs. The route answers None only what is published, and says so in its description."""

PUBLIC_VARIANT = "public"
"""The read cache's variant (`cached(variant=…)`) of what a `PublicReader` route answers an
anonymous caller: stored apart from what a credential reads at the same URL, so that neither is
ever answered for the other. (The fast path before routing answers only a known credential, so an
anonymous request always reaches the route and its dependency.)"""


def unpublished(detail: str) -> Unauthorized:
    """401 for an anonymous caller (`PublicReader` gave None) asking for what is not published:
    the same challenge as a missing credential, since a credential would read it."""
    return _unauthorized(detail)


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
