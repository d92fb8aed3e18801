from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from drawdown.data import Dataset, default_data_dir, load_dataset

ROOT = Path(__file__).resolve().parents[1]
SCENARIOS = ROOT / "scenarios"
SEEDS = ROOT.parent / "shared" / "seeds"


@pytest.fixture(scope="session")
def data() -> Dataset:
    return load_dataset()


@pytest.fixture()
def data_copy(tmp_path: Path) -> Path:
    """A writable copy of the bundled data directory, for corruption tests."""
    target = tmp_path / "data"
    shutil.copytree(default_data_dir(), target, ignore=shutil.ignore_patterns("__pycache__", "*.py", "pending"))
    return target


def bundled_scenarios() -> list[Path]:
    return sorted(SCENARIOS.glob("*.yaml"))
