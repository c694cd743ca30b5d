"""docs/architecture.md stays the map of the code: every module is in its tree, every step of `up` is named."""

from __future__ import annotations

import ast
import re
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
PACKAGE = REPO / "src" / "kfinstall"
DOC = REPO / "docs" / "architecture.md"


def tree_in_doc() -> set[str]:
    """The module paths the doc's tree lists (`install/steps.py`), read from its indentation."""
    block = DOC.read_text().split("## The tree", 1)[1].split("```", 2)[1]
    listed, folder = set(), ""
    for line in block.splitlines():
        entry = re.match(r"^( *)(\S+)", line)
        if entry is None or entry[2] == "src/kfinstall/":
            continue
        if entry[2].endswith("/"):
            folder = entry[2]
        elif entry[2].endswith(".py"):
            listed.add((folder if len(entry[1]) > 2 else "") + entry[2])
    return listed


def modules_on_disk() -> set[str]:
    found = {path.relative_to(PACKAGE).as_posix() for path in PACKAGE.rglob("*.py")}
    return {name for name in found if not (name.endswith("/__init__.py"))}


def step_names() -> set[str]:
    tree = ast.parse((PACKAGE / "install" / "steps.py").read_text())
    return {
        node.value.value
        for node in ast.walk(tree)
        if isinstance(node, ast.AnnAssign)
        and isinstance(node.target, ast.Name)
        and node.target.id == "name"
        and isinstance(node.value, ast.Constant)
    }


def test_the_doc_s_tree_lists_every_module_and_no_module_that_is_gone() -> None:
    assert tree_in_doc() == modules_on_disk()


def test_the_doc_names_every_step_of_up() -> None:
    text = DOC.read_text()
    names = step_names()
    assert {"check-prerequisites", "install-components", "write-record"} <= names  # the steps were read
    assert [name for name in sorted(names) if f"`{name}`" not in text and f". {name} " not in text] == []
