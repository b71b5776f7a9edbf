"""The statements an evaluation runs, built once (Core `select()`, bind parameters): the targets,
the metric catalogue, and what an evaluation over a period reads, all from the cluster and the
period's last day (`day`), so that they can be read together: the members that day, their
lineage, and the figures of the members and their predecessors."""

from sqlalchemy import Date, bindparam, select, union
from sqlmodel import col

from app.core.database import table
from app.core.periods import period
from app.covenants.models import Covenant, CovenantTarget
from app.figures.models import FigureSet, FigureValue
from app.memberships.models import Membership
from app.metrics.models import Metric
from app.units.models import Succession, Unit
from app.units.service import unit_columns

_metrics = table(Metric)
_numerator, _denominator = _metrics.alias("numerator"), _metrics.alias("denominator")

COVENANT_TARGETS = (
    select(
        col(CovenantTarget.position),
        _metrics.c.key.label("metric"),
        col(CovenantTarget.comparator),
        col(CovenantTarget.threshold),
        col(CovenantTarget.basis),
        col(CovenantTarget.scope),
        col(CovenantTarget.label),
    )
    .join(Covenant, col(Covenant.id) == col(CovenantTarget.covenant_id))
    .join(_metrics, _metrics.c.id == col(CovenantTarget.metric_id))
    .where(col(Covenant.cluster_id) == bindparam("cluster_id"), col(Covenant.year) == bindparam("year"))
    .order_by(col(CovenantTarget.position))
)
"""The targets of a cluster's covenant for a year, in order."""

METRICS = select(
    _metrics.c.key,
    _metrics.c.kind,
    _metrics.c.unit_of_measure,
    _numerator.c.key.label("numerator_key"),
    _denominator.c.key.label("denominator_key"),
).select_from(
    _metrics.outerjoin(_numerator, _numerator.c.id == _metrics.c.numerator_id).outerjoin(
        _denominator, _denominator.c.id == _metrics.c.denominator_id
    )
)
"""The whole catalogue (a few dozen rows)."""

_DAY = bindparam("day", type_=Date)
MEMBERS_ON = (
    select(*unit_columns(Unit))
    .join(Membership, col(Membership.unit_id) == col(Unit.id))
    .where(
        col(Membership.cluster_id) == bindparam("cluster_id"),
        period(col(Membership.valid_from), col(Membership.valid_to)).op("@>")(_DAY),
    )
    .order_by(col(Unit.name_folded), col(Unit.id))
)
"""The units that are members of the cluster on `day`, by name: those an evaluation judges (the
members at the end of its period)."""

_MEMBER_IDS = select(col(Membership.unit_id)).where(
    col(Membership.cluster_id) == bindparam("cluster_id"),
    period(col(Membership.valid_from), col(Membership.valid_to)).op("@>")(_DAY),
)
_walk = (
    select(col(Succession.predecessor_id), col(Succession.successor_id))
    .where(col(Succession.successor_id).in_(_MEMBER_IDS))
    .cte("walk", recursive=True, nesting=True)  # nesting: each statement that walks has its own
)
_WALK = _walk.union(
    select(col(Succession.predecessor_id), col(Succession.successor_id)).join(
        _walk, col(Succession.successor_id) == _walk.c.predecessor_id
    )
)
LINKS = select(_WALK.c.predecessor_id, _WALK.c.successor_id)
"""Every succession behind the members on `day`, transitively: (predecessor, successor)."""

_JUDGED = union(_MEMBER_IDS, select(_WALK.c.predecessor_id))
"""The members on `day` and their predecessors, transitively: the units whose figures count."""

UNITS = select(col(Unit.id), col(Unit.name), col(Unit.valid_from), col(Unit.valid_to)).where(
    col(Unit.id).in_(_JUDGED)
)
"""The first and last days and the names of the units whose figures count."""

FIGURES = (
    select(
        col(FigureSet.id).label("set_id"),
        col(FigureSet.unit_id),
        col(FigureSet.period_start),
        col(FigureSet.period_end),
        col(FigureSet.recorded_at),
        _metrics.c.key.label("metric"),
        col(FigureValue.value),
        col(FigureValue.numerator),
        col(FigureValue.denominator),
    )
    .join(FigureValue, col(FigureValue.figure_set_id) == col(FigureSet.id))
    .join(_metrics, _metrics.c.id == col(FigureValue.metric_id))
    .where(
        col(FigureSet.unit_id).in_(_JUDGED),
        period(col(FigureSet.period_start), col(FigureSet.period_end)).op("&&")(
            period(bindparam("start", type_=Date), bindparam("end", type_=Date))
        ),
    )
    .order_by(col(FigureSet.unit_id), col(FigureSet.period_start), col(FigureSet.id))
)
"""Every figure value of the units whose figures count in sets overlapping `[start, end]`."""
