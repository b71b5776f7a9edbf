"""The rules a nomination must meet, checked in one place for the awards register and for votes.

`check_nomination` answers every check (passed, refused, or cannot be verified) with its basis and
confidence; `ensure_no_refusal` turns the first refusal into a 409 quoting the rule. For an
attested historical record (a public source says it happened), a check never refuses: what it
would refuse, or cannot know (a rank the article does not state, a year no rule set covers), is
`cannot_be_verified`, with the reason; a rank it states is the source's claim, never checked
against standings here, so the cluster-lead rules answer it `cannot_be_verified` (finding
`rank_stated`), never `passed`. Only a vote passes a rank, from the standings it relies on.

An attested record may also state an outcome (granted, refused, revoked: `StatedDecision`). The
`decision` check then cites its source (`decision_stated`, or `decision_not_stated` when the source
gives neither the decision's number nor its authority), always `cannot_be_verified`: the source's
word is not a decision recorded here. A refused or revoked record is not counted for "one
achievement, one award" (`not_counted`), as the partial unique index does not count it.
"""

import re
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from app.awards.catalogue import get as get_award_type
from app.awards.models import Award, AwardStatus
from app.awards.schemas import AwardSource, AwardTypeOut, Fact, Outcome, RuleCheck, Statement
from app.clusters.models import Cluster
from app.core.errors import Conflict
from app.core.i18n import N_, _
from app.core.periods import overlaps, year_bounds
from app.memberships.service import is_member
from app.proceedings.service import open_on
from app.rules.schemas import BoolParameter, Citation, Confidence, RuleSet
from app.rules.service import NoRuleSet, rule_set_for_year
from app.units.models import Unit

ONE_ACHIEVEMENT = Citation(
    document="Luật Thi đua, khen thưởng số 06/2022/QH15",
    article="art. 5",
    note="One achievement earns one award.",
)
MEMBERSHIP = Citation(
    document="Bộ Công an: composition of the emulation clusters",
    article=None,
    note="A cluster's vote nominates members of the cluster in that year (the memberships recorded here).",
)
_CLUSTER_LEAD_RULES = ("government_flag_requires_cluster_lead", "ministry_flag_requires_cluster_lead")

MESSAGES: dict[str, str] = {
    "rule_set_found": N_("Judged by the rule set {rule_set}, in force on 31 December {year}."),
    "rule_set_missing": N_("No rule set covers the emulation year {year}: the rules cannot be verified."),
    "unit_existed": N_("The unit existed during {year}."),
    "unit_absent": N_("The unit did not exist during {year}."),
    "member": N_("The unit is a member of cluster {cluster} in {year}."),
    "not_member": N_(
        "The unit is not a member of cluster {cluster} in {year}: a cluster nominates its own members."
    ),
    "no_open_proceeding": N_("No proceeding that blocks a nomination is open on {day}."),
    "open_proceeding": N_(
        "Proceeding {proceeding_id} ({kind}, opened on {opened_on}) is open on {day}: no nomination "
        "while it is."
    ),
    "ranks_first": N_("The unit ranks first in its cluster's standings."),
    "rank_unknown": N_("The unit's rank in its cluster's standings is not known."),
    "rank_stated": N_(
        "The source states that the unit ranks {rank} in its cluster's standings; no standings "
        "recorded here confirm it."
    ),
    "not_first": N_(
        "The unit ranks {rank} in its cluster's standings, not first: the award needs the cluster's "
        "leader in results."
    ),
    "standard_not_recorded": N_(
        "Whether the unit meets the standard of {standard} beyond its rank is not recorded here."
    ),
    "first_award": N_("No other award of this type recognises the unit's {year}."),
    "award_exists": N_(
        "Award {award_id} ({status}) already recognises the unit's {year} with this award: one "
        "achievement, one award."
    ),
    "not_counted": N_(
        "A {status} award does not count for one achievement, one award: the unit's {year} may have another."
    ),
    "decision_stated": N_(
        "The source “{source}” states that the award was {status} (decision number: "
        "{decision_number}; authority: {authority}); no decision recorded here confirms it."
    ),
    "decision_not_stated": N_(
        "The source “{source}” states that the award was {status}, but neither the decision's number "
        "nor its authority: the source's word, not a decision recorded here."
    ),
}
NOT_STATED = N_("not stated")
_OWN_WORDS = ("rank_unknown", "rank_stated", "rule_set_missing", "standard_not_recorded")
"""Findings whose message says why they cannot be verified (no "attested" sentence added)."""
_CITES_SOURCE = ("decision_stated", "decision_not_stated")


