"""The people register: who signs in with a token (by issuer and subject) and what they may do
here, kept by an admin and read by `app.auth.signed_in` when `OIDC_GRANTS_SOURCE=register`.

A person's grants are part of their versioned record, stored in `person_grants` and replaced
whole with each version (as a covenant's targets): a grant names its cluster or unit by a foreign
key and the database checks its scope fits its role, while the revision of each version keeps
the whole list. Nothing is deleted: withdrawing every grant is a new version like any other.

Every change drops the cached principals (`KEYS`, as revoking a key does), here at once and on
every other instance by NOTIFY: a person's next request is mapped again from the register.
"""

from collections.abc import Sequence
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from app.auth.roles import Role
from app.clusters.models import Cluster
from app.core.cache import KEYS, invalidate
from app.core.errors import Conflict, NotFound, constraint_name
from app.core.etag import record_etag, require_match
from app.core.i18n import _
from app.core.identity import Actor
from app.core.pagination import Page, page_of
from app.core.revisions import record_revision
from app.core.versioned import (
    Change,
    Conditions,
    Stored,
    Written,
    patch_version,
    replace_parts,
    write_version,
)
from app.people.models import Person, PersonGrant
from app.people.schemas import (
    AdminGrant,
    ClusterGrant,
    PersonCreate,
    PersonGrantIn,
    PersonOut,
    PersonPut,
    PersonUpdate,
    ReaderGrant,
    UnitGrant,
)
from app.units.models import Unit

RESOURCE = "person"
_UNIQUE = "people_issuer_subject_key"


def person_etag(out: PersonOut) -> str:
    return record_etag(RESOURCE, out.id, out.version, out)


def _grant(role: str, cluster: int | None, unit_id: int | None) -> PersonGrantIn:
    if role == Role.cluster:
        assert cluster is not None
        return ClusterGrant(role=Role.cluster, cluster=cluster)
    if role == Role.unit:
        assert unit_id is not None
        return UnitGrant(role=Role.unit, unit_id=unit_id)
    return AdminGrant(role=Role.admin) if role == Role.admin else ReaderGrant(role=Role.reader)


async def _grants_of(session: AsyncSession, person_ids: Sequence[int]) -> dict[int, list[PersonGrantIn]]:
    """The grants of each person, in their order (one query for any number of people)."""
    query = (
        select(
            col(PersonGrant.person_id), col(PersonGrant.role), col(Cluster.number), col(PersonGrant.unit_id)
        )
        .outerjoin(Cluster, col(Cluster.id) == col(PersonGrant.cluster_id))
        .where(col(PersonGrant.person_id).in_(person_ids))
        .order_by(col(PersonGrant.person_id), col(PersonGrant.position))
    )
    grants: dict[int, list[PersonGrantIn]] = {person_id: [] for person_id in person_ids}
    for person_id, role, number, unit_id in await session.execute(query):
        grants[person_id].append(_grant(role, number, unit_id))
    return grants


def _out(person: Person, grants: list[PersonGrantIn]) -> PersonOut:
    assert person.id is not None
    return PersonOut(
        id=person.id,
        issuer=person.issuer,
        subject=person.subject,
        display_name=person.display_name,
        note=person.note,
        grants=grants,
        version=person.version,
        recorded_by=person.recorded_by,
        recorded_at=person.recorded_at,
    )


async def read_person(session: AsyncSession, person: Person) -> PersonOut:
    """The person as stored, with their grants."""
    assert person.id is not None
    return _out(person, (await _grants_of(session, [person.id]))[person.id])


async def person_row(session: AsyncSession, person_id: int, *, for_update: bool = False) -> Person:
    """The stored row of person `person_id` (locked with `for_update`), or 404."""
    query = select(Person).where(col(Person.id) == person_id)
    if for_update:
        query = query.with_for_update()
    person = (await session.execute(query)).scalar_one_or_none()
    if person is None:
        raise NotFound(_("The people register has no person with id {person_id}.", person_id=person_id))
    return person


async def list_people(
    session: AsyncSession, *, issuer: str | None, limit: int, after: int | None
) -> Page[PersonOut]:
    """The register by id (of one issuer if given), people without grants included; two queries."""
    query = select(Person).order_by(col(Person.id)).limit(limit + 1)
    if issuer is not None:
        query = query.where(col(Person.issuer) == issuer)
    if after is not None:
        query = query.where(col(Person.id) > after)
    people = list((await session.execute(query)).scalars())
    grants = await _grants_of(session, [p.id for p in people if p.id is not None])
    rows = [_out(p, grants[p.id]) for p in people if p.id is not None]
    return page_of(rows, limit, lambda p: p.id)


