"""The catalogue that ships (`data/reference/metrics.csv`): every figure the seeds report and the
common covenant metrics. Loaded with the reference data; a metric already present is left as it is."""

import csv
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.cache import invalidate
from app.core.database import table
from app.core.identity import REFERENCE
from app.core.revisions import record_revision
from app.metrics.models import Metric
from app.metrics.service import RESOURCE, get
from app.metrics.tags import METRICS


async def load_catalogue(session: AsyncSession, path: Path) -> int:
    """Add the metrics of `path` that are missing (parts before the rates that use them)."""
    metrics = table(Metric)
    with path.open(encoding="utf-8", newline="") as f:
        rows = list(csv.DictReader(f))
    added = 0
    for rates in (False, True):
        known = {row.key: row.id for row in await session.execute(select(metrics.c.key, metrics.c.id))}
        values = [
            {
                "key": r["key"],
                "name_vi": r["name_vi"],
                "name_en": r["name_en"],
                "unit_of_measure": r["unit_of_measure"],
                "kind": r["kind"],
                "numerator_id": known[r["numerator"]] if r["numerator"] else None,
                "denominator_id": known[r["denominator"]] if r["denominator"] else None,
                "description": r["description"] or None,
                "recorded_by": REFERENCE.recorded_by,
            }
            for r in rows
            if (r["kind"] == "rate") == rates
        ]
        if not values:
            continue
        inserted = await session.execute(
            insert(metrics)
            .values(values)
            .on_conflict_do_nothing(index_elements=["key"])
            .returning(metrics.c.id, metrics.c.key)
        )
        for row in inserted.all():
            await record_revision(session, RESOURCE, row.id, 1, await get(session, key=row.key), REFERENCE)
            added += 1
    if added:
        await invalidate(session, METRICS)
    return added
