"""Vietnamese first (issue 7, item 7): every text people read comes from the catalogs, in
Vietnamese unless the request asks for English; nothing machine-readable changes; ETags differ
per language and `If-Match` works across languages."""

import string
from collections.abc import AsyncIterator
from datetime import date
from typing import Any

import httpx
import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.pofile import read_po
from fastapi import FastAPI
from starlette.datastructures import MutableHeaders

from app.core.config import PROJECT_ROOT, Settings
from app.core.etag import identity_etag
from app.core.i18n import (
    LOCALES_DIR,
    _,
    catalog_path,
    localized_exclusions,
    localized_fields,
    merge_vary,
    negotiate,
    use_locale,
)
from app.core.openapi_i18n import translated
from app.core.validation import field_message
from app.leadership.schemas import LeadershipOut, RoleHolder, SuggestedRole
from app.main import app as assembled
from app.main import create_app
from app.sheets.schemas import ClusterYearSheet
from app.units.examples import HUNG_YEN, THAI_BINH
from app.units.schemas import UnitRef
from tests.helpers import Keys, bearer, join, problem, unit_id

LEADERSHIP_2025 = "/v1/clusters/5/years/2025/leadership"
THAI_BINH_REMARK_VI = (
    "Thái Bình đã kết thúc hoạt động ngày 30/6/2025, khi đang trong nhiệm kỳ; đơn vị kế thừa: Hưng Yên."
)
THAI_BINH_REMARK_EN = "Thái Bình ceased to exist on 2025-06-30, during its term; successor: Hưng Yên."


@pytest.fixture
async def plain(app: FastAPI, keys: Keys) -> AsyncIterator[httpx.AsyncClient]:
    """An admin client that sends no `Accept-Language` (the `client` fixture asks for English)."""
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(
        transport=transport, base_url="http://thidua.test", headers=bearer(keys.admin)
    ) as c:
        yield c


def labelled(response: httpx.Response, language: str) -> None:
    """The response says its language and that it varies by `Accept-Language`."""
    assert response.headers["content-language"] == language, response.headers
    vary = [v.strip().lower() for v in response.headers["vary"].split(",")]
    assert vary.count("accept-language") == 1, response.headers


# --- Negotiation ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        (None, "vi"),
        ("", "vi"),
        ("vi", "vi"),
        ("vi-VN", "vi"),
        ("en", "en"),
        ("en-US", "en"),
        ("EN-gb", "en"),
        ("en-US;q=0.9", "en"),
        ("fr", "vi"),
        ("fr, en;q=0.5", "en"),
        ("en;q=0.3, vi;q=0.7", "vi"),
        ("vi;q=0.3, en-US;q=0.7", "en"),
        ("vi-VN;q=0.8, en;q=0.8", "vi"),
        ("fr;q=1, en;q=0.2, vi;q=0.1", "en"),
        ("*", "vi"),
        ("vi;q=0, *", "en"),
        ("en;q=abc", "vi"),
        ("en;q=2", "vi"),
        (",;;,", "vi"),
    ],
)
def test_negotiation(header: str | None, expected: str) -> None:
    assert negotiate(header, "vi") == expected


def test_the_default_is_a_setting() -> None:
    assert negotiate(None, "en") == negotiate("fr", "en") == "en"


def test_vary_is_merged_not_replaced() -> None:
    headers = MutableHeaders({"Vary": "Origin"})
    merge_vary(headers, "Accept-Language")
    merge_vary(headers, "Accept-Language")
    assert headers["vary"] == "Origin, Accept-Language"
    starred = MutableHeaders({"Vary": "*"})
    merge_vary(starred, "Accept-Language")
    assert starred["vary"] == "*"


# --- Problems ------------------------------------------------------------------------------


