"""The report of a refused batch: bounded, whatever the body.

Every problem is kept as a small tuple while the batch is checked (the row cap bounds how many).
The answer lists them in file order, each spreadsheet habit once per column (with how many rows
repeat it), the others one by one up to `FIGURES_BATCH_LISTED_PROBLEMS`; past that, problems are
counted per column and kind ("và 999.950 lỗi như vậy nữa"). So a file of ten thousand bad rows
gets an answer of a few kilobytes, never one line per row."""

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, NamedTuple

from app.core.errors import AppError, BatchProblemCount, BatchRowProblem, Conflict, Unprocessable
from app.core.i18n import _, quantity

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
