from datetime import date
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from app.core.corrections import Correction
from app.core.errors import Problem
from app.core.types import SearchableName, not_null
from app.units.examples import HO_CHI_MINH, HUNG_YEN, THAI_BINH_FULL
from app.units.models import SuccessionKind, UnitKind

KIND_LABELS = {UnitKind.province: "Tỉnh", UnitKind.city: "Thành phố trực thuộc trung ương"}


class UnitRef(BaseModel):
    """A unit named inside another resource."""

    id: int
    code: str
    name: str
    valid_from: date | None = Field(description="First day; null: before the period this service covers.")
    valid_to: date | None = Field(description="Last day; null: still exists.")

    @classmethod
    def from_row(cls, row: Any, prefix: str = "unit_") -> "UnitRef":
        """From a query row whose unit columns are labelled `<prefix>id`, `<prefix>code`, …"""
        return cls(
            id=getattr(row, f"{prefix}id"),
            code=getattr(row, f"{prefix}code"),
            name=getattr(row, f"{prefix}name"),
            valid_from=getattr(row, f"{prefix}valid_from"),
            valid_to=getattr(row, f"{prefix}valid_to"),
        )


class UnitUpdate(Correction):
    """A correction of a unit's code, name or kind. Its period changes only through a succession."""

    model_config = ConfigDict(
        extra="forbid", json_schema_extra={"example": {"name": "Hòa Bình"}, "minProperties": 1}
    )

    code: str | None = Field(
        default=None, pattern=r"^\d{2,3}$", description="Official code.", json_schema_extra=not_null
    )
    name: SearchableName | None = Field(
        default=None, min_length=1, max_length=120, json_schema_extra=not_null
    )
    kind: UnitKind | None = Field(default=None, json_schema_extra=not_null)


class UnitOut(UnitRef):
    model_config = ConfigDict(json_schema_extra={"example": THAI_BINH_FULL})

    kind: UnitKind
    kind_label: str = Field(description="Vietnamese label of the kind.")
    version: int = Field(description="Bumped by every correction; see `/revisions`.")


class MatchKind(StrEnum):
    """How a unit matched a name query, best first."""

    exact = "exact"
    alias = "alias"
    partial = "partial"
    similar = "similar"


class NameMatch(BaseModel):
    """Why a unit is in the answer to `q`, and how well it matched."""

    kind: MatchKind = Field(
        description="`exact`: the name reads as the query (prefixes such as `Tỉnh`, `TP.`, "
        "`Công an tỉnh`, `CA` aside); `alias`: an active alias does; `partial`: the query is "
        "part of the name; `similar`: a near miss (trigram similarity to the name or an alias)."
    )
    score: float = Field(
        ge=0,
        le=1,
        description="1 for `exact` and `alias`; for `partial`, the share of the name the query "
        "covers; for `similar`, the pg_trgm similarity (at least `NAME_SIMILARITY_THRESHOLD`).",
    )
    alias: str | None = Field(
        description="The alias (as written) that matched, for `alias` and for `similar` "
        "matches found through an alias; null otherwise."
    )


class UnitListItem(UnitOut):
    """A unit in a list; with `q`, how it matched."""

    model_config = ConfigDict(
        json_schema_extra={
            "example": {
                **HO_CHI_MINH,
                "kind": "thanh_pho",
                "kind_label": "Thành phố trực thuộc trung ương",
                "version": 1,
                "match": {"kind": "alias", "score": 1.0, "alias": "TP.HCM"},
            }
        }
    )

    match: NameMatch | None = Field(description="How the unit matched `q`; null without `q`.")


class LineageLink(BaseModel):
    unit: UnitRef
    effective_date: date
    kind: SuccessionKind
    legal_basis: str
    depth: int = Field(description="1 for a direct predecessor/successor, 2 for one of theirs, …")
    via: int = Field(description="The id of the unit on the near side of this link.")


class LineageOut(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "example": {
                "unit": THAI_BINH_FULL,
                "predecessors": [],
                "successors": [
                    {
                        "unit": HUNG_YEN,
                        "effective_date": "2025-07-01",
                        "kind": "merge",
                        "legal_basis": "Resolution 202/2025/QH15",
                        "depth": 1,
                        "via": 22,
                    }
                ],
            }
        }
    )

    unit: UnitOut
    predecessors: list[LineageLink]
    successors: list[LineageLink]


class UnitNameUnresolved(Problem):
    """422: a unit's name (in the history importer) that means no unit, or more than one, on the
    day it is read: the units it could mean, never chosen by similarity."""

    model_config = ConfigDict(
        json_schema_extra={
            "example": {
                "type": "/problems/unprocessable",
                "title": "Dữ liệu không hợp lệ",
                "status": 422,
                "detail": "Không có đơn vị nào mang đúng tên hoặc tên gọi khác 'Sai Gon' vào ngày 1/7/2025; "
                "các tên gần giống: Hồ Chí Minh (mã hành chính 79, mã số 80, tên gọi khác 'Sài Gòn').",
                "candidates": [
                    {
                        **HO_CHI_MINH,
                        "kind": "thanh_pho",
                        "kind_label": "Thành phố trực thuộc trung ương",
                        "version": 1,
                        "match": {"kind": "similar", "score": 0.5, "alias": "Sài Gòn"},
                    }
                ],
            }
        }
    )

    candidates: list[dict[str, Any]] | None = Field(
        default=None, description="422: the units a name could mean (never chosen by similarity)."
    )
