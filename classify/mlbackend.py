"""Label Studio ML backend: a small FastAPI app serving the topic model to Label Studio.

Protocol as Label Studio 1.23 speaks it (``label_studio/ml/api_connector.py``):

- ``GET /health`` → ``{"status": "UP", "model_class", "model_version"}`` (LS waits 1 s);
- ``POST /setup`` ``{"project": "<id>.<ts>", "schema": label_config, "hostname", "access_token"}``
  → ``{"model_version"}`` (LS waits 3 s and calls it before every prediction run);
- ``POST /predict`` ``{"tasks": [{"id", "data", ...}], "label_config", "project", "params"}`` →
  ``{"results": [{"result": [...], "score", "model_version"}, ...]}``, one per task, same order;
- ``POST /webhook``: Label Studio's "start training" sends ``{"action": "START_TRAINING",
  "project": {...}}`` here (feature flag on by default in 1.23); the project webhook that LS
  creates for the backend also sends ``ANNOTATION_CREATED`` etc. Training runs in the background;
- ``POST /train``: the older training call (tasks with annotations in the request), kept for LS
  setups with the webhook flag off; ``POST /job_status`` and ``GET /versions`` for completeness.

Retraining runs ``classify retrain`` in a child process supervised by a background thread, so a
crash or the CPU-heavy fit cannot take the service down or stall requests on the GIL; the
promotion rule is the registry's (see :mod:`classify.retrain`). When a new default is promoted
the app loads it and swaps the served model with a reference assignment under a lock: requests
in flight finish with the model they started with, none is dropped.
"""

from __future__ import annotations

import functools
import json
import logging
import os
import subprocess
import sys
import tempfile
import threading
import uuid
import xml.etree.ElementTree as ET
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from fastapi import Body, FastAPI, HTTPException, Request

from classify import registry
from classify.labelconfig import FROM_NAME, TO_NAME
from classify.labelstudio import certainty  # the same score `classify ls push` gives predictions
from classify.topics import NONE_CHOICE, TOPIC_KEYS, choice_to_key
from classify.topics import get as get_topic

log = logging.getLogger("classify.mlbackend")

DEFAULT_FROM_NAME = FROM_NAME  # the project's labelling config (classify.labelconfig)
DEFAULT_TO_NAME = TO_NAME
CREATED_ACTIONS = {"ANNOTATION_CREATED": 1, "ANNOTATIONS_CREATED": None}


# ---------------------------------------------------------------------------------------------
# label config → where the choices go

@dataclass(frozen=True)
class ChoiceTarget:
    from_name: str
    to_name: str
    values: Mapping[str, str]  # topic key → the choice value the config uses
    none_value: str | None  # the explicit "none of the five" choice, if the config has one


def default_target() -> ChoiceTarget:
    return ChoiceTarget(DEFAULT_FROM_NAME, DEFAULT_TO_NAME,
                        {k: get_topic(k).name for k in TOPIC_KEYS}, NONE_CHOICE)


@functools.lru_cache(maxsize=64)
def target_from_config(label_config: str | None) -> ChoiceTarget:
    """The ``<Choices>`` tag holding the topics in a Label Studio labelling config.

    Falls back to the project's defaults (``topics`` → ``answer``, display names) when no config
    is given or none of its ``<Choices>`` tags holds the registry's topics.
    """
    if not label_config:
        return default_target()
    try:
        root = ET.fromstring(label_config)
    except ET.ParseError:
        return default_target()
    for tag in root.iter("Choices"):
        values: dict[str, str] = {}
        none_value = None
        for ch in tag.iter("Choice"):
            v = ch.get("value") or ch.get("alias") or ""
            try:
                key = choice_to_key(v)
            except KeyError:
                continue
            if key is None:
                none_value = v
            else:
                values.setdefault(key, v)
        if values:
            return ChoiceTarget(tag.get("name") or DEFAULT_FROM_NAME, tag.get("toName") or DEFAULT_TO_NAME,
                                values, none_value)
    return default_target()


def task_item(task: Mapping) -> dict:
    """The model's input for one Label Studio task (its ``data``)."""
    data = task.get("data") if isinstance(task.get("data"), Mapping) else task
    text = data.get("text")
    if not text:
        q, a = data.get("question") or "", data.get("answer") or ""
        text = f"{q}\n\n{a}" if q and a else (q or a)
    return {**data, "text": str(text or ""), "doc_title": data.get("doc_title") or "",
            "heading": data.get("heading") or ""}


def task_prediction(pred, model, target: ChoiceTarget) -> dict:
    choices = [target.values[k] for k in model.labels if k in pred.labels and k in target.values]
    if not choices and target.none_value:
        choices = [target.none_value]
    return {
        "result": [{"from_name": target.from_name, "to_name": target.to_name, "type": "choices",
                    "value": {"choices": choices}}],
        "score": round(certainty(pred.scores, model.thresholds), 6),
        "model_version": model.id,
    }


