"""Where the project's bundled files live (models, annotations, sample letters)."""

from __future__ import annotations

import os
from pathlib import Path

PACKAGE_DIR = Path(__file__).resolve().parent
REPO_DIR = PACKAGE_DIR.parent


def models_dir() -> Path:
    """The model store: ``$CLASSIFY_MODELS_DIR``, else ``models/`` of the checkout."""
    env = os.environ.get("CLASSIFY_MODELS_DIR")
    return Path(env) if env else REPO_DIR / "models"


def annotations_dir() -> Path:
    return REPO_DIR / "annotations"


def shared_dir() -> Path:
    """The project's shared data (corpus, seed export): ``$CLASSIFY_SHARED_DIR`` or ``../shared``."""
    env = os.environ.get("CLASSIFY_SHARED_DIR")
    return Path(env) if env else REPO_DIR.parent / "shared"
