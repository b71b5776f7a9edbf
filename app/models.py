"""Every table, imported once so that Alembic and the tests see the whole schema."""

from sqlmodel import SQLModel

from app.aliases.models import UnitAlias
from app.auth.models import ApiKey
from app.awards.models import Award, AwardDocument, AwardTransition, AwardType, DossierItem
from app.clusters.models import Cluster
from app.conferences.models import Conference, ConferenceChair
from app.core.models import IdempotencyRecord, Revision
from app.covenants.models import Covenant, CovenantTarget
from app.figures.models import FigureSet, FigureValue
from app.leadership.models import Leadership
from app.memberships.models import Membership
from app.metrics.models import Metric
from app.people.models import Person, PersonGrant
from app.pledges.models import Pledge, PledgeList, PledgeStatus
from app.proceedings.models import Proceeding
from app.reported.models import ReportedFigure, ReportedFigureSet
from app.rules.models import ReportingPeriodRule, RuleSet
from app.scoring.models import (
    ScoreItem,
    Scorer,
    ScoreSheet,
    ScoringClass,
    ScoringCriterion,
    ScoringFramework,
    StandingsFreeze,
)
from app.units.models import Succession, Unit
from app.votes.models import (
    Vote,
    VoteAttendance,
    VoteBallotBox,
    VoteCandidate,
    VoteParticipation,
    VoteRound,
    VoteRoundTally,
    VoteSealedBallot,
    VoteVoter,
)

metadata = SQLModel.metadata

__all__ = [
    "ApiKey",
    "Award",
    "AwardDocument",
    "AwardTransition",
    "AwardType",
    "Cluster",
    "Conference",
    "ConferenceChair",
    "Covenant",
    "CovenantTarget",
    "DossierItem",
    "FigureSet",
    "FigureValue",
    "IdempotencyRecord",
    "Leadership",
    "Membership",
    "Metric",
    "Person",
    "PersonGrant",
    "Pledge",
    "PledgeList",
    "PledgeStatus",
    "Proceeding",
    "ReportedFigure",
    "ReportedFigureSet",
    "ReportingPeriodRule",
    "Revision",
    "RuleSet",
    "ScoreItem",
    "ScoreSheet",
    "Scorer",
    "ScoringClass",
    "ScoringCriterion",
    "ScoringFramework",
    "StandingsFreeze",
    "Succession",
    "Unit",
    "UnitAlias",
    "Vote",
    "VoteAttendance",
    "VoteBallotBox",
    "VoteCandidate",
    "VoteParticipation",
    "VoteRound",
    "VoteRoundTally",
    "VoteSealedBallot",
    "VoteVoter",
    "metadata",
]
