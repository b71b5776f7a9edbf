"""Problem types resolve (issue 22, item 5): `GET /problems/{slug}` documents every `type` a problem
answer names, in Vietnamese and English, as HTML for a browser and JSON on request.

The registry (`app/problems/registry.py`) is checked against the source, as
`tests/test_problem_models.py` reads it: every slug raised anywhere in `app/` (a `slug=` keyword, a
problem class's `slug`, the SQLSTATE table) has an entry, every entry is raised somewhere, and an
entry's statuses and members are those its raise sites give (where the source says them)."""

import ast
import importlib
import pkgutil
from pathlib import Path
from typing import Any

import httpx
from fastapi import FastAPI

import app as app_package
from app.core.errors import _SQLSTATE, AppError
from app.problems.registry import PROBLEM_TYPES
from tests.helpers import problem

APP = Path(app_package.__file__).resolve().parent
_NOT_MEMBERS = {"detail", "slug", "headers", "errors", "instance"}
"""Keyword arguments of `AppError` and `problem_response` that are not extension members."""


def _problem_classes() -> dict[str, type[AppError]]:
    for module in pkgutil.walk_packages(app_package.__path__, "app."):
        importlib.import_module(module.name)
    found: dict[str, type[AppError]] = {"AppError": AppError}
    stack: list[type[AppError]] = [AppError]
    while stack:
        for sub in stack.pop().__subclasses__():
            if sub.__module__.startswith("app.") and sub.__name__ not in found:
                found[sub.__name__] = sub
                stack.append(sub)
    return found


def _name(node: ast.expr) -> str | None:
    return node.id if isinstance(node, ast.Name) else node.attr if isinstance(node, ast.Attribute) else None


def _raised() -> dict[str, tuple[set[int | None], set[str]]]:
    """slug → (statuses, members) of its raise sites: calls of a problem class or of
    `problem_response`, with a `slug=` (a string, or a module constant naming one) or the class's
    own; `super().__init__(…)` inside a problem class with a constructor of its own (whose own
    arguments are not members); every class's `slug`; the SQLSTATE table.
    A status the source does not say (`problem_response(response.status_code, …)`) is None."""
    classes = _problem_classes()
    trees = {path: ast.parse(path.read_text(encoding="utf-8")) for path in sorted(APP.rglob("*.py"))}
    constants = {
        node.targets[0].id: node.value.value
        for tree in trees.values()
        for node in tree.body
        if isinstance(node, ast.Assign)
        and isinstance(node.targets[0], ast.Name)
        and isinstance(node.value, ast.Constant)
        and isinstance(node.value.value, str)
    }
    found: dict[str, tuple[set[int | None], set[str]]] = {}

    def add(slug: str, status: int | None, members: set[str]) -> None:
        statuses, known = found.setdefault(slug, (set(), set()))
        statuses.add(status)
        known.update(members)

    def call(node: ast.Call, cls: type[AppError] | None, *, inner: bool = False) -> None:
        keywords = {k.arg: k.value for k in node.keywords if k.arg is not None}
        members = set(keywords) - _NOT_MEMBERS
        if cls is not None and cls.__init__ is not AppError.__init__ and not inner:
            members = set()  # its own constructor's arguments: its members are its `super().__init__`'s
        given = keywords.get("slug")
        if isinstance(given, ast.Constant) and isinstance(given.value, str):
            slug: str | None = given.value
        elif isinstance(given, ast.Name):
            slug = constants.get(given.id)  # a local variable (the handlers' own): not a slug
        else:
            slug = cls.slug if cls is not None and given is None else None
        if slug is None:
            return
        if cls is not None:
            status: int | None = cls.status
        else:
            first = node.args[0] if node.args else None
            status = first.value if isinstance(first, ast.Constant) and isinstance(first.value, int) else None
        add(slug, status, members)

    for tree in trees.values():
        for node in ast.walk(tree):
            if isinstance(node, ast.Call) and _name(node.func) in classes:
                call(node, classes[str(_name(node.func))])
            elif isinstance(node, ast.Call) and _name(node.func) == "problem_response":
                call(node, None)
            elif isinstance(node, ast.ClassDef) and node.name in classes:
                for inner in ast.walk(node):
                    if (
                        isinstance(inner, ast.Call)
                        and isinstance(inner.func, ast.Attribute)
                        and inner.func.attr == "__init__"
                        and isinstance(inner.func.value, ast.Call)
                        and _name(inner.func.value.func) == "super"
                    ):
                        call(inner, classes[node.name], inner=True)
    for cls in classes.values():
        add(cls.slug, cls.status, set())
    for status, slug in _SQLSTATE.values():
        add(slug, status, {"constraint"})
    return found


