"""The layers of `app/`, read from the source (every import, those inside functions too):

- `app/core` is the floor: it imports nothing of the app outside `app.core`;
- the feature packages (`app/<feature>/`) import each other without a cycle, direct or through
  others;
- no feature imports what sits above the features: the reference loader (`app.reference`) and
  the importer (`app.history`).

Imports being removed by work under way are listed below; a second test fails once one is gone,
so the lists only shrink.
"""

import ast
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

APP = Path(__file__).resolve().parent.parent / "app"

CORE = "core"
ABOVE_FEATURES = {"app.reference", "app.history"}
"""The reference loader and the importer: they call the features, never the other way round."""

CORE_IMPORTS_BEING_REMOVED: set[tuple[str, str]] = set()
"""(module, import) of `app/core` importing a feature, which work under way removes (identity
moves to `app/auth/`, issue 19 item 1). Never add to it."""

CYCLES_BEING_BROKEN: set[frozenset[str]] = set()
"""Feature packages that import each other in a cycle today, which work under way breaks
(issue 19, item 5: awards and votes). Never add to it."""


@dataclass(frozen=True)
class Import:
    module: str  # the importing module, `app.units.service`
    target: str  # the module imported, `app.core.cache`
    line: int

    def __str__(self) -> str:
        return f"{self.module} (line {self.line}) imports {self.target}"


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(APP.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _is_module(name: str) -> bool:
    path = APP.parent.joinpath(*name.split("."))
    return path.with_suffix(".py").is_file() or (path / "__init__.py").is_file()


def _targets(node: ast.Import | ast.ImportFrom, module: str, is_package: bool) -> Iterator[str]:
    if isinstance(node, ast.Import):
        yield from (alias.name for alias in node.names)
        return
    base = node.module or ""
    if node.level:
        package = module.split(".") if is_package else module.split(".")[:-1]
        anchor = package[: len(package) - node.level + 1]
        base = ".".join([*anchor, *([base] if base else [])])
    for alias in node.names:
        submodule = f"{base}.{alias.name}"
        yield submodule if _is_module(submodule) else base  # `from app.x import service` or a name


def app_imports() -> list[Import]:
    """Every import of a module of the app by a module under `app/`."""
    found = set()
    for path in sorted(APP.rglob("*.py")):
        module = _module_name(path)
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), filename=str(path))):
            if isinstance(node, ast.Import | ast.ImportFrom):
                for target in _targets(node, module, path.name == "__init__.py"):
                    if target == "app" or target.startswith("app."):
                        found.add(Import(module, target, node.lineno))
    return sorted(found, key=lambda i: (i.module, i.line, i.target))


def _package(module: str) -> str | None:
    """The package of `app` a module belongs to (`units` for `app.units.service`), or None for
    a module of `app` itself (`app.main`, `app.reference`)."""
    parts = module.split(".")
    return parts[1] if len(parts) > 2 or (len(parts) == 2 and (APP / parts[1]).is_dir()) else None


def _features() -> set[str]:
    above = {name.split(".")[1] for name in ABOVE_FEATURES}
    return {p.name for p in APP.iterdir() if (p / "__init__.py").is_file()} - {CORE} - above


def _within(module: str, name: str) -> bool:
    return module == name or module.startswith(f"{name}.")


def _core_imports_outside() -> list[Import]:
    return [
        i
        for i in app_imports()
        if _package(i.module) == CORE and not _within(i.target, f"app.{CORE}") and i.target != "app"
    ]


def _feature_graph() -> dict[str, dict[str, list[Import]]]:
    """Feature package → the feature packages it imports → the imports that do it."""
    features = _features()
    graph: dict[str, dict[str, list[Import]]] = {f: {} for f in features}
    for i in app_imports():
        source, target = _package(i.module), _package(i.target)
        if source in features and target in features and source != target:
            graph[source].setdefault(target, []).append(i)
    return graph


def _cycles(graph: dict[str, dict[str, list[Import]]]) -> list[set[str]]:
    """The strongly connected components of more than one package (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    components: list[set[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in sorted(graph[v]):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = set()
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.add(w)
                if w == v:
                    break
            if len(component) > 1:
                components.append(component)

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return components


def _describe(component: set[str], graph: dict[str, dict[str, list[Import]]]) -> str:
    edges = [
        f"  {source} -> {target}: " + "; ".join(map(str, graph[source][target]))
        for source in sorted(component)
        for target in sorted(graph[source])
        if target in component
    ]
    return f"feature packages {sorted(component)} import each other in a cycle:\n" + "\n".join(edges)


def test_the_reader_sees_every_kind_of_import() -> None:
    """The reader resolves relative imports, `from package import module` and imports inside
    functions (checked on modules known to use them)."""
    found = {(i.module, i.target) for i in app_imports()}
    assert ("app.reference", "app.units.reference") in found
    assert ("app.main", "app.memberships.router") in found
    assert ("app.__main__", "app.history.importer") in found  # inside a function


def test_core_imports_no_feature() -> None:
    wrong = [i for i in _core_imports_outside() if (i.module, i.target) not in CORE_IMPORTS_BEING_REMOVED]
    assert not wrong, "app/core is the floor and imports nothing above it:\n" + "\n".join(map(str, wrong))


def test_features_import_each_other_without_a_cycle() -> None:
    graph = _feature_graph()
    wrong = [c for c in _cycles(graph) if frozenset(c) not in CYCLES_BEING_BROKEN]
    assert not wrong, "\n".join(_describe(c, graph) for c in wrong)


def test_no_feature_imports_the_reference_loader_or_the_importer() -> None:
    features = _features()
    wrong = [
        i
        for i in app_imports()
        if _package(i.module) in features and any(_within(i.target, name) for name in ABOVE_FEATURES)
    ]
    assert not wrong, "a feature imports what sits above the features:\n" + "\n".join(map(str, wrong))


def _defines_tables(path: Path) -> bool:
    """Whether the module defines a table (`class …(SQLModel, table=True)`)."""
    return any(
        isinstance(node, ast.ClassDef)
        and any(
            k.arg == "table" and isinstance(k.value, ast.Constant) and k.value.value for k in node.keywords
        )
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8")))
    )


def test_every_feature_is_assembled() -> None:
    """A feature's router is registered by `app.main`, its tables imported by `app.models` (for
    Alembic, the contract test and the tests' reset): forgetting either fails here, by name."""
    imported = {(i.module, i.target) for i in app_imports()}
    wanted = [
        (f"app.{f}.router", "app.main") for f in sorted(_features()) if (APP / f / "router.py").is_file()
    ]
    wanted += [
        (_module_name(path), "app.models")
        for path in sorted(APP.rglob("models.py"))
        if _package(_module_name(path)) != CORE and _defines_tables(path)
    ]
    missing = [f"{by} does not import {module}" for module, by in wanted if (by, module) not in imported]
    assert not missing, "a feature not assembled:\n" + "\n".join(missing)


def test_the_lists_of_imports_being_removed_only_shrink() -> None:
    """An entry whose import is gone must leave the list, so that it cannot come back unseen."""
    core = {(i.module, i.target) for i in _core_imports_outside()}
    gone = sorted(CORE_IMPORTS_BEING_REMOVED - core)
    assert not gone, f"no longer imported, remove from CORE_IMPORTS_BEING_REMOVED: {gone}"
    cycles = {frozenset(c) for c in _cycles(_feature_graph())}
    broken = [sorted(c) for c in CYCLES_BEING_BROKEN - cycles]
    assert not broken, f"no longer a cycle, remove from CYCLES_BEING_BROKEN: {broken}"
