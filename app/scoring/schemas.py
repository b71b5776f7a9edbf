"""Requests and answers of the scoring framework, score sheets, standings and freezes."""

from datetime import datetime
from decimal import Decimal
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
)

from app.core.errors import Problem
from app.core.numbers import ExactDecimal, exact_number
from app.core.types import Text
from app.scoring.models import Combination, CriterionKind, ScorerKind, TieBreak
from app.units.schemas import UnitRef

MAX_POINTS = Decimal(10_000)

Points = Annotated[Decimal, exact_number(0, MAX_POINTS)]
"""Points: a JSON number from 0 to 10,000, kept exactly (`numeric`)."""

PositivePoints = Annotated[Decimal, exact_number(0, MAX_POINTS, exclusive_minimum=True)]

Score = ExactDecimal
"""A total in an answer (a penalty can make it negative)."""

Code = Annotated[str, Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]{0,39}$", description="A short code.")]

_CRITERIA: list[Any] = [
    {
        "code": "XDLL",
        "name": "Công tác xây dựng lực lượng",
        "group": "Công tác xây dựng lực lượng",
        "max_points": 30,
        "kind": "criterion",
    },
    {
        "code": "ANTT",
        "name": "Bảo đảm an ninh, trật tự",
        "group": "Công tác nghiệp vụ",
        "max_points": 70,
        "kind": "criterion",
    },
    {"code": "THUONG", "name": "Điểm thưởng", "group": None, "max_points": 5, "kind": "bonus"},
    {"code": "TRU", "name": "Điểm trừ", "group": None, "max_points": 10, "kind": "penalty"},
]
_CLASSES: list[Any] = [
    {"code": "XS", "name": "Xuất sắc", "min_points": 95},
    {"code": "T", "name": "Tốt", "min_points": 85},
    {"code": "K", "name": "Khá", "min_points": 70},
    {"code": "TB", "name": "Trung bình", "min_points": None},
]
_SCORERS: list[Any] = [
    {"code": "CUM5", "name": "Cụm thi đua số 5", "kind": "cluster", "weight": None},
    {
        "code": "X01",
        "name": "Cục Công tác Đảng và công tác chính trị",
        "kind": "department",
        "weight": None,
    },
]
_FRAMEWORK: dict[str, Any] = {
    "criteria": _CRITERIA,
    "classes": _CLASSES,
    "scorers": _SCORERS,
    "combination": "mean",
    "tie_break": "by_criteria_then_shared",
    "tie_break_order": ["Công tác nghiệp vụ", "XDLL"],
    "source": "Quy chế hoạt động Cụm thi đua số 5 năm 2024",
    "note": None,
}


class CriterionIn(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"example": _CRITERIA[0]})

    code: Code
    name: Text = Field(min_length=1, max_length=500, description="In Vietnamese, as the framework says.")
    group: Text | None = Field(
        default=None, min_length=1, max_length=200, description='E.g. "Công tác xây dựng lực lượng".'
    )
    max_points: PositivePoints
    kind: CriterionKind = Field(
        default=CriterionKind.criterion,
        description="`criterion` counts up to `max_points`; `bonus` adds up to it; `penalty` "
        "deducts up to it (scored as a positive deduction).",
    )


class ClassIn(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"example": _CLASSES[0]})

    code: Code
    name: Text = Field(min_length=1, max_length=200, description='E.g. "Xuất sắc".')
    min_points: Points | None = Field(
        description="The combined total the class needs (≥); null only for the last class: every "
        "total below the others."
    )


class ScorerIn(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"example": _SCORERS[1]})

    code: Code
    name: Text = Field(min_length=1, max_length=300)
    kind: ScorerKind = Field(
        description="`cluster`: the cluster itself; `department`: a department of the Ministry."
    )
    weight: PositivePoints | None = Field(default=None, description="Needed by every scorer for `weighted`.")


class FrameworkPut(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"example": _FRAMEWORK})

    criteria: list[CriterionIn] = Field(min_length=1, max_length=200, description="In order.")
    classes: list[ClassIn] = Field(
        default_factory=list, max_length=20, description="From the highest; thresholds strictly decreasing."
    )
    scorers: list[ScorerIn] = Field(min_length=1, max_length=50)
    combination: Combination = Field(
        default=Combination.sum,
        description="The combined total: the scorers' `sum`, `mean`, or `weighted` mean "
        "(Σ weight × total ÷ Σ weight).",
    )
    tie_break: TieBreak = Field(
        default=TieBreak.shared,
        description="`shared`: equal totals share a rank (1, 1, 3). `by_criteria_then_shared`: "
        "equal totals are ordered by `tie_break_order`, then share a rank if still equal.",
    )
    tie_break_order: list[Annotated[Text, Field(min_length=1, max_length=200)]] = Field(
        default_factory=list,
        max_length=50,
        description="Criterion codes or groups, in order: compared higher first, combined over the "
        "scorers like the total. Required by (only by) `by_criteria_then_shared`.",
    )
    source: Text | None = Field(default=None, max_length=500)
    note: Text | None = Field(default=None, max_length=2000)


