"""The history file format (`format: thidua-history/1`), in YAML or JSON.

A file lists its sources (the documents records cite) and, per cluster, per year, the
members and the leadership. Units are named as the source writes them ("Hoà Bình" or
"Hòa Bình"); a name is resolved among the units that exist on the year's `attested_on`
day (the date of the source), or by `code` where a name is ambiguous. Where a source gives
no dates, a membership spans the year within the unit's existence, with
`period_precision: year`. Covenants, figures and awards will join the year entries.
"""

from datetime import date
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from app.clusters.models import RotationCustom
from app.core.types import Integer, Text

# The same limits as the API's, so that a file is checked whole before anything is written.
_NAME = Field(min_length=1, max_length=120)
_NOTE = Field(default=None, max_length=2000)


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Source(_Strict):
    title: Text = Field(min_length=1, max_length=500)
    published: date | None = None
    url: Text | None = Field(default=None, max_length=500)
    file: Text | None = Field(
        default=None, max_length=200, description="The file under shared/seeds, if any."
    )


class MemberEntry(_Strict):
    unit: Text = Field(min_length=1, max_length=120, description="The unit's name as the source writes it.")
    code: str | None = Field(default=None, pattern=r"^\d{2,3}$")
    valid_from: date | None = None
    valid_to: date | None = None
    note: Text | None = _NOTE
    source: str | None = None


class LeadershipEntry(_Strict):
    leader: Text = _NAME
    deputy: Text | None = Field(default=None, min_length=1, max_length=120)
    decided_on: date | None = None
    conference: Text | None = Field(default=None, max_length=300)
    note: Text | None = _NOTE
    source: str | None = None


class YearEntry(_Strict):
    year: Integer = Field(ge=2000, le=2100)
    source: str = Field(description="Key into `sources`; records of the year cite it.")
    attested_on: date = Field(description="The day the source speaks of; names resolve on it.")
    members: list[MemberEntry] = Field(default_factory=list)
    leadership: LeadershipEntry | None = None


class ClusterEntry(_Strict):
    number: Integer = Field(ge=1, le=999)
    name: Text | None = Field(default=None, min_length=1, max_length=120)
    rotation_custom: RotationCustom = RotationCustom.least_recent
    note: Text | None = _NOTE
    years: list[YearEntry] = Field(default_factory=list)


class HistoryFile(_Strict):
    format: Literal["thidua-history/1"]
    sources: dict[str, Source]
    clusters: list[ClusterEntry]


class ImportSummary(BaseModel):
    clusters_created: int = 0
    memberships_created: int = 0
    memberships_unchanged: int = 0
    leaderships_created: int = 0
    leaderships_unchanged: int = 0
