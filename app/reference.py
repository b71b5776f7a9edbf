"""Load the reference data from `data/reference/`, every feature's part in one transaction;
safe to run twice. Above the features: it calls each one's own loader, and no feature imports it.

- the provincial units and the 2025 successions (`app.units.reference`);
- the units' common aliases (`app.aliases.reference`);
- the metric catalogue (`app.metrics.catalogue`);
- the rule sets (`app.rules.service`);
- the default reporting periods, the statistical year (`app.rules.reporting_periods`);
- the award catalogue (`app.awards.catalogue`).

Rows already present are left as they are, so corrections made through the API are not undone
(each loader says how it recognises its rows).
"""

import dataclasses
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy.ext.asyncio import AsyncSession

from app.aliases.reference import load_aliases
from app.awards.catalogue import load_award_types
from app.core.cache import ALL, invalidate
from app.metrics.catalogue import load_catalogue
from app.rules.reporting_periods import load_reporting_periods
from app.rules.service import load_rule_sets
from app.units.reference import load_units


@dataclass
class ReferenceReport:
    units_added: int
    successions_added: int
    aliases_added: int
    metrics_added: int = 0
    rule_sets_changed: int = 0
    award_types_changed: int = 0
    reporting_periods_changed: int = 0


async def load_reference(session: AsyncSession, directory: Path) -> ReferenceReport:
    units = await load_units(session, directory)
    report = ReferenceReport(
        units_added=units.units_added,
        successions_added=units.successions_added,
        aliases_added=await load_aliases(session, directory / "unit_aliases.csv", units.ids),
        metrics_added=await load_catalogue(session, directory / "metrics.csv"),
        rule_sets_changed=await load_rule_sets(session, directory / "rule_sets.yaml"),
        award_types_changed=await load_award_types(session, directory / "award_types.yaml"),
        reporting_periods_changed=await load_reporting_periods(session, directory / "reporting_periods.yaml"),
    )
    if any(dataclasses.astuple(report)):
        await invalidate(session, ALL)  # a bulk load: every cached read may show what it changed
    return report
