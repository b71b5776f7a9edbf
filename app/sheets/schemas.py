import json
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field

from app.awards.schemas import AwardBrief
from app.clusters.models import RotationCustom
from app.conferences.schemas import ConferenceOut
from app.core.i18n import Localized
from app.covenants.schemas import CovenantOut
from app.evaluation.schemas import EvaluationSummary
from app.leadership.schemas import LeadershipOut
from app.memberships.schemas import Member
from app.pledges.schemas import PledgesOut
from app.reported.schemas import ReportedFiguresOut
from app.scoring.schemas import StandingsBrief
from app.votes.schemas import VoteOut


class ClusterBrief(BaseModel):
    number: int
    name: str
    rotation_custom: RotationCustom


EXAMPLE = json.loads((Path(__file__).parent / "example.json").read_text(encoding="utf-8"))
"""Cluster 5's 2024 sheet as `make run` serves it from the seeds (seed 002): a real one."""


class ClusterYearSheet(BaseModel):
    """A cluster's year on one screen."""

    model_config = ConfigDict(json_schema_extra={"example": EXAMPLE})

    cluster: ClusterBrief
    year: int
    members: list[Member] = Field(description="Every membership overlapping the year, with its dates.")
    leadership: LeadershipOut | None = Field(description="Leader and deputy for this year.")
    next_leadership: LeadershipOut | None = Field(
        description="Leader and deputy for next year, usually chosen at this year's conference."
    )
    conferences: list[ConferenceOut] = Field(
        description="The year's conferences (signing, reviews, year-end summary, others) by date, "
        "then id: its timeline."
    )
    covenant: CovenantOut | None = Field(description="The covenant the members signed for the year.")
    pledges: PledgesOut | None = Field(
        description="What the covenant's members pledge (an amount, a count or a task), each checked "
        "against the members' figures or the statuses the secretariat set; null: none recorded.",
    )
    reported_figures: ReportedFiguresOut | None = Field(
        description="Figures the year's conferences reported for the whole cluster."
    )
    evaluation: EvaluationSummary | None = Field(
        description="How the members stand against the covenant's targets (null: no targets); "
        "the rows are at its `href`."
    )
    standings: StandingsBrief | None = Field(
        description="The members' ranks, totals and classes (the frozen snapshot while the "
        "standings are frozen); null: no scoring framework for the year."
    )
    awards: list[AwardBrief] = Field(
        description="The awards the cluster nominated for the year, whatever their status now."
    )
    votes: list[VoteOut] = Field(
        description="The cluster-year's nomination votes, by id, with their published results."
    )
    notes: list[Localized] = Field(
        description="Units that ceased during the year, and who succeeded them, in the request's "
        "language (`Accept-Language`)."
    )
