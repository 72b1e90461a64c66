"""House rules for the code itself: no import circles between the generator's modules."""
from __future__ import annotations

import ast

from conftest import ROOT

PACKAGE = ROOT / "generator"


def _module_name(path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imports() -> dict[str, set[str]]:
    """Each module's run-time imports of other generator modules (not those under `if TYPE_CHECKING:`).

    `from generator.x import y` depends on `generator.x.y` when that is a module, else on `generator.x`.
    """
    modules = {_module_name(p): p for p in PACKAGE.rglob("*.py")}
    graph = {}
    for name, path in modules.items():
        found = set()
        for node in ast.parse(path.read_text(encoding="utf-8")).body:  # top level: what runs on import
            if isinstance(node, ast.ImportFrom) and node.module and node.module.split(".")[0] == "generator":
                submodules = {f"{node.module}.{a.name}" for a in node.names} & modules.keys()
                found |= submodules if len(submodules) == len(node.names) else submodules | {node.module}
            elif isinstance(node, ast.Import):
                found |= {a.name for a in node.names} & modules.keys()
        graph[name] = found & modules.keys()
    return graph


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected groups of more than one module (Tarjan), i.e. import circles."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    circles = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        for other in sorted(graph[node]):
            if other not in index:
                visit(other)
                low[node] = min(low[node], low[other])
            elif other in stack:
                low[node] = min(low[node], index[other])
        if low[node] == index[node]:
            group = []
            while True:
                member = stack.pop()
                group.append(member)
                if member == node:
                    break
            if len(group) > 1:
                circles.append(sorted(group))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return circles


def test_the_finder_sees_a_circle_when_there_is_one():
    assert _cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    assert _cycles({"a": {"b"}, "b": set()}) == []


def test_no_generator_module_imports_itself_back():
    graph = _imports()
    assert "generator.capabilities" in graph and "generator.queries" in graph["generator.rules.recording"]
    assert _cycles(graph) == []
