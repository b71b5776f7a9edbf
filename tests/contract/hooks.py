"""Schemathesis hooks (loaded through SCHEMATHESIS_HOOKS by tests/test_contract.py).

JSON Schema counts `63.0` as an `integer`; our contract does not (a JSON float is refused with
422, see tests/test_strict_input.py). Generated whole floats are sent as integers, which is
what the schema means for every client.

Generated `Idempotency-Key` values repeat across phases ("0", "null"), and a key reused with
another body is rightly 422. Valid generated keys are made unique just before each call, so
each request is tested on its own; the reuse rules are tested in tests/test_http.py. Invalid
generated keys are left alone for the negative checks.
"""

import re
import uuid
from typing import Any

import schemathesis

_VALID_KEY = re.compile(r"^[\x21-\x7e]{1,255}$")


def _whole_floats_as_integers(value: Any) -> Any:
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, dict):
        return {k: _whole_floats_as_integers(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_whole_floats_as_integers(v) for v in value]
    return value


@schemathesis.hook
def before_call(context: Any, case: Any, kwargs: Any) -> None:
    if isinstance(case.body, dict | list):
        case.body = _whole_floats_as_integers(case.body)
    headers = case.headers or {}
    for name, value in list(headers.items()):
        if name.lower() == "idempotency-key" and isinstance(value, str) and _VALID_KEY.match(value):
            headers[name] = str(uuid.uuid4())
