"""The layout of `src/kfinstall` (issue 13): no import cycle, no private name used across modules, light packages.

Read from the source with `ast`, lazy imports inside functions included (they are how cycles hide), imports under
`if TYPE_CHECKING:` left out (they never run: annotations only).
"""

from __future__ import annotations

import ast
from pathlib import Path

import kfinstall

PACKAGE = Path(kfinstall.__file__).parent

#: Cycles allowed by name, each with what would break it (none left: a new one fails the test).
KNOWN_CYCLES: list[set[str]] = []


def modules() -> dict[str, Path]:
    found = {}
    for path in PACKAGE.rglob("*.py"):
        parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts = parts[:-1]
        found[".".join(parts)] = path
    return found


def _type_checking_only(tree: ast.Module) -> set[int]:
    """ids of the import nodes under `if TYPE_CHECKING:`."""
    skipped = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and isinstance(node.test, ast.Name) and node.test.id == "TYPE_CHECKING":
            skipped |= {id(inner) for inner in ast.walk(node)}
    return skipped


def imports(name: str, path: Path, known: dict[str, Path]) -> set[str]:
    """The kfinstall modules `name` imports (a `from package import module` counts as the module)."""
    tree = ast.parse(path.read_text())
    skipped = _type_checking_only(tree)
    found = set()
    for node in ast.walk(tree):
        if id(node) in skipped:
            continue
        targets: list[str] = []
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            targets = [node.module, *(f"{node.module}.{alias.name}" for alias in node.names)]
        for target in targets:
            if target in known and target != name and not name.startswith(target + ".") and target != "kfinstall":
                found.add(target)
    return found


def cycles(graph: dict[str, set[str]]) -> list[set[str]]:
    """The strongly connected components of more than one module (Tarjan's algorithm)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[set[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for target in sorted(graph[node]):
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            component = set()
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.add(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(component)

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def test_the_cycle_finder_finds_a_cycle() -> None:
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [{"a", "b", "c"}]


def test_no_new_import_cycle() -> None:
    known = modules()
    graph = {name: imports(name, path, known) for name, path in known.items()}
    assert graph["kfinstall.commands.up"]  # the graph was read (a module that imports nothing finds no cycle)
    new = [cycle for cycle in cycles(graph) if cycle not in KNOWN_CYCLES]
    assert new == []


def test_no_private_name_is_used_across_modules() -> None:
    known = modules()
    crossings = []
    for name, path in known.items():
        tree = ast.parse(path.read_text())
        aliases = set()  # names bound to kfinstall modules
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("kfinstall"):
                for alias in node.names:
                    if alias.name.startswith("_") and not alias.name.startswith("__"):
                        crossings.append(f"{name}: from {node.module} import {alias.name}")
                    if f"{node.module}.{alias.name}" in known:
                        aliases.add(alias.asname or alias.name)
            elif isinstance(node, ast.Import):
                aliases |= {alias.asname for alias in node.names if alias.asname and alias.name in known}
        for node in ast.walk(tree):
            if (
                isinstance(node, ast.Attribute)
                and isinstance(node.value, ast.Name)
                and node.value.id in aliases
                and node.attr.startswith("_")
                and not node.attr.startswith("__")
            ):
                crossings.append(f"{name}: {node.value.id}.{node.attr}")
    assert crossings == []


def test_package_init_files_hold_only_a_docstring() -> None:
    heavy = []
    for path in PACKAGE.rglob("__init__.py"):
        if path.parent == PACKAGE:
            continue  # kfinstall/__init__.py holds the version too
        body = ast.parse(path.read_text()).body
        if any(not (isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant)) for node in body):
            heavy.append(str(path.relative_to(PACKAGE)))
    assert heavy == []