async def test_a_404_is_vietnamese_by_default_and_english_on_request(plain: httpx.AsyncClient) -> None:
    vi = await plain.get("/v1/units/9999")
    body = problem(vi, 404, "not-found")
    assert (body["title"], body["detail"]) == ("Không tìm thấy", "Không tìm thấy đơn vị có mã số 9999.")
    labelled(vi, "vi")
    for header in ("en", "en-US;q=0.9", "vi;q=0.5, en-US;q=0.9"):
        en = await plain.get("/v1/units/9999", headers={"Accept-Language": header})
        english = problem(en, 404, "not-found")
        assert (english["title"], english["detail"]) == ("Not Found", "No unit with id 9999.")
        assert english["type"] == body["type"] == "/problems/not-found"
        assert english["instance"] == body["instance"]
        labelled(en, "en")
    preferred = await plain.get("/v1/units/9999", headers={"Accept-Language": "en;q=0.4, vi-VN;q=0.6"})
    assert problem(preferred, 404, "not-found")["detail"] == "Không tìm thấy đơn vị có mã số 9999."


async def test_a_membership_overlap_409_in_both_languages(plain: httpx.AsyncClient) -> None:
    for number in (60, 61):
        assert (await plain.post("/v1/clusters", json={"number": number})).status_code == 201
    ha_noi = await unit_id(plain, "Hà Nội", "2025-01-01")
    first = (await join(plain, ha_noi, 60, "2024-01-01")).json()
    clash = {"unit_id": ha_noi, "cluster": 61, "valid_from": "2026-05-01"}

    vi = problem(await plain.post("/v1/memberships", json=clash), 409, "membership-overlap")
    assert vi["title"] == "Xung đột dữ liệu"
    assert vi["detail"] == (
        f"Hà Nội đã là thành viên Cụm 60 từ ngày 1/1/2024, chưa có ngày kết thúc (bản ghi thành viên "
        f"số {first['id']}); tại mỗi thời điểm, một đơn vị chỉ thuộc một Cụm thi đua."
    )
    en_response = await plain.post("/v1/memberships", json=clash, headers={"Accept-Language": "en-US"})
    en = problem(en_response, 409, "membership-overlap")
    assert en["title"] == "Conflict"
    assert en["detail"] == (
        f"Hà Nội is already in cluster 60 from 2024-01-01, open-ended (membership {first['id']}); "
        "a unit is in at most one cluster on any day."
    )
    labelled(en_response, "en")
    machine = ("type", "status", "instance", "conflicting_membership_id", "conflicting_membership")
    assert {k: vi[k] for k in machine} == {k: en[k] for k in machine}


async def test_every_kind_of_answer_says_its_language(app: FastAPI, plain: httpx.AsyncClient) -> None:
    ok = await plain.get("/v1/clusters")
    assert ok.status_code == 200
    labelled(ok, "vi")
    not_modified = await plain.get("/v1/clusters", headers={"If-None-Match": ok.headers["etag"]})
    assert not_modified.status_code == 304
    labelled(not_modified, "vi")

    unknown = await plain.get("/v1/nothing-here", headers={"Accept-Language": "en"})
    assert problem(unknown, 404, "about:blank")["detail"] == "No resource at /v1/nothing-here."
    labelled(unknown, "en")
    unknown_vi = await plain.get("/v1/nothing-here")
    assert (
        problem(unknown_vi, 404, "about:blank")["detail"] == "Không có tài nguyên nào tại /v1/nothing-here."
    )
    labelled(unknown_vi, "vi")

    wrong_method = await plain.delete("/v1/units")
    assert (
        problem(wrong_method, 405, "about:blank")["detail"] == "Không được dùng phương thức DELETE tại đây."
    )
    assert wrong_method.headers["allow"] == "GET, HEAD"
    labelled(wrong_method, "vi")

    huge = {"number": 77, "note": "x" * 2_000_000}
    too_large = await plain.post("/v1/clusters", json=huge)
    body = problem(too_large, 413, "payload-too-large")
    assert (body["title"], body["detail"]) == ("Nội dung quá lớn", "Nội dung yêu cầu vượt quá 1048576 byte.")
    labelled(too_large, "vi")
    too_large_en = await plain.post("/v1/clusters", json=huge, headers={"Accept-Language": "en"})
    assert (
        problem(too_large_en, 413, "payload-too-large")["detail"]
        == "The request body is larger than 1048576 bytes."
    )
    labelled(too_large_en, "en")

    anonymous = await plain.get("/v1/units", headers={"Authorization": ""})
    body = problem(anonymous, 401, "unauthorized")
    assert body["title"] == "Chưa xác thực"
    assert body["detail"] == "Cần có khóa API: `Authorization: Bearer <key>`."
    assert anonymous.headers["www-authenticate"].startswith("Bearer")
    labelled(anonymous, "vi")


