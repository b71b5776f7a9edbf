"""The catalogue that ships (`data/reference/metrics.csv`): every figure the seeds report and the
metrics covenants and year-end reports of the movement count, each with the public article or
document it was seen counted in (`source`).

Loaded with the reference data, and safe to load again:

- a metric the file adds is created, version 1, with its revision, in the file's order (the order
  `GET /v1/metrics` lists them in), a rate after its numerator and denominator;
- a metric the reference data recorded whose row now says something else (its names, description
  or source) becomes its next version, recorded by the reference data, with its revision;
- a row that says what its metric says changes nothing: loading the same file twice writes
  nothing, and leaves every version and revision as it was;
- a metric an admin added through the API is left as it is, even when the file names its key;
- a key keeps its meaning: a row that would change a metric's kind, unit of measure, numerator or
  denominator is refused (the figures already counted in it would change meaning), and so is a
  rate whose parts are neither in the catalogue nor earlier in the file.
"""

import csv
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.cache import invalidate
from app.core.errors import Unprocessable
from app.core.i18n import _
from app.core.identity import REFERENCE
from app.core.revisions import record_revision
from app.metrics.models import Metric
from app.metrics.service import RESOURCE, get
from app.metrics.tags import METRICS

_WORDING = ("name_vi", "name_en", "description", "source")
"""What a new version may change: how the metric is named, described and sourced."""
_MEANING = ("unit_of_measure", "kind", "numerator_id", "denominator_id")
"""What a key means, never changed by the loader."""


def read_rows(path: Path) -> list[dict[str, str]]:
    """The file's rows, as text (empty cells are empty strings)."""
    with path.open(encoding="utf-8", newline="") as f:
        return [{k: (v or "").strip() for k, v in row.items()} for row in csv.DictReader(f)]


def _part(row: dict[str, str], field: str, ids: dict[str, int]) -> int | None:
    key = row[field]
    if not key:
        return None
    if key not in ids:
        raise Unprocessable(
            _(
                "The rate {key} names {part}, which is neither in the catalogue nor earlier in the file.",
                key=row["key"],
                part=key,
            ),
            field=field,
        )
    return ids[key]


def _values(row: dict[str, str], ids: dict[str, int]) -> dict[str, Any]:
    return {
        "name_vi": row["name_vi"],
        "name_en": row["name_en"],
        "unit_of_measure": row["unit_of_measure"],
        "kind": row["kind"],
        "numerator_id": _part(row, "numerator", ids),
        "denominator_id": _part(row, "denominator", ids),
        "description": row["description"] or None,
        "source": row.get("source") or None,
    }


async def load_catalogue(session: AsyncSession, path: Path) -> int:
    """Add the file's new metrics and update the reference data's own whose wording changed, in
    the file's order (a rate after its parts); returns how many were added or changed."""
    stored = {m.key: m for m in (await session.execute(select(Metric))).scalars()}
    ids = {key: m.id for key, m in stored.items() if m.id is not None}
    changed = 0
    for row in read_rows(path):
        values = _values(row, ids)
        metric = stored.get(row["key"])
        if metric is None:
            metric = Metric(key=row["key"], **values, recorded_by=REFERENCE.recorded_by)
            session.add(metric)
        elif metric.recorded_by != REFERENCE.recorded_by:
            continue  # an admin's metric: the API's to change, not the file's
        elif all(getattr(metric, field) == values[field] for field in values):
            continue
        else:
            moved = [field for field in _MEANING if getattr(metric, field) != values[field]]
            if moved:
                raise Unprocessable(
                    _(
                        "The catalogue file would change what the metric {key} means ({fields}); "
                        "a key keeps its meaning: add a metric with a new key instead.",
                        key=metric.key,
                        fields=", ".join(f.removesuffix("_id") for f in moved),
                    )
                )
            for field in _WORDING:
                setattr(metric, field, values[field])
            metric.stamp(REFERENCE)
        await session.flush()
        assert metric.id is not None
        stored[metric.key], ids[metric.key] = metric, metric.id
        out = await get(session, key=metric.key)
        await record_revision(session, RESOURCE, metric.id, out.version, out, REFERENCE)
        changed += 1
    if changed:
        await invalidate(session, METRICS)
    return changed
