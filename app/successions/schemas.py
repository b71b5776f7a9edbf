from datetime import date

from pydantic import BaseModel, ConfigDict, Field, model_validator

from app.memberships.schemas import MembershipClosed
from app.units.models import SuccessionKind, UnitKind
from app.units.schemas import UnitOut, UnitRef


class NewUnit(BaseModel):
    model_config = ConfigDict(extra="forbid")

    code: str = Field(pattern=r"^\d{2,3}$", description="Official code, e.g. `08`.")
    name: str = Field(min_length=1, max_length=120)
    kind: UnitKind


class SuccessionCreate(BaseModel):
    """A merge (several → one), split (one → several) or rename (one → one new unit).

    Predecessors cease the day before `effective_date`; `new_units` start on it;
    `successor_ids` are existing units that continue and absorb the predecessors.
    """

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "example": {
                "kind": "merge",
                "effective_date": "2030-01-01",
                "legal_basis": "Nghị quyết số …/2029/QH15",
                "predecessor_ids": [70, 71],
                "new_units": [{"code": "70", "name": "Tỉnh mới", "kind": "tinh"}],
            }
        },
    )

    kind: SuccessionKind
    effective_date: date
    legal_basis: str = Field(min_length=1, max_length=200)
    predecessor_ids: list[int] = Field(min_length=1, max_length=20)
    successor_ids: list[int] = Field(default_factory=list, max_length=20)
    new_units: list[NewUnit] = Field(default_factory=list, max_length=20)

    @model_validator(mode="after")
    def _shape(self) -> "SuccessionCreate":
        ids = [*self.predecessor_ids, *self.successor_ids]
        if any(i < 1 or i > 2_147_483_647 for i in ids):
            raise ValueError("unit ids are positive 32-bit integers")
        if len(set(ids)) != len(ids):
            raise ValueError("a unit appears twice among predecessors and successors")
        successors = len(self.successor_ids) + len(self.new_units)
        predecessors = len(self.predecessor_ids)
        rules = {
            SuccessionKind.merge: (predecessors >= 2 and successors == 1, "a merge has 2+ predecessors and 1 successor"),
            SuccessionKind.split: (predecessors == 1 and successors >= 2, "a split has 1 predecessor and 2+ successors"),
            SuccessionKind.rename: (
                predecessors == 1 and len(self.new_units) == 1 and not self.successor_ids,
                "a rename has 1 predecessor and 1 new unit",
            ),
        }
        ok, rule = rules[self.kind]
        if not ok:
            raise ValueError(rule)
        return self


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
