"""The cache tag of the rule sets and the reporting period rules (`app.core.cache`)."""

RULES = "rules"
"""The rule sets and the reporting period rules: the year sheet and the evaluation depend on them,
and loading one invalidates them."""
