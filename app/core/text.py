"""Vietnamese-aware name folding for look-ups."""

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