@dataclass(frozen=True, slots=True)
class StatedDecision:
    """The status an attested record's source states, and the decision's day, number, authority
    and reason as it states them (None: not stated). A live nomination is `nominated` only."""

    status: AwardStatus = AwardStatus.nominated
    decided_on: date | None = None
    decision_number: str | None = None
    authority: str | None = None
    reason: str | None = None


ATTESTED = N_("Attested by its source: reported as not verifiable rather than refused.")
_ISO_DAY = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def with_message(check: RuleCheck) -> RuleCheck:
    """The check with its `message` in the current language."""
    values = {
        k: date.fromisoformat(v) if isinstance(v, str) and _ISO_DAY.match(v) else v
        for k, v in check.facts.items()
    }
    if check.finding in _CITES_SOURCE:
        values = {k: _(NOT_STATED) if v is None else v for k, v in values.items()}
    message = _(MESSAGES[check.finding], **values)
    if check.outcome is Outcome.cannot_be_verified and check.finding not in (*_OWN_WORDS, *_CITES_SOURCE):
        message = f"{message} {_(ATTESTED)}"
    return check.model_copy(update={"message": message})


def _check(
    rule: str,
    passed: bool,
    finding: str,
    *,
    attested: bool,
    basis: Citation | None,
    confidence: Confidence | None,
    **facts: Any,
) -> RuleCheck:
    outcome = Outcome.passed if passed else Outcome.cannot_be_verified if attested else Outcome.refused
    return with_message(
        RuleCheck(
            rule=rule,
            outcome=outcome,
            finding=finding,
            basis=basis,
            confidence=confidence,
            facts={k: v.isoformat() if isinstance(v, date) else v for k, v in facts.items()},
        )
    )


def _unknowable(
    rule: str, finding: str, basis: Citation | None, confidence: Confidence | None, **facts: Any
) -> RuleCheck:
    return with_message(
        RuleCheck(
            rule=rule,
            outcome=Outcome.cannot_be_verified,
            finding=finding,
            basis=basis,
            confidence=confidence,
            facts=facts,
        )
    )


async def _unit_existed(session: AsyncSession, unit_id: int, year: int, attested: bool) -> RuleCheck:
    start, end = year_bounds(year)
    found = (
        await session.execute(
            select(col(Unit.id)).where(
                col(Unit.id) == unit_id, overlaps(col(Unit.valid_from), col(Unit.valid_to), start, end)
            )
        )
    ).first()
    finding = "unit_existed" if found else "unit_absent"
    return _check(
        "unit_existed", found is not None, finding, attested=attested, basis=None, confidence=None, year=year
    )


async def _membership(
    session: AsyncSession, unit_id: int, cluster_id: int, year: int, attested: bool
) -> RuleCheck:
    number = (
        await session.execute(select(col(Cluster.number)).where(col(Cluster.id) == cluster_id))
    ).scalar_one()
    member = await is_member(session, cluster_id, unit_id, year)
    return _check(
        "cluster_membership",
        member,
        "member" if member else "not_member",
        attested=attested,
        basis=MEMBERSHIP,
        confidence=Confidence.practice,
        cluster=number,
        year=year,
    )


