"""The awards register: nominations (checked by `eligibility`), explicit transitions with their
dossier, uploaded documents, and listings that can follow a unit's predecessors."""

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import Select, bindparam, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from app.awards.catalogue import get as get_award_type
from app.awards.eligibility import StatedDecision, check_nomination, ensure_no_refusal, with_message
from app.awards.models import Award, AwardDocument, AwardStatus, AwardTransition, AwardType, DossierItem
from app.awards.schemas import (
    AwardBrief,
    AwardOut,
    AwardSource,
    DocumentOut,
    DossierItemOut,
    Fact,
    Outcome,
    RuleCheck,
    Statement,
    TransitionIn,
    TransitionOut,
)
from app.awards.tags import AWARDS
from app.clusters.models import Cluster
from app.clusters.tags import cluster_tag
from app.core.cache import invalidate
from app.core.errors import Conflict, NotFound, Unprocessable, UnsupportedMediaType, constraint_name
from app.core.etag import record_etag, require_match
from app.core.i18n import _
from app.core.identity import Actor
from app.core.pagination import Page, page_of
from app.core.plans import Id, Plan, Read, one, run
from app.rules.service import NoRuleSet, rule_set_for_year
from app.units.models import Unit
from app.units.schemas import UnitRef
from app.units.service import get_unit, lineage, unit_columns
from app.units.tags import unit_tag

RESOURCE = "award"
_ONE_PER_ACHIEVEMENT = "awards_one_per_achievement"

ALLOWED: dict[AwardStatus, tuple[AwardStatus, ...]] = {
    AwardStatus.nominated: (AwardStatus.proposed, AwardStatus.refused),
    AwardStatus.proposed: (AwardStatus.returned, AwardStatus.granted, AwardStatus.refused),
    AwardStatus.returned: (AwardStatus.proposed, AwardStatus.refused),
    AwardStatus.granted: (AwardStatus.revoked,),
    AwardStatus.refused: (),
    AwardStatus.revoked: (),
}
"""The lifecycle: each status and where it may go next."""


def _select() -> Select[Any]:
    return (
        select(
            Award,
            col(AwardType.name).label("type_name"),
            col(Cluster.number).label("cluster_number"),
            *unit_columns(Unit),
        )
        .join(AwardType, col(AwardType.code) == col(Award.award_type))
        .join(Unit, col(Unit.id) == col(Award.unit_id))
        .outerjoin(Cluster, col(Cluster.id) == col(Award.cluster_id))
    )


def award_etag(out: AwardOut) -> str:
    return record_etag(RESOURCE, out.id, out.version, out)


async def _histories(
    session: AsyncSession, award_ids: list[int], attested: set[int]
) -> dict[int, list[TransitionOut]]:
    """The transitions of each award, in order, each with its dossier items (two queries). The
    first step of an award in `attested` is its source's word; every later one was recorded here."""
    if not award_ids:
        return {}
    steps = list(
        (
            await session.execute(
                select(AwardTransition)
                .where(col(AwardTransition.award_id).in_(award_ids))
                .order_by(col(AwardTransition.award_id), col(AwardTransition.position))
            )
        ).scalars()
    )
    items: dict[int, list[DossierItemOut]] = {}
    query = (
        select(DossierItem)
        .where(col(DossierItem.transition_id).in_([s.id for s in steps]))
        .order_by(col(DossierItem.id))
    )
    for item in (await session.execute(query)).scalars():
        items.setdefault(item.transition_id, []).append(
            DossierItemOut.model_validate(item, from_attributes=True)
        )
    histories: dict[int, list[TransitionOut]] = {}
    for step in steps:
        assert step.id is not None
        histories.setdefault(step.award_id, []).append(
            TransitionOut(
                position=step.position,
                from_status=AwardStatus(step.from_status) if step.from_status else None,
                to_status=AwardStatus(step.to_status),
                decided_on=step.decided_on,
                decision_number=step.decision_number,
                authority=step.authority,
                reason=step.reason,
                dossier=items.get(step.id, []),
                attested=step.position == 1 and step.award_id in attested,
                recorded_by=step.recorded_by,
                recorded_at=step.recorded_at,
            )
        )
    return histories