# ---------------------------------------------------------------------------------------------
# the served model and the background trainer

class ModelSlot:
    """The model being served. ``swap`` is a reference assignment under a lock."""

    def __init__(self, model, follows_registry: bool):
        self._model = model
        self._lock = threading.Lock()
        self.follows_registry = follows_registry

    def get(self):
        with self._lock:
            return self._model

    def swap(self, model) -> None:
        with self._lock:
            self._model = model


@dataclass
class Job:
    id: str
    status: str = "queued"  # queued | started | finished | failed
    message: str = ""
    promoted: str | None = None


class Trainer:
    """Runs ``classify retrain`` in a child process, one at a time, and swaps in a new default."""

    def __init__(self, slot: ModelSlot, *, retrain_every: int = 0, env: Mapping[str, str] | None = None,
                 loader=None):
        self.slot = slot
        self.retrain_every = retrain_every
        self.env = dict(env if env is not None else os.environ)
        self._load = loader
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self._pending: list[str] | None = None
        self.jobs: dict[str, Job] = {}
        self.current: Job | None = None
        self.annotations_seen = 0
        self.ls_from_setup: dict[str, str] = {}
        self._reloading = False
        self._unloadable: Path | None = None

    # -- what triggers training
    def note_annotations(self, n: int, project: Mapping) -> Job | None:
        if self.retrain_every <= 0:
            return None
        with self._lock:
            self.annotations_seen += n
            due = self.annotations_seen >= self.retrain_every
            if due:
                self.annotations_seen = 0
        return self.start_from_project(project) if due else None

    def start_from_project(self, project: Mapping) -> Job:
        title = project.get("title") if isinstance(project, Mapping) else None
        if not title:
            raise HTTPException(400, "START_TRAINING payload has no project title")
        return self.start(["--project", str(title)])

    def start(self, retrain_args: list[str], cleanup: Path | None = None) -> Job:
        """Start a training job, or queue one more run if a job is running (returns that job)."""
        with self._lock:
            if self._thread is not None and self._thread.is_alive():
                self._pending = retrain_args
                return self.current
            job = Job(uuid.uuid4().hex[:12])
            self.jobs[job.id] = job
            self.current = job
            self._thread = threading.Thread(target=self._run, args=(job, retrain_args, cleanup),
                                             name=f"retrain-{job.id}", daemon=True)
            self._thread.start()
            return job

    def wait(self, timeout: float | None = None) -> None:
        t = self._thread
        if t is not None:
            t.join(timeout)

    # -- the work
    def _child_env(self) -> dict:
        env = dict(self.env)
        for k, v in self.ls_from_setup.items():
            env.setdefault(k, v)  # explicit LABEL_STUDIO_URL / _API_KEY win over what /setup sent
        return env

    def _run(self, job: Job, retrain_args: list[str], cleanup: Path | None) -> None:
        while True:
            job.status = "started"
            before = registry.default_dir_name()
            cmd = [sys.executable, "-m", "classify", "retrain", *retrain_args,
                   "--promoted-by", "serve-ml (Label Studio training)"]
            try:
                proc = subprocess.run(cmd, capture_output=True, text=True, env=self._child_env())
                out = (proc.stdout + proc.stderr).strip()
                if proc.returncode != 0:
                    job.status, job.message = "failed", out[-2000:]
                    log.error("retraining failed (exit %s): %s", proc.returncode, out[-2000:])
                else:
                    job.message = out[-2000:]
                    after = registry.default_dir_name()
                    if after and after != before:
                        self.reload()
                        job.promoted = self.slot.get().id
                    job.status = "finished"
                    log.info("retraining finished; serving %s", self.slot.get().id)
            except Exception as exc:  # noqa: BLE001 - a failed job must not kill the thread silently
                job.status, job.message = "failed", f"{type(exc).__name__}: {exc}"
                log.exception("retraining failed")
            finally:
                if cleanup is not None:
                    cleanup.unlink(missing_ok=True)
                    cleanup = None
            with self._lock:
                if self._pending is None:
                    self._thread = None
                    return
                retrain_args, self._pending = self._pending, None
                job = Job(uuid.uuid4().hex[:12])
                self.jobs[job.id] = job
                self.current = job

    def reload(self) -> None:
        """Load the registry's default model and swap it in (the old one keeps serving until then)."""
        model = self._load(None)
        self.slot.swap(model)

    def follow_registry(self) -> None:
        """When serving the registry default, pick up promotions/rollbacks made by other commands."""
        if not self.slot.follows_registry:
            return
        d = registry.default_model_dir()
        current = self.slot.get()
        if d is None or Path(d).resolve() == Path(current.path).resolve() or d == self._unloadable:
            return
        with self._lock:
            if (self._thread is not None and self._thread.is_alive()) or self._reloading:
                return
            self._reloading = True
        threading.Thread(target=self._safe_reload, args=(d,), daemon=True).start()

    def _safe_reload(self, d: Path) -> None:
        try:
            self.reload()
        except Exception:  # noqa: BLE001 - keep serving the old model
            self._unloadable = d  # do not retry the same broken default on every /setup
            log.exception("could not load the new default model %s; still serving the old one", d)
        finally:
            self._reloading = False


