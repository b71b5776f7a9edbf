"""The history file format (`format: thidua-history/1`), in YAML or JSON.

A file lists its sources (the documents records cite) and, per cluster, per year, the
members and the leadership. Units are named as the source writes them ("Hoà Bình" or
"Hòa Bình"); a name is resolved among the units that exist on the year's `attested_on`
day (the date of the source), or by `code` where a name is ambiguous. Where a source gives
no dates, a membership spans the year within the unit's existence, with
`period_precision: year`.

A year entry may also carry the year's `covenant` (key contents as text, numeric targets on
the metric catalogue, the host named like a member) and the `reported_figures` a conference
gave for the whole cluster, each with the qualifier the source uses ("gần" `approximately`,
"trên"/"hơn" `over`). Both are loaded through the same services as `PUT …/covenant` and
`PUT …/reported-figures`; one already stored as the file says is left alone, one stored
differently is a problem.

A year entry's `conferences` are the conferences a source reports (kind, day or only month, host,
chairs, guests), each citing its source with the source's words (`quote`); a host or chairs the
source does not name stay unstated. A conference may be given a `key` in the file, which the
records decided there name: the leadership it handed over (next year's entry, `conference_key`),
the covenant signed there and the reported figures it gave (`reported_figures_conference_key`).
A conference is the same as one stored when its kind, date and precision are; a conference is
named after it is listed (earlier in the file). A record's link is no contradiction when either
side names no conference: a record stored before without one is left as it is (link it through
the API), and so is a link made through the API that the file does not name.

A covenant entry's `pledges` are what its members pledge (an amount, a count or a task, each
member's or the members' together), loaded through the same service as `PUT …/pledges`.

A year entry's `awards` are the nominations (and later steps) a source reports, loaded as
attested records through `app.awards.service.nominate`: each says which facts its source states
(`nomination`, `vote_counts`, `scores`, `rank`, `decision`); what it does not state stays "not
stated", and a rule that needs it reports "cannot be verified" instead of refusing. An award the
source reports as decided states its `status` (`granted`, `refused`, `revoked`), with the
decision's day, number and authority only as far as the source states them (a number or an
authority needs `facts: {decision: stated}`).
"""

from datetime import date
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

from app.awards.schemas import AWARD_TYPE_CODE, Fact, StatedStatus, Statement
from app.clusters.models import RotationCustom
from app.conferences.models import ConferenceKind, DatePrecision
from app.core.types import Integer, Text
from app.covenants.models import Basis, Comparator, Scope
from app.covenants.schemas import Number
from app.metrics.models import MeasureUnit
from app.pledges.schemas import PledgeIn
from app.reported.models import FigureKind, Qualifier

# The same limits as the API's, so that a file is checked whole before anything is written.
_NAME = Field(min_length=1, max_length=120)
_NOTE = Field(default=None, max_length=2000)
_CONFERENCE_KEY = r"^[a-z0-9][a-z0-9._-]{0,59}$"


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
    conference_key: str | None = Field(
        default=None,
        pattern=_CONFERENCE_KEY,
        description="The `key` of the conference it was decided at: one of the year before.",
    )
    note: Text | None = _NOTE
    source: str | None = None


class TargetEntry(_Strict):
    """A numeric target; see `TargetIn` (`PUT …/covenant`)."""

    metric: str = Field(pattern=r"^[a-z][a-z0-9_]{0,59}$", description="A key of the metric catalogue.")
    comparator: Comparator
    threshold: Number
    basis: Basis
    scope: Scope
    label: Text | None = Field(default=None, max_length=500, description="The covenant's own wording.")


class CovenantEntry(_Strict):
    signed_on: date | None = None
    host: Text | None = Field(
        default=None, min_length=1, max_length=120, description="The host unit, named like a member."
    )
    host_code: str | None = Field(default=None, pattern=r"^\d{2,3}$", description="If the name is ambiguous.")
    key_contents: list[Annotated[Text, Field(min_length=1, max_length=2000)]] = Field(
        default_factory=list, max_length=50
    )
    targets: list[TargetEntry] = Field(default_factory=list, max_length=50)
    note: Text | None = _NOTE
    source: str | None = Field(default=None, description="Key into `sources`; default: the year's.")
    conference_key: str | None = Field(
        default=None, pattern=_CONFERENCE_KEY, description="The `key` of the conference it was signed at."
    )
    pledges: list[PledgeIn] = Field(
        default_factory=list, max_length=50, description="What its members pledge; see `PUT …/pledges`."
    )


