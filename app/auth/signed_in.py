"""People (and machines) signed in through the Ministry's OpenID provider: what a verified access
token may do here, as a `Principal` like a key's.

A person's grant comes from the roles in their token (`OIDC_ROLES_CLAIM`, a dotted path such as
Keycloak's `realm_access.roles`), each read as `<OIDC_ROLE_PREFIX><role>`:

- `thidua:admin`: the Ministry's emulation office;
- `thidua:cluster:<number>`: a cluster's secretariat (the cluster by its number);
- `thidua:unit:<unit id>`: a unit's officer;
- `thidua:reader`.

Of several, the broadest counts (admin, a cluster, a unit, reader); roles of other applications
are ignored.

With `OIDC_GRANTS_SOURCE=register` a person's grant comes from the people register instead
(`/v1/people`, kept by an admin): the entry whose issuer and subject are the token's, its broadest
grant (among equals, the first listed), its display name recorded beside what the person writes.
One query on the request's connection; the table is named here, not imported, since the people
feature imports this package. Any change to the register drops the cached principals (tag
`keys`, as revoking a key does), so a grant withdrawn stops working on every instance within the
same bound as a revoked key.

A machine's own token (client credentials: its `sub` is its client id) gets the grant
`OIDC_CLIENT_GRANTS` gives its client id, whatever the source. With no grant (no role here, no
entry in the register or an entry without grants), `OIDC_UNGRANTED` says whether the caller may
read (`read`) or nothing (`none`: 403 on every request).
"""

import hashlib
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from sqlalchemy import bindparam, column, select, table

from app.auth.principal import Principal
from app.auth.roles import Role
from app.auth.tokens import VerifiedToken
from app.core.config import Settings
from app.core.identity import Actor

_BREADTH = {Role.admin: 0, Role.cluster: 1, Role.unit: 2, Role.reader: 3}


@dataclass(frozen=True, slots=True)
class Grant:
    """One role, with the cluster (by number) or the unit (by id) it is scoped to."""

    role: Role
    cluster_number: int | None = None
    unit_id: int | None = None
    cluster_id: int | None = None
    """The cluster's id, when already known (a grant from the register); else looked up by number."""


class Ungranted(Exception):
    """A valid token whose caller has no grant here, where `OIDC_UNGRANTED=none`: 403."""


def parse_grant(text: str) -> Grant | None:
    """`admin`, `reader`, `cluster:5`, `unit:12` (no prefix); None for anything else."""
    role, _, scope = text.partition(":")
    if role in ("admin", "reader") and not scope:
        return Grant(Role(role))
    if role in ("cluster", "unit") and scope.isascii() and scope.isdigit() and 0 < int(scope) < 2**31:
        number = int(scope)
        return (
            Grant(Role.cluster, cluster_number=number)
            if role == "cluster"
            else Grant(Role.unit, unit_id=number)
        )
    return None


def claim_at(claims: Mapping[str, Any], path: str) -> Sequence[str]:
    """The strings at a dotted `path` of the claims: a list, or one space-separated string."""
    value: Any = claims
    for step in path.split("."):
        if not isinstance(value, Mapping):
            return ()
        value = value.get(step)
    if isinstance(value, str):
        return value.split()
    if isinstance(value, list):
        return [item for item in value if isinstance(item, str)]
    return ()


def is_machine(token: VerifiedToken, settings: Settings) -> bool:
    """A machine's own token (client credentials): issued to a client about itself (`sub` is its
    client id, as node `oidc-provider` writes it), or issued to a client `OIDC_CLIENT_GRANTS`
    lists (Keycloak names a service account's own user as `sub`; a client people sign in through
    is never listed there)."""
    client = token.client_id
    return client is not None and (token.subject == client or client in settings.oidc_client_grants)


def grant_of(token: VerifiedToken, settings: Settings) -> Grant | None:
    """The broadest grant the token carries (a machine: its client id's), or None."""
    if is_machine(token, settings):
        assert token.client_id is not None
        configured = settings.oidc_client_grants.get(token.client_id)
        return parse_grant(configured) if configured is not None else None
    prefix = settings.oidc_role_prefix
    grants = [
        grant
        for role in claim_at(token.claims, settings.oidc_roles_claim)
        if role.startswith(prefix) and (grant := parse_grant(role[len(prefix) :])) is not None
    ]
    return min(grants, key=lambda g: _BREADTH[g.role], default=None)