def _out(row: Any, history: list[TransitionOut]) -> AwardOut:
    award: Award = row.Award
    assert award.id is not None
    status = AwardStatus(award.status)
    return AwardOut(
        id=award.id,
        award_type=award.award_type,
        award_type_name=row.type_name,
        unit=UnitRef.from_row(row),
        emulation_year=award.emulation_year,
        cluster=row.cluster_number,
        status=status,
        rule_set=award.rule_set,
        vote_id=award.vote_id,
        standings_version=award.standings_version,
        nominated_on=award.nominated_on,
        attested=award.attested,
        source=AwardSource.model_validate(award.source) if award.source is not None else None,
        rule_checks=[with_message(RuleCheck.model_validate(c)) for c in award.rule_checks],
        transitions=history,
        allowed_transitions=list(ALLOWED[status]),
        version=award.version,
        recorded_by=award.recorded_by,
        recorded_at=award.recorded_at,
    )


async def get(session: AsyncSession, *, award_id: int) -> AwardOut:
    """The award with its whole history, or 404."""
    # populate_existing: an award written in this transaction is read as stored (JSONB orders keys).
    query = _select().where(col(Award.id) == award_id).execution_options(populate_existing=True)
    row = (await session.execute(query)).first()
    if row is None:
        raise NotFound(_("No award with id {award_id}.", award_id=award_id))
    attested = {award_id} if row.Award.attested else set()
    return _out(row, (await _histories(session, [award_id], attested)).get(award_id, []))


async def list_awards(
    session: AsyncSession,
    *,
    year: int | None,
    unit_id: int | None,
    award_type: str | None,
    status: AwardStatus | None,
    cluster: int | None,
    include_predecessors: bool,
    limit: int,
    after: int | None,
    attested: bool | None = None,
) -> Page[AwardOut]:
    """Awards by id, filtered; with `include_predecessors`, the unit's and its predecessors'
    (transitively, through the successions): a post-2025 unit's whole record. `attested`: only
    the records a cited source attests (True) or only those decided here (False)."""
    query = _select().order_by(col(Award.id))
    if include_predecessors and unit_id is None:
        raise Unprocessable(_("include_predecessors needs unit."), field="include_predecessors")
    if unit_id is not None:
        units = [unit_id]
        if include_predecessors:
            units += [link.unit.id for link in (await lineage(session, unit_id)).predecessors]
        query = query.where(col(Award.unit_id).in_(units))
    if year is not None:
        query = query.where(col(Award.emulation_year) == year)
    if award_type is not None:
        query = query.where(col(Award.award_type) == award_type)
    if status is not None:
        query = query.where(col(Award.status) == status.value)
    if cluster is not None:
        query = query.where(col(Cluster.number) == cluster)
    if attested is not None:
        query = query.where(col(Award.attested).is_(attested))
    if after is not None:
        query = query.where(col(Award.id) > after)
    rows = (await session.execute(query.limit(limit + 1))).all()
    histories = await _histories(
        session, [r.Award.id for r in rows[:limit]], {r.Award.id for r in rows[:limit] if r.Award.attested}
    )
    outs = [_out(r, histories.get(r.Award.id, [])) for r in rows]
    return page_of(outs, limit, lambda a: a.id)


async def _invalidate(session: AsyncSession, out: AwardOut) -> None:
    """An award shows in the award lists, on its unit's record and its cluster's year sheet (the
    read cache)."""
    tags = [AWARDS, unit_tag(out.unit.id)]
    if out.cluster is not None:
        tags.append(cluster_tag(out.cluster))
    await invalidate(session, *tags)


async def cluster_year_awards(session: AsyncSession, cluster_id: int, year: int) -> list[AwardBrief]:
    """The awards a cluster nominated for a year, by type then id: one query (the year sheet)."""
    return await run(session, cluster_year_awards_plan(cluster_id, year))


_CLUSTER_YEAR = (
    _select()
    .where(col(Award.cluster_id) == bindparam("cluster_id"), col(Award.emulation_year) == bindparam("year"))
    .order_by(col(Award.award_type), col(Award.id))
)