def test_every_problem_type_raised_has_a_page_that_says_its_statuses_and_members() -> None:
    raised = _raised()
    assert {"not-a-member", "unknown-parameter", "overlapping-period", "rule-refused"} <= raised.keys()
    assert sorted(raised.keys() - PROBLEM_TYPES.keys()) == [], "raised without a page: add it to the registry"
    assert sorted(PROBLEM_TYPES.keys() - raised.keys()) == [], "a page for a type nothing raises"
    for slug, (statuses, members) in raised.items():
        page = PROBLEM_TYPES[slug]
        assert statuses - {None} <= set(page.statuses), (slug, statuses, page.statuses)
        assert members <= set(page.members), (slug, members - set(page.members))
    assert raised["membership-overlap"][1] == {"conflicting_membership_id", "conflicting_membership"}
    assert raised["no-rule-set"][1] == {"emulation_year"}  # through `super().__init__`
    assert raised["unknown-parameter"][0] == {400}  # a module constant as the slug


def _html(response: httpx.Response) -> str:
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/html")
    return response.text


async def test_every_problem_type_resolves_in_vietnamese_and_english_without_a_credential(
    app: FastAPI,
) -> None:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://thidua.test") as anonymous:
        index = await anonymous.get("/problems", headers={"Accept": "application/json"})
        assert index.status_code == 200, index.text
        assert {item["type"] for item in index.json()["items"]} == {f"/problems/{s}" for s in PROBLEM_TYPES}
        listed = _html(await anonymous.get("/problems"))
        for slug in PROBLEM_TYPES:
            assert f'href="/problems/{slug}?lang=vi"' in listed, slug
            assert _html(await anonymous.get(f"/problems/{slug}")).count("<h1>") == 1, slug

        # A browser's page, Vietnamese by default: what it means, its status, members, what to do.
        vi = await anonymous.get("/problems/not-a-member", headers={"Accept": "text/html,*/*;q=0.8"})
        page = _html(vi)
        assert vi.headers["content-language"] == "vi"
        assert {"Accept", "Accept-Language"} <= {v.strip() for v in vi.headers["vary"].split(",")}
        assert '<html lang="vi">' in page
        assert "<h1>Không phải thành viên trong năm đó</h1>" in page
        assert "409 Xung đột" in page
        assert "<code>field</code>" in page
        assert "<code>/problems/not-a-member</code>" in page
        again = await anonymous.get("/problems/not-a-member", headers={"If-None-Match": vi.headers["etag"]})
        assert again.status_code == 304

        # A program's JSON, in English on request.
        en = await anonymous.get(
            "/problems/not-a-member", headers={"Accept": "application/json", "Accept-Language": "en"}
        )
        assert en.status_code == 200
        assert en.headers["content-language"] == "en"
        body: dict[str, Any] = en.json()
        assert body["type"] == "/problems/not-a-member"
        assert (body["title"], body["statuses"], body["members"]) == (
            "Not a member that year",
            [409],
            ["field"],
        )
        assert body["description"].startswith("A unit the request names")
        assert body["action"] == "Name a member of the cluster that year, or first record the membership."

        missing = await anonymous.get("/problems/no-such-problem", headers={"Accept-Language": "en"})
        assert (
            problem(missing, 404, "not-found")["detail"]
            == "No problem type no-such-problem; the list is at /problems."
        )
