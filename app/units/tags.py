"""The cache tags of units (`app.core.cache`): what a read that shows units depends on, and what
a change to a unit (a rename, a succession, its aliases, its figures) invalidates."""

from typing import Any

UNITS = "units"
"""The unit list and name search (every unit, every alias)."""


def unit_tag(unit_id: int) -> str:
    """A unit's record, and everything that shows it or counts its figures."""
    return f"unit:{unit_id}"


def units_shown(data: Any) -> set[int]:
    """Every unit a rendered read names (a `UnitRef`-shaped object, or a `unit_id`): its tags
    make a rename, a succession or a figure push of any of them drop the read."""
    found: set[int] = set()
    stack = [data]
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            if {"id", "code", "name", "valid_to"} <= item.keys() and isinstance(item["id"], int):
                found.add(item["id"])
            unit_id = item.get("unit_id")
            if isinstance(unit_id, int):
                found.add(unit_id)
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
    return found