async def test_a_500_is_translated_and_labelled_too(app: FastAPI) -> None:
    async def explode() -> None:
        raise RuntimeError("boom")

    app.add_api_route("/test-only/explode-i18n", explode)
    try:
        transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
        async with httpx.AsyncClient(transport=transport, base_url="http://thidua.test") as c:
            vi = await c.get("/test-only/explode-i18n")
            en = await c.get("/test-only/explode-i18n", headers={"Accept-Language": "en"})
    finally:
        app.router.routes.pop()
    assert problem(vi, 500, "internal")["detail"] == "Đã xảy ra lỗi ngoài dự kiến."
    labelled(vi, "vi")
    assert problem(en, 500, "internal")["detail"] == "An unexpected error occurred."
    labelled(en, "en")


async def test_the_docs_are_vietnamese_by_default_and_english_on_request(plain: httpx.AsyncClient) -> None:
    """The document's description, tag descriptions and operation summaries come from the catalogs
    (issue 22, item 6); nothing else changes with the language, tag names and operation ids
    included. `?lang=` chooses as `Accept-Language` does; the docs page, which a browser asks for
    in its own interface's language, is Vietnamese unless `?lang=en`, and loads the document in
    its own language."""
    vi = await plain.get("/openapi.json")
    en = await plain.get("/openapi.json", headers={"Accept-Language": "en"})
    asked = await plain.get("/openapi.json?lang=en", headers={"Accept-Language": "vi"})
    labelled(vi, "vi")
    labelled(en, "en")
    assert vi.headers["etag"].endswith('-vi"')
    assert en.headers["etag"].endswith('-en"')
    document, english = vi.json(), en.json()
    assert asked.json() == english
    units = ("/v1/units", "get")
    assert english["paths"][units[0]][units[1]]["summary"] == "List provincial units"
    assert document["paths"][units[0]][units[1]]["summary"] == "Danh sách Công an các tỉnh, thành phố"
    assert document["info"]["description"].startswith("Phong trào thi đua")
    assert "[`/problems`](/problems?lang=vi)" in document["info"]["description"]
    tags = {t["name"]: t["description"] for t in document["tags"]}
    assert tags["leadership"] == "Luân phiên Cụm trưởng, Cụm phó."
    assert [t["name"] for t in document["tags"]] == [t["name"] for t in english["tags"]]
    assert document == translated(english, "vi")  # the texts translated, nothing else
    summaries = {
        (path, method): (operation["summary"], english["paths"][path][method]["summary"])
        for path, item in document["paths"].items()
        for method, operation in item.items()
    }
    assert [key for key, (ours, theirs) in summaries.items() if ours == theirs] == []

    browser = {"Accept-Language": "en-US,en;q=0.9"}  # Chromium's own, whoever reads the page
    page = await plain.get("/docs", headers=browser)
    labelled(page, "vi")
    assert "/openapi.json?lang=vi" in page.text
    english_page = await plain.get("/docs?lang=en")
    labelled(english_page, "en")
    assert "/openapi.json?lang=en" in english_page.text