async def _proceedings(
    session: AsyncSession, unit_id: int, on: date, rules: RuleSet, attested: bool
) -> RuleCheck:
    parameter = rules.parameters.blocking_proceeding_kinds
    blocking = await open_on(session, unit_id=unit_id, day=on, kinds=[k.value for k in parameter.value])
    rule = "blocking_proceeding_kinds"
    if not blocking:
        return _check(
            rule,
            True,
            "no_open_proceeding",
            attested=attested,
            basis=parameter.basis,
            confidence=parameter.confidence,
            day=on,
        )
    first = blocking[0]
    return _check(
        rule,
        False,
        "open_proceeding",
        attested=attested,
        basis=parameter.basis,
        confidence=parameter.confidence,
        day=on,
        proceeding_id=first.id,
        kind=first.kind.value,
        opened_on=first.opened_on,
    )


def _cluster_lead(rule: str, parameter: BoolParameter, rank: int | None, attested: bool) -> RuleCheck | None:
    if not parameter.value:
        return None
    if rank is None:
        return _unknowable(rule, "rank_unknown", parameter.basis, parameter.confidence, rank=None)
    if attested and rank == 1:
        # A source's word, not the standings: never `passed` on a claim.
        return _unknowable(rule, "rank_stated", parameter.basis, parameter.confidence, rank=rank)
    finding = "ranks_first" if rank == 1 else "not_first"
    return _check(
        rule,
        rank == 1,
        finding,
        attested=attested,
        basis=parameter.basis,
        confidence=parameter.confidence,
        rank=rank,
    )


async def _one_award(
    session: AsyncSession, unit_id: int, award_type: str, year: int, attested: bool, status: AwardStatus
) -> RuleCheck:
    if status in (AwardStatus.refused, AwardStatus.revoked):
        return _check(
            "one_achievement_one_award",
            True,
            "not_counted",
            attested=attested,
            basis=ONE_ACHIEVEMENT,
            confidence=Confidence.text,
            year=year,
            status=status.value,
        )
    existing = (
        await session.execute(
            select(col(Award.id), col(Award.status)).where(
                col(Award.unit_id) == unit_id,
                col(Award.award_type) == award_type,
                col(Award.emulation_year) == year,
                col(Award.status).not_in([AwardStatus.refused.value, AwardStatus.revoked.value]),
            )
        )
    ).first()
    if existing is None:
        return _check(
            "one_achievement_one_award",
            True,
            "first_award",
            attested=attested,
            basis=ONE_ACHIEVEMENT,
            confidence=Confidence.text,
            year=year,
        )
    return _check(
        "one_achievement_one_award",
        False,
        "award_exists",
        attested=False,  # a second award of an achievement is never recorded, attested or not
        basis=ONE_ACHIEVEMENT,
        confidence=Confidence.text,
        year=year,
        award_id=existing.id,
        status=existing.status,
    )


