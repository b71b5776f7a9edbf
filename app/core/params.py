"""Path, query and header parameters that several features share."""

from datetime import date
from typing import Annotated

from fastapi import Header, Path, Query

from app.core.periods import year_bounds
from app.core.types import IsoDate, PlainDecimal

ClusterNumber = Annotated[
    int, Path(ge=1, le=999, description="The cluster's number (Cụm thi đua số N)."), PlainDecimal
]
Year = Annotated[
    int,
    Path(
        ge=2000, le=2100, description="The emulation year (its figures are judged over its reporting period)."
    ),
    PlainDecimal,
]
RecordId = Annotated[int, Path(ge=1, le=2_147_483_647), PlainDecimal]
UnitId = Annotated[int, Path(ge=1, le=2_147_483_647, description="The unit's id."), PlainDecimal]
IfMatch = Annotated[
    str | None,
    Header(
        alias="If-Match",
        description="The ETag of the version you read; required to change a versioned record.",
    ),
]
YearQuery = Annotated[
    int | None,
    Query(ge=2000, le=2100, description="Everything overlapping this calendar year."),
    PlainDecimal,
]
AsOfQuery = Annotated[IsoDate | None, Query(description="The state valid on this day, `YYYY-MM-DD`.")]
UnitQuery = Annotated[int | None, Query(ge=1, le=2_147_483_647, description="A unit's id."), PlainDecimal]
"""The unit filter of every list: `unit` (an id), the one name across the API."""


def time_window(year: int | None, as_of: date | None) -> tuple[date | None, date | None] | None:
    """`year` → the whole year; `as_of` → that one day; both → that day if it lies in the
    year; neither → no restriction. None: no record can match."""
    if year is not None and as_of is not None:
        return (as_of, as_of) if as_of.year == year else None
    if year is not None:
        return year_bounds(year)
    if as_of is not None:
        return as_of, as_of
    return None, None
