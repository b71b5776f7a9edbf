"""The columns of a batch file (CSV or XLSX) and the names a header may give them.

Each field of a row has an ASCII header (`tu_ngay`), the JSON field name (`period_start`) and a
Vietnamese label people read (`Từ ngày`, the XLSX template's header); a header may use any of
the three, in any case and spacing (`từ  NGÀY`), NFC-normalised. A few columns are there to be
read, never read back (`ten_chi_tieu`, `don_vi_tinh`: the metric's name and unit of measure,
which the template fills in): a header may carry them, and their cells are ignored, whatever
they hold."""

import unicodedata

CSV_COLUMNS = {
    "don_vi_id": "unit_id",
    "ma_don_vi": "unit_code",
    "ngay_hieu_luc": "unit_code_on",
    "nam": "year",
    "tu_ngay": "period_start",
    "den_ngay": "period_end",
    "chi_tieu": "metric",
    "gia_tri": "value",
    "tu_so": "numerator",
    "mau_so": "denominator",
    "nguon": "source",
    "ghi_chu": "note",
    "phien_ban": "expected_version",
}
"""ASCII CSV headers → fields; the English field names are accepted as headers too."""
FIELDS = frozenset(CSV_COLUMNS.values())
CSV_NAME = {field: header for header, field in CSV_COLUMNS.items()}
INPUT_HEADER = list(CSV_COLUMNS)
"""The columns a batch reads, as the CSV names them."""

LABELS = {
    "unit_id": "Đơn vị (id)",
    "unit_code": "Mã đơn vị",
    "unit_code_on": "Ngày hiệu lực",
    "year": "Năm",
    "period_start": "Từ ngày",
    "period_end": "Đến ngày",
    "metric": "Chỉ tiêu",
    "value": "Giá trị",
    "numerator": "Tử số",
    "denominator": "Mẫu số",
    "source": "Nguồn",
    "note": "Ghi chú",
    "expected_version": "Phiên bản",
}
"""Each field's Vietnamese label: the XLSX template's header, accepted in a CSV header too."""

READABLE = {
    "metric_name": ("ten_chi_tieu", "Tên chỉ tiêu"),
    "unit_of_measure": ("don_vi_tinh", "Đơn vị tính"),
}
"""Columns the template fills in for people to read (the metric's name and unit of measure), by
their English name: (CSV header, Vietnamese label). A batch ignores them."""

TEMPLATE_HEADER = [*INPUT_HEADER[:7], *(csv for csv, _label in READABLE.values()), *INPUT_HEADER[7:]]
"""The template's columns: the input columns, with the readable ones after `chi_tieu`."""
TEMPLATE_LABELS = [
    *(LABELS[CSV_COLUMNS[h]] for h in INPUT_HEADER[:7]),
    *(label for _csv, label in READABLE.values()),
    *(LABELS[CSV_COLUMNS[h]] for h in INPUT_HEADER[7:]),
]

IGNORED = "-"
"""What a readable column maps to: its cells are skipped."""


def normalized(name: str) -> str:
    """A header as it is looked up: NFC, case-folded, its spaces collapsed."""
    return " ".join(unicodedata.normalize("NFC", name).casefold().split())


_NAMES: dict[str, str] = {
    **{normalized(h): f for h, f in CSV_COLUMNS.items()},
    **{normalized(f): f for f in FIELDS},
    **{normalized(label): f for f, label in LABELS.items()},
    **{normalized(name): IGNORED for name in READABLE},
    **{normalized(name): IGNORED for pair in READABLE.values() for name in pair},
}


def field_of(name: str) -> str | None:
    """The field a header names (`IGNORED` for a readable column), or None for a name not known."""
    return _NAMES.get(normalized(name))
