"""Field error messages in the request's language, by Pydantic error `type` and its `ctx`.

The `type` and `loc` of an error never change; only its `message` is ours. Types not listed
here keep Pydantic's own (English) message. A `value_error` carries the message our validators
raised, which they translate themselves.
"""

import re
from collections.abc import Mapping
from typing import Any

from app.core.i18n import N_, _, current_locale

_MESSAGES: dict[str, str] = {
    "missing": N_("This field is required."),
    "extra_forbidden": N_("This field is not allowed here."),
    "int_type": N_("Must be an integer."),
    "int_parsing": N_("Must be an integer."),
    "int_from_float": N_("Must be an integer."),
    "float_type": N_("Must be a number."),
    "float_parsing": N_("Must be a number."),
    "finite_number": N_("Must be a finite number."),
    "bool_type": N_("Must be true or false."),
    "bool_parsing": N_("Must be true or false."),
    "string_type": N_("Must be text (a JSON string)."),
    "string_unicode": N_("Must be valid Unicode text."),
    "string_too_long": N_("Must have at most {max_length} characters."),
    "too_long": N_("Must have at most {max_length} items."),
    "greater_than_equal": N_("Must be at least {ge}."),
    "less_than_equal": N_("Must be at most {le}."),
    "greater_than": N_("Must be greater than {gt}."),
    "less_than": N_("Must be less than {lt}."),
    "string_pattern_mismatch": N_("Does not have the expected form (pattern {pattern})."),
    "date_type": N_("Must be a date as YYYY-MM-DD."),
    "date_parsing": N_("Must be a date as YYYY-MM-DD."),
    "date_from_datetime_parsing": N_("Must be a date as YYYY-MM-DD."),
    "date_from_datetime_inexact": N_("Must be a date as YYYY-MM-DD."),
    "enum": N_("Must be one of: {expected}."),
    "literal_error": N_("Must be one of: {expected}."),
    "list_type": N_("Must be a list."),
    "set_type": N_("Must be a list."),
    "tuple_type": N_("Must be a list."),
    "dict_type": N_("Must be an object."),
    "model_type": N_("Must be an object."),
    "model_attributes_type": N_("Must be an object."),
    "json_invalid": N_("The body is not valid JSON."),
    "json_type": N_("Must be JSON."),
    "union_tag_invalid": N_("The value {tag!r} of {discriminator} is not one of: {expected_tags}."),
    "union_tag_not_found": N_("{discriminator} is required, to tell which kind of object this is."),
}
_AT_LEAST_ONE = {
    "string_too_short": N_("Must not be empty."),
    "too_short": N_("Must not be empty."),
}
_AT_LEAST = {
    "string_too_short": N_("Must have at least {min_length} characters."),
    "too_short": N_("Must have at least {min_length} items."),
}
_QUOTED = re.compile(r"'((?:[^'\\]|\\.)*)'")


_PATTERN_UNSAID = N_("Does not have the expected form.")


def field_message(error: Mapping[str, Any]) -> str:
    """The message of one Pydantic error (`{"type", "loc", "msg", "ctx"}`), translated."""
    kind = str(error.get("type", ""))
    context = dict(error.get("ctx") or {})
    fallback = str(error.get("msg", ""))
    if kind in ("too_short", "too_long") and isinstance(error.get("input"), str):
        kind = f"string_{kind}"  # a length checked after a validator: of text, so in characters
    if kind in ("value_error", "assertion_error") and "error" in context:
        return str(context["error"])
    if kind in _AT_LEAST:
        template = _AT_LEAST_ONE[kind] if context.get("min_length") == 1 else _AT_LEAST[kind]
    elif kind == "string_pattern_mismatch" and current_locale() != "en":
        template = _PATTERN_UNSAID  # a regular expression is no answer for people
    elif kind in _MESSAGES:
        template = _MESSAGES[kind]
    else:
        return fallback
    for name in ("expected", "expected_tags"):
        if isinstance(context.get(name), str):
            context[name] = _choices(context[name])
    try:
        return _(template, **context)
    except (KeyError, IndexError, ValueError):
        return fallback


def _choices(expected: str) -> str:
    """Pydantic's `'a', 'b' or 'c'` (or `<Role.admin: 'admin'>, …`) as `'a', 'b', 'c'`: its
    `or` is English, and an enum's repr is not what the client sends."""
    values = _QUOTED.findall(expected)
    return ", ".join(f"'{v}'" for v in values) if values else expected
