"""The cache tag of the rule sets (`app.core.cache`)."""

RULES = "rules"
"""The rule sets: the year sheet depends on them, and loading one invalidates it."""
