"""The cache tags of awards (`app.core.cache`)."""

AWARDS = "awards"
"""Every list of awards: any nomination, transition or attested record drops them (a list's
filters can name any award)."""

AWARD_TYPES = "award-types"
"""The award catalogue (`data/reference/award_types.yaml`): dropped when a load changes it."""
