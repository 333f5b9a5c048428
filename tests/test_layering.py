"""The house plan's layering, checked by walking every module's imports (``ast``, nothing third-party).

``core`` is the leaf: event keys, Chunk and positions, errors, metrics, tags, time formatting.
The stages (``parsers``, ``enrich``) and the stores (``store``: DuckDB day files, ``elastic``:
Elasticsearch) build on it alone; ``ingest`` and ``query`` on those, side by side (neither imports
the other); ``ui`` (the web page) and ``alerts`` (rules are queries) build on ``query`` and ``core``
only, never on ``ingest``; ``logferry`` is the roof (config, the commands, the wiring that builds
components from settings) and nothing below it imports it. Imports inside functions and under ``TYPE_CHECKING``
count like any other: a lazy import still ties the packages together.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
OURS = frozenset(
    {"core", "parsers", "enrich", "store", "elastic", "ingest", "query", "ui", "alerts", "logferry", "bench", "tests"}
)

ALLOWED: dict[str, frozenset[str]] = {
    "core": frozenset({"core"}),
    "parsers": frozenset({"core", "parsers"}),
    "enrich": frozenset({"core", "enrich"}),
    "store": frozenset({"core", "store"}),
    "elastic": frozenset({"core", "elastic"}),
    "ui": frozenset({"core", "query", "ui"}),
    "alerts": frozenset({"core", "query", "alerts"}),
}
"""Per lower package, the packages of ours it may import; those not listed here have rules below."""

NEVER: dict[str, frozenset[str]] = {
    "query": frozenset({"ingest", "parsers", "ui", "alerts", "logferry", "bench", "tests"}),
    "ingest": frozenset({"query", "ui", "alerts", "logferry", "bench", "tests"}),
    "logferry": frozenset({"bench", "tests"}),
}
"""Per upper package, the packages of ours it must not import (``logferry`` is the roof)."""


def imported_modules(path: Path, root: Path = ROOT) -> list[tuple[int, str]]:
    """Every module a file imports, absolute (relative imports resolved), with its line number."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    package = path.relative_to(root).with_suffix("").parts[:-1]
    found: list[tuple[int, str]] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.extend((node.lineno, alias.name) for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package[: len(package) - node.level + 1]
                module = ".".join([*base, node.module] if node.module else base)
            else:
                module = node.module or ""
            found.append((node.lineno, module))
    return found


def modules_of(package: str) -> list[Path]:
    return sorted((ROOT / package).rglob("*.py"))


def violations(package: str) -> list[str]:
    """``file:line imports module`` for each import of ours the package's rule forbids."""
    allowed = ALLOWED.get(package)
    never = NEVER.get(package, frozenset())
    found = []
    for path in modules_of(package):
        for line, module in imported_modules(path):
            top = module.split(".")[0]
            if top not in OURS:
                continue
            if (allowed is not None and top not in allowed) or top in never:
                found.append(f"{path.relative_to(ROOT)}:{line} imports {module}")
    return found


@pytest.mark.parametrize("package", ["core", "store", "ui", "alerts"])
def test_the_leaf_packages_exist(package: str) -> None:
    assert modules_of(package), f"{package}/ has no modules"


@pytest.mark.parametrize("package", sorted({*ALLOWED, *NEVER}))
def test_a_package_imports_only_the_layers_below_it(package: str) -> None:
    assert violations(package) == []


def test_the_walk_sees_lazy_and_relative_imports(tmp_path: Path) -> None:
    """The checker itself: an import inside a function or a relative one is not missed."""
    probe = tmp_path / "core" / "probe.py"
    probe.parent.mkdir()
    probe.write_text("def f():\n    from ingest import pipeline\n\nfrom ..query import app\nimport store.day\n")
    assert sorted(module for _, module in imported_modules(probe, tmp_path)) == ["ingest", "query", "store.day"]