def cluster_year_awards_plan(cluster_id: Id, year: int) -> Plan[list[AwardBrief]]:
    """`cluster_year_awards` as a plan (the year sheet reads it with the rest of the sheet)."""
    rows = yield from one(Read(_CLUSTER_YEAR, {"cluster_id": cluster_id, "year": year}))
    return [
        AwardBrief(
            id=row.Award.id,
            award_type=row.Award.award_type,
            award_type_name=row.type_name,
            unit=UnitRef.from_row(row),
            status=AwardStatus(row.Award.status),
            attested=row.Award.attested,
            vote_id=row.Award.vote_id,
            href=f"/v1/awards/{row.Award.id}",
        )
        for row in rows
    ]


async def nominate(
    session: AsyncSession,
    *,
    award_type_code: str,
    unit_id: int,
    emulation_year: int,
    cluster_id: int | None,
    vote: "CitedVote | None",
    standings_version: int | None,
    on: date,
    actor: Actor,
    source: AwardSource | None = None,
    attested: bool = False,
    rank: int | None,
    stated: StatedDecision | None = None,
) -> AwardOut:
    """Record a nomination after `check_nomination`: 409 (`RuleRefused`) quoting the first rule it
    breaks, or `NoRuleSet` for a year no rule set covers (an attested record is recorded with
    `cannot_be_verified` checks instead). Only collective awards; a unit that has since ceased is
    fine. The first transition (to `nominated`, on `on`) is its history's first step.

    An award type a vote proposes (`requires_vote`) is nominated only by its vote (`vote`, with
    the rank and standings version from the standings it relied on) or as an attested record:
    409 `vote-required` otherwise. A vote named must be of the same cluster, award type and year,
    have the unit as a candidate and the same standings version: 409 `vote-mismatch` otherwise.
    A standings version without a vote is 422 `set-by-vote`. The HTTP input never passes `rank`,
    `vote_id` or `standings_version` for a live nomination (`router.create_award`).

    An attested record is recorded in the status its source states (`stated`: nominated, granted,
    refused or revoked), its first transition going there from none, with the decision's day
    (default `on`), number, authority and reason as the source states them, the number and the
    authority only if `source.facts.decision` is `stated` (422 `decision-not-stated`); no dossier.
    A live nomination is `nominated`, without decision: 422 `set-by-transition` otherwise."""
    award_type = await get_award_type(session, code=award_type_code)
    if award_type.recipient.value != "collective":
        raise Unprocessable(
            _(
                "Award type {code} is for individuals; only collective awards are recorded.",
                code=award_type.code,
            ),
            field="award_type",
        )
    stated = stated or StatedDecision()
    _check_stated(stated, attested=attested, source=source, on=on)
    await get_unit(session, unit_id)
    if award_type.requires_vote and cluster_id is None:
        raise Unprocessable(
            _("Award type {code} is proposed by a cluster's vote: name the cluster.", code=award_type.code),
            field="cluster",
        )
    vote_id = vote.id if vote is not None else None
    if vote is not None:
        _check_cited_vote(
            vote,
            award_type=award_type.code,
            unit_id=unit_id,
            emulation_year=emulation_year,
            cluster_id=cluster_id,
            standings_version=standings_version,
        )
    elif standings_version is not None:
        raise Unprocessable(
            _("A standings version is recorded only by the vote that relied on it."),
            slug="set-by-vote",
            field="standings_version",
        )
    elif award_type.requires_vote and not attested:
        raise VoteRequired(
            _(
                "Award type {code} is proposed by the cluster's secret ballot: its nomination comes "
                "only from closing that vote (POST /v1/votes), or, for a historical record, from an "
                "admin's attested record citing its source.",
                code=award_type.code,
            ),
            field="award_type",
        )
    checks = await check_nomination(
        session,
        unit_id=unit_id,
        award_type_code=award_type.code,
        emulation_year=emulation_year,
        cluster_id=cluster_id,
        on=on,
        rank=rank,
        attested=attested,
        stated=stated,
        source=source,
    )
    ensure_no_refusal(checks)
    rule_set = next(
        (c.facts["rule_set"] for c in checks if c.rule == "rule_set" and c.outcome is Outcome.passed), None
    )
    award = Award(
        award_type=award_type.code,
        unit_id=unit_id,
        emulation_year=emulation_year,
        cluster_id=cluster_id,
        status=stated.status.value,
        rule_set=rule_set,
        vote_id=vote_id,
        standings_version=standings_version,
        nominated_on=on,
        attested=attested,
        source=source.model_dump(mode="json") if source is not None else None,
        rule_checks=[c.model_dump(mode="json", exclude={"message"}) for c in checks],
        recorded_by=actor.recorded_by,
    )
    try:
        async with session.begin_nested():
            session.add(award)
            await session.flush()
    except IntegrityError as exc:
        if constraint_name(exc) != _ONE_PER_ACHIEVEMENT:
            raise
        raise Conflict(
            slug="award-exists",
            detail=_(
                "Another award of this type already recognises the unit's {year}: one achievement, "
                "one award.",
                year=emulation_year,
            ),
            rule="one_achievement_one_award",
        ) from exc
    assert award.id is not None
    session.add(
        AwardTransition(
            award_id=award.id,
            position=1,
            to_status=stated.status.value,
            decided_on=stated.decided_on or on,
            decision_number=stated.decision_number,
            authority=stated.authority,
            reason=stated.reason,
            recorded_by=actor.recorded_by,
        )
    )
    await session.flush()
    out = await get(session, award_id=award.id)
    await _invalidate(session, out)
    return out


