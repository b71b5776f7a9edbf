from sqlalchemy.ext.asyncio import AsyncSession

from app.awards.service import cluster_year_awards
from app.clusters.models import RotationCustom
from app.clusters.years import ClusterYear
from app.conferences.service import conferences_of
from app.core.i18n import _
from app.core.periods import year_bounds
from app.covenants.service import covenant_of
from app.evaluation.service import summary as evaluation_summary
from app.leadership.service import leaderships
from app.memberships.service import members
from app.pledges.service import pledges_of
from app.reported.service import figures_of
from app.scoring.schemas import StandingsBrief
from app.scoring.service import current_standings
from app.sheets.schemas import ClusterBrief, ClusterYearSheet
from app.votes.schemas import VoteOut
from app.votes.service import votes_of


async def cluster_year(session: AsyncSession, at: ClusterYear) -> ClusterYearSheet:
    """A fixed number of queries whatever the cluster's size: cluster, members with lineage,
    leaderships, the conferences (`conferences_of`), the covenant with its host and targets, its
    pledges (one query without a list; with one, the members and, for an amount or a count, the
    evaluation's five: `app.pledges.service.pledges_of`), the reported figures, the evaluation's
    six (`app.evaluation.service.evaluate_cluster`), the standings' four
    (`app.scoring.service.current_standings`), the awards' one and the votes' seven (`_votes`)."""
    cluster, cluster_id, number, year = at.grouping.row, at.id, at.number, at.year
    start, end = year_bounds(year)
    roster = await members(session, cluster_id, start, end)
    by_year = {lead.year: lead for lead in await leaderships(session, cluster_id, [year, year + 1])}
    notes = []
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
        conferences=await conferences_of(session, cluster_id, year),
        covenant=await covenant_of(session, cluster_id, year),
        pledges=await pledges_of(session, cluster_id, year),
        reported_figures=await figures_of(session, cluster_id, year),
        evaluation=await evaluation_summary(session, cluster_id, number, year),
        standings=await _standings(session, cluster_id, year),
        awards=await cluster_year_awards(session, cluster_id, year),
        votes=await _votes(session, cluster_id, year),
        notes=notes,
    )


async def _votes(session: AsyncSession, cluster_id: int, year: int) -> list[VoteOut]:
    """The cluster-year's votes with their rounds and results: seven queries (one without votes)."""
    return await votes_of(session, cluster_id, year)


async def _standings(session: AsyncSession, cluster_id: int, year: int) -> StandingsBrief | None:
    standings = await current_standings(session, cluster_id, year)
    return StandingsBrief.of(standings) if standings is not None else None
