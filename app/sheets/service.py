"""The cluster-year sheet: each part read by its feature's own plan (`app.core.plans`), all the
parts side by side, so that a render is two statements whatever the cluster's size, the first
one looking the cluster up by its number too (`id_of`).

1. The cluster's row, the members with their lineage, the leaderships of the year and the next,
   the conferences, the covenant with its host and targets, the pledges, the reporting period,
   the reported figures, the scoring framework, the awards and the votes.
2. What those call for: what the evaluation reads over the reporting period (the members at its
   end, their lineage, the figures, the metrics; the pledges' checks read the same, so it is
   read once), the standings' points (or their frozen snapshot), the votes' candidates, voters,
   rounds, attendance and participations.

Each feature's endpoint runs the same plan one query at a time: one way of computing each part."""

from collections.abc import Sequence

from sqlalchemy.ext.asyncio import AsyncSession

from app.awards.service import cluster_year_awards_plan
from app.clusters.models import RotationCustom
from app.clusters.years import ClusterYear, YearRef, grouping_plan, id_of
from app.conferences.service import conferences_plan
from app.core.i18n import _
from app.core.periods import year_bounds
from app.core.plans import Id, Plan, gather, run_batched
from app.covenants.service import covenant_plan
from app.evaluation.service import summary_plan
from app.leadership.service import leaderships_plan
from app.memberships.schemas import Member
from app.memberships.service import members_plan
from app.pledges.service import pledges_plan
from app.reported.service import figures_plan
from app.scoring.schemas import Standings, StandingsBrief
from app.scoring.standings import current_standings_plan
from app.sheets.schemas import ClusterBrief, ClusterYearSheet
from app.votes.queries import votes_of_plan


async def cluster_year(session: AsyncSession, at: YearRef) -> ClusterYearSheet:
    """The sheet of a cluster-year (404 when there is no such cluster): one statement, the
    cluster's lookup included, whatever the cluster's size."""
    return await run_batched(session, sheet_plan(at))


async def cluster_years(session: AsyncSession, ats: Sequence[ClusterYear]) -> list[ClusterYearSheet]:
    """The sheets of several years of a cluster found (its years list): two statements for them all."""
    plans = {str(i): sheet_plan(YearRef(at.ref, at.year), at.id) for i, at in enumerate(ats)}
    sheets = await run_batched(session, gather(plans))
    return [sheets[str(i)] for i in range(len(ats))]


def sheet_plan(at: YearRef, cluster_id: int | None = None) -> Plan[ClusterYearSheet]:
    """The sheet, each part from its feature's plan, the parts side by side. Each part reads by
    the cluster's id: `cluster_id` when the caller has it, else looked up by the statement itself
    (`id_of`), beside the cluster's own row, so that a sheet is one round trip from its path."""
    number, year = at.grouping.number, at.year
    key: Id = cluster_id if cluster_id is not None else id_of(at.grouping)
    start, end = year_bounds(year)
    parts = yield from gather(
        {
            "cluster": grouping_plan(at.grouping),
            "members": members_plan(key, start, end),
            "leaderships": leaderships_plan(key, [year, year + 1]),
            "conferences": conferences_plan(key, year),
            "covenant": covenant_plan(key, year),
            "pledges": pledges_plan(key, year),
            "reported_figures": figures_plan(key, year),
            "evaluation": summary_plan(key, number, year),
            "standings": current_standings_plan(key, year),
            "awards": cluster_year_awards_plan(key, year),
            "votes": votes_of_plan(key, year),
        }
    )
    cluster = parts["cluster"]
    roster: list[Member] = parts["members"]
    by_year = {lead.year: lead for lead in parts["leaderships"]}
    standings: Standings | None = parts["standings"]
    return ClusterYearSheet(
        cluster=ClusterBrief(
            number=cluster.number,
            name=cluster.name,
            rotation_custom=RotationCustom(cluster.rotation_custom),
        ),
        year=year,
        members=roster,
        leadership=by_year.get(year),
        next_leadership=by_year.get(year + 1),
        conferences=parts["conferences"],
        covenant=parts["covenant"],
        pledges=parts["pledges"],
        reported_figures=parts["reported_figures"],
        evaluation=parts["evaluation"],
        standings=StandingsBrief.of(standings) if standings is not None else None,
        awards=parts["awards"],
        votes=parts["votes"],
        notes=_notes(roster, year),
    )


def _notes(roster: list[Member], year: int) -> list[str]:
    """Units that ceased during the year, and who succeeded them, once each."""
    start, end = year_bounds(year)
    notes: list[str] = []
    for member in roster:
        if member.ceased_on is not None and start <= member.ceased_on <= end:
            note = _(
                "{name} ceased to exist on {day}; successor: {successors}.",
                name=member.unit.name,
                day=member.ceased_on,
                successors=", ".join(s.name for s in member.successors) or _("none recorded"),
            )
            if note not in notes:
                notes.append(note)
    return notes
