"""Reads as plans, and one round trip for many of them (the year sheet's loader).

A feature's read is a *plan*: a generator that yields the statements it needs next (a list of
`Read`), is sent their rows (a list of row lists, in the same order), and returns what it builds
from them. The plan decides what to read and computes the answer; it never touches a session, so
the same code serves a feature's own endpoint and the year sheet:

    def covenant_plan(cluster_id: int, year: int) -> Plan[CovenantOut | None]:
        (rows,) = yield [Read(_COVENANT, {"cluster_id": cluster_id, "year": year})]
        return _out(rows[0]) if rows else None

- `run(session, plan)` answers each read with its own statement, as a feature's endpoint always
  did: the rows are SQLAlchemy's.
- `run_batched(session, plan)` answers all the reads a plan asks for at once with one statement
  (`batch`): each read becomes a JSON array of its rows, built in PostgreSQL, and comes back as
  rows that read as its own rows would (`_decoder`: the same attributes, the same Python values).
  A read asked twice (the same statement and parameters) is answered once, in a step or later.
  A plan reads its rows by attribute (`row.unit_id`, `row.Covenant.year`), never by position.
- `gather(plans)` runs plans side by side: each step asks for everything every unfinished plan
  asks for, so a sheet of a dozen parts costs as many round trips as its deepest part has steps
  (two), whatever the cluster's size.
"""

from collections.abc import Callable, Generator, Hashable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import Decimal
from functools import lru_cache
from types import SimpleNamespace
from typing import Any, TypeAlias, TypeVar, cast

import asyncpg
from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    DateTime,
    Enum,
    Float,
    Integer,
    Numeric,
    Select,
    String,
    bindparam,
    func,
    literal_column,
    select,
)
from sqlalchemy.engine import Dialect, Row
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.elements import BindParameter, ClauseElement
from sqlalchemy.sql.visitors import replacement_traverse
from sqlalchemy.types import NullType, TypeDecorator, TypeEngine

from app.core.read_only import refuse_writes
from app.core.unavailable import SESSION_ENDED_SQLSTATES

T = TypeVar("T")
Statement: TypeAlias = Select[*tuple[Any, ...]]


@dataclass(frozen=True, slots=True)
class Read:
    """A statement and its bind parameters (by the names its `bindparam`s carry)."""

    statement: Statement
    params: Mapping[str, Any] = field(default_factory=dict)

    def key(self) -> Hashable:
        """Two reads with the same key read the same rows."""
        return self.statement, tuple(sorted((k, _hashable(v)) for k, v in self.params.items()))


@dataclass(frozen=True, slots=True, eq=False)
class LookedUp:
    """A parameter's value that a batched statement reads itself: the one column of `query` (NULL
    when it finds no row), with `params`. The year sheet names its cluster by number and its
    parts read by the cluster's id: the id is a subquery of the sheet's one statement, not a round
    trip before it. Batched reads only (`run` refuses it). Equal only to itself: a plan passes one
    to each of its reads, which then read alike."""

    query: Statement
    params: tuple[tuple[str, Any], ...]


Id: TypeAlias = int | LookedUp
"""A row's id as a plan passes it to its reads: known, or looked up by the statement itself."""

Rows: TypeAlias = list[Any]
Plan: TypeAlias = Generator[list[Read], list[Rows], T]
"""Yields the reads it needs next, is sent their rows, returns its answer."""


def _hashable(value: Any) -> Hashable:
    return tuple(value) if isinstance(value, (list, set, frozenset)) else value


def one(read: Read) -> Plan[Rows]:
    """The rows of a single read (`rows = yield from one(…)`)."""
    (rows,) = yield [read]
    return rows


def gather(plans: Mapping[str, Plan[Any]]) -> Plan[dict[str, Any]]:
    """The plans run side by side, step by step: their answers by name."""
    done: dict[str, Any] = {}
    asked: dict[str, list[Read]] = {}
    for name, plan in plans.items():
        _advance(name, plan, None, asked, done)
    while asked:
        answers = iter((yield [read for reads in asked.values() for read in reads]))
        previous, asked = asked, {}
        for name, reads in previous.items():
            _advance(name, plans[name], [next(answers) for _ in reads], asked, done)
    return {name: done[name] for name in plans}