class ReportedFigureEntry(_Strict):
    """A figure a conference reported for the whole cluster; see `ReportedFigureIn`."""

    label: Text = Field(min_length=1, max_length=500)
    metric: str | None = Field(default=None, pattern=r"^[a-z][a-z0-9_]{0,59}$")
    kind: FigureKind
    qualifier: Qualifier
    value: Number
    unit_of_measure: MeasureUnit | None = None
    compared_with: Text | None = Field(default=None, max_length=200)
    period_start: date | None = None
    period_end: date | None = None
    note: Text | None = _NOTE
    source: str | None = Field(default=None, description="Key into `sources`; default: the year's.")


class ConferenceEntry(_Strict):
    """A conference of the year; see `ConferenceCreate` (`POST …/conferences`)."""

    key: str | None = Field(
        default=None,
        pattern=_CONFERENCE_KEY,
        description="Its name in this file, for the records decided there (`conference_key`).",
    )
    kind: ConferenceKind
    held_on: date = Field(description="The day; the month's first day when only the month is known.")
    held_on_precision: DatePrecision = DatePrecision.day
    host: Text | None = Field(
        default=None, min_length=1, max_length=120, description="Named like a member; null: not stated."
    )
    host_code: str | None = Field(default=None, pattern=r"^\d{2,3}$", description="If the name is ambiguous.")
    chairs: list[Annotated[Text, Field(min_length=1, max_length=120)]] = Field(
        default_factory=list, max_length=10, description="The chairing units, named like members."
    )
    guests: Text | None = Field(default=None, max_length=2000)
    quote: Text | None = Field(default=None, max_length=2000, description="The source's words.")
    source: str | None = Field(default=None, description="Key into `sources`; default: the year's.")
    note: Text | None = _NOTE


class AwardEntry(_Strict):
    award_type: str = Field(pattern=AWARD_TYPE_CODE, description="A code of the award catalogue.")
    unit: Text = Field(min_length=1, max_length=120, description="The unit's name as the source writes it.")
    code: str | None = Field(default=None, pattern=r"^\d{2,3}$")
    nominated_on: date | None = Field(
        default=None, description="The day of the nominating vote; the year's `attested_on` if not given."
    )
    source: str | None = Field(default=None, description="Key into `sources`; the year's if not given.")
    facts: dict[Fact, Statement] = Field(
        description="Which facts the source states; a fact left out is not stated."
    )
    quote: Text | None = Field(default=None, max_length=2000, description="The source's words.")
    status: StatedStatus = Field(
        default=StatedStatus.nominated,
        description="What the source reports: a nomination, or its outcome (granted, refused, revoked).",
    )
    decided_on: date | None = Field(default=None, description="The decision's day, if the source states it.")
    decision_number: Text | None = Field(
        default=None, min_length=1, max_length=100, description="Only if the source states it."
    )
    authority: Text | None = Field(
        default=None, min_length=1, max_length=200, description="Who decided, if the source states it."
    )
    reason: Text | None = Field(default=None, min_length=1, max_length=2000)


class YearEntry(_Strict):
    year: Integer = Field(ge=2000, le=2100)
    source: str = Field(description="Key into `sources`; records of the year cite it.")
    attested_on: date = Field(description="The day the source speaks of; names resolve on it.")
    members: list[MemberEntry] = Field(default_factory=list)
    conferences: list[ConferenceEntry] = Field(default_factory=list, max_length=50)
    leadership: LeadershipEntry | None = None
    covenant: CovenantEntry | None = None
    reported_figures: list[ReportedFigureEntry] = Field(default_factory=list, max_length=200)
    reported_figures_conference_key: str | None = Field(
        default=None, pattern=_CONFERENCE_KEY, description="The `key` of the conference that gave them."
    )
    awards: list[AwardEntry] = Field(default_factory=list, max_length=200)


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
    conferences_created: int = 0
    conferences_unchanged: int = 0
    leaderships_created: int = 0
    leaderships_unchanged: int = 0
    leaderships_corrected: int = 0
    covenants_created: int = 0
    covenants_unchanged: int = 0
    covenants_corrected: int = 0
    pledge_lists_created: int = 0
    pledge_lists_unchanged: int = 0
    pledge_lists_corrected: int = 0
    reported_figure_sets_created: int = 0
    reported_figure_sets_unchanged: int = 0
    reported_figure_sets_corrected: int = 0
    awards_created: int = 0
    awards_unchanged: int = 0