_STATED = (AwardStatus.nominated, AwardStatus.granted, AwardStatus.refused, AwardStatus.revoked)
"""The statuses an attested record may state: a proposal or a return is a step of a dossier."""


def _check_stated(stated: StatedDecision, *, attested: bool, source: AwardSource | None, on: date) -> None:
    """A status other than `nominated`, and a decision's fields, only on an attested record that
    states that outcome (422 `set-by-transition`, naming the field); its decision number and
    authority only if its source states the decision (422 `decision-not-stated`); its day not
    before the nomination's (422)."""
    if stated.status is not AwardStatus.nominated and not attested:
        raise Unprocessable(
            _(
                "A nomination is recorded as nominated: what is decided on it is recorded by its "
                "transitions. Only an attested record is recorded as {status}, as its source states "
                "it.",
                status=stated.status.value,
            ),
            slug="set-by-transition",
            field="status",
        )
    if stated.status not in _STATED:
        raise Unprocessable(
            _(
                "An attested record is nominated, granted, refused or revoked as its source states; "
                "{status} is a step of a dossier, recorded by its transition.",
                status=stated.status.value,
            ),
            slug="set-by-transition",
            field="status",
        )
    decision = (
        ("decided_on", stated.decided_on),
        ("decision_number", stated.decision_number),
        ("authority", stated.authority),
        ("reason", stated.reason),
    )
    for field, value in decision:
        if value is not None and stated.status is AwardStatus.nominated:
            raise Unprocessable(
                _(
                    "{field} belongs to a decision, and a nomination has none: record the decision "
                    "by its transition, or state the outcome (status) of an attested record.",
                    field=field,
                ),
                slug="set-by-transition",
                field=field,
            )
    for field, value in decision[1:3]:
        if value is not None and (source is None or source.facts.get(Fact.decision) is not Statement.stated):
            raise Unprocessable(
                _(
                    "An attested record gives {field} only when its source states the decision "
                    "(source.facts.decision).",
                    field=field,
                ),
                slug="decision-not-stated",
                field=field,
            )
    if stated.decided_on is not None and stated.decided_on < on:
        raise Unprocessable(
            _(
                "The decision is dated {day}, before the nomination ({nominated_on}).",
                day=stated.decided_on,
                nominated_on=on,
            ),
            field="decided_on",
        )


class VoteRequired(Conflict):
    """409: a nomination of an award type a vote proposes, made neither by its vote nor as an
    attested historical record."""

    slug = "vote-required"


class VoteMismatch(Conflict):
    """409: the vote a nomination names is not the one that could make it."""

    slug = "vote-mismatch"


class UnsupportedDocumentType(UnsupportedMediaType):
    """415: a dossier document of a type DOCUMENT_TYPES does not allow (named in
    `allowed_media_types`)."""

    slug = "unsupported-document-type"


