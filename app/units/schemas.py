from datetime import date
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

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


class UnitOut(UnitRef):
    model_config = ConfigDict(
        json_schema_extra={
            "example": {
                "id": 22,
                "code": "34",
                "name": "Thái Bình",
                "kind": "tinh",
                "kind_label": "Tỉnh",
                "valid_from": None,
                "valid_to": "2025-06-30",
            }
        }
    )

    kind: UnitKind
    kind_label: str = Field(description="Vietnamese label of the kind.")


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
                "unit": {
                    "id": 22,
                    "code": "34",
                    "name": "Thái Bình",
                    "kind": "tinh",
                    "kind_label": "Tỉnh",
                    "valid_from": None,
                    "valid_to": "2025-06-30",
                },
                "predecessors": [],
                "successors": [
                    {
                        "unit": {
                            "id": 69,
                            "code": "33",
                            "name": "Hưng Yên",
                            "valid_from": "2025-07-01",
                            "valid_to": None,
                        },
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
