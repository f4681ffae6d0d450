"""No import cycles inside the package: each module's imports of other package modules,
read from its source (imports inside functions and ``TYPE_CHECKING`` blocks included, since
a cycle that an import inside a function hides is still a cycle of the design)."""

from __future__ import annotations

import ast
from collections import deque
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = "llmemb_utils"


def module_files(root: Path, package: str) -> dict[str, Path]:
    """Dotted module name -> file, for every module of ``package`` under ``root``."""
    modules = {}
    for path in sorted((root / package).rglob("*.py")):
        parts = path.relative_to(root).with_suffix("").parts
        modules[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = path
    return modules


def import_graph(root: Path, package: str) -> dict[str, set[str]]:
    """Module -> the package modules it imports anywhere in its source."""
    modules = module_files(root, package)
    return {name: _imported(name, path, modules) for name, path in modules.items()}


def _imported(name: str, path: Path, modules: dict[str, Path]) -> set[str]:
    own_package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = own_package.split(".")[:len(own_package.split(".")) - node.level + 1]
                base = ".".join([*anchor, *([node.module] if node.module else [])])
            # `from pkg import name`: the submodule pkg.name if there is one, else pkg itself
            targets = [f"{base}.{alias.name}" if f"{base}.{alias.name}" in modules else base
                       for alias in node.names]
        else:
            continue
        for target in targets:
            while target and target not in modules:  # `import pkg.mod.attr` -> pkg.mod
                target = target.rpartition(".")[0]
            if target and target != name:
                found.add(target)
    return found


def cycle_through(module: str, graph: dict[str, set[str]]) -> list[str] | None:
    """The shortest import cycle from ``module`` back to itself, or None (breadth first)."""
    previous: dict[str, str] = {}
    queue = deque([module])
    while queue:
        current = queue.popleft()
        for imported in sorted(graph[current]):
            if imported == module:
                path = [current]
                while path[-1] != module:
                    path.append(previous[path[-1]])
                return [*reversed(path), module]
            if imported not in previous:
                previous[imported] = current
                queue.append(imported)
    return None


GRAPH = import_graph(ROOT, PACKAGE)


@pytest.mark.parametrize("module", sorted(GRAPH))
def test_module_is_on_no_import_cycle(module: str) -> None:
    cycle = cycle_through(module, GRAPH)
    assert cycle is None, "import cycle: " + " -> ".join(cycle)


def test_the_graph_sees_relative_function_level_and_package_imports(tmp_path: Path) -> None:
    """A hand-made package whose cycle a -> b -> c -> a hides its last step in a function,
    beside d, which imports a and is on no cycle."""
    package = tmp_path / "pkg"
    (package / "sub").mkdir(parents=True)
    (package / "__init__.py").write_text("")
    (package / "a.py").write_text("from .sub import b\n")
    (package / "sub" / "__init__.py").write_text("")
    (package / "sub" / "b.py").write_text("import pkg.sub.c as c\n")
    (package / "sub" / "c.py").write_text("def late():\n    from ..a import thing\n")
    (package / "d.py").write_text("from pkg import a\nfrom os import path\n")
    graph = import_graph(tmp_path, "pkg")
    assert graph == {"pkg": set(), "pkg.a": {"pkg.sub.b"}, "pkg.sub": set(),
                     "pkg.sub.b": {"pkg.sub.c"}, "pkg.sub.c": {"pkg.a"}, "pkg.d": {"pkg.a"}}
    assert cycle_through("pkg.a", graph) == ["pkg.a", "pkg.sub.b", "pkg.sub.c", "pkg.a"]
    assert cycle_through("pkg.sub.c", graph) == ["pkg.sub.c", "pkg.a", "pkg.sub.b", "pkg.sub.c"]
    assert cycle_through("pkg.d", graph) is None
