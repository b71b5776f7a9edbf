"""The batched statement, compiled once and sent to the driver: its values land where its SQL
expects them (the statement's own, the reads' renamed ones), and an expanding `IN` is refused,
since its SQL would change with the list's length."""

from typing import Any

import pytest
from sqlalchemy import ARRAY, Integer, bindparam, func, literal, select, text
from sqlalchemy.exc import DBAPIError

from app.core.database import Database
from app.core.errors import sqlstate
from app.core.plans import LookedUp, Plan, Read, batch, fetch, one, run, run_batched
from app.core.read_only import WriteOnRead
from app.core.unavailable import unavailable_cause
from app.units.models import Unit
from tests.queries import counting


async def test_a_batch_places_its_own_values_and_each_reads_apart(database: Database) -> None:
    by_id = (
        select(Unit.id, Unit.code, literal("a fixed text").label("fixed"))
        .where(Unit.id == func.any(bindparam("ids", type_=ARRAY(Integer))))
        .order_by(Unit.id)
    )
    async with database.sessionmaker() as session:
        first, second = await batch(session, [Read(by_id, {"ids": [1, 2]}), Read(by_id, {"ids": [3]})])
        again = await batch(session, [Read(by_id, {"ids": [2]}), Read(by_id, {"ids": []})])
    assert [(r.id, r.fixed) for r in first] == [(1, "a fixed text"), (2, "a fixed text")]
    assert [r.id for r in second] == [3]
    assert ([r.id for r in again[0]], again[1]) == ([2], [])


async def test_an_expanding_in_is_refused_with_what_to_write(database: Database) -> None:
    expanding = select(Unit.id).where(Unit.id.in_(bindparam("ids", expanding=True)))
    async with database.sessionmaker() as session:
        with pytest.raises(TypeError, match=r"expanding parameters \(ids__0\).*= ANY\(:name\)"):
            await batch(session, [Read(expanding, {"ids": [1]})])


async def test_a_looked_up_value_is_read_in_the_same_statement(database: Database) -> None:
    """A `LookedUp` parameter is its query, written into the batched statement as a subquery,
    never correlated with the read's own tables (here the same one: correlated, it would match
    every unit after the first): the same rows as with the value given, NULL (no rows) when the
    query finds none, and one statement on either the read's session (to asyncpg itself) or a
    transaction's (through SQLAlchemy)."""
    by_id = select(Unit.id, Unit.code).where(Unit.id == bindparam("unit_id")).order_by(Unit.id)
    next_after = select(func.min(Unit.id)).where(Unit.id > bindparam("after"))
    for sessions in (database.read_sessionmaker, database.sessionmaker):
        async with sessions() as session:
            first, second = (await session.execute(select(Unit.id).order_by(Unit.id).limit(2))).scalars()
            (given,) = await batch(session, [Read(by_id, {"unit_id": second})])
            with counting(database) as statements:
                found, none = await batch(
                    session,
                    [
                        Read(by_id, {"unit_id": LookedUp(next_after, (("after", first),))}),
                        Read(by_id, {"unit_id": LookedUp(next_after, (("after", 2_000_000_000),))}),
                    ],
                )
        assert [(r.id, r.code) for r in found] == [(r.id, r.code) for r in given] == [(second, given[0].code)]
        assert none == []
        assert len(statements) == 1


async def test_a_looked_up_value_is_refused_where_it_cannot_be_read(database: Database) -> None:
    """One at a time (`run`), a read has no statement to look the value up in; and a lookup's
    parameter may not be the read's own with another value."""
    by_id = select(Unit.id).where(Unit.id == bindparam("unit_id"), Unit.code != bindparam("wanted_code"))
    looked = LookedUp(select(Unit.id).where(Unit.code == bindparam("wanted_code")), (("wanted_code", "X"),))

    def plan() -> Plan[list[Any]]:
        rows = yield from one(Read(by_id, {"unit_id": looked, "wanted_code": "Y"}))
        return rows

    async with database.sessionmaker() as session:
        with pytest.raises(TypeError, match="batched statement only"):
            await run(session, plan())
        with pytest.raises(ValueError, match="wanted_code"):
            await run_batched(session, plan())


async def test_a_reads_driver_errors_reach_the_app_as_sqlalchemys(database: Database) -> None:
    """On a read's connection the statement goes to asyncpg itself; its errors still come as
    SQLAlchemy's: bad data keeps its SQLSTATE (422), and a connection that dropped is
    invalidated (503) and replaced, never handed to the next request."""
    async with database.read_sessionmaker() as session:
        with pytest.raises(DBAPIError) as bad_data:
            await fetch(session, select(literal(1) / bindparam("d", type_=Integer)), {"d": 0})
    assert (sqlstate(bad_data.value), bad_data.value.connection_invalidated) == ("22012", False)
    assert unavailable_cause(bad_data.value) is None

    pid = select(func.pg_backend_pid().label("pid"))
    async with database.read_sessionmaker() as session:
        (dropped,) = await fetch(session, pid, {})
        async with database.sessionmaker() as other, other.begin():
            await other.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": dropped.pid})
        with pytest.raises(DBAPIError) as lost:
            await fetch(session, pid, {})
    assert lost.value.connection_invalidated
    assert unavailable_cause(lost.value) is not None
    for _ in range(database.engine.pool.size() + 1):  # every pooled connection, the next one too
        async with database.read_sessionmaker() as session:
            (alive,) = await fetch(session, pid, {})
        assert alive.pid != dropped.pid


async def test_a_read_refuses_a_write_on_the_drivers_path_too(database: Database) -> None:
    async with database.read_sessionmaker() as session:
        with pytest.raises(WriteOnRead):
            await fetch(session, select(func.nextval("clusters_id_seq")), {})
