"""Strong ETags, and the `If-Match` / `If-None-Match` comparisons (RFC 9110 §13.1).

Every successful GET gets its ETag, and a 304 on a matching `If-None-Match`, in the
representation layer (`app.core.representation`); writes check `If-Match` here.

An ETag changes exactly when the representation changes. Handlers of versioned records set
their own ETag: the record's version (for people reading it) and a digest of its
representation, which also covers the records it embeds (a unit renamed or closed changes
the ETag of every membership and leadership that shows it). Every other GET gets a hash of
its body.

Every ETag ends with the language of the representation (`-vi`, `-en`): the same record in
Vietnamese and in English are two representations, so two strong validators. A record's
digest leaves out its localized text (derived from the other fields anyway), so `If-Match`
compares without the language: an ETag read in either language works for a write in either.
`If-None-Match` compares whole ETags, language included.

A gzip-encoded representation (`app.core.compression`) is another representation too: its ETag is
the identity one with `-gzip` before the language (`"unit-22-v3-9f3c…-gzip-vi"`). `If-Match`
leaves the coding out as it leaves the language out.
"""

import hashlib
import re
from typing import Annotated

from fastapi import Header
from pydantic import BaseModel

from app.core.errors import PreconditionFailed, PreconditionRequired
from app.core.i18n import LOCALES, _, current_locale, localized_exclusions
from app.core.numbers import unmark

_LANGUAGE_SUFFIX = re.compile(r"-(?:" + "|".join(LOCALES) + r')"$')


def body_etag(body: bytes) -> str:
    """A hash of the body, and its language."""
    return f'"{hashlib.blake2b(body, digest_size=16).hexdigest()}-{current_locale()}"'


def record_etag(resource: str, key: object, version: int, representation: BaseModel) -> str:
    """`"membership-12-v3-<digest>-vi"`: the version, a digest of everything the client sees but
    the localized text, and the language."""
    neutral = unmark(
        representation.model_dump_json(exclude=localized_exclusions(representation) or None).encode()
    )
    digest = hashlib.blake2b(neutral, digest_size=8).hexdigest()
    return f'"{resource}-{key}-v{version}-{digest}-{current_locale()}"'


_CODING_SUFFIX = re.compile(r"-gzip(?=(?:-(?:" + "|".join(LOCALES) + r'))?"$)')


def encoded_etag(etag: str) -> str:
    """The ETag of the gzip-encoded representation: `"…-9f3c-vi"` → `"…-9f3c-gzip-vi"` (an ETag
    without a language, such as a static file's, gets `-gzip` at its end)."""
    language = _LANGUAGE_SUFFIX.search(etag)
    cut = language.start() if language else len(etag) - 1
    return f"{etag[:cut]}-gzip{etag[cut:]}"


def identity_etag(etag: str) -> str:
    """The ETag of the representation before its coding: `"…-9f3c-gzip-vi"` → `"…-9f3c-vi"`."""
    return _CODING_SUFFIX.sub("", etag)


def without_language(etag: str) -> str:
    """`"leadership-5-2025-v3-<digest>-vi"` → `"leadership-5-2025-v3-<digest>"`."""
    return _LANGUAGE_SUFFIX.sub('"', etag)


def _tags(header: str) -> list[str]:
    return [t.strip().removeprefix("W/") for t in header.split(",") if t.strip()]


def none_match(if_none_match: str | None, etag: str) -> bool:
    """True when `If-None-Match` names the current representation (weak comparison)."""
    if not if_none_match:
        return False
    tags = _tags(if_none_match)
    return "*" in tags or etag.removeprefix("W/") in tags


def require_match(if_match: str | None, current_etag: str) -> None:
    """`If-Match` is mandatory for updates of versioned records (strong comparison, whatever the
    language and the coding the ETag was read in)."""
    if if_match is None:
        raise PreconditionRequired(
            _("Send `If-Match` with the ETag you last read, so that no one else's change is overwritten.")
        )
    tags = [without_language(identity_etag(t.strip())) for t in if_match.split(",")]
    if "*" not in tags and without_language(current_etag) not in tags:
        raise PreconditionFailed(
            _("The record changed since you read it; read it again and retry."),
            current_etag=current_etag,
        )


CONDITIONAL_PUT = (
    " `If-None-Match: *` creates only: 412 `/problems/record-exists` when the record exists. A body "
    "that changes nothing answers 200 with the current version and ETag, and writes nothing."
)
"""Said in the description of every PUT that creates or replaces a versioned record."""

IfNoneMatch = Annotated[
    str | None,
    Header(
        alias="If-None-Match",
        description="`*`: create only: 412 (`/problems/record-exists`) when the record already "
        "exists. A list of ETags: 412 when it names the current version.",
    ),
]
"""`If-None-Match` on a PUT that creates or replaces (RFC 9110 §13.1.2)."""


def require_replaceable(if_match: str | None, if_none_match: str | None, current_etag: str) -> None:
    """The preconditions of a PUT on a record that exists, in RFC 9110's order (§13.2.2):
    `If-Match` must name its current version (412 when stale), then `If-None-Match` must not
    (`*` names any: 412 `record-exists`); without either, 428."""
    if if_match is not None:
        require_match(if_match, current_etag)
    if if_none_match is not None:
        tags = [without_language(identity_etag(t)) for t in _tags(if_none_match)]
        if "*" in tags:
            raise PreconditionFailed(
                _(
                    "The record already exists, and `If-None-Match: *` asked to create it only; "
                    "read it, then replace it with `If-Match`."
                ),
                slug="record-exists",
                current_etag=current_etag,
            )
        if without_language(current_etag) in tags:
            raise PreconditionFailed(
                _("The record is at a version `If-None-Match` names: it asked to write only if it was not."),
                current_etag=current_etag,
            )
    if if_match is None:
        require_match(None, current_etag)
