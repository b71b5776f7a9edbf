"""Vietnamese-aware name folding for look-ups, and the search key names are compared by.

A unit is written in many ways: "Bà Rịa - Vũng Tàu", "Bà Rịa–Vũng Tàu", "Ba Ria Vung Tau",
"BàRịa-VũngTàu"; "Kon Tum" and "Kontum"; "Công an tỉnh Hưng Yên", "CA Cà Mau", "TP. Hồ Chí Minh".
`search_key` reduces a name to its letters and digits (folded, no spaces), so every spelling of
one name has one key; `query_keys` also reads the query with its administrative prefixes (the
prefix grammar below) stripped.
"""

import re
import unicodedata

_SPACES = re.compile(r"\s+")


def fold(text: str) -> str:
    """Lower-case, strip diacritics and tone marks (NFC or NFD input), đ→d, collapse spaces.

    "Hoà Bình", "Hòa Bình", "HOA BINH" and the NFD spellings all fold to "hoa binh".
    """
    decomposed = unicodedata.normalize("NFD", text.replace("đ", "d").replace("Đ", "D"))
    bare = "".join(c for c in decomposed if not unicodedata.combining(c))
    return _SPACES.sub(" ", bare).strip().casefold()


def words(text: str) -> list[str]:
    """The folded words of `text`: every character that is neither a letter nor a digit (dashes
    of every kind - – — ‑ ‒ −, dots, commas, slashes, underscores, apostrophes, brackets…)
    separates words. "Thừa Thiên-Huế" → ["thua", "thien", "hue"]."""
    return "".join(c if c.isalnum() else " " for c in fold(text)).split()


def search_key(text: str) -> str:
    """The words of `text` without spaces: "Bà Rịa–Vũng Tàu", "BàRịa-VũngTàu" and
    "Ba Ria Vung Tau" → "bariavungtau"; "Kon Tum" and "Kontum" → "kontum". Empty when `text`
    has no letter or digit. Stored beside every unit name and alias."""
    return "".join(words(text))


# The prefix grammar: how the press and the provinces' systems write the administrative level
# before a unit's name. A name as written is
#
#     [police] [level] name        police := "Công an" | "CA"
#                                  level  := "tỉnh" | "thành phố" | "TP" | "TP." | "T.P"
#
# or one of the fused abbreviations "CAT" (Công an tỉnh) and "CATP" (Công an thành phố) before
# the name. Prefixes are whole words, compared folded (case, diacritics and dots do not
# matter), so "CA tỉnh", "Công an TP." and "Thành phố" are all recognised; glued spellings such
# as "TPHCM" are aliases (data/reference/unit_aliases.csv), not grammar.
#
# Stripping a prefix can break a name that merely starts like one ("Cà Mau" folds to "ca mau",
# which reads as "CA" + "mau"), so a query is compared through every reading of it: the whole
# key and the key after each prefix the grammar allows is stripped. "Cà Mau" → {"camau", "mau"}
# and "CA Cà Mau" → {"cacamau", "camau"}: both find Cà Mau.
_POLICE: tuple[tuple[str, ...], ...] = (("cong", "an"), ("ca",))
_LEVEL: tuple[tuple[str, ...], ...] = (("tinh",), ("thanh", "pho"), ("tp",), ("t", "p"))
_FUSED: tuple[tuple[str, ...], ...] = (("cat",), ("catp",))


def _after(tokens: list[str], prefixes: tuple[tuple[str, ...], ...]) -> list[list[str]]:
    """`tokens` with each of `prefixes` it starts with removed."""
    return [tokens[len(p) :] for p in prefixes if tuple(tokens[: len(p)]) == p]


def query_keys(text: str) -> list[str]:
    """Every search key `text` may mean: the whole key first, then the keys with the
    administrative prefixes stripped, without duplicates or empty keys.

    "Công an tỉnh Hưng Yên" → ["congantinhhungyen", "tinhhungyen", "hungyen"]."""
    tokens = words(text)
    readings = [tokens, *_after(tokens, _POLICE)]
    readings += [rest for reading in list(readings) for rest in _after(reading, _LEVEL)]
    readings += _after(tokens, _FUSED)
    keys = ["".join(r) for r in readings]
    return [k for i, k in enumerate(keys) if k and k not in keys[:i]]
