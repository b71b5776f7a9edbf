"""What a read's session refuses (`app.core.read_only`): a statement that writes or locks, never
a query whose data or names hold those words."""

import pytest

from app.core.read_only import WriteOnRead, refuse_writes

WRITES = [
    "INSERT INTO clusters (number) VALUES (1)",
    "update units set name = 'x'",
    "DELETE FROM clusters",
    "MERGE INTO units USING x ON true WHEN MATCHED THEN DO NOTHING",
    "WITH gone AS (DELETE FROM clusters RETURNING id) SELECT id FROM gone",
    "SELECT id INTO copied FROM clusters",
    "SELECT id FROM clusters FOR UPDATE",
    "SELECT id FROM clusters FOR NO KEY UPDATE",
    "SELECT id FROM clusters FOR SHARE",
    "SELECT id FROM clusters FOR KEY SHARE",
    "SELECT pg_notify('thidua_cache', 'x')",
    "NOTIFY thidua_cache",
    "SELECT nextval('clusters_id_seq')",
    "SELECT set_config('statement_timeout', '0', false)",
    "SELECT pg_advisory_lock(1)",
    "SELECT pg_try_advisory_xact_lock(1)",
    "LOCK TABLE clusters",
    "TRUNCATE clusters",
    "SET statement_timeout = 0",
]
READS = [
    "SELECT id FROM clusters WHERE name = 'update; delete'",
    'SELECT id AS "delete", name AS "for update" FROM clusters',
    "SELECT id FROM units WHERE name LIKE 'insert%' -- update\n",
    "/* for update */ SELECT 1",
    "(SELECT id FROM units ORDER BY id LIMIT 1) UNION (SELECT id FROM units ORDER BY id DESC LIMIT 1)",
    "  with recent as (select id from units) select id from recent",
    "SELECT updated, inserted_at FROM x",
    "VALUES (1)",
]


@pytest.mark.parametrize("statement", WRITES)
def test_a_statement_that_writes_or_locks_is_refused(statement: str) -> None:
    with pytest.raises(WriteOnRead, match="not a query"):
        refuse_writes(statement)


@pytest.mark.parametrize("statement", READS)
def test_a_query_is_run_whatever_its_data_and_names_say(statement: str) -> None:
    assert refuse_writes(statement) is None  # WriteOnRead had it been refused