_CLUSTERS = table("clusters", column("id"), column("number"))
"""The clusters table, as far as a grant needs it (named, not imported: clusters import auth)."""
_CLUSTER_ID = select(_CLUSTERS.c.id).where(_CLUSTERS.c.number == bindparam("number"))

_PEOPLE = table("people", column("id"), column("issuer"), column("subject"), column("display_name"))
_PERSON_GRANTS = table(
    "person_grants",
    column("person_id"),
    column("position"),
    column("role"),
    column("cluster_id"),
    column("unit_id"),
)
"""The people register (`app.people.models`), as far as a grant needs it: named, not imported,
since the people feature imports this package (its routes need `AdminKey`)."""
_REGISTERED = (
    select(
        _PEOPLE.c.display_name, _PERSON_GRANTS.c.role, _PERSON_GRANTS.c.cluster_id, _PERSON_GRANTS.c.unit_id
    )
    .select_from(_PEOPLE.outerjoin(_PERSON_GRANTS, _PERSON_GRANTS.c.person_id == _PEOPLE.c.id))
    .where(_PEOPLE.c.issuer == bindparam("issuer"), _PEOPLE.c.subject == bindparam("subject"))
    .order_by(_PERSON_GRANTS.c.position)
)
"""A person's entry and grants in order, in one query (no row: not in the register; one row
with no role: in it without grants)."""


async def registered_grant(connection: Any, token: VerifiedToken) -> tuple[Grant | None, str | None]:
    """The broadest grant the register gives the token's person (among equals the first listed),
    and their display name there; (None, None) when they are not in it."""
    rows = (await connection.execute(_REGISTERED, {"issuer": token.issuer, "subject": token.subject})).all()
    if not rows:
        return None, None
    grants = [
        Grant(Role(row.role), cluster_id=row.cluster_id, unit_id=row.unit_id)
        for row in rows
        if row.role is not None
    ]
    return min(grants, key=lambda g: _BREADTH[g.role], default=None), rows[0].display_name


async def signed_in_principal(connection: Any, token: VerifiedToken, settings: Settings) -> Principal:
    """The principal of a verified token: its actor, its grant (from the token's roles, or from the
    people register: one query; a cluster named by its number is looked up: one query), its own
    rate-limit budget. `Ungranted` when it has none and `OIDC_UNGRANTED=none`; a cluster that does
    not exist leaves the grant unusable (reader at most, as an ungranted caller)."""
    machine = is_machine(token, settings)
    label = token.name or token.subject
    if settings.oidc_grants_source == "register" and not machine:
        grant, registered_name = await registered_grant(connection, token)
        label = registered_name or label
    else:
        grant = grant_of(token, settings)
    cluster_id = grant.cluster_id if grant is not None else None
    if grant is not None and grant.role is Role.cluster and cluster_id is None:
        cluster_id = (await connection.execute(_CLUSTER_ID, {"number": grant.cluster_number})).scalar()
        if cluster_id is None:
            grant = None
    if grant is None:
        if settings.oidc_ungranted != "read":
            raise Ungranted()
        grant = Grant(Role.reader)
    kind: Literal["person", "client"] = "client" if machine else "person"
    subject = token.client_id if machine and token.client_id else token.subject  # a machine: its client
    actor = Actor.signed_in(kind, token.issuer, subject, label)
    who = hashlib.sha256(f"{token.issuer}\x00{subject}".encode()).hexdigest()[:32]
    return Principal(
        key_id=None,
        name=actor.label,
        role=grant.role,
        cluster_id=cluster_id,
        unit_id=grant.unit_id,
        signed_in=actor,
        budget_key=f"{kind}:{who}",
        expires_at=token.expires_at.timestamp(),
    )


def still_valid(principal: Principal) -> bool:
    """A principal from the key cache may be used: a key's always (revocation drops it), a
    token's until the token expires."""
    return principal.expires_at is None or principal.expires_at > time.time()
