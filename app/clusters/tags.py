"""The cache tag of a cluster (`app.core.cache`)."""


def cluster_tag(number: int) -> str:
    """A cluster's record and everything of its years (members, leadership, covenant, …)."""
    return f"cluster:{number}"
