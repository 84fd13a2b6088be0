"""Dependencies point one way (CONTRIBUTING.md): product code never imports the sandbox, the demo, the
benchmarks or the tests; the benchmarks never import the tests."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PRODUCT = ("core", "pipelines", "assets", "transforms", "report", "kontor")
FORBIDDEN = {
    **{layer: {"sandbox", "demo", "bench", "tests"} for layer in PRODUCT},
    "bench": {"tests", "demo"},
}
# the neutral core builds on no other Kontor package
FORBIDDEN["core"] |= {"pipelines", "assets", "transforms", "report", "kontor"}


def imported_packages(path: Path) -> set[str]:
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            found.add(node.module.split(".")[0])
    return found


@pytest.mark.parametrize("layer", sorted(FORBIDDEN))
def test_layer_imports_only_what_it_may(layer):
    files = sorted((ROOT / layer).rglob("*.py"))
    assert files
    wrong = {str(f.relative_to(ROOT)): sorted(imported_packages(f) & FORBIDDEN[layer]) for f in files}
    assert {f: w for f, w in wrong.items() if w} == {}
