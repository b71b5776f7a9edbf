"""`/docs` in a real browser: headless Chromium (Debian's `chromium` and `chromium-driver`, which
`make browser` installs) loads the page from the app under uvicorn, with every host name but
127.0.0.1 made unresolvable, and we check that Swagger UI rendered a section for every tag with
every operation in it, that the page asked nothing of any other host, and that it logged no error;
and that the page is in Vietnamese (the operations' summaries), though the browser asks for
English (Chromium sends `Accept-Language: en-US`), and in English with `?lang=en`.

Without the browser the test fails under CI (`CI=true`) and is skipped elsewhere, saying why."""

import json
import os
from collections.abc import Iterator
from contextlib import suppress
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from fastapi import FastAPI
from selenium import webdriver
from selenium.common.exceptions import TimeoutException
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.chrome.webdriver import WebDriver
from selenium.webdriver.support.ui import WebDriverWait

from app.core.i18n import use_locale

CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")

PAGE_TIMEOUT_SECONDS = 30
"""Bounds loading the page, and then Swagger UI's rendering of it."""

CHROMIUM_ARGUMENTS = (
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    # Nothing but the service resolves, so nothing can leak out even by accident; the test still
    # sees (and fails on) any attempt, since a request is logged before its host is resolved.
    "--host-resolver-rules=MAP * ~NOTFOUND , EXCLUDE 127.0.0.1",
)

SNAPSHOT_JS = """
return Array.from(document.querySelectorAll('.opblock-tag-section')).map((section) => {
  const heading = section.querySelector('.opblock-tag');
  return {
    tag: heading ? heading.getAttribute('data-tag') : null,
    operations: Array.from(section.querySelectorAll('.opblock')).map((block) => {
      const method = block.querySelector('.opblock-summary-method');
      const path = block.querySelector('.opblock-summary-path');
      const summary = block.querySelector('.opblock-summary-description');
      return {
        method: method ? method.textContent : null,
        data_path: path ? path.getAttribute('data-path') : null,
        text: path ? path.textContent : null,
        summary: summary ? summary.textContent : null,
      };
    }),
  };
});
"""
"""The rendered sections: each tag (`data-tag` of its heading) with the method, `data-path`, shown
path and summary of each operation block in it."""

Operation = tuple[str, str]
"""(METHOD, path)"""


def _in_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() not in ("", "0", "false", "no")


@pytest.fixture
def chromium() -> Iterator[WebDriver]:
    missing = [str(p) for p in (CHROMIUM, CHROMEDRIVER) if not os.access(p, os.X_OK)]
    if missing:
        reason = f"{' and '.join(missing)} not found: `make browser` installs chromium and chromium-driver"
        if _in_ci():
            pytest.fail(reason)
        pytest.skip(reason)
    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for argument in CHROMIUM_ARGUMENTS:
        options.add_argument(argument)
    # The page's console, and the DevTools events of the page's target: its network requests only,
    # not the browser's own background traffic.
    options.set_capability("goog:loggingPrefs", {"browser": "ALL", "performance": "ALL"})
    # An explicit driver and browser: Selenium Manager is never asked to find or download one.
    driver = webdriver.Chrome(service=Service(executable_path=str(CHROMEDRIVER)), options=options)
    try:
        driver.set_page_load_timeout(PAGE_TIMEOUT_SECONDS)
        driver.set_script_timeout(PAGE_TIMEOUT_SECONDS)
        yield driver
    finally:
        driver.quit()


def expected_sections(schema: dict[str, Any]) -> dict[str, set[Operation]]:
    """Every tag of the document, and every tag an operation names (Swagger UI puts an untagged
    operation under "default"), each with the operations it should list."""
    sections: dict[str, set[Operation]] = {tag["name"]: set() for tag in schema.get("tags", [])}
    for path, item in schema["paths"].items():
        for method, operation in item.items():
            if method not in ("get", "put", "post", "delete", "options", "head", "patch", "trace"):
                continue
            for tag in operation.get("tags") or ["default"]:
                sections.setdefault(tag, set()).add((method.upper(), path))
    return sections


def rendered_sections(snapshot: list[dict[str, Any]]) -> dict[str, set[Operation]]:
    """Each rendered tag with its operations, as (METHOD, path); an operation whose `data-path` and
    shown path disagree is kept with both, so that it matches nothing expected."""
    sections: dict[str, set[Operation]] = {}
    for section in snapshot:
        operations = sections.setdefault(str(section["tag"]), set())
        for block in section["operations"]:
            method = (block["method"] or "").strip().upper()
            data_path = block["data_path"] or ""
            shown = (block["text"] or "").replace("\u200b", "").strip()
            operations.add((method, data_path if shown == data_path else f"{data_path} shown as {shown!r}"))
    return sections


