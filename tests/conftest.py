from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "tests" / "fixtures"


@pytest.fixture
def write_suite(tmp_path):
    """Write a suite document (YAML text) to a file and return its path."""
    def write(text: str, name: str = "suite.yaml") -> Path:
        path = tmp_path / name
        path.write_text(text)
        return path

    return write


MINIMAL = """
name: demo
normalizers:
  batch: {}
  group: {groups: 4}
  layer: {}
grid:
  batch_size: [8, 32]
  momentum: [0.9, 0.99]
seeds: [0, 1]
devices: [cpu]
"""


def pytest_collection_modifyitems(items):
    """Every test that trains a model (marker ``tensorflow``) is also ``slow``: the fast lane
    (``tox -e fast``, ``pytest -m "not slow"``) leaves them out."""
    for item in items:
        if item.get_closest_marker("tensorflow"):
            item.add_marker(pytest.mark.slow)
