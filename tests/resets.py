"""Put a test database back to its baseline (the reference data) after a test wrote to it, paying
only for what the test wrote.

Once per database, `Baseline.take` copies every table's rows into the schema `test_baseline` and
notes where each sequence stands, then gives every table a statement trigger that marks it dirty.
The mark is a `nextval` on a sequence of that table's own: it takes no lock and cannot roll back,
so a write seen by any connection (the request's, the rate limiter's, a ballot's own
transactions, a live server's) marks its table, even a write rolled back later. `Baseline.restore`
then reads which tables are dirty in one query; when none is (a read, a refused request, a pure
test), that query is the whole reset. Otherwise, in one transaction, it empties those tables and
every table whose rows may point into them, copies their baseline rows back, puts every sequence
back where it stood, and drops every instance's read cache (a `*` notification): the same ids and
the same data every time, as a TRUNCATE and a reload of the reference data gave, for a few
milliseconds instead of a third of a second.

The tests' own objects live outside `public` (the schema Alembic and the app own), so the
migration checks never see them.
"""

from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import Table, text
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.cache import ALL, invalidate
from app.core.database import Database
from app.models import metadata

SCHEMA = "test_baseline"
TRIGGER = "zz_test_baseline_dirty"


def _quoted(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _mark(table: str) -> str:
    """The sequence whose use says `table` was written since the last restore."""
    return f"{SCHEMA}.{_quoted('dirty_' + table)}"


@dataclass(frozen=True)
class _Table:
    name: str
    columns: tuple[str, ...]
    """Its stored columns (generated ones left out), for copying rows back."""
    has_rows: bool
    """Whether the baseline has rows for it."""


class Baseline:
    def __init__(self, tables: list[_Table], sequences: dict[str, tuple[int, bool]]) -> None:
        self._tables = {t.name: t for t in tables}
        self._order = [t.name for t in tables]
        """Parents before children (`metadata.sorted_tables`)."""
        self._sequences = sequences
        self._referrers = _referrers(metadata.sorted_tables)

    # --- taking it ---------------------------------------------------------------------------

    @classmethod
    async def take(cls, session: AsyncSession) -> "Baseline":
        """Snapshot the database as it stands (call it inside a transaction, once)."""
        await session.execute(text(f"DROP SCHEMA IF EXISTS {SCHEMA} CASCADE"))
        await session.execute(text(f"CREATE SCHEMA {SCHEMA}"))
        await session.execute(
            text(
                f"CREATE FUNCTION {SCHEMA}.mark_dirty() RETURNS trigger LANGUAGE plpgsql AS $$ "
                f"BEGIN PERFORM nextval('{SCHEMA}.' || quote_ident('dirty_' || TG_TABLE_NAME)); "
                "RETURN NULL; END $$"
            )
        )
        tables = []
        for table in metadata.sorted_tables:
            name = table.name
            columns = tuple(
                (
                    await session.execute(
                        text(
                            "SELECT column_name FROM information_schema.columns WHERE table_schema = "
                            "'public' AND table_name = :name AND is_generated = 'NEVER' "
                            "ORDER BY ordinal_position"
                        ),
                        {"name": name},
                    )
                ).scalars()
            )
            await session.execute(
                text(f"CREATE TABLE {SCHEMA}.{_quoted(name)} AS TABLE public.{_quoted(name)}")
            )
            has_rows = bool(
                (await session.execute(text(f"SELECT EXISTS (TABLE {SCHEMA}.{_quoted(name)})"))).scalar()
            )
            await session.execute(text(f"CREATE SEQUENCE {_mark(name)}"))
            await session.execute(
                text(
                    f"CREATE TRIGGER {TRIGGER} AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE "
                    f"ON public.{_quoted(name)} FOR EACH STATEMENT EXECUTE FUNCTION {SCHEMA}.mark_dirty()"
                )
            )
            tables.append(_Table(name, columns, has_rows))
        sequences = await _sequences(session)
        return cls(tables, sequences)

    # --- restoring it ------------------------------------------------------------------------

    async def dirty(self, session: AsyncSession) -> set[str]:
        """The tables written since the last restore (one query)."""
        rows = await session.execute(
            text(
                "SELECT substr(sequencename, 7) FROM pg_sequences "
                f"WHERE schemaname = '{SCHEMA}' AND last_value IS NOT NULL"
            )
        )
        return {name for name in rows.scalars() if name in self._tables}

    async def restore(self, session: AsyncSession) -> set[str]:
        """Back to the baseline; returns the tables that were dirty (empty: nothing was done).
        Call it inside a transaction."""
        dirty = await self.dirty(session)
        if not dirty:
            return dirty
        emptied = self._closure(dirty)
        for name in reversed(self._order):
            if name in emptied:
                await session.execute(text(f"DELETE FROM public.{_quoted(name)}"))
        for name in self._order:
            table = self._tables[name]
            if name in emptied and table.has_rows:
                columns = ", ".join(_quoted(c) for c in table.columns)
                await session.execute(
                    text(
                        f"INSERT INTO public.{_quoted(name)} ({columns}) OVERRIDING SYSTEM VALUE "
                        f"SELECT {columns} FROM {SCHEMA}.{_quoted(name)}"
                    )
                )
        resets = _setvals(self._sequences)
        resets += [f"setval('{_mark(name)}', 1, false)" for name in self._order]
        await session.execute(text("SELECT " + ", ".join(resets)))
        await invalidate(session, ALL)
        return dirty

    def _closure(self, dirty: Iterable[str]) -> set[str]:
        """`dirty`, and every table whose rows may reference theirs (emptied with them, as
        TRUNCATE … CASCADE would)."""
        emptied: set[str] = set()
        pending = list(dirty)
        while pending:
            name = pending.pop()
            if name in emptied:
                continue
            emptied.add(name)
            pending.extend(self._referrers.get(name, ()))
        return emptied


async def _sequences(session: AsyncSession) -> dict[str, tuple[int, bool]]:
    """Where each sequence of `public` stands: its value and whether it was used."""
    rows = await session.execute(
        text(
            "SELECT quote_ident(schemaname) || '.' || quote_ident(sequencename) AS name, "
            "coalesce(last_value, start_value) AS value, last_value IS NOT NULL AS called "
            "FROM pg_sequences WHERE schemaname = 'public'"
        )
    )
    return {row.name: (int(row.value), bool(row.called)) for row in rows}


def _setvals(sequences: dict[str, tuple[int, bool]]) -> list[str]:
    """The `setval` calls that put `sequences` back where they stood."""
    return [
        f"setval('{name}', {value}, {'true' if called else 'false'})"
        for name, (value, called) in sequences.items()
    ]


def _referrers(tables: Iterable[Table]) -> dict[str, set[str]]:
    """For each table, the tables with a foreign key to it."""
    found: dict[str, set[str]] = {}
    for table in tables:
        for key in table.foreign_keys:
            found.setdefault(key.column.table.name, set()).add(table.name)
    return found


async def take_baseline(database: Database) -> Baseline:
    async with database.sessionmaker() as session, session.begin():
        return await Baseline.take(session)


async def restore_baseline(database: Database, baseline: Baseline) -> set[str]:
    async with database.sessionmaker() as session, session.begin():
        return await baseline.restore(session)


SEEDED = "test_seeded"


class Snapshot:
    """The rows a fixture wrote on top of the baseline (the seed history, say), copied once into
    the schema `test_seeded` and put back on later uses: a few `INSERT … SELECT` instead of the
    whole import through the services. Taken right after the fixture first ran on a restored
    database, so the tables it wrote are exactly the dirty ones; put back after a restore, its
    inserts mark those tables dirty again, so the next restore clears them as for any test."""

    def __init__(self, baseline: Baseline, tables: list[str], sequences: dict[str, tuple[int, bool]]) -> None:
        self._baseline = baseline
        self._tables = tables
        self._sequences = sequences

    @staticmethod
    async def marks(session: AsyncSession) -> dict[str, int]:
        """Each table's dirty mark as it stands (a write moves it)."""
        rows = await session.execute(
            text(
                "SELECT substr(sequencename, 7) AS name, coalesce(last_value, 0) AS value "
                f"FROM pg_sequences WHERE schemaname = '{SCHEMA}'"
            )
        )
        return {row.name: int(row.value) for row in rows}

    @classmethod
    async def take(
        cls, session: AsyncSession, baseline: Baseline, before: dict[str, int]
    ) -> "Snapshot | None":
        """The tables written since the marks `before` (the fixture's own writes); None when one
        of them had been written before too (another fixture's rows would be copied with them)."""
        after = await cls.marks(session)
        written = {name for name, value in after.items() if value != before.get(name, 0)}
        if any(before.get(name, 0) for name in written):
            return None
        tables = [name for name in baseline._order if name in written]
        await session.execute(text(f"DROP SCHEMA IF EXISTS {SEEDED} CASCADE"))
        await session.execute(text(f"CREATE SCHEMA {SEEDED}"))
        for name in tables:
            copy = f"CREATE TABLE {SEEDED}.{_quoted(name)} AS TABLE public.{_quoted(name)}"
            await session.execute(text(copy))
        sequences = await _sequences(session)
        owned = {f"public.{name}_id_seq" for name in tables}  # only the ids of the tables it wrote
        return cls(baseline, tables, {name: value for name, value in sequences.items() if name in owned})

    async def put_back(self, session: AsyncSession) -> None:
        """On a database just restored to the baseline: the snapshot's rows and sequences."""
        for name in reversed(self._tables):
            await session.execute(text(f"DELETE FROM public.{_quoted(name)}"))
        for name in self._tables:
            columns = ", ".join(_quoted(c) for c in self._baseline._tables[name].columns)
            await session.execute(
                text(
                    f"INSERT INTO public.{_quoted(name)} ({columns}) OVERRIDING SYSTEM VALUE "
                    f"SELECT {columns} FROM {SEEDED}.{_quoted(name)}"
                )
            )
        resets = _setvals(self._sequences)
        await session.execute(text("SELECT " + ", ".join(resets)))
        await invalidate(session, ALL)
