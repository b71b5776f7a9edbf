"""The people register: who may sign in with a token, and what each may do here
(`OIDC_GRANTS_SOURCE=register`)."""

from sqlalchemy import CheckConstraint, UniqueConstraint
from sqlmodel import Field, SQLModel

from app.core.models import Versioned

ISSUER_LENGTH = 300
SUBJECT_LENGTH = 255
"""OpenID Connect Core §2: a `sub` is at most 255 ASCII characters."""


class Person(Versioned, table=True):
    """A person as their OpenID provider names them (`issuer` and `subject`: the token's `iss` and
    `sub`), with a display name and a note. Their grants (`PersonGrant`) are part of each version:
    replacing them makes a new version. Never deleted: a person with no grant keeps their history."""

    __tablename__ = "people"
    __table_args__ = (UniqueConstraint("issuer", "subject"),)

    id: int | None = Field(default=None, primary_key=True)
    issuer: str = Field(max_length=ISSUER_LENGTH)
    subject: str = Field(max_length=SUBJECT_LENGTH)
    display_name: str = Field(max_length=120)
    note: str | None = Field(default=None, max_length=2000)


class PersonGrant(SQLModel, table=True):
    """One grant of a person's current version, in its order: a role, scoped as a key's is (a
    cluster for `cluster`, a unit for `unit`, nothing else). Replaced whole with each version."""

    __tablename__ = "person_grants"
    __table_args__ = (
        UniqueConstraint("person_id", "position"),
        CheckConstraint("position >= 1", name="position_positive"),
        CheckConstraint("role IN ('admin', 'cluster', 'unit', 'reader')", name="role_known"),
        CheckConstraint("(role = 'cluster') = (cluster_id IS NOT NULL)", name="cluster_scope"),
        CheckConstraint("(role = 'unit') = (unit_id IS NOT NULL)", name="unit_scope"),
    )

    id: int | None = Field(default=None, primary_key=True)
    person_id: int = Field(foreign_key="people.id", ondelete="CASCADE")
    position: int
    role: str = Field(max_length=16)
    cluster_id: int | None = Field(default=None, foreign_key="clusters.id", index=True)
    unit_id: int | None = Field(default=None, foreign_key="units.id", index=True)
