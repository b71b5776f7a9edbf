"""Problem members belong to the features that raise them (issue 19, item 3).

`app.core.errors.Problem` keeps the members any operation may answer; a feature's problems carry
members of their own, declared in a subclass of `Problem` in the feature and named where the
status is documented (`problem_responses(…, models={409: MembershipConflict})`). These tests read
the source and the document: every member a service raises is declared by some problem model,
each member has one owner, each model has an example of its own that its schema accepts, and
each model is documented on an operation (or is the base of one that is).
"""

import ast
import importlib
import inspect
import pkgutil
from pathlib import Path
from typing import Any

import jsonschema_rs

import app as app_package
from app.core.errors import AppError, Problem, problem_responses
from app.main import app

APP = Path(app_package.__file__).resolve().parent

CORE_MEMBERS = {
    "type",
    "title",
    "status",
    "detail",
    "instance",
    "errors",
    "request_id",
    "field",
    "current_etag",
    "constraint",
    "available",
    "idempotency_key",
    "parameters",
    "accepted_parameters",
}
"""What the core raises itself (`current_etag`, `constraint`, `available`, `idempotency_key`,
`parameters`, `accepted_parameters`) or every feature shares (`field`), beside RFC 9457's."""

NOT_ANSWERED = {"UnitNameUnresolved"}
"""Problem models no operation answers: the history importer's name lookup raises it."""

_ARGUMENTS = {"detail", "slug", "headers", "errors", "instance"}
"""Keyword arguments of `AppError` and `problem_response` that are not extension members."""


def _all_modules() -> None:
    for module in pkgutil.walk_packages(app_package.__path__, "app."):
        importlib.import_module(module.name)


def _subclasses(cls: type) -> list[type]:
    found: list[type] = []
    stack = [cls]
    while stack:
        for sub in stack.pop().__subclasses__():
            if sub.__module__.startswith("app.") and sub not in found:
                found.append(sub)
                stack.append(sub)
    return found


def _problem_models() -> list[type[Problem]]:
    _all_modules()
    return [m for m in _subclasses(Problem) if issubclass(m, Problem)]


def _own_fields(model: type[Problem]) -> set[str]:
    return set(inspect.get_annotations(model)) & set(model.model_fields)


def _name(node: ast.expr) -> str | None:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        return node.attr
    return None


