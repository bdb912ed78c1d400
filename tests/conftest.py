"""Shared test fixtures."""

from __future__ import annotations

from pathlib import Path

import pytest

from classify.paths import shared_dir


@pytest.fixture(scope="session")
def shared() -> Path:
    """The shared data directory (corpus + seed export); tests needing it skip without it."""
    root = shared_dir()
    if not (root / "corpus").is_dir() or not (root / "annotations" / "seed-export.json").is_file():
        pytest.skip(f"shared data not found at {root} (set CLASSIFY_SHARED_DIR); "
                    "this test needs the real corpus and seed export, which are not part of the repo")
    return root


@pytest.fixture(scope="session")
def corpus_dir(shared: Path) -> Path:
    return shared / "corpus"


@pytest.fixture(scope="session")
def seed_export(shared: Path) -> Path:
    return shared / "annotations" / "seed-export.json"
