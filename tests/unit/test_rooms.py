"""The shape of the package stays as docs/ARCHITECTURE.md draws it (the layer contracts are
import-linter's, in pyproject.toml; these are the size and cycle rules it cannot check)."""

from __future__ import annotations

import ast
from pathlib import Path

import grimp

import mlarena_sync

PACKAGE = Path(mlarena_sync.__file__).resolve().parent


def _cycles(graph: grimp.ImportGraph) -> list[set[str]]:
    """Strongly connected groups of modules (imports inside functions and TYPE_CHECKING
    blocks included): every one of them is an import cycle."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found: list[set[str]] = []

    def visit(module: str) -> None:
        index[module] = low[module] = len(index)
        stack.append(module)
        for other in graph.find_modules_directly_imported_by(module):
            if other not in index:
                visit(other)
                low[module] = min(low[module], low[other])
            elif other in stack:
                low[module] = min(low[module], index[other])
        if low[module] == index[module]:
            group = set()
            while True:
                other = stack.pop()
                group.add(other)
                if other == module:
                    break
            if len(group) > 1:
                found.append(group)

    for module in sorted(graph.modules):
        if module not in index:
            visit(module)
    return found


def test_no_import_cycle() -> None:
    assert _cycles(grimp.build_graph("mlarena_sync")) == []


def test_modules_stay_small_and_functions_short() -> None:
    long_modules, long_functions = [], []
    for path in sorted(PACKAGE.rglob("*.py")):
        source = path.read_text(encoding="utf-8")
        lines = source.count("\n")
        if lines > 400:
            long_modules.append((lines, path.relative_to(PACKAGE).as_posix()))
        for node in ast.walk(ast.parse(source)):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                length = (node.end_lineno or node.lineno) - node.lineno + 1
                if length > 80:
                    long_functions.append(f"{path.name}:{node.name} ({length} lines)")
    assert len(long_modules) <= 2 and all(n <= 600 for n, _ in long_modules), long_modules
    assert long_functions == []


#: The modules that talk HTTP (reply types, ``api.models``, are only data: commands render them).
HTTP = ("client", "v0", "v4", "http", "transport", "generation", "retry", "multipart", "responses")


def test_at_most_one_command_module_reaches_the_http_client() -> None:
    graph = grimp.build_graph("mlarena_sync")
    http = {f"mlarena_sync.api.{name}" for name in HTTP}
    commands = [m for m in graph.modules if m.startswith("mlarena_sync.commands.")]
    direct = [m for m in commands if http & graph.find_modules_directly_imported_by(m)]
    assert len(direct) <= 1, direct