def _advance(
    name: str, plan: Plan[Any], sent: list[Rows] | None, asked: dict[str, list[Read]], done: dict[str, Any]
) -> None:
    try:
        asked[name] = plan.send(sent)  # type: ignore[arg-type]  # `None` starts a generator
    except StopIteration as finished:
        done[name] = finished.value


async def run(session: AsyncSession, plan: Plan[T]) -> T:
    """The plan, each read its own statement."""
    sent: list[Rows] | None = None
    while True:
        try:
            reads = plan.send(sent)  # type: ignore[arg-type]
        except StopIteration as finished:
            return finished.value  # type: ignore[no-any-return]
        if any(isinstance(value, LookedUp) for read in reads for value in read.params.values()):
            raise TypeError("a looked-up value is read by a batched statement only (run_batched)")
        sent = [list(await session.execute(read.statement, dict(read.params))) for read in reads]


async def run_batched(session: AsyncSession, plan: Plan[T]) -> T:
    """The plan, each step one statement (none when every read of it was read before)."""
    known: dict[Hashable, Rows] = {}
    sent: list[Rows] | None = None
    while True:
        try:
            reads = plan.send(sent)  # type: ignore[arg-type]
        except StopIteration as finished:
            return finished.value  # type: ignore[no-any-return]
        keys = [read.key() for read in reads]
        new = {key: read for key, read in zip(keys, reads, strict=True) if key not in known}
        if new:
            known.update(zip(new, await batch(session, list(new.values())), strict=True))
        sent = [list(known[key]) for key in keys]


# --- One statement for many reads ----------------------------------------------------------------


async def batch(session: AsyncSession, reads: Sequence[Read]) -> list[Rows]:
    """The rows of every read, from one statement: `SELECT (<read 0 as a JSON array>) AS r0, …`,
    compiled once (`_compiled`) and sent to the driver as it is."""
    looking = [_looking_up(read) for read in reads]
    statements = tuple(read.statement for read in reads)
    lookups = tuple(looked for looked, _ in looking)
    params = {f"{name}__{i}": value for i, (_, own) in enumerate(looking) for name, value in own.items()}
    (row,) = await fetch(session, _batched(statements, lookups), params)
    return [[decode(r) for r in row[i]] for i, decode in enumerate(map(_decoder, statements))]


Lookups: TypeAlias = tuple[tuple[str, Statement], ...]
"""A read's `LookedUp` parameters: each name, and the query that looks its value up."""


def _looking_up(read: Read) -> tuple[Lookups, Mapping[str, Any]]:
    """The read's `LookedUp` parameters, and the values of the rest with the lookups' own."""
    looked = tuple(sorted((name, v) for name, v in read.params.items() if isinstance(v, LookedUp)))
    if not looked:
        return (), read.params
    params = {name: value for name, value in read.params.items() if not isinstance(value, LookedUp)}
    for _, value in looked:
        for name, given in value.params:
            if params.setdefault(name, given) != given:
                raise ValueError(f"the looked-up value's parameter {name} is the statement's own too")
    return tuple((name, value.query) for name, value in looked), params


class DriverRow(asyncpg.Record):
    """A row as asyncpg gives it, read as SQLAlchemy's are: by label (`row.id`), by position,
    and as a mapping (`row._mapping`)."""

    def __getattr__(self, name: str) -> Any:
        try:
            return self[name]
        except KeyError:
            raise AttributeError(name) from None

    @property
    def _mapping(self) -> Mapping[str, Any]:
        return dict(self.items())


async def fetch(
    executor: AsyncSession | AsyncConnection, statement: ClauseElement, params: Mapping[str, Any]
) -> Sequence[Row[Any] | DriverRow]:
    """The rows of `statement`, compiled once (`_compiled`) and sent to the driver as it is: for
    a statement of plain columns (no ORM entity) that many requests run, the year sheet's batch,
    a key's lookup, a cluster's. Each row reads by column label (`row.r0`) or position, with the
    values asyncpg gives (a JSON column already parsed).

    On a read's connection (`AUTOCOMMIT`, `Database.read_sessionmaker`) the statement goes to
    asyncpg itself (`_driver_fetch`): no transaction for SQLAlchemy to begin first, and its
    execution layer (about 65 µs a statement) is skipped. In a transaction it goes through
    SQLAlchemy, which begins it."""
    connection = await executor.connection() if isinstance(executor, AsyncSession) else executor
    compiled = _compiled(statement, connection.dialect)
    values = compiled.values(params)
    own = connection.sync_connection
    if own is not None and own.get_execution_options().get("isolation_level") == "AUTOCOMMIT":
        return await _driver_fetch(connection, compiled.sql, values)
    return (await connection.exec_driver_sql(compiled.sql, values)).all()


