"""The statements an evaluation runs, built once (Core `select()`, bind parameters)."""

from sqlalchemy import Date, bindparam, select
from sqlmodel import col

from app.core.database import table
from app.core.periods import period
from app.covenants.models import Covenant, CovenantTarget
from app.figures.models import FigureSet, FigureValue
from app.metrics.models import Metric

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
        col(FigureSet.unit_id).in_(bindparam("units", expanding=True)),
        period(col(FigureSet.period_start), col(FigureSet.period_end)).op("&&")(
            period(bindparam("start", type_=Date), bindparam("end", type_=Date))
        ),
    )
    .order_by(col(FigureSet.unit_id), col(FigureSet.period_start), col(FigureSet.id))
)
"""Every figure value of the given units in sets overlapping `[start, end]`."""