async def check_nomination(
    session: AsyncSession,
    *,
    unit_id: int,
    award_type_code: str,
    emulation_year: int,
    cluster_id: int | None,
    on: date,
    rank: int | None,
    attested: bool,
    stated: StatedDecision | None = None,
    source: AwardSource | None = None,
) -> list[RuleCheck]:
    """Every rule a nomination of `unit_id` for `award_type_code` and `emulation_year` must meet,
    judged by the year's rule set: the unit existed that year; it is a member of the cluster that
    year (when a cluster nominates); no blocking proceeding is open on `on`; the type's own rules
    (the Government and Ministry flags: first in the cluster's standings, `rank` None → cannot be
    verified; a rank an attested record states is never `passed`); one achievement, one award. A
    year no rule set covers is `NoRuleSet` (409), or for an attested record a `cannot_be_verified`
    check with the rule-set rules left unchecked. An attested record that `stated` an outcome
    (granted, refused, revoked) adds the `decision` check citing its `source`; a refused or revoked
    one is not counted for one achievement, one award."""
    award_type = await get_award_type(session, code=award_type_code)
    checks: list[RuleCheck] = []
    rules: RuleSet | None
    try:
        rules = await rule_set_for_year(session, emulation_year)
    except NoRuleSet:
        if not attested:
            raise
        rules = None
    if rules is None:
        checks.append(
            _unknowable("rule_set", "rule_set_missing", None, Confidence.unknown, year=emulation_year)
        )
    else:
        checks.append(
            _check(
                "rule_set",
                True,
                "rule_set_found",
                attested=attested,
                basis=rules.basis[0],
                confidence=Confidence.text,
                rule_set=rules.code,
                year=emulation_year,
            )
        )
    checks.append(await _unit_existed(session, unit_id, emulation_year, attested))
    if cluster_id is not None:
        checks.append(await _membership(session, unit_id, cluster_id, emulation_year, attested))
    if rules is not None:
        checks.extend(_type_rules(award_type, rules, rank, attested))
        if "blocking_proceeding_kinds" in award_type.rules:
            checks.append(await _proceedings(session, unit_id, on, rules, attested))
    status = stated.status if stated is not None else AwardStatus.nominated
    if attested and stated is not None and status is not AwardStatus.nominated:
        assert source is not None  # an attested record has its source
        checks.append(_stated_decision(stated, source))
    checks.append(await _one_award(session, unit_id, award_type.code, emulation_year, attested, status))
    return checks


def _cited(source: AwardSource) -> Citation:
    """The source as a check's basis."""
    title = source.title if len(source.title) <= 300 else f"{source.title[:299]}…"
    return Citation(document=title, article=None, note=source.url)


def _stated_decision(stated: StatedDecision, source: AwardSource) -> RuleCheck:
    """The outcome an attested record states, citing its source: never `passed` (no decision
    recorded here), `decision_not_stated` when the source gives neither number nor authority."""
    said = source.facts.get(Fact.decision) is Statement.stated and (
        stated.decision_number is not None or stated.authority is not None
    )
    return with_message(
        RuleCheck(
            rule="decision",
            outcome=Outcome.cannot_be_verified,
            finding="decision_stated" if said else "decision_not_stated",
            basis=_cited(source),
            confidence=None,
            facts={
                "status": stated.status.value,
                "decision_number": stated.decision_number,
                "authority": stated.authority,
                "source": source.title,
                "published": source.published.isoformat() if source.published else None,
            },
        )
    )


def _type_rules(
    award_type: AwardTypeOut, rules: RuleSet, rank: int | None, attested: bool
) -> list[RuleCheck]:
    found: list[RuleCheck] = []
    for rule in _CLUSTER_LEAD_RULES:
        if rule in award_type.rules:
            check = _cluster_lead(rule, getattr(rules.parameters, rule), rank, attested)
            if check is not None:
                found.append(check)
    if award_type.standard_of is not None:
        found.append(
            _unknowable(
                "standard_of",
                "standard_not_recorded",
                award_type.basis,
                Confidence.text,
                standard=award_type.standard_of,
            )
        )
    return found


class RuleRefused(Conflict):
    """409: a nomination a rule refuses, quoting the rule, its basis and its confidence."""

    slug = "rule-refused"


def ensure_no_refusal(checks: list[RuleCheck]) -> None:
    """Raise `RuleRefused` (409) for the first refused check, with every check beside it."""
    refused = next((c for c in checks if c.outcome is Outcome.refused), None)
    if refused is None:
        return
    basis = refused.basis
    cited = " ".join(p for p in (basis.document, basis.article) if p) if basis else refused.rule
    raise RuleRefused(
        _("{message} Rule: {rule} ({basis}).", message=refused.message, rule=refused.rule, basis=cited),
        rule=refused.rule,
        facts=refused.facts,
        basis=refused.basis.model_dump() if refused.basis else None,
        confidence=refused.confidence.value if refused.confidence else None,
        rule_checks=[c.model_dump(mode="json") for c in checks],
    )
