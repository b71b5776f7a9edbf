"""The aliases' table, `UnitAlias`, is defined in `app.units.models`: the units' name search
reads it, and the units package must not import this one (which imports it). Imported here
for `app.models` and for this feature's modules."""

from app.units.models import UnitAlias

__all__ = ["UnitAlias"]
