from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import SEEDS

HERE = Path(__file__).resolve().parent
ARTICLES = HERE / "articles"
ANNOTATIONS = HERE / "annotations"
HELDOUT = HERE / "heldout"
BLIND = HERE / "blind"


def seed(name: str) -> Path:
    """A seed article from ../shared/seeds (read in place, never copied); skips the test where it is absent."""
    matches = sorted(SEEDS.glob(f"{name}*.txt")) if SEEDS.exists() else []
    if not matches:
        pytest.skip(f"seed article {name} not found in {SEEDS}")
    return matches[0]