class CriterionOut(BaseModel):
    position: int
    code: str
    name: str
    group: str | None
    max_points: Score
    kind: CriterionKind


class ClassOut(BaseModel):
    position: int
    code: str
    name: str
    min_points: Score | None


class ScorerOut(BaseModel):
    position: int
    code: str
    name: str
    kind: ScorerKind
    weight: Score | None


def _positioned(items: list[Any]) -> list[Any]:
    return [{"position": i, **item} for i, item in enumerate(items, start=1)]


class FrameworkOut(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "example": {
                "cluster": 5,
                "year": 2024,
                **_FRAMEWORK,
                "criteria": _positioned(_CRITERIA),
                "classes": _positioned(_CLASSES),
                "scorers": _positioned(_SCORERS),
                "version": 1,
                "recorded_by": "key:1:Cụm thi đua số 5",
                "recorded_at": "2024-11-20T08:00:00Z",
            }
        }
    )

    cluster: int
    year: int
    criteria: list[CriterionOut]
    classes: list[ClassOut]
    scorers: list[ScorerOut]
    combination: Combination
    tie_break: TieBreak
    tie_break_order: list[str]
    source: str | None
    note: str | None
    version: int
    recorded_by: str
    recorded_at: datetime


class ScoreItemIn(BaseModel):
    model_config = ConfigDict(
        extra="forbid", json_schema_extra={"example": {"criterion": "XDLL", "points": 28.5}}
    )

    criterion: Code = Field(description="A criterion code of the framework.")
    points: Points = Field(
        description="0 to the criterion's `max_points`; a penalty as the positive deduction."
    )


_ITEMS: list[Any] = [
    {"criterion": "XDLL", "points": 28.5},
    {"criterion": "ANTT", "points": 66},
    {"criterion": "TRU", "points": 1},
]


class ScoreSheetPut(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"example": {"items": _ITEMS, "note": None}})

    items: list[ScoreItemIn] = Field(
        max_length=200, description="One per criterion scored; bonus and penalty items may be left out (0)."
    )
    note: Text | None = Field(default=None, max_length=2000)


class ScoreItemOut(BaseModel):
    criterion: str
    points: Score


class ScoreSheetOut(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "example": {
                "cluster": 5,
                "year": 2024,
                "scorer": "X01",
                "unit": {
                    "id": 31,
                    "code": "36",
                    "name": "Nam Định",
                    "valid_from": None,
                    "valid_to": "2025-06-30",
                },
                "items": _ITEMS,
                "total": 93.5,
                "note": None,
                "version": 1,
                "recorded_by": "key:1:Bộ Công an",
                "recorded_at": "2024-11-25T08:00:00Z",
            }
        }
    )

    cluster: int
    year: int
    scorer: str
    unit: UnitRef
    items: list[ScoreItemOut] = Field(description="In the framework's order of criteria.")
    total: Score = Field(description="Criteria and bonus points, less penalties.")
    note: str | None
    version: int
    recorded_by: str
    recorded_at: datetime


class ScorerTotal(BaseModel):
    scorer: str
    total: Score | None = Field(description="Criteria + bonus − penalty; null while a criterion is missing.")


class MissingScore(BaseModel):
    scorer: str
    criterion: str


class StandingRow(BaseModel):
    unit_id: int
    unit_code: str
    unit_name: str
    rank: int | None = Field(description="Null: not ranked (`unranked_reason`).")
    unranked_reason: Literal["missing_scores"] | None
    combined_total: Score | None = Field(
        description="The scorers' totals combined as the framework says; exact, or rounded to 4 "
        "decimals when not a finite decimal (ranks and classes compare the exact value). Null "
        "while scores are missing."
    )
    class_code: str | None
    class_name: str | None
    scorer_totals: list[ScorerTotal] = Field(description="In the framework's order of scorers.")
    missing: list[MissingScore] = Field(description="Every scorer × criterion without points.")


class FreezeRef(BaseModel):
    number: int
    frozen_by: str
    frozen_at: datetime
    thawed_by: str | None
    thawed_at: datetime | None
    thaw_reason: str | None