async def test_default_locale_is_the_language_of_requests_that_ask_for_none(settings: Settings) -> None:
    english_first = create_app(settings.model_copy(update={"default_locale": "en"}))
    transport = httpx.ASGITransport(app=english_first)
    async with httpx.AsyncClient(transport=transport, base_url="http://thidua.test") as c:
        default = await c.get("/v1/nothing-here")
        asked = await c.get("/v1/nothing-here", headers={"Accept-Language": "vi-VN"})
    assert problem(default, 404, "about:blank")["detail"] == "No resource at /v1/nothing-here."
    labelled(default, "en")
    assert problem(asked, 404, "about:blank")["detail"] == "Không có tài nguyên nào tại /v1/nothing-here."
    labelled(asked, "vi")


async def test_a_replay_is_in_the_language_of_the_first_answer(plain: httpx.AsyncClient) -> None:
    key = {"Idempotency-Key": "i18n-cluster-63"}
    first = await plain.post("/v1/clusters", json={"number": 63}, headers=key)
    again = await plain.post("/v1/clusters", json={"number": 63}, headers={**key, "Accept-Language": "en"})
    assert again.headers["idempotent-replayed"] == "true"
    assert (again.headers["etag"], again.content) == (first.headers["etag"], first.content)
    labelled(again, "vi")
    reused = await plain.post("/v1/clusters", json={"number": 64}, headers={**key, "Accept-Language": "en"})
    assert (
        problem(reused, 422, "unprocessable")["detail"]
        == "This Idempotency-Key was already used with a different request."
    )
    labelled(reused, "en")


# --- Validation ----------------------------------------------------------------------------


def messages(body: dict[str, Any]) -> dict[tuple[Any, ...], tuple[str, str]]:
    return {tuple(e["loc"]): (e["type"], e["message"]) for e in body["errors"]}


async def test_validation_messages_are_translated_by_error_type(plain: httpx.AsyncClient) -> None:
    bad = {"number": 0, "colour": "red", "rotation_custom": "eldest"}
    vi = problem(await plain.post("/v1/clusters", json=bad), 422, "validation")
    assert vi["detail"] == "Yêu cầu không hợp lệ; xem chi tiết tại `errors`."
    assert messages(vi) == {
        ("body", "number"): ("greater_than_equal", "Phải lớn hơn hoặc bằng 1."),
        ("body", "colour"): ("extra_forbidden", "Không được gửi trường này."),
        ("body", "rotation_custom"): (
            "enum",
            "Phải là một trong các giá trị: 'least_recent', 'deputy_succeeds'.",
        ),
    }
    en = problem(
        await plain.post("/v1/clusters", json=bad, headers={"Accept-Language": "en"}), 422, "validation"
    )
    assert en["detail"] == "The request is not valid; see `errors`."
    assert messages(en) == {
        ("body", "number"): ("greater_than_equal", "Must be at least 1."),
        ("body", "colour"): ("extra_forbidden", "This field is not allowed here."),
        ("body", "rotation_custom"): ("enum", "Must be one of: 'least_recent', 'deputy_succeeds'."),
    }

    missing = problem(
        await plain.post("/v1/memberships", json={"unit_id": "1", "cluster": 5}), 422, "validation"
    )
    assert messages(missing) == {
        ("body", "unit_id"): ("int_type", "Phải là số nguyên."),
        ("body", "valid_from"): ("missing", "Trường này là bắt buộc."),
    }
    role = problem(await plain.post("/v1/keys", json={"name": "x", "role": "boss"}), 422, "validation")
    assert messages(role) == {
        ("body",): (
            "union_tag_invalid",
            "Giá trị 'boss' của 'role' không thuộc các giá trị: 'admin', 'reader', 'cluster', 'unit'.",
        )
    }
    nothing = problem(
        await plain.patch("/v1/clusters/5", json={}, headers={"If-Match": "*"}), 422, "validation"
    )
    assert [e["message"] for e in nothing["errors"]] == ["Cần nêu ít nhất một trường cần thay đổi."]
    dates = problem(
        await plain.get("/v1/memberships", params={"as_of": "1/7/2025", "limit": "0"}), 422, "validation"
    )
    assert messages(dates) == {
        ("query", "as_of"): ("value_error", "Phải là ngày theo dạng YYYY-MM-DD."),
        ("query", "limit"): ("greater_than_equal", "Phải lớn hơn hoặc bằng 1."),
    }
    text = problem(await plain.post("/v1/clusters", json={"number": 70, "name": ""}), 422, "validation")
    assert messages(text) == {("body", "name"): ("too_short", "Không được để trống.")}
    broken = problem(
        await plain.post("/v1/clusters", content=b"{not json", headers={"content-type": "application/json"}),
        400,
        "malformed-body",
    )
    assert broken["detail"] == "Nội dung yêu cầu không phải JSON hợp lệ (ở ký tự thứ 1)."


