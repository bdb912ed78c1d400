"""``classify tag --backend dask`` on a real ``dask.distributed.LocalCluster`` (worker processes)
gives the same rows as the local backend."""

from __future__ import annotations

import logging
import os

import pytest

from tag_letters import make_corpus

from classify.cli import main

pytestmark = pytest.mark.integration


@pytest.fixture(autouse=True)
def _restore_thread_settings():
    """A LocalCluster sets OMP/OpenBLAS/MKL_NUM_THREADS=1 in this process's environment (for its
    workers); put them back afterwards so later tests' subprocesses get the machine's defaults."""
    names = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "MALLOC_TRIM_THRESHOLD_")
    saved = {name: os.environ.get(name) for name in names}
    yield
    for name, value in saved.items():
        if value is None:
            os.environ.pop(name, None)
        else:
            os.environ[name] = value


def test_dask_cluster_gives_the_local_rows(tmp_path):
    distributed = pytest.importorskip("dask.distributed")
    src = tmp_path / "in"
    make_corpus(src, 60)
    (src / "zz-empty.txt").write_bytes(b"")

    local = tmp_path / "local" / "segments.parquet"
    assert main(["tag", str(src), "--out", str(local), "--docs-out", str(local.with_name("docs.csv")),
                 "--label-studio-tasks", str(local.with_name("tasks.json"))]) == 1

    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                  dashboard_address=None, silence_logs=logging.ERROR) as cluster:
        remote = tmp_path / "dask" / "segments.parquet"
        assert main(["tag", str(src), "--out", str(remote), "--docs-out", str(remote.with_name("docs.csv")),
                     "--label-studio-tasks", str(remote.with_name("tasks.json")),
                     "--backend", "dask", "--scheduler", cluster.scheduler_address]) == 1
        with distributed.Client(cluster) as client:
            # the work really ran on the cluster's worker processes
            ran = client.run(lambda: __import__("classify.tagging").tagging._MODEL_CACHE.__len__())
            assert sorted(ran.values()) and max(ran.values()) == 1

    import pandas as pd

    a, b = pd.read_parquet(local), pd.read_parquet(remote)
    assert len(a) > 60
    pd.testing.assert_frame_equal(a, b)
    for name in ("docs.csv", "tasks.json", "errors.jsonl"):
        assert (local.parent / name).read_bytes() == (remote.parent / name).read_bytes(), name


def test_dask_without_scheduler_starts_a_local_cluster(tmp_path):
    pytest.importorskip("dask.distributed")
    src = tmp_path / "in"
    make_corpus(src, 12)
    local, remote = tmp_path / "l" / "s.jsonl", tmp_path / "d" / "s.jsonl"
    assert main(["tag", str(src), "--out", str(local)]) == 0
    assert main(["tag", str(src), "--out", str(remote), "--backend", "dask", "--jobs", "2"]) == 0
    assert local.read_bytes() == remote.read_bytes()