@dataclass(frozen=True, slots=True)
class CitedVote:
    """The vote a nomination comes from, as `app.votes` records it (awards reads no vote table:
    votes build on awards, never the other way round)."""

    id: int
    cluster_id: int | None
    award_type: str
    emulation_year: int
    standings_version: int | None
    candidates: frozenset[int]


def _check_cited_vote(
    vote: CitedVote,
    *,
    award_type: str,
    unit_id: int,
    emulation_year: int,
    cluster_id: int | None,
    standings_version: int | None,
) -> None:
    """The vote a nomination names must be of its cluster, award type and emulation year, have the
    unit among its candidates, and have relied on the standings version it names (409
    `vote-mismatch`, naming the field)."""
    vote_id = vote.id
    if vote.cluster_id != cluster_id:
        raise VoteMismatch(
            _(
                "Vote {vote_id} was held by another cluster: a cluster nominates by its own vote.",
                vote_id=vote_id,
            ),
            field="vote_id",
        )
    if vote.award_type != award_type or vote.emulation_year != emulation_year:
        raise VoteMismatch(
            _(
                "Vote {vote_id} was held for {vote_award} of {vote_year}, not for {award} of {year}.",
                vote_id=vote_id,
                vote_award=vote.award_type,
                vote_year=vote.emulation_year,
                award=award_type,
                year=emulation_year,
            ),
            field="vote_id",
        )
    if unit_id not in vote.candidates:
        raise VoteMismatch(
            _("Unit {unit_id} is not a candidate of vote {vote_id}.", unit_id=unit_id, vote_id=vote_id),
            field="vote_id",
        )
    if standings_version != vote.standings_version:
        raise VoteMismatch(
            _(
                "Vote {vote_id} relied on standings version {vote_version}, not {version}.",
                vote_id=vote_id,
                vote_version=vote.standings_version if vote.standings_version is not None else "—",
                version=standings_version if standings_version is not None else "—",
            ),
            field="standings_version",
        )


async def record_transition(
    session: AsyncSession, *, award_id: int, data: TransitionIn, if_match: str | None, actor: Actor
) -> AwardOut:
    """Move an award one step under `If-Match`: only to a status its current one allows (409
    naming those), not dated before its previous step (409); a proposal's dossier items name
    this award's documents or a reference, due by default (Government flag) on the rule set's
    `government_flag_dossier_due`."""
    award = (
        await session.execute(select(Award).where(col(Award.id) == award_id).with_for_update())
    ).scalar_one_or_none()
    if award is None:
        raise NotFound(_("No award with id {award_id}.", award_id=award_id))
    current = await get(session, award_id=award_id)
    require_match(if_match, award_etag(current))
    allowed = ALLOWED[current.status]
    if data.to not in allowed:
        raise Conflict(
            slug="transition-not-allowed",
            detail=_(
                "An award that is {status} cannot become {to}; allowed: {allowed}.",
                status=current.status.value,
                to=data.to.value,
                allowed=", ".join(a.value for a in allowed) or "—",
            ),
            allowed_transitions=[a.value for a in allowed],
        )
    last = current.transitions[-1]
    if data.decided_on < last.decided_on:
        raise Conflict(
            slug="step-out-of-order",
            detail=_(
                "This step is dated {day}, before the previous one ({previous}).",
                day=data.decided_on,
                previous=last.decided_on,
            ),
            field="decided_on",
        )
    due = await _default_due(session, award)
    await _check_documents(session, award_id, data)
    step = AwardTransition(
        award_id=award_id,
        position=last.position + 1,
        from_status=current.status.value,
        to_status=data.to.value,
        decided_on=data.decided_on,
        decision_number=data.decision_number,
        authority=data.authority,
        reason=data.reason,
        recorded_by=actor.recorded_by,
    )
    session.add(step)
    await session.flush()
    assert step.id is not None
    for item in data.dossier:
        session.add(
            DossierItem(
                transition_id=step.id,
                title=item.title,
                document_id=item.document_id,
                reference=item.reference,
                due_on=item.due_on or due,
            )
        )
    award.status = data.to.value
    award.stamp(actor)
    session.add(award)
    await session.flush()
    out = await get(session, award_id=award_id)
    await _invalidate(session, out)
    return out


