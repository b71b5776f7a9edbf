"""Schemathesis hooks (loaded through SCHEMATHESIS_HOOKS by tests/test_contract.py).

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


@schemathesis.hook
def before_call(context: Any, case: Any, kwargs: Any) -> None:
    headers = case.headers or {}
    for name, value in list(headers.items()):
        if name.lower() == "idempotency-key" and isinstance(value, str) and _VALID_KEY.match(value):
            headers[name] = str(uuid.uuid4())