def _raised_members() -> dict[str, list[str]]:
    """Extension member → where it is raised: keyword arguments of the problem classes that take
    them (those keeping `AppError.__init__`) and of `problem_response`, and of `super().__init__`
    inside the classes with an `__init__` of their own. Members passed as `**mapping` are not seen
    here (the batch's report, a figure period outside its unit: their own tests cover them)."""
    _all_modules()
    errors = [AppError, *_subclasses(AppError)]
    taking = {c.__name__ for c in errors if c.__init__ is AppError.__init__} | {"problem_response"}
    own_init = {c.__name__ for c in errors if c.__init__ is not AppError.__init__}
    found: dict[str, list[str]] = {}

    def collect(call: ast.Call, where: str) -> None:
        for keyword in call.keywords:
            if keyword.arg is not None and keyword.arg not in _ARGUMENTS:
                found.setdefault(keyword.arg, []).append(where)

    for path in sorted(APP.rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        where = str(path.relative_to(APP.parent))
        for node in ast.walk(tree):
            if isinstance(node, ast.Call) and _name(node.func) in taking:
                collect(node, f"{where}:{node.lineno}")
            elif isinstance(node, ast.ClassDef) and node.name in own_init:
                for call in ast.walk(node):
                    if (
                        isinstance(call, ast.Call)
                        and isinstance(call.func, ast.Attribute)
                        and call.func.attr == "__init__"
                        and isinstance(call.func.value, ast.Call)
                        and _name(call.func.value.func) == "super"
                    ):
                        collect(call, f"{where}:{call.lineno}")
    return found


def test_the_core_problem_keeps_only_what_every_feature_shares() -> None:
    assert set(Problem.model_fields) == CORE_MEMBERS


def test_the_reader_sees_the_members_raised() -> None:
    """Checked on raise sites known to exist: a keyword argument, one in a class of a feature,
    and one through `super().__init__` (`NoRuleSet`)."""
    raised = _raised_members()
    assert any(w.startswith("app/memberships/") for w in raised["conflicting_membership_id"])
    assert any(w.startswith("app/core/etag.py") for w in raised["current_etag"])
    assert any(w.startswith("app/rules/service.py") for w in raised["emulation_year"])
    assert any(w.startswith("app/votes/") for w in raised["tied"])


def test_every_member_raised_is_declared_by_a_problem_model() -> None:
    declared = set(Problem.model_fields).union(*(m.model_fields for m in _problem_models()))
    raised = _raised_members()
    missing = {member: where for member, where in raised.items() if member not in declared}
    assert not missing, f"members raised but declared by no problem model: {missing}"


def test_each_member_has_one_owner() -> None:
    """A member two features use is declared once, by the feature whose vocabulary it is, and
    the others extend that model."""
    owners: dict[str, list[str]] = {}
    for model in _problem_models():
        for member in _own_fields(model):
            owners.setdefault(member, []).append(f"{model.__module__}.{model.__name__}")
    shared = {member: names for member, names in owners.items() if len(names) > 1 or member in CORE_MEMBERS}
    assert not shared, shared


def test_each_problem_model_lives_in_its_feature() -> None:
    for model in _problem_models():
        parts = model.__module__.split(".")
        assert parts[1] != "core", model
        assert parts[-1] in {"schemas", "problems"}, model


def _example(model: type[Problem]) -> dict[str, Any] | None:
    extra = model.__dict__.get("model_config", {}).get("json_schema_extra")
    if not isinstance(extra, dict):
        return None
    example = extra.get("example")
    return example if isinstance(example, dict) else None


def test_each_problem_model_has_an_example_of_its_own_that_its_schema_accepts() -> None:
    for model in _problem_models():
        example = _example(model)
        assert example is not None, f"{model.__name__} has no example of its own"
        assert all(example != _example(base) for base in model.__mro__[1:] if isinstance(base, type)), model
        assert str(example["type"]).startswith("/problems/"), model
        assert example.keys() & _own_fields(model), f"{model.__name__}'s example shows none of its members"
        errors = [
            e.message for e in jsonschema_rs.validator_for(model.model_json_schema()).iter_errors(example)
        ]
        assert errors == [], (model.__name__, errors)
        model.model_validate(example)


def _documented() -> dict[str, list[str]]:
    """Problem schema → the statuses of operations that answer it."""
    found: dict[str, list[str]] = {}
    for path, item in app.openapi()["paths"].items():
        for method, operation in item.items():
            for status, response in operation["responses"].items():
                schema = response.get("content", {}).get("application/problem+json", {}).get("schema")
                if schema is not None:
                    name = schema["$ref"].rsplit("/", 1)[-1]
                    found.setdefault(name, []).append(f"{method.upper()} {path} {status}")
    return found


def test_each_problem_model_is_documented_where_it_is_answered() -> None:
    documented = _documented()
    schemas = app.openapi()["components"]["schemas"]
    models = _problem_models()
    used = {m for m in models if m.__name__ in documented}
    for model in used:
        assert model.__name__ in schemas, model
        assert {"type", "title", "status"} <= set(schemas[model.__name__]["properties"])
    bases = {base for m in used for base in m.__mro__ if base in models}
    forgotten = {m.__name__ for m in models} - {m.__name__ for m in used | bases} - NOT_ANSWERED
    assert not forgotten, f"problem models no operation documents: {forgotten}"
    assert documented["MembershipConflict"] == [
        "POST /v1/memberships 409",
        "PATCH /v1/memberships/{membership_id} 409",
    ]
    assert sorted(documented["FiguresBatchProblem"]) == [
        f"POST /v1/figures:batch {s}" for s in (403, 409, 413, 422)
    ]
    assert documented["RuleSetMissing"] == ["GET /v1/rule-sets/for-year/{year} 404"]


def test_problem_responses_names_the_model_of_a_status() -> None:
    class Example(Problem):
        member: int | None = None

    responses = problem_responses(404, 413, models={409: Example})
    assert sorted(responses) == [400, 404, 409, 413, 415]
    assert responses[409]["model"] is Example
    assert responses[409]["content"]["application/problem+json"]["schema"] == {
        "$ref": "#/components/schemas/Example"
    }
    assert all(responses[s]["model"] is Problem for s in (400, 404, 413, 415))
    assert problem_responses(415, models={415: Example})[415]["model"] is Example


def test_each_status_has_an_example_of_its_own() -> None:
    """Every problem answer the contract documents shows an example of that status and a problem
    type, not one 404 under every status (issue 22)."""
    shown: dict[int, set[str]] = {}
    document = app.openapi()
    examples = document["components"]["examples"]
    for item in document["paths"].values():
        for operation in item.values():
            for status, response in operation["responses"].items():
                content = response.get("content", {}).get("application/problem+json")
                if content is None:
                    continue
                reference = content["examples"]["problem"]["$ref"]
                example = examples[reference.removeprefix("#/components/examples/")]["value"]
                assert example["status"] == int(status), (operation["operationId"], status)
                assert example["type"].startswith("/problems/")
                shown.setdefault(int(status), set()).add(example["detail"])
    assert {400, 401, 403, 404, 406, 409, 412, 413, 415, 422, 428, 429, 500, 503} <= shown.keys()
    assert len({detail for details in shown.values() for detail in details}) >= len(shown)
