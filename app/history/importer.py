"""Import a history file through the same services and rules as the API; all or nothing.

Running the same file twice changes nothing: records already present are left as they are.
A record that contradicts what is stored fails the whole import, with every problem listed.
"""

import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import date
from pathlib import Path

import yaml
from pydantic import ValidationError
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from app.awards.models import Award
from app.awards.schemas import AwardSource, Fact, Statement
from app.awards.service import nominate
from app.clusters.models import Cluster
from app.clusters.schemas import ClusterCreate
from app.clusters.service import create_cluster
from app.core.cache import ALL, invalidate
from app.core.database import table
from app.core.errors import AppError, Unprocessable
from app.core.i18n import _
from app.core.periods import year_bounds
from app.core.validation import field_message
from app.covenants.schemas import CovenantOut, CovenantPut, TargetIn
from app.covenants.service import covenant_of, put_covenant
from app.history.schemas import ClusterEntry, HistoryFile, ImportSummary, MemberEntry, Source, YearEntry
from app.leadership.models import Leadership
from app.leadership.schemas import LeadershipPut
from app.leadership.service import put_leadership
from app.memberships.models import Membership, PeriodPrecision
from app.memberships.schemas import MembershipCreate
from app.memberships.service import create_membership
from app.reported.schemas import ReportedFigureIn, ReportedFiguresOut, ReportedFiguresPut
from app.reported.service import figures_of, put_figures
from app.units.models import Unit
from app.units.service import resolve_name


class HistoryImportError(Exception):
    def __init__(self, problems: list[str]) -> None:
        super().__init__("\n".join(problems))
        self.problems = problems


@asynccontextmanager
async def _collecting(session: AsyncSession, problems: list[str], where: str) -> AsyncIterator[None]:
    """Import one record in a savepoint; its problem is listed under `where`, not raised, so that
    every problem of the file is found before the whole import fails."""
    try:
        async with session.begin_nested():
            yield
    except AppError as exc:
        problems.append(f"{where}: {exc.detail}")
    except ValidationError as exc:
        problems.extend(validation_problems(exc, where))


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
    return await import_history(session, history, actor=f"import:{path.name}", problems=problems)


async def import_history(
    session: AsyncSession, history: HistoryFile, actor: str, problems: list[str] | None = None
) -> ImportSummary:
    """Import through the services, all or nothing: `problems` already found (the file's schema)
    and every reference or rule problem met on the way are raised together at the end."""
    summary = ImportSummary()
    problems = list(problems or [])
    for c, cluster in enumerate(history.clusters):
        cluster_id = await _ensure_cluster(session, cluster, actor, summary)
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
            await _import_year(
                session, cluster.number, cluster_id, entry, history, actor, summary, where, problems
            )
    if problems:
        raise HistoryImportError(problems)
    if any(v for k, v in summary.model_dump().items() if k.endswith("_created")):
        # Some records are written here directly (memberships with their sources): every
        # instance's read cache drops everything once this import commits.
        await invalidate(session, ALL)
    return summary


async def _ensure_cluster(
    session: AsyncSession, entry: ClusterEntry, actor: str, summary: ImportSummary
) -> int:
    """The cluster's id, creating the cluster if the database has none with that number."""
    clusters = table(Cluster)
    query = select(clusters.c.id).where(clusters.c.number == entry.number)
    found: int | None = (await session.execute(query)).scalar_one_or_none()
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
    created: int = (await session.execute(query)).scalar_one()
    return created


def _citation(history: HistoryFile, key: str) -> str:
    source = history.sources[key]
    parts = [f"[{key}] {source.title}"]
    if source.published:
        parts.append(source.published.isoformat())
    if source.url:
        parts.append(source.url)
    return " — ".join(parts)[:500]


async def _resolve(session: AsyncSession, name: str, code: str | None, on: date) -> Unit:
    """By the unit's name or an alias, never by similarity (see `resolve_name`)."""
    return await resolve_name(session, name, on=on, code=code)


