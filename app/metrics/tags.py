"""The cache tag of the metric catalogue (`app.core.cache`)."""

METRICS = "metrics"
"""The catalogue: the reads that name its metrics (the evaluation, the year sheet) depend on it,
and a change to it invalidates them."""
