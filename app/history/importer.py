"""Import a history file through the same services and rules as the API; all or nothing.

Running the same file twice changes nothing: records already present are left as they are.
A record that contradicts what is stored fails the whole import, with every problem listed.

**Corrections.** A record replaced whole by its PUT (a leadership, a covenant, its pledges, the
reported figures) that the file says otherwise of is corrected when its current version is this
import's own: recorded by a file of the same name (`import:seed_history.yaml`), so nobody changed
it since. It is replaced through its service under `If-Match` with the version read, as a new
version; the earlier one stays under its `…/revisions`. One a person or a key changed since (or
another file wrote) is reported, not overwritten: change it through the API.

A year of a cluster is imported by a `YearImport`: one method per kind of record, each run in
its own savepoint (`YearImport.record`) and ending in `YearImport.once`, which looks up what is
stored through the feature's own read, leaves it alone when it says what the file says, corrects
it or reports a problem when it says otherwise, and creates it when there is none.
"""

import json
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Literal, Protocol, TypeVar

import yaml
from pydantic import ValidationError
from sqlalchemy.ext.asyncio import AsyncSession

from app.awards.eligibility import StatedDecision
from app.awards.models import AwardStatus
from app.awards.schemas import AwardOut, AwardSource, Fact, StatedStatus, Statement
from app.awards.service import list_awards, nominate
from app.clusters.schemas import ClusterCreate
from app.clusters.service import create_cluster
from app.clusters.years import ClusterYear, Grouping, GroupingRef, find, resolve
from app.conferences.schemas import ConferenceCreate, ConferenceOut, ConferenceSource
from app.conferences.service import conferences_of
from app.conferences.service import create as create_conference
from app.core.cache import ALL, invalidate
from app.core.errors import AppError, Unprocessable
from app.core.i18n import N_, _
from app.core.identity import Actor
from app.core.periods import year_bounds
from app.core.validation import field_message
from app.core.versioned import Conditions
from app.covenants.schemas import CovenantOut, CovenantPut, TargetIn
from app.covenants.service import covenant_etag, covenant_of, write_covenant
from app.history.schemas import (
    AwardEntry,
    ClusterEntry,
    ConferenceEntry,
    CovenantEntry,
    HistoryFile,
    ImportSummary,
    LeadershipEntry,
    MemberEntry,
    ReportedFigureEntry,
    Source,
    YearEntry,
)
from app.leadership.schemas import LeadershipOut, LeadershipPut
from app.leadership.service import leadership_etag, leadership_of, write_leadership
from app.memberships.models import PeriodPrecision
from app.memberships.schemas import MembershipCreate, MembershipOut
from app.memberships.service import create_membership, list_memberships
from app.pledges.schemas import PledgeIn, PledgesOut, PledgesPut
from app.pledges.service import pledges_etag, pledges_of, write_pledges
from app.reported.schemas import ReportedFigureIn, ReportedFiguresOut, ReportedFiguresPut
from app.reported.service import figures_etag, figures_of, write_figures
from app.units.models import Unit
from app.units.service import resolve_name


class HistoryImportError(Exception):
    def __init__(self, problems: list[str]) -> None:
        super().__init__("\n".join(problems))
        self.problems = problems


def validation_problems(exc: ValidationError, where: str = "") -> list[str]:
    """One line per field error, located in the file (`clusters.0.years.1.members.2.note: …`)."""
    return [
        f"{'.'.join(part for part in (where, '.'.join(map(str, e['loc']))) if part)}: {field_message(e)}"
        for e in exc.errors()
    ]


class _Loader(yaml.SafeLoader):
    """YAML without implicit timestamps: a date stays text until the schema reads it, so that a
    bad date (`2024-13-01`) is one located problem among the others, not a failure to parse."""


