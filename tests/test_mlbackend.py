"""The Label Studio ML backend app (FastAPI TestClient on the real app, real small models).

Request shapes follow what Label Studio 1.23 sends (label_studio/ml/api_connector.py): /predict
gets {"tasks", "project": "<id>.<ts>", "label_config", "params"}, /setup gets {"project",
"schema", "hostname", "access_token"}, training arrives as {"action": "START_TRAINING",
"project": {...}} on /webhook (or, with the webhook flag off, as {"annotations": [...]} on /train).
"""

from __future__ import annotations

import shutil
import threading
import time
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

import synthetic_topics as synth
from classify import registry
from classify.artifacts import load_model, save_model
from classify.dataset import build_dataset
from classify.labelconfig import label_config
from classify.mlbackend import create_app, target_from_config
from classify.model import train_model
from classify.topics import NONE_CHOICE, TOPIC_KEYS
from classify.topics import get as get_topic

NAMES = {get_topic(k).name for k in TOPIC_KEYS}


def _train_into(root: Path, name: str, segs: list[dict], tmp: Path) -> Path:
    export = synth.write_export(tmp / f"{name}.json", segs)
    result = train_model(build_dataset([export]), cv=False)
    return save_model(root / name, result, name=name).path


@pytest.fixture(scope="module")
def models(tmp_path_factory) -> Path:
    """A store with a model trained on shuffled labels (the default) and one on correct labels."""
    tmp = tmp_path_factory.mktemp("mlb")
    root = tmp / "models"
    segs = synth.segments(n_docs=4, per_doc=10, seed=0)
    registry.register(_train_into(root, "shuffled", synth.shuffled(segs), tmp), root=root, promoted_by="test")
    registry.register(_train_into(root, "good", segs, tmp), root=root)
    return root


@pytest.fixture
def store(models, tmp_path, monkeypatch) -> Path:
    root = tmp_path / "models"
    shutil.copytree(models, root)
    monkeypatch.setenv("CLASSIFY_MODELS_DIR", str(root))
    monkeypatch.setenv("LABEL_STUDIO_URL", "http://127.0.0.1:9")  # nothing listens: fetching fails fast
    monkeypatch.setenv("LABEL_STUDIO_API_KEY", "not-a-real-token")
    return root


@pytest.fixture
def client(store):
    with TestClient(create_app()) as c:
        yield c


def _ls_task(i: int, seg: dict) -> dict:
    """A task as Label Studio's TaskSimpleSerializer sends it."""
    return {"id": 100 + i, "data": synth.task_data(seg), "meta": {}, "created_at": "2025-03-01T10:00:00Z",
            "updated_at": "2025-03-01T10:00:00Z", "is_labeled": False, "overlap": 1, "inner_id": i + 1,
            "total_annotations": 0, "cancelled_annotations": 0, "total_predictions": 0, "project": 7,
            "annotations": [], "predictions": [], "file_upload": None}


def _predict_body(tasks, config=None) -> dict:
    return {"tasks": tasks, "project": "7.1735725000", "label_config": config or label_config(),
            "params": {"login": None, "password": None, "context": None}}


def test_health_and_setup_report_the_served_model(client, store):
    default = load_model(None)
    h = client.get("/health").json()
    assert h["status"] == "UP" and h["model_class"] == "TopicModel" and h["model_version"] == default.id
    r = client.post("/setup", json={"project": "7.1735725000", "schema": label_config(),
                                    "hostname": "http://localhost:8080", "access_token": "tok", "extra_params": None})
    assert r.status_code == 200 and r.json() == {"model_version": default.id}


def test_predict_one_prediction_per_task_in_order_matching_the_model(client, store):
    segs = synth.segments(n_docs=2, per_doc=6, seed=11)
    tasks = [_ls_task(i, s) for i, s in enumerate(segs)]
    r = client.post("/predict", json=_predict_body(tasks))
    assert r.status_code == 200
    results = r.json()["results"]
    model = load_model(None)
    direct = model.predict([{**s, "text": f"{s['question']}\n\n{s['answer']}"} for s in segs])
    assert len(results) == len(tasks)
    for res, pred in zip(results, direct):
        assert res["model_version"] == model.id
        assert 0.0 <= res["score"] <= 1.0
        (item,) = res["result"]
        assert (item["from_name"], item["to_name"], item["type"]) == ("topics", "answer", "choices")
        want = [get_topic(k).name for k in pred.labels] or [NONE_CHOICE]
        assert item["value"]["choices"] == want
        assert set(item["value"]["choices"]) <= NAMES | {NONE_CHOICE}


def test_predict_reads_names_and_choice_values_from_the_projects_config(client):
    config = """<View><Text name="body" value="$text"/>
      <Choices name="onderwerp" toName="body" choice="multiple">
        <Choice value="return_policy"/><Choice value="solidarity_pool"/><Choice value="terrorism"/>
        <Choice value="labour_migration"/><Choice value="border_control"/><Choice value="geen"/>
      </Choices></View>"""
    task = {"id": 1, "data": {"text": "De AIVD en de NCTV waarschuwen voor jihadistische aanslagen "
                                      "en radicalisering van uitreizigers."}}
    (res,) = client.post("/predict", json=_predict_body([task], config)).json()["results"]
    (item,) = res["result"]
    assert (item["from_name"], item["to_name"]) == ("onderwerp", "body")
    assert "terrorism" in item["value"]["choices"]
    assert not set(item["value"]["choices"]) & NAMES  # keys, as this config spells them