async def _driver_fetch(connection: AsyncConnection, sql: str, values: tuple[Any, ...]) -> list[DriverRow]:
    """`sql` run by asyncpg on the read's connection, checked to only read (`refuse_writes`).
    Its errors reach the app as SQLAlchemy's would: a `DBAPIError` raised from the driver's
    (its SQLSTATE read as for any other: 422 for bad data, 503 for a timeout). A connection that
    dropped, or whose protocol failed (an error that is not the server's answer to the statement:
    the server ended the session, the socket closed), is invalidated first, so the pool replaces
    it (503), as SQLAlchemy does."""
    refuse_writes(sql)
    sync = connection.sync_connection
    assert sync is not None  # the caller read its execution options
    driver = cast(asyncpg.Connection, sync.connection.driver_connection)
    try:
        rows: list[DriverRow] = await driver.fetch(sql, *values, record_class=DriverRow)
    except Exception as error:  # the driver's own, or the socket's
        dropped = (
            driver.is_closed()
            or not isinstance(error, asyncpg.PostgresError)  # the protocol's state is unknown
            or isinstance(error, asyncpg.PostgresConnectionError)
            or error.sqlstate in SESSION_ENDED_SQLSTATES
        )
        if dropped:
            await connection.invalidate(error)
        raise DBAPIError(sql, None, error, hide_parameters=True, connection_invalidated=dropped) from error
    return rows


@dataclass(frozen=True, slots=True)
class _Compiled:
    """A statement as the driver takes it: its SQL, and where each value goes."""

    sql: str
    order: tuple[str, ...]
    """The bind parameters' names in their positions (`$1`, `$2`, …)."""
    fixed: Mapping[str, Any]
    """The values the statement carries itself (the keys of a `json_build_object`, say)."""
    processors: tuple[Callable[[Any], Any] | None, ...]

    def values(self, params: Mapping[str, Any]) -> tuple[Any, ...]:
        return tuple(
            value if process is None or value is None else process(value)
            for value, process in zip(
                (params[name] if name in params else self.fixed[name] for name in self.order),
                self.processors,
                strict=True,
            )
        )


@lru_cache(maxsize=512)
def _compiled(statement: ClauseElement, dialect: Dialect) -> _Compiled:
    """`statement` (a module constant, or `_batched`'s cached one) compiled once for `dialect`.
    Executed through SQLAlchemy, a sheet's batched statement of a hundred bind parameters had its
    cache key hashed and its parameters built at every execution: 370 µs of the sheet's 3.6 ms.
    An expanding parameter (`IN :list`) would change the SQL with its length: it is refused here
    (write `= ANY(:list)` with an array)."""
    compiled = statement.compile(dialect=dialect)
    assert isinstance(compiled, SQLCompiler)  # a statement's, not a DDL's
    if compiled.post_compile_params:
        names = ", ".join(sorted(b.key for b in compiled.post_compile_params))
        raise TypeError(f"expanding parameters ({names}) are not batched: use = ANY(:name) with an array")
    order = tuple(compiled.positiontup or ())
    binds = compiled.binds
    return _Compiled(
        sql=compiled.string,
        order=order,
        fixed={
            name: bind.value for name, bind in binds.items() if not bind.required and bind.callable is None
        },
        processors=tuple(binds[name].type.dialect_impl(dialect).bind_processor(dialect) for name in order),
    )