# ---------------------------------------------------------------------------------------------
# the app

def create_app(model_dir: str | Path | None = None, *, retrain_every: int = 0,
               env: Mapping[str, str] | None = None) -> FastAPI:
    """The ML backend app serving ``model_dir`` (None: the registry's default model).

    ``retrain_every``: also retrain after this many new annotations (0: only when Label Studio
    asks, i.e. on START_TRAINING).
    """
    from classify.artifacts import load_model

    model = load_model(model_dir)
    slot = ModelSlot(model, follows_registry=model_dir is None)
    trainer = Trainer(slot, retrain_every=retrain_every, env=env, loader=load_model)
    app = FastAPI(title="classify ML backend", version=model.id,
                  description="Label Studio ML backend for the topic classifier")
    app.state.slot = slot
    app.state.trainer = trainer

    @app.get("/health")
    @app.get("/")
    def health() -> dict:
        m = slot.get()
        job = trainer.current
        return {"status": "UP", "model_class": type(m).__name__, "model_version": m.id,
                "training": None if job is None else {"job": job.id, "status": job.status}}

    @app.post("/setup")
    async def setup(request: Request) -> dict:
        body = await _json(request)
        # Label Studio sends its own URL and the project owner's token; used for fetching
        # annotations only when LABEL_STUDIO_URL / LABEL_STUDIO_API_KEY are not set.
        if body.get("hostname") and body.get("access_token"):
            trainer.ls_from_setup = {"LABEL_STUDIO_URL": str(body["hostname"]),
                                     "LABEL_STUDIO_API_KEY": str(body["access_token"])}
        if body.get("schema"):
            target_from_config(body["schema"])  # warm the cache
        trainer.follow_registry()
        return {"model_version": slot.get().id}

    @app.post("/predict")
    def predict(body: dict = Body(...)) -> dict:
        # a plain def: FastAPI runs it in its thread pool, so /health stays responsive
        tasks = body.get("tasks")
        if not isinstance(tasks, list):
            raise HTTPException(422, "request needs 'tasks': a list of Label Studio tasks")
        m = slot.get()  # one model for the whole batch, even if a swap happens meanwhile
        results = predict_tasks(m, tasks, body.get("label_config"))
        return {"results": results, "model_version": m.id}

    @app.post("/webhook")
    async def webhook(request: Request) -> dict:
        body = await _json(request)
        action = body.get("action")
        project = body.get("project") or {}
        if action == "START_TRAINING":
            job = trainer.start_from_project(project)
            return {"status": "ok", "job": job.id}
        if action in CREATED_ACTIONS:
            n = CREATED_ACTIONS[action] or len(body.get("annotations") or []) or 1
            job = trainer.note_annotations(n, project)
            return {"status": "ok", "job": job.id} if job else {"status": "ok"}
        return {"status": "ignored", "action": action}

    @app.post("/train")
    async def train(request: Request) -> dict:
        body = await _json(request)
        tasks = body.get("annotations")
        if not isinstance(tasks, list) or not tasks:
            raise HTTPException(422, "request needs 'annotations': tasks with their annotations")
        fd, tmp = tempfile.mkstemp(prefix="classify-train-", suffix=".json")
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            json.dump(tasks, fh, ensure_ascii=False)
        job = trainer.start(["--annotations", tmp], cleanup=Path(tmp))
        return {"status": "ok", "job": job.id}

    @app.post("/job_status")
    async def job_status(request: Request) -> dict:
        body = await _json(request)
        job = trainer.jobs.get(str(body.get("job")))
        if job is None:
            raise HTTPException(410, "unknown job")
        return {"job_status": job.status, "message": job.message[-500:], "promoted": job.promoted}

    @app.get("/versions")
    def versions() -> dict:
        return {"versions": [e["id"] for e in registry.entries()] or [slot.get().id]}

    return app


async def _json(request: Request) -> dict:
    try:
        body = await request.json()
    except ValueError:
        raise HTTPException(400, "request body is not JSON") from None
    if not isinstance(body, dict):
        raise HTTPException(400, "request body must be a JSON object")
    return body


def serve(model_dir: str | Path | None, host: str, port: int, *, retrain_every: int = 0) -> None:
    import uvicorn

    app = create_app(model_dir, retrain_every=retrain_every)
    uvicorn.run(app, host=host, port=port, log_level="warning", access_log=False)


def predict_tasks(model, tasks: Sequence[Mapping], label_config: str | None = None) -> list[dict]:
    """Label Studio predictions for tasks without the web layer (same shape as ``/predict``)."""
    target = target_from_config(label_config)
    items = [task_item(t) if isinstance(t, Mapping) else {"text": ""} for t in tasks]
    preds = model.predict(items) if items else []
    return [task_prediction(p, model, target) for p in preds]