async def _grant_rows(session: AsyncSession, grants: Sequence[PersonGrantIn]) -> list[dict[str, Any]]:
    """The rows of `grants`, in order: each cluster number resolved to its id and each unit
    checked (a query for each kind named); 404 naming the field of one that does not exist."""
    numbers = {g.cluster for g in grants if isinstance(g, ClusterGrant)}
    unit_ids = {g.unit_id for g in grants if isinstance(g, UnitGrant)}
    clusters: dict[int, int] = {}
    if numbers:
        found = await session.execute(
            select(col(Cluster.number), col(Cluster.id)).where(col(Cluster.number).in_(numbers))
        )
        clusters = {row.number: row.id for row in found}
    units: set[int | None] = set()
    if unit_ids:
        units = set((await session.execute(select(col(Unit.id)).where(col(Unit.id).in_(unit_ids)))).scalars())
    rows = []
    for i, grant in enumerate(grants, start=1):
        row: dict[str, Any] = {"position": i, "role": grant.role.value, "cluster_id": None, "unit_id": None}
        if isinstance(grant, ClusterGrant):
            if grant.cluster not in clusters:
                raise NotFound(
                    _("No cluster number {number}.", number=grant.cluster), field=f"grants.{i - 1}.cluster"
                )
            row["cluster_id"] = clusters[grant.cluster]
        if isinstance(grant, UnitGrant):
            if grant.unit_id not in units:
                raise NotFound(
                    _("No unit with id {unit_id}.", unit_id=grant.unit_id), field=f"grants.{i - 1}.unit_id"
                )
            row["unit_id"] = grant.unit_id
        rows.append(row)
    return rows


async def create(session: AsyncSession, data: PersonCreate, actor: Actor) -> PersonOut:
    """Enter a person in the register (version 1); someone already there with the same issuer and
    subject is 409 naming them."""
    rows = await _grant_rows(session, data.grants)
    person = Person(
        issuer=data.issuer,
        subject=data.subject,
        display_name=data.display_name,
        note=data.note,
        recorded_by=actor.recorded_by,
    )
    try:
        async with session.begin_nested():
            session.add(person)
            await session.flush()
    except IntegrityError as exc:
        if constraint_name(exc) != _UNIQUE:
            raise
        raise await _exists(session, data.issuer, data.subject) from exc
    assert person.id is not None
    await replace_parts(session, PersonGrant, "person_id", person.id, rows)
    await session.refresh(person)
    out = await read_person(session, person)
    await record_revision(session, RESOURCE, out.id, out.version, out, actor)
    await invalidate(session, KEYS)  # an ungranted reader's cached principal, under OIDC_UNGRANTED=read
    return out


async def _exists(session: AsyncSession, issuer: str, subject: str) -> Conflict:
    query = select(col(Person.id)).where(col(Person.issuer) == issuer, col(Person.subject) == subject)
    existing = (await session.execute(query)).scalar_one()
    return Conflict(
        _(
            "The people register already holds this person (id {person_id}) of the identity "
            "provider {issuer}.",
            person_id=existing,
            issuer=issuer,
        ),
        slug="person-exists",
        existing_person_id=existing,
    )


async def replace(
    session: AsyncSession, person_id: int, data: PersonPut, if_match: str | None, actor: Actor
) -> Written[PersonOut]:
    """Replace a person's display name, note and grants under `If-Match` (428 without, 412 when
    stale); the same version, nothing written, when the body says what is stored."""
    person = await person_row(session, person_id, for_update=True)
    stored = Stored(person, await read_person(session, person))
    rows: list[dict[str, Any]] = []

    async def check(_stored: object) -> None:
        rows.extend(await _grant_rows(session, data.grants))

    def assign(record: Person) -> None:
        record.display_name = data.display_name
        record.note = data.note

    async def grants(owner: int) -> None:
        await replace_parts(session, PersonGrant, "person_id", owner, rows)

    async def read() -> PersonOut:
        await session.refresh(person)
        return await read_person(session, person)

    def never() -> Person:
        raise AssertionError("a person is created by POST, never by a PUT")

    change = Change(
        resource=RESOURCE,
        create=never,
        assign=assign,
        read=read,
        etag=person_etag,
        missing="",
        children=grants,
        check=check,
    )
    return await write_version(session, stored, change, Conditions(if_match=if_match), actor, [KEYS])


async def update(
    session: AsyncSession, person_id: int, data: PersonUpdate, if_match: str | None, actor: Actor
) -> PersonOut:
    """Correct a person's display name or note, or replace their grants, under `If-Match`."""
    person = await person_row(session, person_id, for_update=True)
    before = await read_person(session, person)
    require_match(if_match, person_etag(before))
    changes = data.model_dump(include=data.model_fields_set - {"grants"})
    rows = await _grant_rows(session, data.grants) if data.grants is not None else None

    async def write(record: Person) -> PersonOut:
        for field, value in changes.items():
            setattr(record, field, value)
        session.add(record)
        await session.flush()
        if rows is not None:
            assert record.id is not None
            await replace_parts(session, PersonGrant, "person_id", record.id, rows)
        await session.refresh(record)
        return await read_person(session, record)

    return await patch_version(
        session, person, before, write, resource=RESOURCE, actor=actor, tags=lambda _out: [KEYS]
    )
