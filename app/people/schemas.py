from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, field_validator

from app.auth.roles import Role
from app.core.corrections import Correction
from app.core.errors import Problem
from app.core.i18n import _
from app.core.types import Integer, Text, not_null
from app.people.models import ISSUER_LENGTH, SUBJECT_LENGTH

MAX_GRANTS = 20

Issuer = Annotated[
    str, StringConstraints(pattern=r"^https?://[A-Za-z0-9._~%!$&'()*+,;=:@/-]+$", max_length=ISSUER_LENGTH)
]
"""An issuer as its tokens' `iss` spells it: an http(s) URL with no query or fragment (OpenID
Connect Discovery §2), in URL characters (no IPv6 literal)."""


class AdminGrant(BaseModel):
    """The Ministry's emulation office: everything an admin key may do."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"example": {"role": "admin"}})

    role: Literal[Role.admin]


class ClusterGrant(BaseModel):
    """A cluster's secretariat: writes for that cluster, as its cluster key."""

    model_config = ConfigDict(
        extra="forbid", json_schema_extra={"example": {"role": "cluster", "cluster": 5}}
    )

    role: Literal[Role.cluster]
    cluster: Integer = Field(ge=1, le=999, description="The cluster's number.")


class UnitGrant(BaseModel):
    """A unit's officer: writes for that unit, as its unit key (its delegate in a vote)."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"example": {"role": "unit", "unit_id": 70}})

    role: Literal[Role.unit]
    unit_id: Integer = Field(ge=1, le=2_147_483_647, description="The unit's id.")


class ReaderGrant(BaseModel):
    """Reads only."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"example": {"role": "reader"}})

    role: Literal[Role.reader]


PersonGrantIn = Annotated[AdminGrant | ClusterGrant | UnitGrant | ReaderGrant, Field(discriminator="role")]
"""One grant: `{"role": "admin"}`, `{"role": "cluster", "cluster": 5}`, `{"role": "unit",
"unit_id": 70}`, `{"role": "reader"}`."""

_GRANTS_DESCRIPTION = (
    "What the person may do, each grant scoped as a key is (`cluster`: a cluster by its number; "
    "`unit`: a unit by its id). Of several, the broadest counts (admin, a cluster, a unit, "
    "reader; among equals, the first listed). Empty: no grant, and the person may read or do "
    "nothing as OIDC_UNGRANTED says. A grant given twice is 422; a cluster or unit that does not "
    "exist is 404."
)


def _grants(value: list[Any] | None) -> list[Any]:
    """No grant twice (the schema says `uniqueItems`; this checks it), and never null."""
    if value is None:
        raise ValueError(_("{field} cannot be null.", field="grants"))
    seen: set[str] = set()
    for i, grant in enumerate(value):
        text = grant.model_dump_json()
        if text in seen:
            raise ValueError(_("Grant {position} is given twice.", position=i))
        seen.add(text)
    return value


def _unique_items(schema: dict[str, Any]) -> None:
    schema["uniqueItems"] = True


def _unique_items_not_null(schema: dict[str, Any]) -> None:
    not_null(schema)
    schema["uniqueItems"] = True


_DISPLAY_NAME = Field(
    min_length=1,
    max_length=120,
    description="The person's name as it is shown, and recorded beside what they write "
    "(`person:<issuer>|<subject>:<display name>`) in register mode.",
)
_NOTE = Field(default=None, max_length=2000, description="Their post, and why they hold these grants.")

_GRANTS_EXAMPLE: list[dict[str, Any]] = [{"role": "cluster", "cluster": 5}]

_OUT_EXAMPLE: dict[str, Any] = {
    "id": 3,
    "issuer": "https://sso.bocongan.gov.vn/realms/thidua",
    "subject": "5f0c8a3e-2b1d-4e6f-9a7c-1d2e3f4a5b6c",
    "display_name": "Trần Thị Bình",
    "note": "Thư ký Cụm thi đua số 5",
    "grants": _GRANTS_EXAMPLE,
    "version": 2,
    "recorded_by": "key:1:Cục Công tác chính trị",
    "recorded_at": "2026-12-07T08:00:00Z",
}


class PersonCreate(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "example": {
                "issuer": _OUT_EXAMPLE["issuer"],
                "subject": _OUT_EXAMPLE["subject"],
                "display_name": "Trần Thị Bình",
                "note": "Thư ký Cụm thi đua số 5",
                "grants": [{"role": "cluster", "cluster": 5}],
            }
        },
    )

    issuer: Issuer = Field(
        description="The OpenID provider, exactly as its tokens' `iss` spells it (one of OIDC_ISSUERS)."
    )
    subject: Text = Field(
        min_length=1,
        max_length=SUBJECT_LENGTH,
        description="The person's `sub` at that issuer (Keycloak: the user's id). With the issuer, "
        "who the person is: one entry per pair (409 otherwise).",
    )
    display_name: Text = _DISPLAY_NAME
    note: Text | None = _NOTE
    grants: list[PersonGrantIn] = Field(
        default_factory=list,
        max_length=MAX_GRANTS,
        description=_GRANTS_DESCRIPTION,
        json_schema_extra=_unique_items,
    )

    _unique = field_validator("grants")(_grants)


class PersonPut(BaseModel):
    """The person's whole record but who they are (issuer and subject): a new version."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "example": {"display_name": "Trần Thị Bình", "note": None, "grants": [{"role": "reader"}]}
        },
    )

    display_name: Text = _DISPLAY_NAME
    note: Text | None = _NOTE
    grants: list[PersonGrantIn] = Field(
        max_length=MAX_GRANTS, description=_GRANTS_DESCRIPTION, json_schema_extra=_unique_items
    )

    _unique = field_validator("grants")(_grants)


class PersonUpdate(Correction):
    """A correction of the display name or the note, or new grants (the list is replaced whole;
    `[]` withdraws every grant); a new version each time."""

    model_config = ConfigDict(
        extra="forbid", json_schema_extra={"example": {"grants": []}, "minProperties": 1}
    )

    display_name: Text | None = Field(
        default=None, min_length=1, max_length=120, description="The name shown.", json_schema_extra=not_null
    )
    note: Text | None = _NOTE
    grants: list[PersonGrantIn] | None = Field(
        default=None,
        max_length=MAX_GRANTS,
        description=_GRANTS_DESCRIPTION,
        json_schema_extra=_unique_items_not_null,
    )

    _unique = field_validator("grants")(_grants)


class PersonOut(BaseModel):
    model_config = ConfigDict(json_schema_extra={"example": _OUT_EXAMPLE})

    id: int
    issuer: str
    subject: str
    display_name: str
    note: str | None
    grants: list[PersonGrantIn] = Field(description="In the order given.")
    version: int
    recorded_by: str
    recorded_at: datetime


class PersonConflict(Problem):
    """409 on a person: the register already holds someone with that issuer and subject
    (`person-exists`)."""

    model_config = ConfigDict(
        json_schema_extra={
            "example": {
                "type": "/problems/person-exists",
                "title": "Xung đột dữ liệu",
                "status": 409,
                "detail": "Sổ người dùng đã có người này (mã số 3) của nhà cung cấp định danh "
                "https://sso.bocongan.gov.vn/realms/thidua.",
                "instance": "/v1/people",
                "request_id": "0f5c2a7e9b3d4c1a8e6f2b9d7c4a1e3f",
                "existing_person_id": 3,
            }
        }
    )

    existing_person_id: int | None = Field(
        default=None, description="409: the person the register holds for that issuer and subject."
    )