def test_label_config_parsing_falls_back_to_project_defaults():
    t = target_from_config(None)
    assert (t.from_name, t.to_name, t.none_value) == ("topics", "answer", NONE_CHOICE)
    t = target_from_config(label_config())
    assert (t.from_name, t.to_name) == ("topics", "answer")
    assert t.values["border_control"] == "Border control" and t.none_value == NONE_CHOICE
    assert target_from_config("<View><Choices name='x' toName='y'><Choice value='ja'/></Choices></View>") \
        .from_name == "topics"
    assert target_from_config("not xml <").from_name == "topics"


def test_empty_text_and_empty_batch(client):
    r = client.post("/predict", json=_predict_body([{"id": 1, "data": {"question": "", "answer": ""}}]))
    (res,) = r.json()["results"]
    assert res["result"][0]["value"]["choices"] == [NONE_CHOICE]
    assert client.post("/predict", json=_predict_body([])).json()["results"] == []


def test_bad_requests_get_clear_http_errors(client):
    assert client.post("/predict", json={"no_tasks": 1}).status_code == 422
    assert client.post("/predict", content=b"[1, 2]", headers={"content-type": "application/json"}).status_code == 422
    assert client.post("/webhook", content=b"{oops", headers={"content-type": "application/json"}).status_code == 400
    r = client.post("/webhook", json={"action": "START_TRAINING", "project": {}})
    assert r.status_code == 400 and "no project title" in r.json()["detail"]
    assert client.post("/webhook", json={"action": "PROJECT_UPDATED", "project": {"id": 1}}).json()["status"] == "ignored"
    assert client.post("/job_status", json={"job": "nope"}).status_code == 410


def test_training_swaps_the_model_without_dropping_requests(client, store, tmp_path):
    """Training (Label Studio's /train call with the annotated tasks) runs `classify retrain` in the
    background; predictions keep being answered throughout and switch to the new model."""
    old = client.get("/health").json()["model_version"]
    segs = synth.segments(n_docs=4, per_doc=10, seed=5)
    annotated = synth.export(segs)
    tasks = [_ls_task(i, s) for i, s in enumerate(segs[:10])]
    seen, failures, stop = [], [], threading.Event()

    def hammer():
        while not stop.is_set():
            r = client.post("/predict", json=_predict_body(tasks))
            if r.status_code != 200 or len(r.json()["results"]) != len(tasks):
                failures.append(r.status_code)
            else:
                seen.append(r.json()["results"][0]["model_version"])
            time.sleep(0.05)

    t = threading.Thread(target=hammer)
    t.start()
    try:
        r = client.post("/train", json={"annotations": annotated, "project": "7.1735725000",
                                        "label_config": label_config(), "params": {}})
        assert r.status_code == 200
        job = r.json()["job"]
        deadline = time.time() + 180
        while time.time() < deadline:
            status = client.post("/job_status", json={"job": job}).json()
            if status["job_status"] in ("finished", "failed"):
                break
            time.sleep(0.5)
        time.sleep(0.3)
    finally:
        stop.set()
        t.join()
    assert status["job_status"] == "finished", status
    new = client.get("/health").json()["model_version"]
    assert new != old and new == status["promoted"] == load_model(None).id
    assert registry.read()["history"][-1]["promoted_by"] == "serve-ml (Label Studio training)"
    assert not failures
    assert seen[0] == old and seen[-1] == new  # answered before, during and after the swap


def test_every_n_annotations_triggers_training_and_a_failure_keeps_the_model(store):
    with TestClient(create_app(retrain_every=2)) as c:
        old = c.get("/health").json()["model_version"]
        payload = {"action": "ANNOTATION_CREATED", "project": {"id": 7, "title": "Onderwerpen"},
                   "annotation": {"id": 1}, "task": {"id": 1}}
        assert "job" not in c.post("/webhook", json=payload).json()
        job = c.post("/webhook", json=payload).json()["job"]
        app_trainer = c.app.state.trainer
        app_trainer.wait(120)
        status = c.post("/job_status", json={"job": job}).json()
        # LABEL_STUDIO_URL points at a closed port: the child fails with a one-line error
        assert status["job_status"] == "failed"
        assert "127.0.0.1:9" in status["message"] and "Traceback" not in status["message"]
        assert c.get("/health").json()["model_version"] == old
        assert c.post("/predict", json=_predict_body([_ls_task(0, synth.segments(1, 1)[0])])).status_code == 200


def test_setup_picks_up_a_promotion_made_elsewhere(client, store):
    old = client.get("/health").json()["model_version"]
    good = registry.promote("good", promoted_by="models promote")
    client.post("/setup", json={"project": "7.1", "schema": label_config()})
    deadline = time.time() + 30
    while time.time() < deadline and client.get("/health").json()["model_version"] == old:
        time.sleep(0.1)
    assert client.get("/health").json()["model_version"] == good["id"] != old


def test_explicit_model_dir_is_served_and_does_not_follow_the_registry(store):
    good = store / "good"
    with TestClient(create_app(good)) as c:
        v = c.get("/health").json()["model_version"]
        assert v == load_model(good).id
        registry.promote("shuffled")
        c.post("/setup", json={"project": "7.1"})
        time.sleep(0.5)
        assert c.get("/health").json()["model_version"] == v
