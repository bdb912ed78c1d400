"""Fixtures for integration tests: a real Label Studio server (see tests/lsserver.py).

``tests/`` is on ``sys.path`` (pytest inserts the directory of ``tests/conftest.py``), so the
fixture module imports as ``lsserver``.
"""

from lsserver import label_studio, running_label_studio  # noqa: F401
