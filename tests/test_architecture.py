"""The package's shape: the import graph of ``pipelines`` has no cycle, the core never imports
Dagster or the Dagster layer, and every module keeps a docstring.

The graph is built with ``ast`` from the source files (not by importing them), counting every
``import`` / ``from ... import`` of a ``pipelines`` module, also those inside functions (a lazy
import is still a dependency), but not those under ``if TYPE_CHECKING:`` (never run).
"""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "pipelines"


def module_name(path: Path) -> str:
    parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def modules() -> dict[str, Path]:
    return {module_name(p): p for p in sorted(PACKAGE.rglob("*.py"))}


def _runtime_nodes(tree: ast.AST) -> list[ast.AST]:
    """Every node of ``tree`` except the bodies of ``if TYPE_CHECKING:`` blocks."""
    out: list[ast.AST] = []
    todo = [tree]
    while todo:
        node = todo.pop()
        out.append(node)
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            todo.extend(node.orelse)
            continue
        todo.extend(ast.iter_child_nodes(node))
    return out


def imports_of(name: str, path: Path, known: set[str]) -> set[str]:
    """The ``pipelines`` modules ``name`` imports (``from pkg import mod`` counts ``pkg.mod``)."""
    is_pkg = path.name == "__init__.py"
    out: set[str] = set()
    for node in _runtime_nodes(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            out.update(a.name for a in node.names if a.name in known)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = name.split(".") if is_pkg else name.split(".")[:-1]
                base = base[: len(base) - (node.level - 1)]
                target = ".".join([*base, *([node.module] if node.module else [])])
            else:
                target = node.module or ""
            for a in node.names:
                if f"{target}.{a.name}" in known:
                    out.add(f"{target}.{a.name}")
                elif target in known:
                    out.add(target)
    out.discard(name)
    return out


def import_graph() -> dict[str, set[str]]:
    mods = modules()
    known = set(mods)
    return {name: imports_of(name, path, known) for name, path in mods.items()}


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One import cycle as a list of modules (first == last), or None."""
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(n: str) -> list[str] | None:
        state[n] = 1
        stack.append(n)
        for m in sorted(graph.get(n, ())):
            # importing a package runs its __init__, which is an edge to the package itself
            if state.get(m) == 1:
                return [*stack[stack.index(m):], m]
            if m not in state and (found := visit(m)):
                return found
        stack.pop()
        state[n] = 2
        return None

    for n in sorted(graph):
        if n not in state and (found := visit(n)):
            return found
    return None


def test_the_import_graph_has_no_cycle() -> None:
    graph = import_graph()
    assert len(graph) > 50 and graph["pipelines.core.warehouse"] >= {"pipelines.core.db", "pipelines.core.schema"}
    cycle = find_cycle(graph)
    assert cycle is None, "import cycle: " + " -> ".join(cycle or [])


def test_the_cycle_finder_finds_a_cycle() -> None:
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert find_cycle({"a": {"b"}, "b": set(), "c": {"a", "b"}}) is None


def test_the_core_imports_neither_dagster_nor_the_dagster_layer() -> None:
    """At module level (the CLI's release_dead_cli_runs, in pipelines/cli.py, is Dagster's side)."""
    for name, path in modules().items():
        if not name.startswith("pipelines.core"):
            continue
        for node in ast.parse(path.read_text()).body:
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else (
                [node.module or ""] if isinstance(node, ast.ImportFrom) else [])
            for n in names:
                assert not n.startswith(("dagster", "pipelines.defs")), f"{name} imports {n}"


def test_every_module_has_a_docstring() -> None:
    missing = [n for n, p in modules().items() if p.stat().st_size and not ast.get_docstring(ast.parse(p.read_text()))]
    assert missing == []


def test_docs_architecture_names_only_modules_that_exist() -> None:
    """Every module path docs/architecture.md names exists: ``core/x.py``, ``defs/y.py``, ``core/nlp/``,
    or a path relative to ``pipelines/core`` or ``pipelines/core/claims`` (``fetch/session.py``)."""
    import re

    text = (PACKAGE.parent / "docs" / "architecture.md").read_text()
    named = set(re.findall(r"`([\w/]+\.py|(?:core|defs)/[\w/]+/)[`:]", text))
    assert len(named) > 30
    roots = [PACKAGE, PACKAGE / "core", PACKAGE / "core" / "claims", PACKAGE.parent]
    missing = sorted(n for n in named if not any((r / n).exists() for r in roots))
    assert missing == []
