"""Input types whose OpenAPI schema says exactly what the API accepts."""

import re
from datetime import date
from typing import Annotated, Any

from pydantic import AfterValidator, BeforeValidator, GetJsonSchemaHandler, Strict, StringConstraints

from app.core.i18n import _
from app.core.text import search_key

_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def _iso_date_only(value: Any) -> Any:
    """Pydantic would read `0` as 1970-01-01; the contract is `YYYY-MM-DD`."""
    if isinstance(value, date) or (isinstance(value, str) and _ISO_DATE.fullmatch(value)):
        return value
    raise ValueError(_("Must be a date as YYYY-MM-DD."))


IsoDate = Annotated[date, BeforeValidator(_iso_date_only)]


def not_null(schema: dict[str, Any]) -> None:
    """`json_schema_extra` for optional PATCH fields that may be left out but not set to null."""
    variants = [s for s in schema.pop("anyOf", []) if s.get("type") != "null"]
    if len(variants) == 1:
        schema.update(variants[0])
    elif variants:
        schema["anyOf"] = variants
    schema.pop("default", None)


_STORABLE = re.compile("^[^\x00\ud800-\udfff]*$")


def _storable(value: str) -> str:
    if not _STORABLE.match(value):
        raise ValueError(_("Text may not contain NUL characters or unpaired surrogates."))
    return value


class _StorablePattern:
    """Says the storable-text rule in the JSON schema, next to the field's own limits."""

    def __get_pydantic_json_schema__(self, core_schema: Any, handler: GetJsonSchemaHandler) -> Any:
        schema = handler(core_schema)
        schema["pattern"] = r"^[^\x00]*$"
        return schema


Text = Annotated[str, AfterValidator(_storable), _StorablePattern()]
"""Any Unicode text PostgreSQL can store (no NUL, no unpaired surrogates)."""


Integer = Annotated[int, Strict()]
"""An integer in a JSON body: `true`, `"871"` and `872.0` are not integers (Pydantic's lax mode
would take them)."""

_DECIMAL = re.compile(r"^-?[0-9]{1,10}$")


def _decimal_only(value: Any) -> Any:
    """Path and query values arrive as text; only plain decimal digits are an integer
    (Pydantic would read `1.0`, `1_0` or ` 1` as 1)."""
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if isinstance(value, str) and _DECIMAL.fullmatch(value):
        return int(value)
    raise ValueError(_("Must be a plain decimal integer."))


PlainDecimal = BeforeValidator(_decimal_only)
"""For an integer in a path or a query string; put it after `Path(…)` / `Query(…)`:
`Annotated[int, Path(ge=1), PlainDecimal]` (so the bounds still reach the OpenAPI schema)."""


_LATIN_LETTER_OR_DIGIT = "0-9A-Za-zÀ-ÖØ-öø-ɏḀ-ỿ"
SEARCH_KEY_LENGTH = 120


def _key_fits(value: str) -> str:
    if len(search_key(value)) > SEARCH_KEY_LENGTH:
        raise ValueError(
            _("The name's search key is longer than {length} characters.", length=SEARCH_KEY_LENGTH)
        )
    return value


SearchableName = Annotated[
    str,
    StringConstraints(pattern=rf"^[^\x00]*[{_LATIN_LETTER_OR_DIGIT}][^\x00]*$"),
    AfterValidator(_storable),
    AfterValidator(_key_fits),
]
"""A name that can be searched for: storable text with at least one (Latin, Vietnamese) letter or
digit, so that its search key (`app.core.text.search_key`) is never empty."""
