from datetime import date
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

from app.core.types import Integer, IsoDate, SearchableName, Text
from app.memberships.schemas import MembershipClosed, MembershipConflict
from app.units.models import SuccessionKind, UnitKind
from app.units.schemas import UnitOut, UnitRef


class NewUnit(BaseModel):
    """A unit that starts to exist on the effective date."""

    model_config = ConfigDict(extra="forbid")

    code: str = Field(pattern=r"^\d{2,3}$", description="Official code, e.g. `08`.")
    name: SearchableName = Field(min_length=1, max_length=120)
    kind: UnitKind


class ExistingUnit(BaseModel):
    """An existing unit that continues and absorbs the predecessors."""

    model_config = ConfigDict(extra="forbid")

    unit_id: Integer = Field(ge=1, le=2_147_483_647)


Successor = NewUnit | ExistingUnit
UnitId = Annotated[Integer, Field(ge=1, le=2_147_483_647)]


class _Succession(BaseModel):
    model_config = ConfigDict(extra="forbid")

    effective_date: IsoDate = Field(description="The predecessors' last day is the day before.")
    legal_basis: Text = Field(min_length=1, max_length=200)

    def plan(self) -> tuple[list[int], list[NewUnit], list[int]]:
        """Predecessor ids, units to open, existing units that continue."""
        raise NotImplementedError


class MergeCreate(_Succession):
    """Several units become one (a new unit, or one of them continuing)."""

    model_config = ConfigDict(
        json_schema_extra={
            "example": {
                "kind": "merge",
                "effective_date": "2030-01-01",
                "legal_basis": "Nghị quyết số …/2029/QH15",
                "predecessor_ids": [70, 71],
                "successor": {"code": "70", "name": "Tỉnh mới", "kind": "tinh"},
            }
        }
    )

    kind: Literal[SuccessionKind.merge]
    predecessor_ids: set[UnitId] = Field(min_length=2, max_length=20)
    successor: Successor

    def plan(self) -> tuple[list[int], list[NewUnit], list[int]]:
        new, kept = _split([self.successor])
        return sorted(self.predecessor_ids), new, kept


class SplitCreate(_Succession):
    """One unit becomes several."""

    kind: Literal[SuccessionKind.division]
    predecessor_id: UnitId
    successors: list[Successor] = Field(min_length=2, max_length=20)

    def plan(self) -> tuple[list[int], list[NewUnit], list[int]]:
        new, kept = _split(self.successors)
        return [self.predecessor_id], new, kept


class RenameCreate(_Succession):
    """One unit becomes a new unit under another name, code or kind."""

    kind: Literal[SuccessionKind.rename]
    predecessor_id: UnitId
    new_unit: NewUnit

    def plan(self) -> tuple[list[int], list[NewUnit], list[int]]:
        return [self.predecessor_id], [self.new_unit], []


def _split(successors: list[Successor]) -> tuple[list[NewUnit], list[int]]:
    return (
        [s for s in successors if isinstance(s, NewUnit)],
        [s.unit_id for s in successors if isinstance(s, ExistingUnit)],
    )


SuccessionCreate = Annotated[MergeCreate | SplitCreate | RenameCreate, Field(discriminator="kind")]


class Link(BaseModel):
    predecessor_id: int
    successor_id: int


class LeadershipAffected(BaseModel):
    """A leadership held by a ceasing unit; kept as decided, reported so someone can act."""

    cluster: int
    year: int
    role: str
    unit: UnitRef


class SuccessionOut(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "example": {
                "kind": "merge",
                "effective_date": "2030-01-01",
                "legal_basis": "Nghị quyết số …/2029/QH15",
                "closed_units": [
                    {
                        "id": 80,
                        "code": "14",
                        "name": "Sơn La",
                        "kind": "tinh",
                        "kind_label": "Tỉnh",
                        "valid_from": None,
                        "valid_to": "2029-12-31",
                        "version": 2,
                    }
                ],
                "opened_units": [
                    {
                        "id": 99,
                        "code": "14",
                        "name": "Sơn La",
                        "kind": "tinh",
                        "kind_label": "Tỉnh",
                        "valid_from": "2030-01-01",
                        "valid_to": None,
                        "version": 1,
                    }
                ],
                "continuing_units": [],
                "links": [{"predecessor_id": 80, "successor_id": 99}],
                "memberships_closed": [
                    {
                        "membership_id": 12,
                        "unit_id": 80,
                        "cluster": 3,
                        "valid_from": "2025-01-01",
                        "previous_valid_to": None,
                        "valid_to": "2029-12-31",
                    }
                ],
                "leaderships_affected": [],
            }
        }
    )

    kind: SuccessionKind
    effective_date: date
    legal_basis: str
    closed_units: list[UnitOut]
    opened_units: list[UnitOut]
    continuing_units: list[UnitOut]
    links: list[Link]
    memberships_closed: list[MembershipClosed] = Field(
        description="Open memberships of the predecessors, ended the day before the succession. "
        "Whether a successor joins a cluster is the Ministry's decision: record it as a membership."
    )
    leaderships_affected: list[LeadershipAffected]


class SuccessionConflict(MembershipConflict):
    """409 on a succession: a predecessor that already ceased (`unit-already-ceased`, naming it
    in `unit_id`), or a membership of a predecessor the succession cannot end
    (`unit-not-in-period`, with `MembershipConflict`'s `conflicting_membership_id`)."""

    model_config = ConfigDict(
        json_schema_extra={
            "example": {
                "type": "/problems/unit-already-ceased",
                "title": "Xung đột dữ liệu",
                "status": 409,
                "detail": "Thái Bình (34) đã kết thúc hoạt động ngày 30/6/2025.",
                "instance": "/v1/successions",
                "request_id": "0f5c2a7e9b3d4c1a8e6f2b9d7c4a1e3f",
                "unit_id": 22,
            }
        }
    )

    unit_id: int | None = Field(default=None, description="409: the unit that already ceased.")
