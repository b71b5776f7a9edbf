"""Vote counting is pure: its tests need no database."""

import pytest


@pytest.fixture(autouse=True)
def clean() -> None:
    """Overrides the suite's database reset: nothing here touches PostgreSQL."""
