"""The batched statement, compiled once and sent to the driver: its values land where its SQL
expects them (the statement's own, the reads' renamed ones), and an expanding `IN` is refused,
since its SQL would change with the list's length."""

from typing import Any

import pytest
from sqlalchemy import ARRAY, Integer, bindparam, func, literal, select

from app.core.database import Database
from app.core.plans import LookedUp, Plan, Read, batch, one, run, run_batched
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