def test_unknown_error_types_keep_pydantic_s_message() -> None:
    error = {"type": "url_parsing", "loc": ("body", "x"), "msg": "Input should be a valid URL", "ctx": {}}
    assert field_message(error) == "Input should be a valid URL"
    pattern = {"type": "string_pattern_mismatch", "msg": "…", "ctx": {"pattern": r"^\d{2,3}$"}}
    with use_locale("vi"):
        assert field_message(pattern) == "Không đúng định dạng quy định."  # no regular expression
    with use_locale("en"):
        assert field_message(pattern) == r"Does not have the expected form (pattern ^\d{2,3}$)."


# --- Remarks, reasons, notes ---------------------------------------------------------------


@pytest.mark.usefixtures("seeded")
async def test_the_leadership_remark_of_thai_binh(plain: httpx.AsyncClient) -> None:
    vi = (await plain.get(LEADERSHIP_2025)).json()
    assert vi["leader"]["unit"]["name"] == "Thái Bình"
    assert vi["leader"]["remark"] == THAI_BINH_REMARK_VI
    assert vi["deputy"]["remark"].startswith("Hải Dương đã kết thúc hoạt động ngày 30/6/2025")
    en = (await plain.get(LEADERSHIP_2025, headers={"Accept-Language": "en"})).json()
    assert en["leader"]["remark"] == THAI_BINH_REMARK_EN
    for role in ("leader", "deputy"):
        del vi[role]["remark"], en[role]["remark"]
    assert vi == en

    sheet = (await plain.get("/v1/clusters/5/years/2025")).json()
    assert "Thái Bình đã kết thúc hoạt động ngày 30/6/2025; đơn vị kế thừa: Hưng Yên." in sheet["notes"]
    assert sheet["leadership"]["leader"]["remark"] == THAI_BINH_REMARK_VI
    suggestion = (await plain.get("/v1/clusters/5/years/2025/leadership/suggestion")).json()
    assert suggestion["leader"]["reason"] == (
        "Cụm phó năm 2024 (Thái Bình); theo thông lệ của Cụm, Cụm phó năm trước làm Cụm trưởng năm sau."
    )
    assert suggestion["deputy"]["reason"].startswith("Chưa từng làm Cụm trưởng theo lịch sử đã ghi nhận")


# --- ETags ---------------------------------------------------------------------------------


def _leadership_body(current: dict[str, Any]) -> dict[str, Any]:
    return {
        "leader_unit_id": current["leader"]["unit"]["id"],
        "deputy_unit_id": current["deputy"]["unit"]["id"],
        **{k: current["decision"][k] for k in ("decided_on", "conference", "source", "note")},
    }


