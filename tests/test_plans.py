"""The batched statement, compiled once and sent to the driver: its values land where its SQL
expects them (the statement's own, the reads' renamed ones), and an expanding `IN` is refused,
since its SQL would change with the list's length."""

import pytest
from sqlalchemy import ARRAY, Integer, bindparam, func, literal, select

from app.core.database import Database
from app.core.plans import Read, batch
from app.units.models import Unit


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