async def _import_year(
    session: AsyncSession,
    number: int,
    cluster_id: int,
    entry: YearEntry,
    history: HistoryFile,
    actor: str,
    summary: ImportSummary,
    where: str,
    problems: list[str],
) -> None:
    for m, member in enumerate(entry.members):
        async with _collecting(session, problems, f"{where}.members[{m}] ({member.unit})"):
            await _import_member(session, number, cluster_id, entry, member, history, actor, summary)
    await _import_leadership(session, number, cluster_id, entry, history, actor, summary, where, problems)
    await _import_covenant(session, number, cluster_id, entry, history, actor, summary, where, problems)
    await _import_figures(session, number, cluster_id, entry, history, actor, summary, where, problems)
    await _import_awards(session, cluster_id, entry, history, actor, summary, where, problems)


async def _import_leadership(
    session: AsyncSession,
    number: int,
    cluster_id: int,
    entry: YearEntry,
    history: HistoryFile,
    actor: str,
    summary: ImportSummary,
    where: str,
    problems: list[str],
) -> None:
    if entry.leadership is None:
        return
    lead = entry.leadership
    async with _collecting(session, problems, f"{where}.leadership"):
        leader = await _resolve(session, lead.leader, None, entry.attested_on)
        deputy = await _resolve(session, lead.deputy, None, entry.attested_on) if lead.deputy else None
        existing = (
            await session.execute(
                select(Leadership).where(
                    col(Leadership.cluster_id) == cluster_id, col(Leadership.year) == entry.year
                )
            )
        ).scalar_one_or_none()
        if existing is not None:
            if existing.leader_unit_id == leader.id and existing.deputy_unit_id == (
                deputy.id if deputy else None
            ):
                summary.leaderships_unchanged += 1
                return
            raise Unprocessable(_("A different leadership is already recorded for this year."))
        data = LeadershipPut(
            leader_unit_id=leader.id,
            deputy_unit_id=deputy.id if deputy else None,
            decided_on=lead.decided_on,
            conference=lead.conference,
            note=lead.note,
            source=_citation(history, lead.source or entry.source),
        )
        await put_leadership(session, number, entry.year, data, None, actor)
        summary.leaderships_created += 1


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
    )


async def _import_covenant(
    session: AsyncSession,
    number: int,
    cluster_id: int,
    entry: YearEntry,
    history: HistoryFile,
    actor: str,
    summary: ImportSummary,
    where: str,
    problems: list[str],
) -> None:
    if entry.covenant is None:
        return
    covenant = entry.covenant
    async with _collecting(session, problems, f"{where}.covenant"):
        if covenant.source is not None and covenant.source not in history.sources:
            raise Unprocessable(_("unknown source {source!r}", source=covenant.source))
        host = None
        if covenant.host is not None:
            host = await _resolve(session, covenant.host, covenant.host_code, entry.attested_on)
        data = CovenantPut(
            signed_on=covenant.signed_on,
            host_unit_id=host.id if host else None,
            source=_citation(history, covenant.source or entry.source),
            key_contents=covenant.key_contents,
            targets=[TargetIn.model_validate(t.model_dump()) for t in covenant.targets],
            note=covenant.note,
        )
        stored = await covenant_of(session, cluster_id, entry.year)
        if stored is not None:
            if _same_covenant(stored, data):
                summary.covenants_unchanged += 1
                return
            raise Unprocessable(_("A different covenant is already recorded for this year."))
        await put_covenant(session, number, entry.year, data, None, actor)
        summary.covenants_created += 1


def _same_figures(stored: ReportedFiguresOut, data: ReportedFiguresPut) -> bool:
    figures = [ReportedFigureIn.model_validate(f.model_dump(exclude={"position"})) for f in stored.figures]
    return figures == data.figures


