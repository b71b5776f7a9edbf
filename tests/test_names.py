"""Names as people write them (issue 6, item 9): prefixes, dashes and spaces, aliases as data,
near misses ranked by similarity; writes and imports that resolve names but never guess."""

import pytest
from pydantic import ValidationError

from app.core.config import Settings
from app.core.text import query_keys, search_key


class TestSearchKey:
    @pytest.mark.parametrize(
        "written",
        [
            "Bà Rịa - Vũng Tàu",
            "Bà Rịa–Vũng Tàu",
            "Bà Rịa — Vũng Tàu",
            "Bà Rịa‑Vũng Tàu",
            "Bà Rịa‒Vũng Tàu",
            "Bà Rịa−Vũng Tàu",
            "Ba Ria Vung Tau",
            "BàRịa-VũngTàu",
            "ba_ria/vung.tau",
            "BÀ RỊA, VŨNG TÀU",
        ],
    )
    def test_every_spelling_has_one_key(self, written: str) -> None:
        assert search_key(written) == "bariavungtau"

    def test_spaces_and_apostrophes_do_not_matter(self) -> None:
        assert search_key("Kon Tum") == search_key("Kontum") == "kontum"
        assert search_key("Đắk Lắk") == search_key("Daklak") == "daklak"
        assert search_key("Ea H'leo") == search_key("Ea Hleo")
        assert search_key("---") == ""

    def test_prefixes_are_read_both_ways(self) -> None:
        """Cà Mau folds to "ca mau": the CA prefix may be stripped, but the whole key stays."""
        assert query_keys("Cà Mau") == ["camau", "mau"]
        assert "camau" in query_keys("CA Cà Mau")
        assert query_keys("Công an tỉnh Hưng Yên")[-1] == "hungyen"
        assert query_keys("Công an thành phố Cần Thơ")[-1] == "cantho"
        assert query_keys("T.P HCM") == ["tphcm", "hcm"]
        assert query_keys("CATP Hồ Chí Minh") == ["catphochiminh", "hochiminh"]
        assert query_keys("Thanh Hóa") == ["thanhhoa"]  # "thanh" alone is no prefix
        assert query_keys("Tỉnh") == ["tinh"]


def test_the_similarity_threshold_is_validated() -> None:
    for bad in (0, -0.1, 1.5, "nan"):
        with pytest.raises(ValidationError):
            Settings(name_similarity_threshold=bad)
    assert Settings(name_similarity_threshold=1).name_similarity_threshold == 1
