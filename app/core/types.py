"""Input types whose OpenAPI schema says exactly what the API accepts."""

import re
from datetime import date
from typing import Annotated, Any

from pydantic import BeforeValidator

_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def _iso_date_only(value: Any) -> Any:
    """Pydantic would read `0` as 1970-01-01; the contract is `YYYY-MM-DD`."""
    if isinstance(value, date) or (isinstance(value, str) and _ISO_DATE.match(value)):
        return value
    raise ValueError("a date as YYYY-MM-DD")


IsoDate = Annotated[date, BeforeValidator(_iso_date_only)]


def not_null(schema: dict[str, Any]) -> None:
    """`json_schema_extra` for optional PATCH fields that may be left out but not set to null."""
    variants = [s for s in schema.pop("anyOf", []) if s.get("type") != "null"]
    if len(variants) == 1:
        schema.update(variants[0])
    elif variants:
        schema["anyOf"] = variants
    schema.pop("default", None)