async def _import_figures(
    session: AsyncSession,
    number: int,
    cluster_id: int,
    entry: YearEntry,
    history: HistoryFile,
    actor: str,
    summary: ImportSummary,
    where: str,
    problems: list[str],
) -> None:
    if not entry.reported_figures:
        return
    async with _collecting(session, problems, f"{where}.reported_figures"):
        for f, figure in enumerate(entry.reported_figures):
            if figure.source is not None and figure.source not in history.sources:
                raise Unprocessable(
                    _("reported_figures[{f}]: unknown source {source!r}", f=f, source=figure.source)
                )
        data = ReportedFiguresPut(
            figures=[
                ReportedFigureIn.model_validate(
                    {
                        **figure.model_dump(exclude={"source"}),
                        "source": _citation(history, figure.source or entry.source),
                    }
                )
                for figure in entry.reported_figures
            ]
        )
        stored = await figures_of(session, cluster_id, entry.year)
        if stored is not None:
            if _same_figures(stored, data):
                summary.reported_figure_sets_unchanged += 1
                return
            raise Unprocessable(_("Different reported figures are already recorded for this year."))
        await put_figures(session, number, entry.year, data, None, actor)
        summary.reported_figure_sets_created += 1


async def _import_awards(
    session: AsyncSession,
    cluster_id: int,
    entry: YearEntry,
    history: HistoryFile,
    actor: str,
    summary: ImportSummary,
    where: str,
    problems: list[str],
) -> None:
    """Attested nominations: what the source states, nothing more; an award already recorded
    from the same source is left alone, one recorded otherwise is a problem."""
    awards = table(Award)
    for a, item in enumerate(entry.awards):
        async with _collecting(session, problems, f"{where}.awards[{a}] ({item.unit})"):
            key = item.source or entry.source
            if key not in history.sources:
                raise Unprocessable(_("unknown source {source!r}", source=key))
            cited = history.sources[key]
            source = AwardSource(
                title=cited.title,
                url=cited.url,
                published=cited.published,
                facts={fact: item.facts.get(fact, Statement.not_stated) for fact in Fact},
                quote=item.quote,
            )
            unit = await _resolve(session, item.unit, item.code, entry.attested_on)
            assert unit.id is not None
            stored = (
                await session.execute(
                    select(awards.c.attested, awards.c.source).where(
                        awards.c.unit_id == unit.id,
                        awards.c.award_type == item.award_type,
                        awards.c.emulation_year == entry.year,
                        awards.c.cluster_id == cluster_id,
                    )
                )
            ).first()
            if stored is not None:
                if stored.attested and stored.source == source.model_dump(mode="json"):
                    summary.awards_unchanged += 1
                    continue
                raise Unprocessable(_("A different award is already recorded for this unit and year."))
            await nominate(
                session,
                award_type_code=item.award_type,
                unit_id=unit.id,
                emulation_year=entry.year,
                cluster_id=cluster_id,
                vote=None,
                standings_version=None,
                on=item.nominated_on or entry.attested_on,
                actor=actor,
                source=source,
                attested=True,
                rank=None,
            )
            summary.awards_created += 1


async def _import_member(
    session: AsyncSession,
    number: int,
    cluster_id: int,
    entry: YearEntry,
    member: MemberEntry,
    history: HistoryFile,
    actor: str,
    summary: ImportSummary,
) -> None:
    unit = await _resolve(session, member.unit, member.code, entry.attested_on)
    first, last = year_bounds(entry.year)
    dated = member.valid_from is not None or member.valid_to is not None
    valid_from = member.valid_from or max(first, unit.valid_from or first)
    valid_to = member.valid_to or min(last, unit.valid_to or last)
    same = (
        await session.execute(
            select(col(Membership.id)).where(
                col(Membership.unit_id) == unit.id,
                col(Membership.cluster_id) == cluster_id,
                col(Membership.valid_from) == valid_from,
                col(Membership.valid_to) == valid_to,
            )
        )
    ).first()
    if same is not None:
        summary.memberships_unchanged += 1
        return
    await create_membership(
        session,
        MembershipCreate(
            unit_id=unit.id,
            cluster=number,
            valid_from=valid_from,
            valid_to=valid_to,
            period_precision=PeriodPrecision.day if dated else PeriodPrecision.year,
            source=_citation(history, member.source or entry.source),
            note=member.note,
        ),
        actor,
    )
    summary.memberships_created += 1
