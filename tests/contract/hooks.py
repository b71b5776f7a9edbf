"""Schemathesis hooks (loaded through SCHEMATHESIS_HOOKS by tests/test_contract.py).

Generated `Idempotency-Key` values repeat ("0", "a"), and a key reused with another body is
rightly 422. Valid generated keys are made unique so each request is tested on its own; the
reuse rules are tested in tests/test_http.py. Invalid generated keys are left alone.
"""

import re
import uuid
from typing import Any

import schemathesis

_VALID_KEY = re.compile(r"^[\x21-\x7e]{1,255}$")


@schemathesis.hook
def map_headers(context: Any, headers: dict[str, Any] | None) -> dict[str, Any] | None:
    if headers and isinstance(headers.get("Idempotency-Key"), str) and _VALID_KEY.match(headers["Idempotency-Key"]):
        headers["Idempotency-Key"] = str(uuid.uuid4())
    return headers