@lru_cache(maxsize=256)
def _batched(statements: tuple[Statement, ...], lookups: tuple[Lookups, ...]) -> Statement:
    """Each statement as a column holding its rows as a JSON array of arrays, in its order (an
    aggregate over a sorted subquery keeps its order). Its bind parameters are renamed `<name>__<i>`
    so that two reads may give one name different values, and those its `lookups` name become
    their queries, as scalar subqueries. Built once per list of statements: a sheet's are module
    constants, so its batched statement is too (and compiled once)."""
    columns = []
    for i, (statement, looked) in enumerate(zip(statements, lookups, strict=True)):
        positional = _renamed(statement, i, dict(looked)).with_only_columns(
            *(c.label(f"c{j}") for j, c in enumerate(statement.selected_columns)),
            maintain_column_froms=True,
        )
        rows = positional.subquery(f"r{i}")
        aggregated = func.coalesce(
            func.json_agg(func.json_build_array(*rows.c)), literal_column("'[]'::json"), type_=JSON
        )
        columns.append(select(aggregated).select_from(rows).scalar_subquery().label(f"r{i}"))
    return select(*columns)


def _renamed(statement: Statement, i: int, looked: Mapping[str, Statement] | None = None) -> Statement:
    def rename(element: Any) -> Any:
        if isinstance(element, BindParameter) and not element.unique:
            if looked and element.key in looked:  # its value looked up: the query, renamed alike
                return _renamed(looked[element.key], i).scalar_subquery().correlate(None)
            return bindparam(
                f"{element.key}__{i}",
                element.value,
                type_=element.type,
                expanding=element.expanding,
                required=element.required,
            )
        return None

    renamed: Statement = replacement_traverse(statement, {}, rename)  # type: ignore[call-overload]
    return renamed


# --- Rows from JSON --------------------------------------------------------------------------------


@lru_cache(maxsize=256)
def _decoder(statement: Statement) -> Callable[[list[Any]], SimpleNamespace]:
    """A row of `statement` from its JSON array: an attribute per column label, and per entity
    selected whole (`select(Covenant, …)`) an attribute of that name holding its columns, each
    value the Python value PostgreSQL's own row would have given (a day, an exact decimal, an
    aware UTC instant)."""
    converters = [_converter(c.type) for c in statement.selected_columns]
    groups: list[tuple[str, list[str] | None]] = []  # a label, or an entity and its column names
    for described in statement.column_descriptions:
        entity = described.get("entity")
        if entity is not None and described["expr"] is entity:
            groups.append((described["name"], list(select(entity).selected_columns.keys())))
        else:
            groups.append((described["name"], None))

    def decode(values: list[Any]) -> SimpleNamespace:
        typed = [v if v is None or f is None else f(v) for f, v in zip(converters, values, strict=True)]
        row: dict[str, Any] = {}
        i = 0
        for name, columns in groups:
            if columns is None:
                row[name] = typed[i]
                i += 1
            else:
                row[name] = SimpleNamespace(**dict(zip(columns, typed[i : i + len(columns)], strict=True)))
                i += len(columns)
        return SimpleNamespace(**row)

    return decode


def _converter(type_: TypeEngine[Any]) -> Callable[[Any], Any] | None:
    """What makes a JSON value the value asyncpg gives for a column of `type_` (None: as is). A
    column with no type is a JSON subquery's (`linked_units`); a type whose value JSON does not
    carry (bytes, an interval, an array, a type with a Python conversion of its own) is refused
    when the statement is first batched, never answered wrong."""
    if isinstance(type_, TypeDecorator):
        if type(type_).process_result_value is not TypeDecorator.process_result_value:
            raise TypeError(f"{type_!r} converts its values: not batched")
        type_ = type_.impl_instance
    if not isinstance(type_, _AS_JSON) or isinstance(type_, Enum):
        raise TypeError(f"{type_!r} does not come back from JSON as it is: not batched")
    if isinstance(type_, DateTime):
        return _instant if type_.timezone else datetime.fromisoformat
    if isinstance(type_, Date):
        return date.fromisoformat
    if isinstance(type_, Float):
        return float
    if isinstance(type_, Numeric):
        return Decimal  # `90` reads as an int; asyncpg gives Decimal("90")
    return None


_AS_JSON = (Integer, String, Boolean, JSON, NullType, Date, DateTime, Numeric)
"""What the sheet's statements select: JSON gives each back, or its text (`_converter`)."""


def _instant(text: str) -> datetime:
    return datetime.fromisoformat(text).astimezone(UTC)