@pytest.mark.usefixtures("seeded")
async def test_etags_differ_per_language_and_if_match_works_across(plain: httpx.AsyncClient) -> None:
    en_headers = {"Accept-Language": "en"}
    vi_read = await plain.get(LEADERSHIP_2025)
    en_read = await plain.get(LEADERSHIP_2025, headers=en_headers)
    etag_vi, etag_en = vi_read.headers["etag"], en_read.headers["etag"]
    assert etag_vi.startswith('"leadership-5-2025-v1-')
    assert etag_vi.endswith('-vi"')
    assert etag_en == etag_vi.removesuffix('-vi"') + '-en"'
    # If-None-Match compares whole ETags: the other language's representation is not the one held.
    assert (await plain.get(LEADERSHIP_2025, headers={"If-None-Match": etag_vi})).status_code == 304
    assert (await plain.get(LEADERSHIP_2025, headers={"If-None-Match": etag_en})).status_code == 200
    assert (
        await plain.get(LEADERSHIP_2025, headers={**en_headers, "If-None-Match": etag_en})
    ).status_code == 304

    # Read in English, write in Vietnamese (a change each time: the same body is no new version).
    body = {**_leadership_body(vi_read.json()), "note": "sửa 1"}
    written = await plain.put(LEADERSHIP_2025, json=body, headers={"If-Match": etag_en})
    assert written.status_code == 200, written.text
    assert written.json()["version"] == 2
    assert written.headers["etag"].endswith('-vi"')
    assert written.headers["content-language"] == "vi"
    # Read in Vietnamese, write in English; a stale ETag stays stale in either language.
    fresh_vi = (await plain.get(LEADERSHIP_2025)).headers["etag"]
    body = {**body, "note": "sửa 2"}
    stale = await plain.put(LEADERSHIP_2025, json=body, headers={**en_headers, "If-Match": etag_vi})
    # (`current_etag` names the identity representation; the read was gzip, `…-gzip-vi`.)
    assert (
        problem(stale, 412, "precondition-failed")["current_etag"]
        == identity_etag(fresh_vi).removesuffix('-vi"') + '-en"'
    )
    again = await plain.put(LEADERSHIP_2025, json=body, headers={**en_headers, "If-Match": fresh_vi})
    assert again.status_code == 200, again.text
    assert again.headers["etag"].endswith('-en"')
    assert again.json()["leader"]["remark"] == THAI_BINH_REMARK_EN

    revisions = (await plain.get(f"{LEADERSHIP_2025}/revisions")).json()["items"]
    assert [r["version"] for r in revisions] == [1, 2, 3]
    assert all(r["data"]["leader"]["remark"] is None for r in revisions), "revisions keep data, not prose"


async def test_records_without_localized_text_differ_only_by_the_language(plain: httpx.AsyncClient) -> None:
    created = await plain.post("/v1/clusters", json={"number": 62})
    vi = created.headers["etag"]
    en = (await plain.get("/v1/clusters/62", headers={"Accept-Language": "en"})).headers["etag"]
    assert vi.startswith('"cluster-62-v1-')
    assert en == vi.removesuffix('-vi"') + '-en"'
    updated = await plain.patch(
        "/v1/clusters/62", json={"note": "x"}, headers={"If-Match": en, "Accept-Language": "vi-VN"}
    )
    assert updated.status_code == 200, updated.text
    listed = await plain.get("/v1/clusters")
    listed_en = await plain.get("/v1/clusters", headers={"Accept-Language": "en"})
    assert listed.content == listed_en.content
    assert listed.headers["etag"] != listed_en.headers["etag"]


