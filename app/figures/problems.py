"""The report of a refused batch: bounded, whatever the body.

Every problem is kept as a small tuple while the batch is checked (the row cap bounds how many).
The answer lists them in file order, each spreadsheet habit once per column (with how many rows
repeat it), the others one by one up to `FIGURES_BATCH_LISTED_PROBLEMS`; past that, problems are
counted per column and kind ("và 999.950 lỗi như vậy nữa"). So a file of ten thousand bad rows
gets an answer of a few kilobytes, never one line per row.

Also the problem schemas of figures: the batch's report (`FiguresBatchProblem`, made of
`BatchRowProblem` and `BatchProblemCount`) and a period outside a unit's existence
(`FigurePeriodConflict`)."""

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, NamedTuple

from pydantic import BaseModel, ConfigDict, Field

from app.core.errors import AppError, Conflict, Problem, Unprocessable
from app.core.i18n import Localized, _, quantity
from app.units.examples import HUNG_YEN
from app.units.schemas import UnitRef

# --- the problem schemas -----------------------------------------------------------------------


class BatchRowProblem(BaseModel):
    """One problem of a batch: a bad value, a row that cannot be written, or a line that is not CSV."""

    model_config = ConfigDict(
        json_schema_extra={
            "example": {
                "row": 7,
                "column": "tu_ngay",
                "kind": "date-format",
                "problem": 'cột tu_ngay: "01/07/2025" — hãy ghi 2025-07-01',
                "repeated": 120,
            }
        }
    )

    row: int = Field(
        description="As in the file: the CSV line (the header is line 1), the sheet's row in an "
        "XLSX workbook (the header is row 1), or the 1-based position in a JSON `rows` array."
    )
    column: str | None = Field(description="The column (CSV header as written, JSON field), if one.")
    kind: str = Field(
        description="What kind of problem, for programs: `date-format`, `thousands-separator`, "
        "`decimal-comma`, `leading-zero`, `required`, `unknown-unit`, `version-mismatch`, …"
    )
    problem: Localized = Field(description="What is wrong, in the request's language.")
    repeated: int | None = Field(
        default=None,
        description="A spreadsheet habit (a date, number or code written the way a sheet writes it) "
        "is listed once per column: the number of rows with it, this one the first.",
    )


class BatchProblemCount(BaseModel):
    """Problems past the listed ones, counted per column and kind."""

    model_config = ConfigDict(
        json_schema_extra={
            "example": {
                "column": "nam",
                "kind": "required",
                "count": 999950,
                "problem": "và 999.950 lỗi như vậy nữa",
            }
        }
    )

    column: str | None
    kind: str
    count: int
    problem: Localized = Field(description="The count, said in the request's language.")


class FiguresBatchProblem(Problem):
    """A refused batch (`POST /v1/figures:batch`): its problems (422, or 409 when every one is a
    conflict with what is stored), the rows naming a unit the key may not write for (403), the
    row cap (413 `too-many-rows`), or a workbook unpacking past its cap (413 `payload-too-large`)."""

    model_config = ConfigDict(
        json_schema_extra={
            "example": {
                "type": "/problems/unprocessable",
                "title": "Dữ liệu không hợp lệ",
                "status": 422,
                "detail": "Lô số liệu không được ghi: 121 lỗi; xem `rows`.",
                "instance": "/v1/figures:batch",
                "request_id": "0f5c2a7e9b3d4c1a8e6f2b9d7c4a1e3f",
                "rows": [
                    {
                        "row": 7,
                        "column": "tu_ngay",
                        "kind": "date-format",
                        "problem": 'cột tu_ngay: "01/07/2025" — hãy ghi 2025-07-01',
                        "repeated": 120,
                    },
                    {
                        "row": 12,
                        "column": "don_vi_id",
                        "kind": "unknown-unit",
                        "problem": "Không tìm thấy đơn vị có mã số 9999.",
                    },
                ],
                "problem_count": 121,
            }
        }
    )

    rows: list[BatchRowProblem] | None = Field(
        default=None,
        description="422/409 on a batch: its problems in file order, the first "
        "`FIGURES_BATCH_LISTED_PROBLEMS` (100 by default) in full.",
    )
    more_problems: list[BatchProblemCount] | None = Field(
        default=None, description="422/409 on a batch: the problems past `rows`, counted per column and kind."
    )
    problem_count: int | None = Field(default=None, description="422/409 on a batch: every problem, counted.")
    forbidden_rows: list[int] | None = Field(
        default=None,
        description="403 on a batch: the rows naming a unit this key may not write for (the first "
        "`FIGURES_BATCH_LISTED_PROBLEMS`).",
    )
    forbidden_row_count: int | None = Field(
        default=None, description="403 on a batch: all such rows, counted."
    )
    max_rows: int | None = Field(default=None, description="413 on a batch: the most rows a batch may have.")
    max_unpacked_bytes: int | None = Field(
        default=None, description="413 on an XLSX batch: the most bytes its parts may unpack to, together."
    )