_Loader.yaml_implicit_resolvers = {
    first: [(tag, pattern) for tag, pattern in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


def parse(path: Path) -> tuple[HistoryFile, list[str]]:
    """Read and validate a history file. Returns what is valid and the schema problems of the
    rest (a year entry with a problem is left out and reported), so that references and rules
    of the valid part are checked too and every problem of the file is listed at once."""
    try:
        text = path.read_text(encoding="utf-8")
        raw = json.loads(text) if path.suffix == ".json" else yaml.load(text, Loader=_Loader)
    except OSError as exc:
        raise HistoryImportError(
            [_("{path}: cannot be read ({reason})", path=path, reason=exc.strerror or exc)]
        ) from exc
    except UnicodeDecodeError as exc:
        raise HistoryImportError(
            [
                _(
                    "{path}: not UTF-8 text ({reason} at byte {start})",
                    path=path,
                    reason=exc.reason,
                    start=exc.start,
                )
            ]
        ) from exc
    except (ValueError, yaml.YAMLError) as exc:
        kind = path.suffix.lstrip(".") or "YAML"
        raise HistoryImportError(
            [_("{path}: not valid {kind}: {error}", path=path, kind=kind, error=exc)]
        ) from exc
    try:
        return HistoryFile.model_validate(raw), []
    except ValidationError as exc:
        problems: list[str] = []
        salvaged = _salvage(raw, problems)
        if salvaged is None:
            raise HistoryImportError(validation_problems(exc)) from exc
        return salvaged, problems


def _salvage(raw: object, problems: list[str]) -> HistoryFile | None:
    """The valid sources, clusters and year entries of a file that is not valid as a whole."""
    if not isinstance(raw, dict) or not isinstance(raw.get("sources"), dict):
        return None
    if not isinstance(raw.get("clusters"), list) or set(raw) - {"format", "sources", "clusters"}:
        return None
    sources = {}
    for key, source in raw["sources"].items():
        try:
            sources[str(key)] = Source.model_validate(source)
        except ValidationError as exc:
            problems.extend(validation_problems(exc, f"sources.{key}"))
    clusters = []
    for c, cluster in enumerate(raw["clusters"]):
        years = cluster.get("years", []) if isinstance(cluster, dict) else []
        try:
            entry = ClusterEntry.model_validate(
                {**cluster, "years": []} if isinstance(cluster, dict) else cluster
            )
        except ValidationError as exc:
            problems.extend(validation_problems(exc, f"clusters.{c}"))
            continue
        for y, year in enumerate(years if isinstance(years, list) else []):
            try:
                entry.years.append(YearEntry.model_validate(year))
            except ValidationError as exc:
                problems.extend(validation_problems(exc, f"clusters.{c}.years.{y}"))
        clusters.append(entry)
    try:
        return HistoryFile(format=raw.get("format"), sources=sources, clusters=clusters)
    except ValidationError as exc:
        problems.extend(validation_problems(exc))
        return None


async def import_file(session: AsyncSession, path: Path) -> ImportSummary:
    history, problems = parse(path)
    return await import_history(
        session, history, actor=Actor("system", f"import:{path.name}"), problems=problems
    )


async def import_history(
    session: AsyncSession, history: HistoryFile, actor: Actor, problems: list[str] | None = None
) -> ImportSummary:
    """Import through the services, all or nothing: `problems` already found (the file's schema)
    and every reference or rule problem met on the way are raised together at the end."""
    summary = ImportSummary()
    problems = list(problems or [])
    conferences: dict[str, int] = {}
    for c, cluster in enumerate(history.clusters):
        grouping = await _ensure_cluster(session, cluster, actor, summary)
        for y, entry in enumerate(cluster.years):
            where = _(
                "clusters[{c}] (cluster {number}).years[{y}] ({year})",
                c=c,
                number=cluster.number,
                y=y,
                year=entry.year,
            )
            if entry.source not in history.sources:
                problems.append(_("{where}: unknown source {source!r}", where=where, source=entry.source))
                continue
            at = ClusterYear(grouping.ref, entry.year, grouping)
            year = YearImport(
                session, actor, history.sources, problems, summary, conferences, at, entry, where
            )
            await year.run()
    if problems:
        raise HistoryImportError(problems)
    if any(v for k, v in summary.model_dump().items() if k.endswith(("_created", "_corrected"))):
        # Some records are written here directly (memberships with their sources): every
        # instance's read cache drops everything once this import commits.
        await invalidate(session, ALL)
    return summary


async def _ensure_cluster(
    session: AsyncSession, entry: ClusterEntry, actor: Actor, summary: ImportSummary
) -> Grouping:
    """The cluster numbered as the entry says, created if the database has none."""
    ref = GroupingRef.cluster(entry.number)
    found = await find(session, ref)
    if found is not None:
        return found
    await create_cluster(
        session,
        ClusterCreate(
            number=entry.number, name=entry.name, rotation_custom=entry.rotation_custom, note=entry.note
        ),
        actor,
    )
    summary.clusters_created += 1
    return await resolve(session, ref)


@dataclass(frozen=True, slots=True)
class Kind:
    """A kind of record the importer writes."""

    counted: Literal[
        "memberships",
        "conferences",
        "leaderships",
        "covenants",
        "pledge_lists",
        "reported_figure_sets",
        "awards",
    ]
    """Its counts in `ImportSummary`: `{counted}_created` and `{counted}_unchanged` (and
    `{counted}_corrected` for a kind the import corrects)."""
    different: str | None = None
    """The problem when the record stored says otherwise than the file (marked with `N_`); None
    for a record looked up by all the file says of it, which cannot say otherwise."""


MEMBERSHIP = Kind("memberships")
CONFERENCE = Kind("conferences", N_("A different conference of this kind is already recorded on this date."))
LEADERSHIP = Kind("leaderships", N_("A different leadership is already recorded for this year."))
COVENANT = Kind("covenants", N_("A different covenant is already recorded for this year."))
PLEDGES = Kind("pledge_lists", N_("Different pledges are already recorded for this year's covenant."))
REPORTED_FIGURES = Kind(
    "reported_figure_sets", N_("Different reported figures are already recorded for this year.")
)
AWARD = Kind("awards", N_("A different award is already recorded for this unit and year."))

E = TypeVar("E")
S = TypeVar("S")


class RecordedRecord(Protocol):
    """A record as its feature reads it, saying who recorded its current version."""

    recorded_by: str


R = TypeVar("R", bound=RecordedRecord)


@dataclass(frozen=True, slots=True)
class YearImport:
    """One year of one cluster, imported: where its records go (`at`: the cluster and the year),
    what the file says of it (`entry`) and where that is in the file (`where`); with what every
    year of the file shares: the session, who is recorded as writing (`actor`), the file's
    sources, the problems met so far, the summary and the conferences imported so far by their
    key in the file (`conferences`, for the records decided there).

    A kind of record is one method, given the file's entry for one record: `run` calls it in a
    savepoint (`record`), and it ends in `once`."""

    session: AsyncSession
    actor: Actor
    sources: dict[str, Source]
    problems: list[str]
    summary: ImportSummary
    conferences: dict[str, int]
    at: ClusterYear
    entry: YearEntry
    where: str

    async def run(self) -> None:
        """Every record of the year, in the order the rules need: members before the conferences'
        hosts and chairs, the leadership and the covenant's host, which must be members; the
        conferences before the records decided there."""
        entry = self.entry
        for m, member in enumerate(entry.members):
            await self.record(f"members[{m}] ({member.unit})", self.membership, member)
        for c, conference in enumerate(entry.conferences):
            place = f"conferences[{c}] ({conference.kind.value} {conference.held_on.isoformat()})"
            await self.record(place, self.conference, conference)
        if entry.leadership is not None:
            await self.record("leadership", self.leadership, entry.leadership)
        if entry.covenant is not None:
            await self.record("covenant", self.covenant, entry.covenant)
            if entry.covenant.pledges:
                await self.record("covenant.pledges", self.pledges, entry.covenant.pledges)
        if entry.reported_figures:
            await self.record("reported_figures", self.reported_figures, entry.reported_figures)
        for a, award in enumerate(entry.awards):
            await self.record(f"awards[{a}] ({award.unit})", self.award, award)

    async def record(self, place: str, kind: Callable[[E], Awaitable[None]], item: E) -> None:
        """Import one record in a savepoint; its problem is listed under its place in the year
        (`place`), not raised, so that every problem of the file is found before the whole
        import fails."""
        where = f"{self.where}.{place}"
        try:
            async with self.session.begin_nested():
                await kind(item)
        except AppError as exc:
            self.problems.append(f"{where}: {exc.detail}")
        except ValidationError as exc:
            self.problems.extend(validation_problems(exc, where))

    async def once(
        self,
        kind: Kind,
        stored: S | None,
        create: Callable[[], Awaitable[object]],
        same: Callable[[S], bool] | None = None,
    ) -> None:
        """Import a record once: `stored` (as the feature reads it; None: there is none) is left
        alone when it says what the file says (`same`; None: found by all the file says), is a
        problem when it says otherwise, and `create` writes the record when there is none."""
        if stored is None:
            await create()
            outcome = "created"
        elif same is None or same(stored):
            outcome = "unchanged"
        else:
            assert kind.different is not None, kind
            raise Unprocessable(_(kind.different))
        self.count(kind, outcome)

    async def once_or_correct(
        self,
        kind: Kind,
        stored: R | None,
        create: Callable[[], Awaitable[object]],
        same: Callable[[R], bool],
        correct: Callable[[R], Awaitable[object]],
    ) -> None:
        """`once`, but a stored record that says otherwise than the file and whose current version
        this import wrote (nobody changed it since) is corrected (`correct`, given it: a new
        version under `If-Match`, the earlier one kept in its revisions)."""
        if stored is not None and not same(stored) and stored.recorded_by == self.actor.recorded_by:
            await correct(stored)
            self.count(kind, "corrected")
            return
        await self.once(kind, stored, create, same)

    def count(self, kind: Kind, outcome: str) -> None:
        counter = f"{kind.counted}_{outcome}"
        setattr(self.summary, counter, getattr(self.summary, counter) + 1)

    def source(self, key: str) -> Source:
        if key not in self.sources:
            raise Unprocessable(_("unknown source {source!r}", source=key))
        return self.sources[key]

    def cite(self, key: str | None) -> str:
        """How a record cites the source `key` (the year's when None)."""
        key = key or self.entry.source
        source = self.source(key)
        parts = [f"[{key}] {source.title}"]
        if source.published:
            parts.append(source.published.isoformat())
        if source.url:
            parts.append(source.url)
        return " — ".join(parts)[:500]

    def conference_id(self, key: str | None) -> int | None:
        """The id of the conference the file names `key` (imported earlier in the file)."""
        if key is None:
            return None
        if key not in self.conferences:
            raise Unprocessable(_("unknown conference {key!r} (list it earlier in the file)", key=key))
        return self.conferences[key]

    async def unit(self, name: str, code: str | None = None) -> Unit:
        """By the unit's name or an alias on the year's `attested_on`, never by similarity (see
        `resolve_name`)."""
        return await resolve_name(self.session, name, on=self.entry.attested_on, code=code)

    async def membership(self, member: MemberEntry) -> None:
        unit = await self.unit(member.unit, member.code)
        assert unit.id is not None
        first, last = year_bounds(self.at.year)
        dated = member.valid_from is not None or member.valid_to is not None
        valid_from = member.valid_from or max(first, unit.valid_from or first)
        valid_to = member.valid_to or min(last, unit.valid_to or last)

        async def create() -> None:
            data = MembershipCreate(
                unit_id=unit.id,
                cluster=self.at.number,
                valid_from=valid_from,
                valid_to=valid_to,
                period_precision=PeriodPrecision.day if dated else PeriodPrecision.year,
                source=self.cite(member.source),
                note=member.note,
            )
            await create_membership(self.session, data, self.actor)

        stored = await self._membership_over(unit.id, valid_from, valid_to)
        await self.once(MEMBERSHIP, stored, create)

    async def _membership_over(self, unit_id: int, valid_from: date, valid_to: date) -> MembershipOut | None:
        """The unit's membership of the cluster over exactly `[valid_from, valid_to]`, or None
        (read through `list_memberships`, a page at a time: a unit has few in one cluster)."""
        after: int | None = None
        while True:
            page = await list_memberships(
                self.session,
                unit_id=unit_id,
                cluster=self.at.number,
                start=None,
                end=None,
                limit=100,
                after=after,
            )
            for stored in page.items:
                if stored.valid_from == valid_from and stored.valid_to == valid_to:
                    return stored
            if page.next_cursor is None:
                return None
            after = page.items[-1].id

    async def conference(self, item: ConferenceEntry) -> None:
        """A conference as its source tells it: a host or chairs it does not name stay unstated.
        The one stored of the same kind on the same date (and precision) is left alone when it
        says what the file says, and is a problem otherwise."""
        if item.key is not None and item.key in self.conferences:
            raise Unprocessable(_("the conference key {key!r} is given twice", key=item.key))
        host = await self.unit(item.host, item.host_code) if item.host is not None else None
        chairs = [await self.unit(name) for name in item.chairs]
        cited = self.source(item.source or self.entry.source)
        data = ConferenceCreate(
            kind=item.kind,
            held_on=item.held_on,
            held_on_precision=item.held_on_precision,
            host_unit_id=host.id if host is not None else None,
            chair_unit_ids=[c.id for c in chairs if c.id is not None],
            guests=item.guests,
            source=ConferenceSource(
                title=cited.title, url=cited.url, published=cited.published, quote=item.quote
            ),
            note=item.note,
        )
        stored = next(
            (
                c
                for c in await conferences_of(self.session, self.at.id, self.at.year)
                if (c.kind, c.held_on, c.held_on_precision)
                == (data.kind, data.held_on, data.held_on_precision)
            ),
            None,
        )

        def same(stored: ConferenceOut) -> bool:
            return (
                (stored.host.id if stored.host else None) == data.host_unit_id
                and [c.id for c in stored.chairs] == data.chair_unit_ids
                and stored.guests == data.guests
                and stored.source == data.source
                and stored.note == data.note
            )

        async def create() -> None:
            created = await create_conference(self.session, self.at, data, self.actor)
            if item.key is not None:
                self.conferences[item.key] = created.id

        if item.key is not None and stored is not None:
            self.conferences[item.key] = stored.id
        await self.once(CONFERENCE, stored, create, same)

    async def leadership(self, lead: LeadershipEntry) -> None:
        leader = await self.unit(lead.leader)
        deputy = await self.unit(lead.deputy) if lead.deputy else None
        deputy_id = deputy.id if deputy else None
        conference_id = self.conference_id(lead.conference_key)
        assert leader.id is not None

        def same(stored: LeadershipOut) -> bool:
            stored_deputy = stored.deputy.unit.id if stored.deputy else None
            return (
                stored.leader.unit.id == leader.id
                and stored_deputy == deputy_id
                and _same_link(stored.decision.conference_id, conference_id)
            )

        data = LeadershipPut(
            leader_unit_id=leader.id,
            deputy_unit_id=deputy_id,
            decided_on=lead.decided_on,
            conference=lead.conference,
            note=lead.note,
            source=self.cite(lead.source),
            conference_id=conference_id,
        )

        def write(stored: LeadershipOut | None) -> Awaitable[object]:
            conditions = Conditions(if_match=leadership_etag(stored) if stored is not None else None)
            return write_leadership(self.session, self.at, data, conditions, self.actor)

        stored = await leadership_of(self.session, self.at.id, self.at.year)
        await self.once_or_correct(LEADERSHIP, stored, lambda: write(None), same, write)

    async def covenant(self, covenant: CovenantEntry) -> None:
        source = self.cite(covenant.source)
        host = None
        if covenant.host is not None:
            host = await self.unit(covenant.host, covenant.host_code)
        data = CovenantPut(
            signed_on=covenant.signed_on,
            host_unit_id=host.id if host else None,
            source=source,
            key_contents=covenant.key_contents,
            targets=[TargetIn.model_validate(t.model_dump()) for t in covenant.targets],
            note=covenant.note,
            conference_id=self.conference_id(covenant.conference_key),
        )

        def write(stored: CovenantOut | None) -> Awaitable[object]:
            conditions = Conditions(if_match=covenant_etag(stored) if stored is not None else None)
            return write_covenant(self.session, self.at, data, conditions, self.actor)

        await self.once_or_correct(
            COVENANT,
            await covenant_of(self.session, self.at.id, self.at.year),
            lambda: write(None),
            lambda stored: _same_covenant(stored, data),
            write,
        )

    async def pledges(self, pledges: list[PledgeIn]) -> None:
        """The covenant's pledges, once it is recorded (a year without a covenant is 409)."""
        data = PledgesPut(pledges=pledges)

        def write(stored: PledgesOut | None) -> Awaitable[object]:
            conditions = Conditions(if_match=pledges_etag(stored) if stored is not None else None)
            return write_pledges(self.session, self.at, data, conditions, self.actor)

        await self.once_or_correct(
            PLEDGES,
            await pledges_of(self.session, self.at.id, self.at.year),
            lambda: write(None),
            lambda stored: _same_pledges(stored, data),
            write,
        )

    async def reported_figures(self, figures: list[ReportedFigureEntry]) -> None:
        for f, figure in enumerate(figures):
            if figure.source is not None and figure.source not in self.sources:
                raise Unprocessable(
                    _("reported_figures[{f}]: unknown source {source!r}", f=f, source=figure.source)
                )
        data = ReportedFiguresPut(
            figures=[
                ReportedFigureIn.model_validate(
                    {**figure.model_dump(exclude={"source"}), "source": self.cite(figure.source)}
                )
                for figure in figures
            ],
            conference_id=self.conference_id(self.entry.reported_figures_conference_key),
        )

        def write(stored: ReportedFiguresOut | None) -> Awaitable[object]:
            conditions = Conditions(if_match=figures_etag(stored) if stored is not None else None)
            return write_figures(self.session, self.at, data, conditions, self.actor)

        await self.once_or_correct(
            REPORTED_FIGURES,
            await figures_of(self.session, self.at.id, self.at.year),
            lambda: write(None),
            lambda stored: _same_figures(stored, data),
            write,
        )

    async def award(self, item: AwardEntry) -> None:
        """An attested record: what the source states, nothing more (a nomination, or its outcome
        with the decision as far as the source states it); an award already recorded from the
        same source is left alone, one recorded otherwise is a problem. A record the file states
        only as nominated is not contradicted by the steps its lifecycle took since."""
        cited = self.source(item.source or self.entry.source)
        source = AwardSource(
            title=cited.title,
            url=cited.url,
            published=cited.published,
            facts={fact: item.facts.get(fact, Statement.not_stated) for fact in Fact},
            quote=item.quote,
        )
        unit = await self.unit(item.unit, item.code)
        assert unit.id is not None
        unit_id = unit.id

        def same(stored: AwardOut) -> bool:
            stored_source = stored.source.model_dump(mode="json") if stored.source else None
            status = item.status is StatedStatus.nominated or stored.status.value == item.status.value
            return stored.attested and stored_source == source.model_dump(mode="json") and status

        async def create() -> None:
            await nominate(
                self.session,
                award_type_code=item.award_type,
                unit_id=unit_id,
                emulation_year=self.at.year,
                cluster_id=self.at.id,
                vote=None,
                standings_version=None,
                on=item.nominated_on or self.entry.attested_on,
                actor=self.actor,
                source=source,
                attested=True,
                rank=None,
                stated=StatedDecision(
                    status=AwardStatus(item.status.value),
                    decided_on=item.decided_on,
                    decision_number=item.decision_number,
                    authority=item.authority,
                    reason=item.reason,
                ),
            )

        found = await list_awards(
            self.session,
            year=self.at.year,
            unit_id=unit_id,
            award_type=item.award_type,
            status=None,
            cluster=self.at.number,
            include_predecessors=False,
            limit=1,
            after=None,
        )
        await self.once(AWARD, found.items[0] if found.items else None, create, same)


def _same_covenant(stored: CovenantOut, data: CovenantPut) -> bool:
    """The stored covenant says what `data` says (the importer leaves it alone)."""
    targets = [
        TargetIn(
            metric=t.metric,
            comparator=t.comparator,
            threshold=t.threshold,
            basis=t.basis,
            scope=t.scope,
            label=t.label,
        )
        for t in stored.targets
    ]
    return (
        stored.signed_on == data.signed_on
        and (stored.host.id if stored.host else None) == data.host_unit_id
        and stored.source == data.source
        and stored.key_contents == data.key_contents
        and stored.note == data.note
        and targets == data.targets
        and _same_link(stored.conference_id, data.conference_id)
    )


def _same_pledges(stored: PledgesOut, data: PledgesPut) -> bool:
    """The stored pledges say what `data` says (their checks aside)."""
    pledges = [
        PledgeIn(
            kind=p.kind,
            label=p.label,
            scope=p.scope,
            metric=p.metric,
            quantity=p.quantity,
            note=p.note,
        )
        for p in stored.pledges
    ]
    return pledges == data.pledges


def _same_figures(stored: ReportedFiguresOut, data: ReportedFiguresPut) -> bool:
    figures = [ReportedFigureIn.model_validate(f.model_dump(exclude={"position"})) for f in stored.figures]
    return figures == data.figures and _same_link(stored.conference_id, data.conference_id)


def _same_link(stored: int | None, wanted: int | None) -> bool:
    """A record's conference as stored says what the file says, or one of them names none: a
    record stored before its conference was, and a link made through the API that the file does
    not name, are no contradiction."""
    return stored is None or wanted is None or stored == wanted
