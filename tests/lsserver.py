"""A real Label Studio server for integration tests.

``label_studio`` (session-scoped fixture, import it in a ``conftest.py``) yields a running
:class:`classify.labelstudio.LocalServer` with ``url``, ``token``, ``username``, ``data_dir``,
``log_file``: bound to 127.0.0.1 on a free port, with a throwaway data dir, a first user and a
legacy API token created non-interactively. It is stopped by process group at the end of the
session, also when tests fail.

Migrating an empty data dir takes about a minute, so the first run builds a pre-migrated template
once, at ``~/.cache/classify-tests/ls-template-<label-studio version>`` (override the cache root
with ``CLASSIFY_TEST_CACHE``); every server then starts from a copy in seconds.

For a server with extra environment (e.g. other ML settings) use :func:`running_label_studio`::

    with running_label_studio(tmp_path, extra_env={"SOME": "value"}) as server:
        ...
"""

from __future__ import annotations

import fcntl
import os
import shutil
import tempfile
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path

import pytest

from classify import labelstudio
from classify.labelstudio import LocalServer

TEMPLATE_READY = ".template-ready"


def cache_root() -> Path:
    return Path(os.environ.get("CLASSIFY_TEST_CACHE") or Path.home() / ".cache" / "classify-tests")


def template_dir() -> Path:
    """A migrated Label Studio data dir with a first user, built once per Label Studio version."""
    version = labelstudio.label_studio_version()
    root = cache_root()
    target = root / f"ls-template-{version}"
    if (target / TEMPLATE_READY).is_file():
        return target
    root.mkdir(parents=True, exist_ok=True)
    with (root / f"ls-template-{version}.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # another test session may be building it
        if (target / TEMPLATE_READY).is_file():
            return target
        build = Path(tempfile.mkdtemp(prefix=f"ls-template-{version}.", dir=root))
        try:
            server = labelstudio.start_server(build / "data", timeout=900)
            server.stop()
            (build / "data" / TEMPLATE_READY).write_text(version)
            if target.exists():
                shutil.rmtree(target)
            os.replace(build / "data", target)
        finally:
            shutil.rmtree(build, ignore_errors=True)
    return target


@contextmanager
def running_label_studio(base_dir: Path, *, extra_env: Mapping[str, str] | None = None,
                         timeout: float = 300) -> Iterator[LocalServer]:
    """Start Label Studio from a copy of the template in ``base_dir``; stop it on exit."""
    data_dir = Path(base_dir) / "ls-data"
    shutil.copytree(template_dir(), data_dir)
    (data_dir / TEMPLATE_READY).unlink()
    (data_dir / labelstudio.LOG_FILE).unlink(missing_ok=True)
    server = labelstudio.start_server(data_dir, extra_env=extra_env, timeout=timeout)
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="session")
def label_studio(tmp_path_factory) -> Iterator[LocalServer]:
    """A running Label Studio for the whole test session (see module docstring)."""
    try:
        labelstudio.label_studio_executable()
        labelstudio.label_studio_version()
    except labelstudio.LabelStudioError as exc:
        pytest.skip(str(exc))
    with running_label_studio(tmp_path_factory.mktemp("label-studio")) as server:
        yield server


def signup_user(server: LocalServer, email: str, password: str) -> str:
    """Sign a new user up through the web form, as an annotator would, and return their API
    token (legacy token, read with their session from ``/api/current-user/token``)."""
    import httpx

    with httpx.Client(base_url=server.url, follow_redirects=True, timeout=60) as web:
        web.get("/user/signup/").raise_for_status()
        resp = web.post("/user/signup/", headers={"Referer": f"{server.url}/user/signup/"},
                        data={"email": email, "password": password, "how_find_us": "Other",
                              "csrfmiddlewaretoken": web.cookies.get("csrftoken")})
        resp.raise_for_status()
        token = web.get("/api/current-user/token")
        token.raise_for_status()
        return token.json()["token"]