async def _default_due(session: AsyncSession, award: Award) -> date | None:
    """The dossier's default due date: the Government flag's, from the year's rule set."""
    award_type = await get_award_type(session, code=award.award_type)
    if "government_flag_dossier_due" not in award_type.rules:
        return None
    try:
        rules = await rule_set_for_year(session, award.emulation_year)
    except NoRuleSet:
        return None
    return rules.parameters.government_flag_dossier_due.value.for_year(award.emulation_year)


async def _check_documents(session: AsyncSession, award_id: int, data: TransitionIn) -> None:
    wanted = {i: item.document_id for i, item in enumerate(data.dossier) if item.document_id is not None}
    if not wanted:
        return
    found = set(
        (
            await session.execute(
                select(col(AwardDocument.id)).where(
                    col(AwardDocument.award_id) == award_id, col(AwardDocument.id).in_(list(wanted.values()))
                )
            )
        ).scalars()
    )
    for i, document_id in wanted.items():
        if document_id not in found:
            raise Unprocessable(
                _(
                    "Award {award_id} has no document {document_id}.",
                    award_id=award_id,
                    document_id=document_id,
                ),
                field=f"dossier.{i}.document_id",
            )


async def transitions(
    session: AsyncSession, *, award_id: int, limit: int, after: int | None
) -> Page[TransitionOut]:
    """An award's history in order (keyset on the position)."""
    steps = [
        t for t in (await get(session, award_id=award_id)).transitions if after is None or t.position > after
    ]
    return page_of(steps[: limit + 1], limit, lambda t: t.position)


def document_out(row: Any) -> DocumentOut:
    return DocumentOut.model_validate(row, from_attributes=True)


async def award_cluster(session: AsyncSession, award_id: int) -> int | None:
    """The id of the cluster that nominated the award (for access checks), or 404."""
    row = (await session.execute(select(col(Award.cluster_id)).where(col(Award.id) == award_id))).first()
    if row is None:
        raise NotFound(_("No award with id {award_id}.", award_id=award_id))
    cluster_id: int | None = row.cluster_id
    return cluster_id


def document_type(content_type: str | None, allowed: Sequence[str]) -> str:
    """The media type of an uploaded document (`Content-Type` without its parameters), if it is one
    of the `allowed` ones (DOCUMENT_TYPES); 415 naming them otherwise."""
    media = (content_type or "").split(";", 1)[0].strip().lower()
    if media not in allowed:
        raise UnsupportedDocumentType(
            _(
                "A document of type {type} is not accepted; send one of: {allowed}.",
                type=media or _("(none)"),
                allowed=", ".join(allowed),
            ),
            allowed_media_types=list(allowed),
        )
    return media


def served_type(stored: str, allowed: Sequence[str]) -> str:
    """The type a document is served with: as stored if DOCUMENT_TYPES allows it, else bytes
    (a document kept before the list, or before it was narrowed, is never served as a page)."""
    return stored if stored in allowed else "application/octet-stream"


async def add_document(
    session: AsyncSession, *, award_id: int, filename: str, content_type: str, content: bytes, actor: Actor
) -> DocumentOut:
    """Keep a dossier document's bytes with their SHA-256 (the body limit bounds its size)."""
    await award_cluster(session, award_id)
    if not content:
        raise Unprocessable(_("The document is empty."), field="body")
    document = AwardDocument(
        award_id=award_id,
        filename=filename,
        content_type=content_type,
        size=len(content),
        sha256=hashlib.sha256(content).hexdigest(),
        content=content,
        recorded_by=actor.recorded_by,
    )
    session.add(document)
    await session.flush()
    return document_out(document)


async def get_document(session: AsyncSession, *, award_id: int, document_id: int) -> AwardDocument:
    """A document of the award, with its bytes, or 404."""
    row = (
        await session.execute(
            select(AwardDocument).where(
                col(AwardDocument.id) == document_id, col(AwardDocument.award_id) == award_id
            )
        )
    ).scalar_one_or_none()
    if row is None:
        raise NotFound(
            _("Award {award_id} has no document {document_id}.", award_id=award_id, document_id=document_id)
        )
    return row