class FigurePeriodConflict(Problem):
    """409 `unit-not-in-period` on a unit's figures: the period lies outside the unit's existence;
    the figures belong to the units named."""

    model_config = ConfigDict(
        json_schema_extra={
            "example": {
                "type": "/problems/unit-not-in-period",
                "title": "Xung đột dữ liệu",
                "status": 409,
                "detail": "Thái Bình đã chấm dứt tồn tại ngày 30/6/2025; số liệu sau đó thuộc các đơn vị "
                "kế thừa: Hưng Yên.",
                "instance": "/v1/units/22/figures/2025-01-01..2025-12-31",
                "request_id": "0f5c2a7e9b3d4c1a8e6f2b9d7c4a1e3f",
                "field": "period",
                "successors": [HUNG_YEN],
            }
        }
    )

    predecessors: list[UnitRef] | None = Field(
        default=None, description="409: the units a period before the unit's first day belongs to."
    )
    successors: list[UnitRef] | None = Field(
        default=None, description="409: the units a period after the unit's last day belongs to."
    )


# --- the report --------------------------------------------------------------------------------

HABITS = frozenset(
    {
        "thousands-separator",
        "decimal-comma",
        "decimal-point",
        "date-format",
        "excel-serial-date",
        "leading-zero",
        "exponent",
        "non-ascii-digits",
        "digit-separator",
    }
)
"""Kinds that come from how a spreadsheet writes a value: usually on every row, so said once."""


class Found(NamedTuple):
    row: int
    column: str | None
    kind: str
    problem: str
    conflict: bool


@dataclass
class Report:
    listed: int
    """How many problems the answer lists in full."""
    problems: list[Found] = field(default_factory=list)

    def add(self, row: int, column: str | None, kind: str, problem: str, *, conflict: bool = False) -> None:
        self.problems.append(Found(row, column, kind, problem, conflict))

    def refusal(self) -> AppError:
        """The problem answering a refused batch: 409 when every problem is a conflict with what
        is stored, 422 otherwise."""
        found = sorted(self.problems, key=lambda p: (p.row, p.column or ""))
        listed: list[BatchRowProblem] = []
        habit: dict[tuple[str | None, str], BatchRowProblem] = {}
        counted: dict[tuple[str | None, str], int] = {}
        for p in found:
            where = (p.column, p.kind)
            if p.kind in HABITS:
                first = habit.get(where)
                if first is not None:
                    first.repeated = (first.repeated or 1) + 1
                    continue
            if len(listed) < self.listed:
                entry = BatchRowProblem(row=p.row, column=p.column, kind=p.kind, problem=p.problem)
                listed.append(entry)
                if p.kind in HABITS:
                    habit[where] = entry
            else:
                counted[where] = counted.get(where, 0) + 1
        more = [
            BatchProblemCount(
                column=column,
                kind=kind,
                count=count,
                problem=_("and {count} more like this", count=quantity(count)),
            )
            for (column, kind), count in sorted(
                counted.items(), key=lambda c: (-c[1], c[0][0] or "", c[0][1])
            )
        ]
        detail = _("The batch was not applied: {count} problems; see `rows`.", count=quantity(len(found)))
        members: dict[str, Any] = {
            "rows": [_shown(p) for p in listed],
            "problem_count": len(found),
        }
        if more:
            members["more_problems"] = [m.model_dump() for m in more]
        if all(p.conflict for p in found):
            return Conflict(slug="figures-conflict", detail=detail, **members)
        return Unprocessable(detail, **members)


def _shown(problem: BatchRowProblem) -> dict[str, object]:
    shown = problem.model_dump()
    if shown["repeated"] is None:
        del shown["repeated"]
    return shown


@dataclass
class RowProblems:
    """The problems of one row, named by the file's columns."""

    report: Report
    row: int
    column: Callable[[str], str]
    count: int = 0

    def add(self, field_name: str | None, kind: str, problem: str, *, conflict: bool = False) -> None:
        self.count += 1
        self.report.add(
            self.row, self.column(field_name) if field_name else None, kind, problem, conflict=conflict
        )
