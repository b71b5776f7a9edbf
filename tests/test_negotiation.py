"""One q-value grammar for `Accept`, `Accept-Language` and `Accept-Encoding` (RFC 9110 §12.4.2):
0 to 1, at most three decimals. An item whose `q` is malformed is ignored, the same way by all
three negotiations: the answer is the one the header would get without that item."""

import pytest

from app.core.compression import accepts_gzip
from app.core.errors import NotAcceptable
from app.core.exports import ExportFormat
from app.core.exports import negotiate as negotiate_format
from app.core.i18n import LOCALES, Locale
from app.core.i18n import negotiate as negotiate_language
from app.core.negotiation import preferences, qvalue

MALFORMED = ["2", "1.5", "1.0001", "0.1234", "-1", "", "high", "nan", "inf", "1e0", ".5", "+1", "0x1"]
WELL_FORMED = [("0", 0.0), ("0.", 0.0), ("0.5", 0.5), ("0.001", 0.001), ("0.999", 0.999), ("1", 1.0)]
WELL_FORMED += [("1.", 1.0), ("1.000", 1.0)]


@pytest.mark.parametrize(("text", "q"), WELL_FORMED)
def test_a_qvalue_is_zero_to_one_with_at_most_three_decimals(text: str, q: float) -> None:
    assert qvalue([f"q={text}"]) == q
    assert qvalue([f" Q = {text} "]) == q


@pytest.mark.parametrize("text", MALFORMED)
def test_anything_else_is_malformed(text: str) -> None:
    assert qvalue([f"q={text}"]) is None
    assert qvalue(["q"]) is None
    assert qvalue(["charset=utf-8"]) == 1.0


def test_an_item_with_a_malformed_q_is_left_out() -> None:
    items = preferences("en;q=2, vi;q=0.5, , *;q=abc, fr")
    assert [(p.value, p.q) for p in items] == [("vi", 0.5), ("fr", 1.0)]


# The three negotiations, each given a header with a malformed item and the same header without
# it: the same answer, whatever the malformed q says (a preference above 1, a refusal, junk).


@pytest.mark.parametrize("bad", MALFORMED)
@pytest.mark.parametrize(
    ("with_item", "without"),
    [
        ("en;q={bad}", ""),
        ("en;q={bad}, vi;q=0.5", "vi;q=0.5"),
        ("vi;q=0.1, en;q={bad}", "vi;q=0.1"),
        ("*;q={bad}, en;q=0.3", "en;q=0.3"),
        ("vi;q={bad}, *", "*"),
    ],
)
@pytest.mark.parametrize("default", LOCALES)
def test_the_language_ignores_a_malformed_q(bad: str, with_item: str, without: str, default: Locale) -> None:
    assert negotiate_language(with_item.format(bad=bad), default) == negotiate_language(without, default)


@pytest.mark.parametrize("bad", MALFORMED)
@pytest.mark.parametrize(
    ("with_item", "without", "gzip"),
    [
        ("gzip;q={bad}", "", False),
        ("gzip;q={bad}, *", "*", True),
        ("x-gzip;q={bad}, gzip;q=0.5", "gzip;q=0.5", True),
        ("*;q={bad}", "", False),
        ("gzip;q={bad}, br", "br", False),
    ],
)
def test_the_coding_ignores_a_malformed_q(bad: str, with_item: str, without: str, gzip: bool) -> None:
    assert accepts_gzip(with_item.format(bad=bad)) is accepts_gzip(without) is gzip


@pytest.mark.parametrize("bad", MALFORMED)
@pytest.mark.parametrize(
    ("with_item", "without", "chosen"),
    [
        ("text/csv;q={bad}, application/json;q=0.5", "application/json;q=0.5", ExportFormat.json),
        ("text/csv, application/json;q={bad}", "text/csv", ExportFormat.csv),
        ("text/*;q={bad}, */*;q=0.1", "*/*;q=0.1", ExportFormat.json),
        ("*/*;q={bad}, text/csv;q=0.2", "text/csv;q=0.2", ExportFormat.csv),
    ],
)
def test_the_media_type_ignores_a_malformed_q(
    bad: str, with_item: str, without: str, chosen: ExportFormat
) -> None:
    assert negotiate_format(with_item.format(bad=bad), None) is negotiate_format(without, None) is chosen


@pytest.mark.parametrize("bad", MALFORMED)
def test_the_three_agree_on_a_header_of_malformed_items_only(bad: str) -> None:
    """Nothing usable is said: the default language, no gzip, and for exports the same as an
    `Accept` that admits nothing served (406), as before."""
    assert negotiate_language(f"en;q={bad}", "vi") == "vi"
    assert accepts_gzip(f"gzip;q={bad}") is False
    with pytest.raises(NotAcceptable):
        negotiate_format(f"text/csv;q={bad}", None)
