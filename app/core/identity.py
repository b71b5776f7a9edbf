"""Who a request comes from, as `app/core` sees it: no feature's vocabulary, no lookup of its own.

`app.auth`'s middleware reads the request's credentials once, before anything else needs them,
and leaves an `Identity` in the ASGI scope under `IDENTITY`. Core's middleware read only that:
the rate limiter counts by `Caller.rate_limit_key` in the budget named `Caller.rate_limit_group`,
and the cached read path answers only a caller it `is_authenticated`. What a caller may do, and
how a credential is looked up, is `app.auth`'s.

A credential the process does not know yet (not in the key cache) is left *pending*: its lookup
runs at most once, when the first reader calls `Identity.resolve` — the rate limiter, after it has
counted the request against the client's address (so a flood of made-up keys costs no query once
the address's budget is spent), or, with the limiter off, the route's dependency, on the
request's own session (one connection).
"""

import hashlib
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, Literal, Protocol
from urllib.parse import quote, unquote

from starlette.datastructures import Headers
from starlette.types import Scope

IDENTITY = "thidua.identity"
"""`scope[IDENTITY]`: the request's `Identity`, set by the auth middleware before any other reader."""


ACTOR_LENGTH = 160
"""The longest `recorded_by` text: the label is shortened to fit, never the id."""


@dataclass(frozen=True, slots=True)
class Actor:
    """Who recorded something: an API key, a person signed in through an OpenID provider, a
    machine's own token (`client`), the command line or a loader. `recorded_by` is its one text
    form, `kind:id:label`:

    - `key:7:Cục Công tác chính trị`: the key's id and name;
    - `person:<issuer>|<subject>:Nguyễn Văn An` and `client:<issuer>|<client id>:<client id>`:
      the issuer and the subject (or client id), each percent-encoded (so neither holds `:` or
      `|`), and the display name;
    - `cli`, or a loader's own name (`reference-data`, `import:lich-su.yaml`) for `system`."""

    kind: Literal["key", "person", "client", "cli", "system"]
    id: str
    """The key's id; `issuer|subject` (percent-encoded) for a person or a client; for `cli` and
    `system`, their one text."""
    label: str = ""
    """A key's name, a person's display name."""

    @classmethod
    def signed_in(cls, kind: Literal["person", "client"], issuer: str, subject: str, label: str) -> "Actor":
        """A person (or a machine's token) as its issuer and subject name it."""
        return cls(kind, f"{quote(issuer, safe='')}|{quote(subject, safe='')}", label)

    @property
    def issuer_subject(self) -> tuple[str, str] | None:
        """A person's or a client's issuer and subject, decoded; None for other actors."""
        if self.kind not in ("person", "client"):
            return None
        issuer, _, subject = self.id.partition("|")
        return unquote(issuer), unquote(subject)

    @property
    def recorded_by(self) -> str:
        """The text the tables store: built here only, so that every table reads the same shape
        and it can be read back (`parse`); at most `ACTOR_LENGTH` characters (the label is cut)."""
        if self.kind in ("cli", "system"):
            return self.id  # `cli`; a loader's own name (`reference-data`)
        head = f"{self.kind}:{self.id}:"
        return head + self.label[: max(0, ACTOR_LENGTH - len(head))]

    @classmethod
    def parse(cls, recorded_by: str) -> "Actor":
        """The actor a stored `recorded_by` names (other free text reads as a `system` actor)."""
        kind, _, rest = recorded_by.partition(":")
        actor_id, _, label = rest.partition(":")
        if kind in ("key", "person", "client") and rest:
            return cls(kind, actor_id, label)  # type: ignore[arg-type]  # narrowed by the test
        if recorded_by == "cli":
            return CLI
        return cls("system", recorded_by, recorded_by)


def without_people(data: Any) -> Any:
    """`data` (a dumped representation) with every `recorded_by` that names a person, a machine or
    a key said by its kind only (`person`, `client`, `key`): what anyone may read (PUBLIC_READS)
    does not say who in a unit recorded what; a loader's name (`reference-data`) stays."""
    if isinstance(data, dict):
        return {name: _published_member(name, value) for name, value in data.items()}
    if isinstance(data, list):
        return [without_people(item) for item in data]
    return data


def _published_member(name: str, value: Any) -> Any:
    if name == "recorded_by" and isinstance(value, str):
        kind = Actor.parse(value).kind
        return kind if kind in ("person", "client", "key") else value
    return without_people(value)


CLI = Actor("cli", "cli")
"""What `python -m app` records (`keys create`)."""
REFERENCE = Actor("system", "reference-data", "reference-data")
"""What the reference loader records (units, aliases, catalogues, rule sets from `data/`)."""


class Caller(Protocol):
    """A caller whose credential is valid, as core's middleware read it."""

    @property
    def key_id(self) -> int | None:
        """The API key's id; None for a caller signed in with a token."""

    @property
    def rate_limit_key(self) -> str:
        """Whose budget a request spends (`key:7`, a person's): one counter per caller, and the
        owner of its `Idempotency-Key`s."""

    @property
    def rate_limit_group(self) -> str:
        """Which budgets apply (`admin`, `cluster`, `unit`, `reader`: `RATE_LIMIT_<GROUP>_…`)."""


Lookup = Callable[[Any], Awaitable[Caller | None]]
"""Looks a pending credential up: given the request's session or connection, or None to use a
short-lived connection of its own; None for an unknown or revoked credential."""


@dataclass(slots=True, eq=False)
class Identity:
    """The request's credential as far as it is known. `caller` is set at once for a credential
    known without I/O (the key cache); `pending` holds the lookup of one that is not."""

    presented: bool = False
    """Whether the request carries a bearer credential at all."""
    caller: Caller | None = None
    pending: Lookup | None = None
    error: Exception | None = None
    """What the lookup raised (the database down): re-raised to every later reader (a 503)."""
    refusal: Exception | None = None
    """Why a presented credential was refused (an expired token, say), for the 401 that says so:
    the lookup then finds no caller, and the request is counted as one without a valid key."""

    @property
    def is_authenticated(self) -> bool:
        """A valid credential, known without I/O (or already looked up)."""
        return self.caller is not None

    async def resolve(self, connection: Any = None) -> Caller | None:
        """The caller (None: no credential, or an unknown or revoked one), looked up at most once
        per request, on `connection` if given."""
        if self.pending is not None:
            lookup, self.pending = self.pending, None
            try:
                self.caller = await lookup(connection)
            except Exception as exc:
                self.error = exc
        if self.error is not None:
            raise self.error
        return self.caller


ANONYMOUS = Identity()


def identity_of(scope: Scope) -> Identity:
    """The request's identity (no credential when no auth middleware ran: a bare test app)."""
    identity: Identity = scope.get(IDENTITY, ANONYMOUS)
    return identity


def bearer_token(headers: Headers) -> str | None:
    """The credential of `Authorization: Bearer <token>`, read as FastAPI's `HTTPBearer` reads it."""
    authorization = headers.get("authorization")
    scheme, _, token = (authorization or "").partition(" ")
    token = token.strip()
    return token if scheme.lower() == "bearer" and token else None


def key_hash(raw: str) -> str:
    """The stored form of an API key, and its name in the key cache: keys are 256-bit random
    tokens, so a plain SHA-256 is safe."""
    return hashlib.sha256(raw.encode()).hexdigest()
