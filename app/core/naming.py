"""One naming convention for every constraint and index, set on the metadata all tables share
(`SQLModel.metadata`) when `app.core` is first imported, before any table is defined.

A constraint the models leave unnamed gets the name PostgreSQL itself would give it:
`<table>_pkey`, `<table>_<columns>_key` (unique), `<table>_<columns>_fkey`, and an index
`<table>_<columns>_idx`. A name the models give is kept after its table's: the check
`role_known` on `api_keys` is `api_keys_role_known`, and a name that already starts with its
table's (`memberships_one_cluster_per_day`) is not prefixed twice.

The convention names what the models describe (what autogenerate writes and the contract test
compares); a revision spells every name in full, and Alembic's operations do not apply it
(`migrations/env.py`).
"""

from typing import Any

from sqlalchemy import Table
from sqlalchemy.dialects.postgresql import ExcludeConstraint
from sqlmodel import SQLModel


def own_name(constraint: Any, table: Table) -> str:
    """The name the model gave `constraint`, without its table's prefix if it has one (the
    convention puts it back once)."""
    name = constraint.name
    if not isinstance(name, str):
        raise ValueError(f"name the check or exclusion constraint on {table.name}: it has no name of its own")
    return name.removeprefix(f"{table.name}_")


NAMING_CONVENTION: dict[Any, Any] = {
    "constraint_name": own_name,
    "pk": "%(table_name)s_pkey",
    "uq": "%(table_name)s_%(column_0_N_name)s_key",
    "fk": "%(table_name)s_%(column_0_N_name)s_fkey",
    "ix": "%(table_name)s_%(column_0_N_name)s_idx",
    "ck": "%(table_name)s_%(constraint_name)s",
    ExcludeConstraint: "%(table_name)s_%(constraint_name)s",
}

SQLModel.metadata.naming_convention = NAMING_CONVENTION
