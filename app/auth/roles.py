from enum import StrEnum

# What a credential may do: `admin` (the Ministry), `cluster` (one cluster's secretariat), `unit`
# (one provincial system), `reader`; also the name of its rate-limit budgets. (A comment, not a
# docstring: the enum's docstring would become its description in the OpenAPI document.)


class Role(StrEnum):
    admin = "admin"
    cluster = "cluster"
    unit = "unit"
    reader = "reader"
