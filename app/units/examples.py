"""Units as they appear in the OpenAPI examples of every feature (real ids of the seed data)."""

from typing import Any

THAI_BINH: dict[str, Any] = {
    "id": 22,
    "code": "34",
    "name": "Thái Bình",
    "valid_from": None,
    "valid_to": "2025-06-30",
}
HUNG_YEN: dict[str, Any] = {
    "id": 70,
    "code": "33",
    "name": "Hưng Yên",
    "valid_from": "2025-07-01",
    "valid_to": None,
}
HO_CHI_MINH: dict[str, Any] = {
    "id": 80,
    "code": "79",
    "name": "Hồ Chí Minh",
    "valid_from": "2025-07-01",
    "valid_to": None,
}
THAI_BINH_FULL: dict[str, Any] = {**THAI_BINH, "kind": "tinh", "kind_label": "Tỉnh", "version": 1}
