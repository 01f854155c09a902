"""The package's layers (ARCHITECTURE.md): imports run only downward, and no two modules import each other.

Every ``import`` of an ``airunway`` module counts, those inside functions too (a lazy import is still a
dependency); only imports under ``if TYPE_CHECKING:`` are left out. The cycle check looks at module-level
imports, the ones that run when a module is loaded.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import airunway

ROOT = Path(airunway.__file__).parent

LAYERS: tuple[tuple[str, ...], ...] = (
    ("airunway", "airunway.dicts", "airunway.safeyaml", "airunway.versions"),
    ("airunway.kube",),
    ("airunway.api",),
    ("airunway.policy", "airunway.sandbox"),
    ("airunway.controller", "airunway.providers", "airunway.server"),
    ("airunway.local",),
    ("airunway.cli",),
)
"""Lowest first. A module may import its own package and any package of a lower layer, never one of its own layer
or above."""

POLICY_MAY_USE_FROM_KUBE = {"airunway.kube.resources"}
"""The pure policy talks to no API server: of the runtime it may use only the resource identities."""
CLIENT_LIBRARIES = ("aiohttp", "kubernetes_asyncio", "httpx", "urllib.request", "fastapi", "uvicorn")


def _module_name(path: Path) -> str:
    parts = ("airunway", *path.relative_to(ROOT).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {_module_name(path): path for path in ROOT.rglob("*.py")}


def _imports(module: str, path: Path, *, top_level_only: bool) -> set[str]:
    """The modules ``module`` imports: ``airunway`` ones resolved to the module (``from pkg import sub`` is pkg.sub),
    others by their dotted name."""
    found: set[str] = set()
    package = module.split(".") if path.name == "__init__.py" else module.split(".")[:-1]

    def record(node: ast.Import | ast.ImportFrom) -> None:
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
            return
        base = node.module or ""
        if node.level:
            base = ".".join([*package[: len(package) - node.level + 1], *([node.module] if node.module else [])])
        for alias in node.names:
            sub = f"{base}.{alias.name}"
            found.add(sub if sub in MODULES else base)

    def visit(node: ast.AST) -> None:
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            visit_all(node.orelse)
            return
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            record(node)
            return
        if top_level_only and isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)):
            return  # runs later, not when the module loads
        for child in ast.iter_child_nodes(node):
            visit(child)

    def visit_all(nodes: list[ast.stmt]) -> None:
        for node in nodes:
            visit(node)

    visit(ast.parse(path.read_text(encoding="utf-8")))
    return found


def _package(module: str) -> tuple[int, str]:
    """The layer and the package (the most specific entry of :data:`LAYERS`) a module belongs to."""
    best: tuple[int, str] | None = None
    for rank, packages in enumerate(LAYERS):
        for package in packages:
            if module == package or (package != "airunway" and module.startswith(package + ".")):
                if best is None or len(package) > len(best[1]):
                    best = (rank, package)
    assert best is not None, f"{module} belongs to no layer: add it to LAYERS and ARCHITECTURE.md"
    return best


def upward_imports() -> list[str]:
    problems = []
    for module, path in sorted(MODULES.items()):
        rank, package = _package(module)
        for target in sorted(_imports(module, path, top_level_only=False)):
            if not target.startswith("airunway"):
                if package == "airunway.policy" and target.startswith(CLIENT_LIBRARIES):
                    problems.append(f"{module} imports the client library {target}; policy makes no calls")
                continue
            target_rank, target_package = _package(target)
            if target_package == package or target_rank < rank:
                if package == "airunway.policy" and target_package == "airunway.kube" and target not in POLICY_MAY_USE_FROM_KUBE:
                    problems.append(f"{module} imports {target}; policy may use only {sorted(POLICY_MAY_USE_FROM_KUBE)}")
                continue
            problems.append(f"{module} (layer {rank}, {package}) imports {target} (layer {target_rank}, {target_package})")
    return problems


def import_cycles() -> list[list[str]]:
    graph = {module: _imports(module, path, top_level_only=True) & MODULES.keys() for module, path in MODULES.items()}
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    cycles: list[list[str]] = []

    def connect(node: str) -> None:  # Tarjan's strongly connected components
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for target in graph[node]:
            if target not in index:
                connect(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                cycles.append(sorted(component))

    for module in graph:
        if module not in index:
            connect(module)
    return cycles


def test_every_module_belongs_to_a_layer():
    for module in MODULES:
        _package(module)


def test_no_module_imports_upward_or_sideways():
    assert upward_imports() == []


def test_no_import_cycles():
    assert import_cycles() == []


@pytest.mark.parametrize(
    ("source", "target", "allowed"),
    [
        ("airunway.policy.render", "airunway.controller.reconciler", False),  # upward
        ("airunway.providers.reconciler", "airunway.controller.reconciler", False),  # sideways
        ("airunway.server.services.gateway", "airunway.policy.gateway", True),
        ("airunway.api.crds", "airunway.sandbox.cluster", False),
        ("airunway.sandbox.cluster", "airunway.api.crds", True),
    ],
)
def test_the_rule_itself(source, target, allowed):
    """The checker is not vacuous: it tells a downward import from an upward or sideways one."""
    rank, package = _package(source)
    target_rank, target_package = _package(target)
    assert (target_package == package or target_rank < rank) is allowed