def test_localized_fields_are_marked_and_left_out_of_what_identifies_a_record() -> None:
    assert localized_fields(RoleHolder) == {"remark"}
    assert localized_fields(SuggestedRole) == {"reason"}
    assert localized_fields(ClusterYearSheet) == {"notes"}
    assert localized_fields(LeadershipOut) == frozenset()
    schemas = assembled.openapi()["components"]["schemas"]
    assert {"type": "string", "x-localized": True} in schemas["RoleHolder"]["properties"]["remark"]["anyOf"]
    assert schemas["SuggestedRole"]["properties"]["reason"]["x-localized"] is True
    assert schemas["ClusterYearSheet"]["properties"]["notes"]["items"]["x-localized"] is True
    assert schemas["Problem"]["properties"]["title"]["x-localized"] is True

    holder = RoleHolder(
        unit=UnitRef.model_validate(THAI_BINH),
        ceased_on=date(2025, 6, 30),
        successors=[UnitRef.model_validate(HUNG_YEN)],
        remark="…",
    )
    assert localized_exclusions(holder) == {"remark": True}
    sheet_like = {"leader": {"remark": True}, "deputy": {"remark": True}}
    out = LeadershipOut.model_validate(
        {
            "cluster": 5,
            "year": 2025,
            "leader": holder,
            "deputy": holder,
            "decision": {"decided_on": None, "conference": None, "source": None, "note": None},
            "version": 1,
            "recorded_by": "test",
            "recorded_at": "2026-11-25T08:00:00Z",
        }
    )
    assert localized_exclusions(out) == sheet_like


# --- Catalogs ------------------------------------------------------------------------------


def _placeholders(text: str) -> list[tuple[str, str | None, str | None]]:
    """The `{name!conversion:spec}` fields of a `str.format` string, sorted."""
    return sorted(
        (name, conversion, spec)
        for _literal, name, spec, conversion in string.Formatter().parse(text)
        if name is not None
    )


def _extracted() -> set[str]:
    """Every text marked in app/ and every operation's summary, found as `make messages` finds
    them: with the method `babel.cfg` names (`app.core.openapi_i18n.extract`)."""
    with (PROJECT_ROOT / "babel.cfg").open(encoding="utf-8") as f:
        method_map, options_map = parse_mapping_cfg(f)
    found = extract_from_dir(PROJECT_ROOT / "app", method_map=method_map, options_map=options_map)
    return {message for _file, _line, message, _comments, _context in found if isinstance(message, str)}


def _read(path: Any, locale: str | None = None) -> Any:
    with path.open("rb") as f:
        return read_po(f, locale=locale)


def test_every_text_has_a_vietnamese_translation_with_the_same_placeholders() -> None:
    extracted = _extracted()
    assert len(extracted) > 100
    template = {m.id for m in _read(LOCALES_DIR / "messages.pot") if m.id}
    assert template == extracted, "run `make messages` (then translate) and commit app/locales/"
    vi = {m.id: m for m in _read(catalog_path("vi"), "vi") if m.id}
    assert set(vi) == extracted, "run `make messages` (then translate) and commit app/locales/"
    problems = []
    for msgid in sorted(extracted):
        entry = vi[msgid]
        if not entry.string or entry.fuzzy:
            problems.append(f"untranslated or fuzzy: {msgid!r}")
        elif _placeholders(entry.string) != _placeholders(msgid):
            problems.append(f"placeholders differ: {msgid!r} → {entry.string!r}")
    assert problems == []


def test_the_english_catalog_lists_every_text() -> None:
    en = {m.id: m for m in _read(catalog_path("en"), "en") if m.id}
    assert set(en) == _extracted()
    for msgid, entry in en.items():
        assert not entry.string or _placeholders(entry.string) == _placeholders(msgid), msgid


def test_a_missing_translation_falls_back_to_the_english_text() -> None:
    with use_locale("vi"):
        assert _("Not in any catalog: {n}.", n=3) == "Not in any catalog: 3."
        assert _("No unit with id {unit_id}.", unit_id=7) == "Không tìm thấy đơn vị có mã số 7."
        assert _("on {day}", day=date(2025, 7, 1)) == "vào ngày 1/7/2025"
    with use_locale("en"):
        assert _("on {day}", day=date(2025, 7, 1)) == "on 2025-07-01"