def rendered_summaries(snapshot: list[dict[str, Any]]) -> dict[Operation, str]:
    return {
        ((block["method"] or "").strip().upper(), block["data_path"] or ""): (block["summary"] or "").strip()
        for section in snapshot
        for block in section["operations"]
    }


def summaries(schema: dict[str, Any]) -> dict[Operation, str]:
    return {
        (method.upper(), path): operation["summary"]
        for path, item in schema["paths"].items()
        for method, operation in item.items()
    }


def test_docs_render_every_tag_and_operation_offline(
    chromium: WebDriver, live_server: str, app: FastAPI
) -> None:
    with use_locale("vi"):
        expected = expected_sections(app.openapi())
        vietnamese = summaries(app.openapi())
    with use_locale("en"):
        english = summaries(app.openapi())
    assert expected, "the OpenAPI document has no tags"

    chromium.get(f"{live_server}/docs")
    snapshot: list[dict[str, Any]] = []

    def complete(driver: WebDriver) -> bool:
        snapshot[:] = driver.execute_script(SNAPSHOT_JS)
        rendered = rendered_sections(snapshot)
        return all(len(rendered.get(tag, ())) >= len(ops) for tag, ops in expected.items())

    with suppress(TimeoutException):  # the assertions below say what is missing
        WebDriverWait(chromium, PAGE_TIMEOUT_SECONDS, poll_frequency=0.1).until(complete)
    requested = page_requests(chromium)
    console = chromium.get_log("browser")
    rendered = rendered_sections(snapshot)

    service = urlsplit(live_server)
    elsewhere = [url for url in requested if not _is_the_service(url, service.scheme, service.netloc)]
    assert not elsewhere, f"the page asked other hosts than {service.netloc}: {elsewhere}"
    paths = {urlsplit(url).path for url in requested}
    assert {"/docs", app.openapi_url} <= paths, f"the page's requests were not seen: {requested}"

    errors = [entry for entry in console if entry["level"] == "SEVERE"]
    assert not errors, f"console errors: {errors}"

    missing_tags = sorted(expected.keys() - rendered.keys())
    assert not missing_tags, f"no section rendered for tags {missing_tags}; rendered: {sorted(rendered)}"
    for tag, operations in expected.items():
        assert rendered[tag] == operations, (
            f"section {tag!r}: missing {sorted(operations - rendered[tag])}, "
            f"unexpected {sorted(rendered[tag] - operations)}"
        )
    assert rendered.keys() == expected.keys(), f"unexpected sections {sorted(rendered.keys() - expected)}"

    # Vietnamese by default, though the browser asks for English; English on request.
    units = ("GET", "/v1/units")
    assert (vietnamese[units], english[units]) == (
        "Danh sách Công an các tỉnh, thành phố",
        "List provincial units",
    )
    assert rendered_summaries(snapshot) == vietnamese
    chromium.get(f"{live_server}/docs?lang=en")
    with suppress(TimeoutException):
        WebDriverWait(chromium, PAGE_TIMEOUT_SECONDS, poll_frequency=0.1).until(
            lambda driver: rendered_summaries(driver.execute_script(SNAPSHOT_JS)) == english
        )
    shown = rendered_summaries(chromium.execute_script(SNAPSHOT_JS))
    assert shown == english, sorted(set(shown.items()) - set(english.items()))[:5]


def page_requests(driver: WebDriver) -> list[str]:
    """The URL of every request the page's target made, as DevTools announced it (before the host
    is resolved, so blocked attempts count too), web sockets included."""
    urls = []
    for entry in driver.get_log("performance"):
        message = json.loads(entry["message"])["message"]
        if message["method"] == "Network.requestWillBeSent":
            urls.append(message["params"]["request"]["url"])
        elif message["method"] == "Network.webSocketCreated":
            urls.append(message["params"]["url"])
    return urls


def _is_the_service(url: str, scheme: str, netloc: str) -> bool:
    parts = urlsplit(url)
    if parts.scheme in ("data", "blob", "about"):  # made in the page, not fetched
        return True
    return parts.scheme == scheme and parts.netloc == netloc