_ROW: dict[str, Any] = {
    "unit_id": 31,
    "unit_code": "36",
    "unit_name": "Nam Định",
    "rank": 1,
    "unranked_reason": None,
    "combined_total": 96.25,
    "class_code": "XS",
    "class_name": "Xuất sắc",
    "scorer_totals": [{"scorer": "CUM5", "total": 97}, {"scorer": "X01", "total": 95.5}],
    "missing": [],
}
_FREEZE: dict[str, Any] = {
    "number": 1,
    "frozen_by": "key:4:Cụm thi đua số 5",
    "frozen_at": "2024-11-25T07:30:00Z",
    "thawed_by": None,
    "thawed_at": None,
    "thaw_reason": None,
}
_STANDINGS: dict[str, Any] = {
    "cluster": 5,
    "year": 2024,
    "version": 12,
    "frozen": True,
    "freeze": _FREEZE,
    "framework_version": 2,
    "combination": "mean",
    "tie_break": "by_criteria_then_shared",
    "tie_break_order": ["Công tác nghiệp vụ", "XDLL"],
    "scorers": _positioned(_SCORERS),
    "classes": _positioned(_CLASSES),
    "rows": [
        _ROW,
        {
            **_ROW,
            "unit_id": 30,
            "unit_code": "33",
            "unit_name": "Hưng Yên",
            "rank": None,
            "unranked_reason": "missing_scores",
            "combined_total": None,
            "class_code": None,
            "class_name": None,
            "scorer_totals": [{"scorer": "CUM5", "total": 94}, {"scorer": "X01", "total": None}],
            "missing": [{"scorer": "X01", "criterion": "ANTT"}],
        },
    ],
}


class Standings(BaseModel):
    """The standings of a cluster-year at one `version`: every member's totals, rank and class."""

    model_config = ConfigDict(json_schema_extra={"example": _STANDINGS})

    cluster: int
    year: int
    version: int = Field(
        description="Bumped by every change of the framework or of a score in the cluster-year; a "
        "vote records it. `GET …/standings/versions/{version}` reads it again while it is current "
        "or once frozen."
    )
    frozen: bool = Field(description="True: a frozen snapshot (see `freeze`), fixed for the conference.")
    freeze: FreezeRef | None
    framework_version: int
    combination: Combination
    tie_break: TieBreak
    tie_break_order: list[str]
    scorers: list[ScorerOut]
    classes: list[ClassOut]
    rows: list[StandingRow] = Field(description="Ranked members by rank (then name), then the unranked.")

    def row(self, unit_id: int) -> StandingRow | None:
        """The member's row, or None."""
        return next((r for r in self.rows if r.unit_id == unit_id), None)


class FreezeOut(FreezeRef):
    model_config = ConfigDict(json_schema_extra={"example": {**_FREEZE, "standings": _STANDINGS}})

    standings: Standings = Field(description="The frozen snapshot, at its `version`.")


class ThawIn(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"example": {"reason": "Cục Công tác chính trị điều chỉnh điểm tiêu chí ANTT"}},
    )

    reason: Text = Field(min_length=1, max_length=2000, description="Why the standings are thawed.")


class StandingsBriefRow(BaseModel):
    unit_id: int
    unit_name: str
    rank: int | None = Field(description="Null: not ranked (`unranked_reason`).")
    unranked_reason: Literal["missing_scores"] | None
    combined_total: Score | None
    class_code: str | None
    class_name: str | None


class StandingsBrief(BaseModel):
    """The standings as the year sheet shows them: rank, total and class per member; each
    scorer's totals and the missing scores are at `href`."""

    model_config = ConfigDict(
        json_schema_extra={
            "example": {
                "version": 12,
                "frozen": True,
                "freeze_number": 1,
                "rows": [
                    {
                        key: _ROW[key]
                        for key in (
                            "unit_id",
                            "unit_name",
                            "rank",
                            "unranked_reason",
                            "combined_total",
                            "class_code",
                            "class_name",
                        )
                    }
                ],
                "href": "/v1/clusters/5/years/2024/standings",
            }
        }
    )

    version: int
    frozen: bool
    freeze_number: int | None
    rows: list[StandingsBriefRow]
    href: str

    @classmethod
    def of(cls, standings: Standings) -> "StandingsBrief":
        return cls(
            version=standings.version,
            frozen=standings.frozen,
            freeze_number=standings.freeze.number if standings.freeze else None,
            rows=[StandingsBriefRow.model_validate(row, from_attributes=True) for row in standings.rows],
            href=f"/v1/clusters/{standings.cluster}/years/{standings.year}/standings",
        )


class FreezeConflict(Problem):
    """409 naming a freeze of the standings: the freeze that blocks a change to the framework or
    the scores, or a new freeze (`standings-frozen`), or the freeze already thawed
    (`freeze-already-thawed`)."""

    model_config = ConfigDict(
        json_schema_extra={
            "example": {
                "type": "/problems/standings-frozen",
                "title": "Xung đột dữ liệu",
                "status": 409,
                "detail": "Bảng xếp hạng của Cụm 5 năm 2024 đã được chốt (lần chốt 1): không thể thay đổi "
                "khung tiêu chí và điểm cho đến khi quản trị viên mở chốt.",
                "instance": "/v1/clusters/5/years/2024/scoring-framework",
                "request_id": "0f5c2a7e9b3d4c1a8e6f2b9d7c4a1e3f",
                "freeze_number": 1,
            }
        }
    )

    freeze_number: int | None = Field(
        default=None, description="409: the freeze of the standings that blocks the change."
    )
