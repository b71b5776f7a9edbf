"""Award documents of the types DOCUMENT_TYPES allows only, served so that a browser never runs
them (issue 18, item 5); and `X-Content-Type-Options: nosniff` on every answer."""

from collections.abc import AsyncIterator

import httpx
import pytest
from asgi_lifespan import LifespanManager
from fastapi import FastAPI
from pydantic import ValidationError
from sqlalchemy import text

from app.core.config import DEFAULT_DOCUMENT_TYPES, Settings
from app.core.database import Database
from app.main import create_app
from tests.awards_helpers import cluster5_2024, nominate
from tests.helpers import Keys, bearer, problem

PDF = b"%PDF-1.7\n" + "Báo cáo thành tích năm 2024\n".encode() * 50
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@pytest.fixture
async def award(admin: httpx.AsyncClient, seeded_without_awards: None) -> int:
    units = await cluster5_2024(admin)
    created = await nominate(admin, units["Hưng Yên"], "minister_certificate_of_merit")
    assert created.status_code == 201, created.text
    return int(created.json()["id"])


async def _upload(
    client: httpx.AsyncClient, award: int, content_type: str | None, content: bytes = PDF
) -> httpx.Response:
    headers = {"Content-Type": content_type} if content_type is not None else {}
    return await client.post(
        f"/v1/awards/{award}/documents", params={"filename": "bao-cao.pdf"}, content=content, headers=headers
    )


async def _stored(database: Database) -> int:
    async with database.sessionmaker() as session:
        return int((await session.execute(text("SELECT count(*) FROM award_documents"))).scalar_one())


@pytest.mark.parametrize(
    "content_type",
    [
        "text/html",
        "text/html; charset=utf-8",
        "image/svg+xml",
        "application/javascript",
        "application/octet-stream",
        "text/plain",
        None,
    ],
)
async def test_a_type_not_allowed_is_415_naming_the_allowed_ones(
    admin: httpx.AsyncClient, award: int, database: Database, content_type: str | None
) -> None:
    body = problem(
        await _upload(admin, award, content_type, b"<script>alert(1)</script>"),
        415,
        "unsupported-document-type",
    )
    assert body["allowed_media_types"] == list(DEFAULT_DOCUMENT_TYPES)
    assert "application/pdf" in body["detail"]
    assert await _stored(database) == 0


@pytest.mark.parametrize(
    ("sent", "stored"),
    [
        ("application/pdf", "application/pdf"),
        ("application/pdf; charset=binary", "application/pdf"),
        ("IMAGE/PNG", "image/png"),
        ("image/jpeg", "image/jpeg"),
        (DOCX, DOCX),
        (XLSX, XLSX),
        ("application/msword", "application/msword"),
        ("application/vnd.ms-excel", "application/vnd.ms-excel"),
        ("application/vnd.oasis.opendocument.text", "application/vnd.oasis.opendocument.text"),
    ],
)
async def test_an_allowed_type_is_kept_bare_and_served_as_an_inert_attachment(
    admin: httpx.AsyncClient, award: int, sent: str, stored: str
) -> None:
    uploaded = await _upload(admin, award, sent)
    assert uploaded.status_code == 201, uploaded.text
    assert uploaded.json()["content_type"] == stored
    read = await admin.get(uploaded.headers["location"])
    assert read.status_code == 200
    assert read.content == PDF
    assert read.headers["content-type"] == stored
    assert read.headers["x-content-type-options"] == "nosniff"
    assert read.headers["content-disposition"].startswith("attachment;")
    assert read.headers["content-security-policy"] == "default-src 'none'; sandbox"


async def test_a_document_stored_as_html_is_served_as_bytes(
    admin: httpx.AsyncClient, award: int, database: Database
) -> None:
    """Kept before the list existed (an upload could name any type): never served as a page."""
    uploaded = await _upload(admin, award, "application/pdf", b"<html><script>alert(1)</script></html>")
    async with database.sessionmaker() as session, session.begin():
        await session.execute(text("UPDATE award_documents SET content_type = 'text/html'"))
    read = await admin.get(uploaded.headers["location"])
    assert read.status_code == 200
    assert read.headers["content-type"] == "application/octet-stream"
    assert read.headers["x-content-type-options"] == "nosniff"
    assert read.headers["content-security-policy"] == "default-src 'none'; sandbox"


@pytest.fixture
async def pdf_only(settings: Settings, keys: Keys) -> AsyncIterator[httpx.AsyncClient]:
    """An instance whose DOCUMENT_TYPES is `application/pdf` alone."""
    application = create_app(settings.model_copy(update={"document_types": ["application/pdf"]}))
    async with LifespanManager(application):
        transport = httpx.ASGITransport(app=application)
        async with httpx.AsyncClient(
            transport=transport,
            base_url="http://pdf.test",
            headers={"Accept-Language": "en", **bearer(keys.admin)},
        ) as client:
            yield client


async def test_the_setting_is_the_list(pdf_only: httpx.AsyncClient, award: int) -> None:
    body = problem(await _upload(pdf_only, award, "image/png"), 415, "unsupported-document-type")
    assert body["allowed_media_types"] == ["application/pdf"]
    uploaded = await _upload(pdf_only, award, "application/pdf")
    assert uploaded.status_code == 201, uploaded.text


def test_the_setting_reads_a_comma_list_and_refuses_active_content() -> None:
    assert Settings(document_types=" application/pdf , Image/PNG ").document_types == [  # type: ignore[arg-type]
        "application/pdf",
        "image/png",
    ]
    for refused in ("text/html", "application/pdf,image/svg+xml", "pdf", ""):
        with pytest.raises(ValidationError, match="DOCUMENT_TYPES"):
            Settings(document_types=refused)  # type: ignore[arg-type]


def test_the_contract_lists_the_types(app: FastAPI) -> None:
    operation = app.openapi()["paths"]["/v1/awards/{award_id}/documents"]["post"]
    assert list(operation["requestBody"]["content"]) == list(DEFAULT_DOCUMENT_TYPES)
    assert "unsupported-document-type" in operation["description"]
    assert "415" in operation["responses"]


@pytest.mark.parametrize(
    ("method", "path", "authorized", "status"),
    [
        ("GET", "/healthz", False, 200),
        ("GET", "/v1/units", False, 401),
        ("GET", "/v1/units", True, 200),
        ("HEAD", "/v1/units/1", True, 200),
        ("GET", "/v1/units/999999", True, 404),
        ("DELETE", "/v1/units", True, 405),
        ("GET", "/openapi.json", False, 200),
        ("GET", "/docs", False, 200),
        ("GET", "/metrics", False, 200),
    ],
)
async def test_every_answer_says_nosniff(
    client: httpx.AsyncClient, keys: Keys, method: str, path: str, authorized: bool, status: int
) -> None:
    headers = bearer(keys.admin) if authorized else {}
    answer = await client.request(method, path, headers=headers)
    assert answer.status_code == status, answer.text
    assert answer.headers["x-content-type-options"] == "nosniff"
    assert answer.headers.get_list("x-content-type-options") == ["nosniff"]


async def test_a_304_and_a_cached_answer_say_nosniff(admin: httpx.AsyncClient) -> None:
    first = await admin.get("/v1/units/1")
    again = await admin.get("/v1/units/1", headers={"If-None-Match": first.headers["etag"]})
    assert again.status_code == 304
    assert again.headers["x-content-type-options"] == "nosniff"
