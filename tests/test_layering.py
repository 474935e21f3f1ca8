"""The pipeline's layering holds: the import-linter contracts in pyproject.toml are kept, and no
module imports itself back through others (an import circle), inside a layer or across."""

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import ROOT

grimp = pytest.importorskip("grimp")


def test_the_import_contracts_are_kept():
    linter = shutil.which("lint-imports") or str(Path(sys.executable).with_name("lint-imports"))
    result = subprocess.run([linter, "--no-cache"], cwd=ROOT, capture_output=True, text=True)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-2000:]
    assert "0 broken" in result.stdout


def test_no_import_circles():
    graph = grimp.build_graph("bench", "report", cache_dir=None)
    modules = sorted(graph.modules)
    state, cycles = {}, []

    def visit(module, path):
        state[module] = "open"
        for target in sorted(graph.find_modules_directly_imported_by(module)):
            if not target.startswith(("bench", "report")) or _is_package_of(target, module):
                continue
            if state.get(target) == "open":
                cycles.append(path[path.index(target):] + [target] if target in path else [module, target])
            elif target not in state:
                visit(target, path + [target])
        state[module] = "done"

    for module in modules:
        if module not in state:
            visit(module, [module])
    assert cycles == []


def _is_package_of(package: str, module: str) -> bool:
    """``from bench.suite import catalog`` inside bench.suite.grid imports the package only to reach
    a sibling; grimp records that as an import of the package, which is not a circle of modules."""
    return module.startswith(package + ".")
