from datetime import date
from enum import StrEnum
from typing import Any

from sqlalchemy import CheckConstraint, Column, Index, LargeBinary, UniqueConstraint, text
from sqlalchemy.dialects.postgresql import JSONB
from sqlmodel import Field, SQLModel

from app.core.models import Recorded, Versioned


class AwardKind(StrEnum):
    flag = "flag"
    certificate_of_merit = "certificate_of_merit"
    honorific_title = "title"  # not `title`: that would shadow str.title


class Recipient(StrEnum):
    collective = "collective"
    individual = "individual"


class AwardLevel(StrEnum):
    government = "government"
    ministry = "ministry"


class ApprovalClass(StrEnum):
    """Which threshold a vote for the award needs: `standard` → `approval_threshold`, `high` →
    `approval_threshold_high` (Hero, national and ministry-level emulation fighter)."""

    standard = "standard"
    high = "high"


class AwardStatus(StrEnum):
    nominated = "nominated"
    proposed = "proposed"
    returned = "returned"
    granted = "granted"
    refused = "refused"
    revoked = "revoked"


class AwardType(Versioned, table=True):
    """An award of the catalogue (`data/reference/award_types.yaml`)."""

    __tablename__ = "award_types"
    __table_args__ = (
        CheckConstraint("kind IN ('flag', 'certificate_of_merit', 'title')", name="award_kind_known"),
        CheckConstraint("recipient IN ('collective', 'individual')", name="award_recipient_known"),
        CheckConstraint("level IN ('government', 'ministry')", name="award_level_known"),
        CheckConstraint("approval_class IN ('standard', 'high')", name="approval_class_known"),
        CheckConstraint("jsonb_typeof(rules) = 'array'", name="award_type_rules_is_list"),
    )

    id: int | None = Field(default=None, primary_key=True)
    code: str = Field(max_length=60, unique=True)
    name: str = Field(max_length=200)
    kind: str = Field(max_length=30)
    recipient: str = Field(max_length=20)
    level: str = Field(max_length=20)
    authority: str = Field(max_length=200)
    requires_vote: bool
    approval_class: str = Field(max_length=10)
    standard_of: str | None = Field(default=None, max_length=60, foreign_key="award_types.code")
    rules: list[str] = Field(sa_column=Column(JSONB, nullable=False))
    basis: dict[str, Any] = Field(sa_column=Column(JSONB, nullable=False))


_STATUSES = "'nominated', 'proposed', 'returned', 'granted', 'refused', 'revoked'"


class Award(Versioned, table=True):
    """An award to a unit for an emulation year, moved through its lifecycle by transitions
    (`award_transitions`). One achievement, one award: at most one award of a type per unit and
    year that was not refused or revoked."""

    __tablename__ = "awards"
    __table_args__ = (
        CheckConstraint(f"status IN ({_STATUSES})", name="award_status_known"),
        CheckConstraint("emulation_year BETWEEN 2000 AND 2100", name="award_year_plausible"),
        CheckConstraint("jsonb_typeof(rule_checks) = 'array'", name="award_rule_checks_is_list"),
        Index(
            "awards_one_per_achievement",
            "award_type",
            "unit_id",
            "emulation_year",
            unique=True,
            postgresql_where=text("status NOT IN ('refused', 'revoked')"),
        ),
    )

    id: int | None = Field(default=None, primary_key=True)
    award_type: str = Field(max_length=60, foreign_key="award_types.code", index=True)
    unit_id: int = Field(foreign_key="units.id", index=True)
    emulation_year: int
    cluster_id: int | None = Field(default=None, foreign_key="clusters.id", index=True)
    status: str = Field(max_length=20)
    rule_set: str | None = Field(default=None, max_length=60, foreign_key="rule_sets.code")
    vote_id: int | None = Field(default=None, foreign_key="votes.id", index=True)
    """The nomination vote that seated the unit (`app/votes`)."""
    standings_version: int | None = None
    nominated_on: date
    attested: bool = False
    source: dict[str, Any] | None = Field(default=None, sa_column=Column(JSONB, nullable=True))
    rule_checks: list[dict[str, Any]] = Field(sa_column=Column(JSONB, nullable=False))


class AwardTransition(Recorded, table=True):
    """One step of an award's lifecycle, never changed: the first is its nomination, or an attested
    record's stated outcome (granted, refused, revoked: its decision number and authority null
    where the source does not state them). A later step is a decision recorded here as it
    happened: to grant or revoke, it names its number and authority."""

    __tablename__ = "award_transitions"
    __table_args__ = (
        UniqueConstraint("award_id", "position"),
        CheckConstraint("position >= 1", name="transition_position_positive"),
        CheckConstraint(f"to_status IN ({_STATUSES})", name="transition_status_known"),
        CheckConstraint("(position = 1) = (from_status IS NULL)", name="transition_first_has_no_origin"),
        CheckConstraint(
            "position = 1 OR to_status NOT IN ('granted', 'revoked') "
            "OR (decision_number IS NOT NULL AND authority IS NOT NULL)",
            name="transition_decision_named",
        ),
    )

    id: int | None = Field(default=None, primary_key=True)
    award_id: int = Field(foreign_key="awards.id")
    position: int
    from_status: str | None = Field(default=None, max_length=20)
    to_status: str = Field(max_length=20)
    decided_on: date
    decision_number: str | None = Field(default=None, max_length=100)
    authority: str | None = Field(default=None, max_length=200)
    reason: str | None = Field(default=None, max_length=2000)


class AwardDocument(Recorded, table=True):
    """A document uploaded for an award's dossier: its bytes, their SHA-256, size and type."""

    __tablename__ = "award_documents"
    __table_args__ = (
        CheckConstraint("size = octet_length(content)", name="document_size_matches"),
        CheckConstraint("sha256 ~ '^[0-9a-f]{64}$'", name="document_sha256_format"),
    )

    id: int | None = Field(default=None, primary_key=True)
    award_id: int = Field(foreign_key="awards.id", index=True)
    filename: str = Field(max_length=200)
    content_type: str = Field(max_length=120)
    size: int
    sha256: str = Field(max_length=64)
    content: bytes = Field(sa_column=Column(LargeBinary, nullable=False))


class DossierItem(SQLModel, table=True):
    """An item of the dossier sent with a proposal: an uploaded document or a reference, and the
    day it is due."""

    __tablename__ = "award_dossier_items"
    __table_args__ = (
        CheckConstraint(
            "document_id IS NOT NULL OR reference IS NOT NULL", name="dossier_item_document_or_reference"
        ),
    )

    id: int | None = Field(default=None, primary_key=True)
    transition_id: int = Field(foreign_key="award_transitions.id", index=True)
    title: str = Field(max_length=300)
    document_id: int | None = Field(default=None, foreign_key="award_documents.id")
    reference: str | None = Field(default=None, max_length=500)
    due_on: date | None = None
