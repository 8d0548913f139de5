"""No import circles in scanner/: every import between its modules, at any depth, points one way."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = "scanner"


def module_files(root: Path, package: str) -> dict[str, Path]:
    """Map each dotted module name under ``root/package`` to its file (``pkg/__init__.py`` is ``pkg``)."""
    found = {}
    for path in sorted((root / package).rglob("*.py")):
        parts = path.relative_to(root).with_suffix("").parts
        name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        found[name] = path
    return found


def _resolve(module: str, is_package: bool, node: ast.ImportFrom) -> str:
    """Return the absolute module a ``from ... import`` names, resolving leading dots."""
    if not node.level:
        return node.module or ""
    base = module.split(".") if is_package else module.split(".")[:-1]
    base = base[: len(base) - (node.level - 1)]
    return ".".join(base + ([node.module] if node.module else []))


def _runtime_nodes(tree: ast.AST) -> Iterator[ast.AST]:
    """Every node but those under ``if TYPE_CHECKING:`` (read by type checkers only, never run)."""
    stack = [tree]
    while stack:
        node = stack.pop()
        yield node
        if isinstance(node, ast.If) and _names_type_checking(node.test):
            stack.extend(node.orelse)
        else:
            stack.extend(ast.iter_child_nodes(node))


def _names_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _is_import_module(node: ast.AST) -> bool:
    """``importlib.import_module("a.b")`` with a literal name is an import of ``a.b`` too."""
    return (
        isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and node.func.attr == "import_module"
        and len(node.args) == 1
        and isinstance(node.args[0], ast.Constant)
        and isinstance(node.args[0].value, str)
    )


def imports_of(module: str, path: Path, modules: set[str]) -> set[str]:
    """Return the modules of ``modules`` that ``module`` imports when it runs (functions included).

    ``from a import b`` is an import of ``a.b`` where that is a module, else of ``a``; so is
    ``importlib.import_module("a.b")`` with a literal name (a computed name cannot be seen); an import of
    ``a.b.c`` is of the deepest of those that is a module (its parent packages are not counted:
    Python runs them first, but they cannot name what they have not imported yet).
    """
    is_package = path.name == "__init__.py"
    targets: set[str] = set()
    for node in _runtime_nodes(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = _resolve(module, is_package, node)
            names = [
                f"{base}.{alias.name}" if f"{base}.{alias.name}" in modules else base for alias in node.names
            ]
        elif _is_import_module(node):
            names = [node.args[0].value]  # type: ignore[attr-defined]
        else:
            continue
        for name in names:
            while name and name not in modules:
                name = name.rpartition(".")[0]
            if name and name != module:
                targets.add(name)
    return targets


def import_graph(root: Path = ROOT, package: str = PACKAGE) -> dict[str, set[str]]:
    """Return module → the package's modules it imports."""
    files = module_files(root, package)
    return {name: imports_of(name, path, set(files)) for name, path in files.items()}


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """Return one import circle as a path ``[a, b, ..., a]``, or None (depth-first, three colours)."""
    done: set[str] = set()
    for start in sorted(graph):
        if start in done:
            continue
        path = [start]
        on_path = {start}
        stack = [iter(sorted(graph[start]))]
        while stack:
            nxt = next(stack[-1], None)
            if nxt is None:
                stack.pop()
                done.add(path[-1])
                on_path.discard(path.pop())
            elif nxt in on_path:
                return [*path[path.index(nxt) :], nxt]
            elif nxt not in done:
                path.append(nxt)
                on_path.add(nxt)
                stack.append(iter(sorted(graph.get(nxt, ()))))
    return None


def test_scanner_has_no_import_circle() -> None:
    graph = import_graph()
    assert len(graph) > 50, "the walk found too few modules: is the package path right?"
    cycle = find_cycle(graph)
    assert cycle is None, "import circle: " + " → ".join(cycle or [])


@pytest.mark.parametrize(
    ("files", "cycle"),
    [
        ({"a.py": "from p import b\n", "b.py": "def f():\n    from p.a import x\n"}, ["p.a", "p.b", "p.a"]),
        (
            {"a.py": "from . import b\n", "b.py": "from .c import y\n", "c.py": "import p.a\n"},
            ["p.a", "p.b", "p.c", "p.a"],
        ),
        ({"__init__.py": "from p.a import f\n", "a.py": "from p import g\n"}, ["p", "p.a", "p"]),
        (
            {"q/__init__.py": "", "q/r.py": "from .. import a\n", "a.py": "from p.q.r import z\n"},
            ["p.a", "p.q.r", "p.a"],
        ),
        (
            {"a.py": "import importlib\nimportlib.import_module('p.b')\n", "b.py": "import p.a\n"},
            ["p.a", "p.b", "p.a"],
        ),
        (
            {
                "a.py": "from p import b\n",
                "b.py": "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from p.a import T\n",
            },
            None,
        ),
        (
            {
                "a.py": "from p import b\n",
                "b.py": "import typing\nif typing.TYPE_CHECKING:\n    pass\nelse:\n    import p.a\n",
            },
            ["p.a", "p.b", "p.a"],
        ),
        ({"a.py": "from p import b\n", "b.py": "import os\n", "q/__init__.py": "from p.q import c\n"}, None),
    ],
)
def test_the_walk_finds_a_circle_at_any_depth(
    tmp_path: Path, files: dict[str, str], cycle: list[str] | None
) -> None:
    """The graph sees function-level, relative and ``from package import module`` imports alike."""
    (tmp_path / "p").mkdir()
    (tmp_path / "p" / "__init__.py").write_text("")
    for rel, text in files.items():
        (tmp_path / "p" / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / "p" / rel).write_text(text)
    assert find_cycle(import_graph(tmp_path, "p")) == cycle
