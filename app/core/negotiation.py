"""One reading of the q-values of `Accept`, `Accept-Language` and `Accept-Encoding` (RFC 9110
§12.4.2), for the three negotiations: the media type of an export (`exports`), the language
(`i18n`) and the coding (`compression`).

`weight = OWS ";" OWS "q=" qvalue`, `qvalue = ("0" ["." 0*3DIGIT]) / ("1" ["." 0*3("0")])`: 0 to 1
with at most three decimals; `q` is case-insensitive, and blanks around it are tolerated. An item
whose `q` is anything else (`q=2`, `q=0.5555`, `q=high`, `q=`, `q=-1`, `q=nan`) is **ignored**, as
if the client had not sent it: neither a preference nor a refusal. An item without `q` has q = 1.
"""

import re
from dataclasses import dataclass
from functools import lru_cache

_QVALUE = re.compile(r"0(?:\.\d{0,3})?|1(?:\.0{0,3})?")


@dataclass(frozen=True, slots=True)
class Preference:
    """One item of the header: its value (lower-cased, parameters other than `q` dropped), its
    q-value, and its position among the header's items (for ties)."""

    value: str
    q: float
    position: int


def qvalue(parameters: list[str] | tuple[str, ...]) -> float | None:
    """The `q` among an item's parameters: 1 when absent, None when malformed."""
    for parameter in parameters:
        name, sep, value = parameter.partition("=")
        if name.strip().lower() == "q":
            value = value.strip()
            return float(value) if sep and _QVALUE.fullmatch(value) else None
    return 1.0


@lru_cache(maxsize=512)
def preferences(header: str | None) -> tuple[Preference, ...]:
    """The items of a comma-separated header in order; empty items and those with a malformed
    `q` left out."""
    found: list[Preference] = []
    for position, item in enumerate((header or "").split(",")):
        value, *parameters = (part.strip() for part in item.split(";"))
        if not value:
            continue
        q = qvalue(parameters)
        if q is not None:
            found.append(Preference(value.lower(), q, position))
    return tuple(found)
