"""A real Label Studio and a real `classify serve-ml` process: live predictions and retraining.

Label Studio (session fixture, started with ML_BLOCK_LOCAL_IP=false and SSRF_PROTECTION_ENABLED=
false so it accepts a backend on 127.0.0.1) asks the backend for predictions through the Data
Manager action `retrieve_tasks_predictions` (the Community edition's way; the SDK's
`predict_all_tasks` is 404 there), and its "start training" call reaches the backend as a
START_TRAINING webhook. The models live in a tmp CLASSIFY_MODELS_DIR.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

import synthetic_topics as synth
from classify import labelstudio, registry
from classify.artifacts import save_model
from classify.dataset import build_dataset
from classify.model import train_model
from classify.topics import NONE_CHOICE, TOPIC_KEYS
from classify.topics import get as get_topic

pytestmark = pytest.mark.integration
REPO = Path(__file__).resolve().parents[2]


def _wait_health(url: str, proc: subprocess.Popen, timeout: float = 120) -> dict:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise AssertionError(f"serve-ml exited with {proc.returncode}: {proc.stderr.read()}")
        try:
            r = httpx.get(f"{url}/health", timeout=2)
            if r.status_code == 200:
                return r.json()
        except httpx.HTTPError:
            pass
        time.sleep(0.3)
    raise AssertionError(f"serve-ml at {url} did not answer /health within {timeout} s")


@pytest.fixture
def backend(tmp_path, label_studio):
    """serve-ml on a free port, serving a first model trained on shuffled labels."""
    root = tmp_path / "models"
    segs = synth.segments(n_docs=4, per_doc=6, seed=21)
    export = synth.write_export(tmp_path / "first.json", synth.shuffled(segs, seed=3))
    first = save_model(root / "first", train_model(build_dataset([export]), cv=False), name="first")
    registry.register(first.path, root=root, promoted_by="test")
    port = labelstudio.free_port()
    env = {**os.environ, "CLASSIFY_MODELS_DIR": str(root), "LABEL_STUDIO_URL": label_studio.url,
           "LABEL_STUDIO_API_KEY": label_studio.token, "PYTHONPATH": str(REPO)}
    proc = subprocess.Popen([sys.executable, "-m", "classify", "serve-ml", "--port", str(port)],
                            env=env, cwd=REPO, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                            text=True, start_new_session=True)
    url = f"http://127.0.0.1:{port}"
    try:
        health = _wait_health(url, proc)
        assert health["model_version"] == first.id
        yield {"url": url, "root": root, "segments": segs, "first": first.id, "proc": proc}
    finally:
        labelstudio.stop_process_group(proc)


def _predictions_by_task(conn, pid) -> dict[int, list[dict]]:
    return {t["id"]: t.get("predictions") or [] for t in labelstudio.list_tasks(conn, pid)}


def test_live_predictions_and_training_through_label_studio(label_studio, backend):
    conn = labelstudio.connect(label_studio.url, label_studio.token)
    pid, created = labelstudio.ensure_project(conn, "ML backend integration")
    assert created
    segs = backend["segments"]
    tasks = [{"data": {**synth.task_data(s), "seg_id": f"{s['doc']}#{s['seg']}",
                       "text": f"{s['question']}\n\n{s['answer']}"}} for s in segs]
    assert labelstudio.import_tasks(conn, pid, tasks) == len(segs)

    # 1. connect the backend, ask Label Studio for predictions on every task
    labelstudio.connect_ml(conn, pid, backend["url"])
    labelstudio.retrieve_predictions(conn, pid)
    preds = _predictions_by_task(conn, pid)
    assert len(preds) == len(segs)
    allowed = {get_topic(k).name for k in TOPIC_KEYS} | {NONE_CHOICE}
    for tid, ps in preds.items():
        mine = [p for p in ps if p["model_version"] == backend["first"]]
        assert mine, f"task {tid} has no prediction from {backend['first']}: {ps}"
        (item,) = mine[0]["result"]
        assert item["from_name"] == "topics" and item["to_name"] == "answer"
        assert item["value"]["choices"] and set(item["value"]["choices"]) <= allowed
        assert 0.0 <= mine[0]["score"] <= 1.0

    # 2. annotate every task (correct labels), as annotators would
    by_seg = {f"{s['doc']}#{s['seg']}": s for s in segs}
    for t in labelstudio.list_tasks(conn, pid):
        labelstudio.create_annotation(conn, t["id"], by_seg[t["data"]["seg_id"]]["labels"])

    # 3. "start training" in Label Studio → START_TRAINING webhook → retrain → new default served
    assert labelstudio.train_ml(conn, pid)
    deadline = time.monotonic() + 300
    version = backend["first"]
    while time.monotonic() < deadline and version == backend["first"]:
        time.sleep(1)
        version = httpx.get(f"{backend['url']}/health", timeout=5).json()["model_version"]
    assert version != backend["first"], "the backend did not switch to a retrained model in 300 s"
    reg = registry.read(backend["root"])
    new_entry = next(e for e in reg["history"] if e["id"] == version)
    assert reg["default"] == new_entry["dir"]
    assert new_entry["promoted_by"] == "serve-ml (Label Studio training)"

    # 4. predictions retrieved again carry the new model version
    labelstudio.retrieve_predictions(conn, pid)
    for tid, ps in _predictions_by_task(conn, pid).items():
        assert any(p["model_version"] == version for p in ps), f"task {tid}: no prediction from {version}"


def test_audit_pushes_a_review_batch(label_studio, tmp_path, monkeypatch, capsys):
    from classify.cli import main

    monkeypatch.setenv("CLASSIFY_MODELS_DIR", str(tmp_path / "models"))
    monkeypatch.setenv("LABEL_STUDIO_URL", label_studio.url)
    monkeypatch.setenv("LABEL_STUDIO_API_KEY", label_studio.token)
    segs = synth.segments(n_docs=4, per_doc=10, seed=8)
    planted = (5, 15, 25)  # three segments get a wrong label
    for i in planted:
        segs[i] = {**segs[i], "labels": ["terrorism"] if "terrorism" not in segs[i]["labels"] else []}
    export = synth.write_export(tmp_path / "audit.json", segs)
    title = "Review batch integration"
    assert main(["audit", str(export), "--top", "3", "--to-label-studio", "--project", title]) == 0
    assert "pushed 3 segment(s) for review" in capsys.readouterr().err
    assert main(["audit", str(export), "--top", "3", "--to-label-studio", "--project", title]) == 0
    assert "pushed 0 segment(s)" in capsys.readouterr().err  # re-push: no duplicates
    conn = labelstudio.connect()
    tasks = labelstudio.list_tasks(conn, title)
    assert len(tasks) == 3
    assert {t["data"]["review_rank"] for t in tasks} == {1, 2, 3}
    assert {(t["data"]["doc"], t["data"]["seg"]) for t in tasks} == {(segs[i]["doc"], segs[i]["seg"]) for i in planted}
    first = next(t for t in tasks if t["data"]["review_rank"] == 1)
    assert {p["model_version"] for p in first["predictions"]} == {
        "annotation under review", "audit: cross-validated model"}
