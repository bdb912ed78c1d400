"""Label Studio: a local server for annotators, and the project's API calls.

This is the only module that imports ``label_studio_sdk`` (lazily, inside the functions that talk
to the server, so ``classify --help`` and ``classify ls serve`` stay fast).

Connection settings come from ``LABEL_STUDIO_URL`` and ``LABEL_STUDIO_API_KEY`` (the SDK's own
variables); explicit arguments override them. The key is never printed or logged: every error
raised here is a :class:`~classify.errors.LabelStudioError` whose one-line message names the URL
and the cause, with the key scrubbed out.

Tasks: one task per segment, ``data`` = the segment's fields (``doc``, ``doc_title``, ``seg``,
``kind``, ``question_numbers``, ``party``, ``heading``, ``question``, ``answer``, ``text``,
``start``, ``end``) plus ``seg_id`` = ``<doc_id>#<index>-<sha1(text)[:12]>``. The id is stable for
unchanged text, so pushing the same documents twice creates no duplicates, and a segment whose
text changed becomes a new task.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import secrets
import shutil
import signal
import socket
import stat
import subprocess
import sys
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from classify.errors import ClassifyError, LabelStudioError

DEFAULT_URL = "http://localhost:8080"
DEFAULT_PORT = 8080
DEFAULT_USERNAME = "admin@classify.local"
CREDENTIALS_FILE = "classify-credentials.json"  # inside the data dir, mode 0600
LOG_FILE = "label-studio.log"
DATABASE_FILE = "label_studio.sqlite3"
IMPORT_BATCH = 500

# Environment of the Label Studio process: offline, local, no telemetry.
SERVER_ENV = {
    "LATEST_VERSION_CHECK": "false",
    "COLLECT_ANALYTICS": "false",
    "SENTRY_DSN": "",
    "FRONTEND_SENTRY_DSN": "",
    # allow an ML backend on 127.0.0.1 (`classify serve-ml`)
    "ML_BLOCK_LOCAL_IP": "false",
    "SSRF_PROTECTION_ENABLED": "false",
}
# Label Studio reads HOST/PORT/USERNAME/PASSWORD (and DATABASE_NAME) as fallbacks of its own
# LABEL_STUDIO_* settings; a stray value in a user's shell would leak into the server.
SERVER_ENV_DROP = ("HOST", "PORT", "USERNAME", "PASSWORD", "DATABASE_NAME",
                   "LABEL_STUDIO_DATABASE_NAME", "HEARTEX_DATABASE_NAME")


# --------------------------------------------------------------------------------------------
# Local server
# --------------------------------------------------------------------------------------------

def label_studio_version() -> str:
    """Version of the installed ``label-studio`` package; LabelStudioError when it is missing."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("label-studio")
    except PackageNotFoundError:
        raise LabelStudioError("the label-studio package is not installed; install it with "
                               "`pip install 'classify[labelstudio]'`") from None


def label_studio_executable() -> str:
    exe = shutil.which("label-studio") or str(Path(sys.executable).with_name("label-studio"))
    if not Path(exe).exists():
        raise LabelStudioError("the `label-studio` command was not found; install it with "
                               "`pip install 'classify[labelstudio]'`")
    return exe


def default_data_dir() -> Path:
    """Where ``classify ls serve`` keeps its data: ``$CLASSIFY_LS_DATA_DIR``, else
    ``~/.local/share/classify/label-studio``."""
    env = os.environ.get("CLASSIFY_LS_DATA_DIR")
    return Path(env) if env else Path.home() / ".local" / "share" / "classify" / "label-studio"


def free_port(host: str = "127.0.0.1") -> int:
    """A TCP port that is free on ``host`` right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((host, 0))
        return s.getsockname()[1]


def server_env(base: Mapping[str, str], *, data_dir: str | Path, username: str, password: str,
               token: str, extra: Mapping[str, str] | None = None) -> dict[str, str]:
    """The environment for ``label-studio start``: ``base`` without stray settings, plus the
    first user (created non-interactively), the data dir and :data:`SERVER_ENV`."""
    env = {k: v for k, v in base.items() if k not in SERVER_ENV_DROP}
    env.update(SERVER_ENV)
    env.update({
        "LABEL_STUDIO_USERNAME": username,
        "LABEL_STUDIO_PASSWORD": password,
        "LABEL_STUDIO_USER_TOKEN": token,
        # `--data-dir` only sets this if unset, so set it ourselves
        "LABEL_STUDIO_BASE_DATA_DIR": str(Path(data_dir).absolute()),
    })
    env.update(extra or {})
    return env


def server_command(data_dir: str | Path, port: int, *, host: str = "127.0.0.1") -> list[str]:
    """Command line of the server. ``--enable-legacy-api-token`` matters at the first start
    (it is stored with the organisation); later it is harmless."""
    return [label_studio_executable(), "start", "--no-browser", "--internal-host", host,
            "--port", str(port), "--data-dir", str(Path(data_dir).absolute()),
            "--enable-legacy-api-token", "--log-level", "WARNING"]


def load_or_create_credentials(data_dir: str | Path, username: str | None = None) -> dict:
    """The first user's credentials for ``data_dir``, kept in a 0600 file inside it.

    Created (random password and token) when the data dir has none; Label Studio applies them
    when it creates the first user on an empty data dir.
    """
    data_dir = Path(data_dir)
    path = data_dir / CREDENTIALS_FILE
    if path.is_file():
        try:
            creds = json.loads(path.read_text(encoding="utf-8"))
            if not all(isinstance(creds.get(k), str) for k in ("username", "password", "token")):
                raise ValueError("missing fields")
        except ValueError as exc:
            raise LabelStudioError(f"{path}: unreadable credentials file ({exc}); delete it only "
                                   "together with the data dir") from None
        return creds
    if (data_dir / DATABASE_FILE).exists():
        raise LabelStudioError(f"{data_dir}: holds a Label Studio database but no {CREDENTIALS_FILE}; "
                               "start that data dir with `label-studio start` directly, or use a new one")
    creds = {"username": username or DEFAULT_USERNAME, "password": secrets.token_urlsafe(12),
             "token": secrets.token_hex(20)}
    data_dir.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, stat.S_IRUSR | stat.S_IWUSR)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        json.dump(creds, fh, indent=2)
    return creds


def wait_until_healthy(url: str, process: subprocess.Popen | None = None, *, timeout: float = 300,
                       log: Path | None = None) -> None:
    """Poll ``<url>/health/`` until it answers 200; LabelStudioError when the process exits or
    ``timeout`` seconds pass."""
    import httpx

    deadline = time.monotonic() + timeout
    where = f"; see {log}" if log else ""
    while True:
        if process is not None and process.poll() is not None:
            raise LabelStudioError(f"Label Studio for {url} exited with status {process.returncode} "
                                   f"before it was ready{where}")
        try:
            if httpx.get(f"{url}/health/", timeout=5).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        if time.monotonic() > deadline:
            raise LabelStudioError(f"Label Studio at {url} was not ready after {timeout:.0f} s{where}")
        time.sleep(0.5)


def stop_process_group(process: subprocess.Popen, timeout: float = 20) -> None:
    """Stop a server started with ``start_new_session=True``: SIGTERM to its process group, then
    SIGKILL if it does not exit within ``timeout`` seconds."""
    if process.poll() is not None:
        return
    try:
        pgid = os.getpgid(process.pid)
    except ProcessLookupError:
        return
    for sig, wait in ((signal.SIGINT, timeout / 2), (signal.SIGTERM, timeout / 2), (signal.SIGKILL, 10)):
        try:
            os.killpg(pgid, sig)
        except ProcessLookupError:
            return
        try:
            process.wait(wait)
            break
        except subprocess.TimeoutExpired:
            continue
    # children that ignored the signal to the leader
    try:
        os.killpg(pgid, signal.SIGKILL)
    except ProcessLookupError:
        pass


@dataclass
class LocalServer:
    """A running ``label-studio start`` process (see :func:`start_server`)."""

    url: str
    port: int
    data_dir: Path
    username: str
    token: str = field(repr=False)
    credentials_file: Path
    log_file: Path
    process: subprocess.Popen = field(repr=False)

    def stop(self) -> None:
        stop_process_group(self.process)

    def __enter__(self) -> LocalServer:
        return self

    def __exit__(self, *exc) -> None:
        self.stop()


def start_server(data_dir: str | Path, port: int | None = None, *, host: str = "127.0.0.1",
                 username: str | None = None, extra_env: Mapping[str, str] | None = None,
                 timeout: float = 300) -> LocalServer:
    """Start Label Studio on ``host:port`` with ``data_dir`` and wait until it answers.

    The first start on an empty data dir creates the first user with the credentials of
    :func:`load_or_create_credentials` (the database migration takes about a minute); later starts
    take seconds. The server runs in its own process group; stop it with ``LocalServer.stop()``.
    Output goes to ``<data_dir>/label-studio.log``.
    """
    data_dir = Path(data_dir).absolute()
    creds = load_or_create_credentials(data_dir, username)
    port = port or free_port(host)
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        if s.connect_ex((host, port)) == 0:
            raise LabelStudioError(f"port {port} on {host} is already in use; pick another with --port")
    env = server_env(os.environ, data_dir=data_dir, username=creds["username"],
                     password=creds["password"], token=creds["token"], extra=extra_env)
    log_file = data_dir / LOG_FILE
    with log_file.open("ab") as log:
        process = subprocess.Popen(server_command(data_dir, port, host=host), env=env, cwd=data_dir,
                                   stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
                                   start_new_session=True)
    url = f"http://{host}:{port}"
    try:
        wait_until_healthy(url, process, timeout=timeout, log=log_file)
    except BaseException:
        stop_process_group(process)
        raise
    return LocalServer(url=url, port=port, data_dir=data_dir, username=creds["username"],
                       token=creds["token"], credentials_file=data_dir / CREDENTIALS_FILE,
                       log_file=log_file, process=process)


# --------------------------------------------------------------------------------------------
# Connection and errors
# --------------------------------------------------------------------------------------------

@dataclass
class Connection:
    """An SDK client bound to one server; :meth:`calls` turns failures into one-line errors."""

    url: str
    client: Any = field(repr=False)
    _key: str = field(repr=False, default="")

    def _scrub(self, text: str) -> str:
        return text.replace(self._key, "***") if self._key else text

    @contextmanager
    def calls(self, what: str) -> Iterator[None]:
        """Run SDK calls; any failure becomes a LabelStudioError naming the URL and ``what``."""
        import httpx
        from label_studio_sdk.core.api_error import ApiError

        try:
            yield
        except ApiError as exc:
            raise LabelStudioError(self._scrub(_api_error_message(self.url, what, exc))) from None
        except httpx.ConnectError as exc:
            raise LabelStudioError(self._scrub(
                f"cannot connect to Label Studio at {self.url} ({_reason(exc)}) while {what}; is it "
                "running? Start one with `classify ls serve` or set LABEL_STUDIO_URL")) from None
        except httpx.TimeoutException:
            raise LabelStudioError(f"Label Studio at {self.url} did not answer in time while {what}") from None
        except httpx.HTTPError as exc:
            raise LabelStudioError(self._scrub(
                f"Label Studio at {self.url}: {what} failed ({_reason(exc)})")) from None
        except ValueError as exc:  # JSON / pydantic: the answer is not the API we expect
            raise LabelStudioError(self._scrub(
                f"the server at {self.url} did not answer like Label Studio's API while {what} "
                f"({type(exc).__name__}); check LABEL_STUDIO_URL")) from None


def _reason(exc: BaseException) -> str:
    text = " ".join(str(exc).split())
    return text[:200] or type(exc).__name__


def _api_error_message(url: str, what: str, exc) -> str:
    code = exc.status_code
    if code in (401, 403):
        return (f"Label Studio at {url} rejected the API key (HTTP {code}) while {what}; check "
                "LABEL_STUDIO_API_KEY (Account & Settings > Access Token in Label Studio)")
    body = exc.body
    if isinstance(body, dict):
        detail = body.get("validation_errors") or body.get("detail") or body
        body = json.dumps(detail, ensure_ascii=False) if not isinstance(detail, str) else detail
    text = " ".join(str(body or "").split())
    if "<html" in text.lower():
        text = "an HTML page"
    text = re.sub(r"<[^>]*>", "", text)  # links in validation messages
    return f"Label Studio at {url} refused {what} (HTTP {code}: {text[:300]})"


def read_api_key_file(path: str | Path) -> str:
    """An API key from a file: the key on its own, or the ``token`` of a credentials file written
    by ``classify ls serve``."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8").strip()
    except OSError as exc:
        raise LabelStudioError(f"{path}: cannot read the API key file ({exc.strerror})") from None
    if text.startswith("{"):
        try:
            text = str(json.loads(text)["token"])
        except (ValueError, KeyError, TypeError):
            raise LabelStudioError(f"{path}: a JSON key file needs a 'token' field") from None
    if not text or len(text.split()) != 1:
        raise LabelStudioError(f"{path}: expected one API key in the file")
    return text


def connect(url: str | None = None, api_key: str | None = None, *, timeout: float = 120.0,
            check: bool = True) -> Connection:
    """Connect to Label Studio; ``url``/``api_key`` default to ``LABEL_STUDIO_URL`` and
    ``LABEL_STUDIO_API_KEY``. With ``check`` (default), one request verifies server and key."""
    url = (url or os.environ.get("LABEL_STUDIO_URL") or DEFAULT_URL).strip().rstrip("/")
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise LabelStudioError(f"Label Studio URL {url!r} is not an http(s) URL; "
                               "set LABEL_STUDIO_URL like http://localhost:8080")
    key = (api_key or os.environ.get("LABEL_STUDIO_API_KEY") or "").strip()
    if not key:
        raise LabelStudioError(f"no API key for Label Studio at {url}: set LABEL_STUDIO_API_KEY "
                               "(Account & Settings > Access Token) or pass --api-key-file")
    from label_studio_sdk import LabelStudio

    try:
        client = LabelStudio(base_url=url, api_key=key, timeout=timeout)
    except Exception as exc:  # the SDK decodes JWT keys up front
        raise LabelStudioError(f"cannot use the API key for Label Studio at {url} "
                               f"({type(exc).__name__}); check LABEL_STUDIO_API_KEY") from None
    conn = Connection(url=url, client=client, _key=key)
    if check:
        with conn.calls("checking the API key"):
            client.users.whoami()
    return conn


# --------------------------------------------------------------------------------------------
# Projects
# --------------------------------------------------------------------------------------------

def guideline_path() -> Path:
    from classify.paths import annotations_dir

    return annotations_dir() / "guideline.md"


def guideline_html(path: str | Path | None = None) -> str:
    """The annotation guideline (Markdown) as HTML for the project's instructions."""
    from markdown_it import MarkdownIt

    path = Path(path) if path else guideline_path()
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ClassifyError(f"{path}: cannot read the guideline ({exc.strerror})") from None
    return MarkdownIt("commonmark").enable("table").render(text)


def find_project(conn: Connection, title: str) -> int | None:
    """Id of the project titled exactly ``title``, or None."""
    with conn.calls(f"looking up project {title!r}"):
        ids = sorted(p.id for p in conn.client.projects.list(title=title) if p.title == title)
    if len(ids) > 1:
        raise LabelStudioError(f"Label Studio at {conn.url} has {len(ids)} projects titled {title!r} "
                               f"(ids {', '.join(map(str, ids))}); rename all but one")
    return ids[0] if ids else None


def project_id(conn: Connection, project: int | str) -> int:
    """A project given by id or exact title → its id (LabelStudioError when there is none)."""
    if isinstance(project, int):
        return project
    pid = find_project(conn, project)
    if pid is None:
        raise LabelStudioError(f"Label Studio at {conn.url} has no project titled {project!r}; "
                               "create it with `classify ls push ... --project TITLE`")
    return pid


def ensure_project(conn: Connection, title: str, *, label_config: str | None = None,
                   instruction: str | None = None) -> tuple[int, bool]:
    """Get or create the project titled ``title`` with the labelling config and the guideline as
    instructions (shown before labelling). An existing project whose config or instructions
    differ is updated (Label Studio refuses a config that would orphan existing labels).
    Returns ``(project id, created)``."""
    from classify.labelconfig import label_config as generated_config

    label_config = label_config if label_config is not None else generated_config()
    instruction = instruction if instruction is not None else guideline_html()
    pid = find_project(conn, title)
    if pid is None:
        with conn.calls(f"creating project {title!r}"):
            p = conn.client.projects.create(
                title=title, label_config=label_config, expert_instruction=instruction,
                show_instruction=True, show_skip_button=True, enable_empty_annotation=False,
                description="Topic annotation of Dutch parliamentary documents on asylum and "
                            "migration (created by classify).")
        return p.id, True
    with conn.calls(f"reading project {title!r}"):
        p = conn.client.projects.get(pid)
    # Label Studio strips surrounding whitespace of what it stores
    if ((p.label_config or "").strip() != label_config.strip()
            or (p.expert_instruction or "").strip() != instruction.strip() or not p.show_instruction):
        with conn.calls(f"updating the config of project {title!r}"):
            conn.client.projects.update(pid, label_config=label_config, expert_instruction=instruction,
                                        show_instruction=True)
    return pid, False


def project_settings(conn: Connection, project: int | str) -> dict:
    """A few settings of a project (title, label_config, expert_instruction, show_instruction)."""
    pid = project_id(conn, project)
    with conn.calls(f"reading project {pid}"):
        p = conn.client.projects.get(pid)
    return {"id": p.id, "title": p.title, "label_config": p.label_config,
            "expert_instruction": p.expert_instruction, "show_instruction": p.show_instruction}


# --------------------------------------------------------------------------------------------
# Tasks from documents, predictions, ordering
# --------------------------------------------------------------------------------------------

def segment_id(doc_id: str, index: int, text: str) -> str:
    """Stable task id of a segment: ``<doc_id>#<index>-<sha1(text)[:12]>``."""
    return f"{doc_id}#{index}-{hashlib.sha1(text.encode('utf-8')).hexdigest()[:12]}"


def task_data(doc, seg) -> dict:
    """Task ``data`` for one segment of a document (a ``Document``, a ``Segment``)."""
    return {
        "seg_id": segment_id(seg.doc_id, seg.index, seg.text),
        "doc": seg.doc_id,
        "doc_title": doc.title or seg.doc_id,
        "seg": seg.index,
        "kind": seg.kind,
        "question_numbers": list(seg.question_numbers),
        "party": seg.party,
        "heading": seg.heading or "",  # the config shows it; a missing field fails the import
        "question": seg.question or "",
        "answer": seg.answer or "",
        "text": seg.text,
        "start": seg.start,
        "end": seg.end,
    }


@dataclass
class DocumentError:
    path: str
    message: str


@dataclass
class TaskBatch:
    tasks: list[dict]  # {"data": ...} in document order
    documents: int  # documents read (including failed ones)
    errors: list[DocumentError]


def tasks_from_paths(inputs: Sequence[str | Path], process: Callable | None = None) -> TaskBatch:
    """Segment the documents (files, dirs, globs) into tasks ``{"data": ...}``, in document order.
    A document that fails becomes a :class:`DocumentError` and the others go on."""
    from classify import pipeline

    process = process or pipeline.process
    paths = pipeline.iter_paths(inputs)
    if not paths:
        raise ClassifyError(f"no documents found in {', '.join(map(str, inputs))} "
                            "(supported: .txt .html .htm .pdf .docx)")
    batch = TaskBatch(tasks=[], documents=len(paths), errors=[])
    for path in paths:
        try:
            doc, segments = process(path)
        except ClassifyError as exc:
            batch.errors.append(DocumentError(str(path), str(exc)))
            continue
        batch.tasks.extend({"data": task_data(doc, s)} for s in segments)
    return batch


def certainty(scores: Mapping[str, float], thresholds: Mapping[str, float]) -> float:
    """How sure a prediction is, 0..1: the smallest, over topics, distance of the score from its
    threshold, scaled so 0 = on the threshold and 1 = at 0 or 1. Least sure first = ascending."""
    sure = 1.0
    for key, p in scores.items():
        t = float(thresholds.get(key, 0.5))
        span = t if p < t else 1.0 - t
        sure = min(sure, abs(p - t) / span if span > 0 else 1.0)
    return max(0.0, min(1.0, sure))


def add_predictions(tasks: list[dict], model) -> None:
    """Attach the model's prediction to each task (in place): ``model_version`` = model id,
    ``score`` = :func:`certainty`, result = the chosen topics (or the explicit none choice)."""
    from classify.labelconfig import choices_result

    if not tasks:
        return
    preds = model.predict([t["data"] for t in tasks])
    thresholds = getattr(model, "thresholds", {}) or {}
    for task, pred in zip(tasks, preds, strict=True):
        task["predictions"] = [{
            "model_version": str(model.id),
            "score": round(certainty(pred.scores, thresholds), 6),
            "result": choices_result(pred.labels),
        }]


def select_tasks(tasks: list[dict], *, existing: Iterable[str] = (), order: str = "document",
                 limit: int | None = None) -> list[dict]:
    """The tasks to import: not yet in the project (by ``seg_id``), ordered (``document`` =
    as read; ``uncertain`` = least sure prediction first), at most ``limit``."""
    existing = set(existing)
    seen: set[str] = set()
    new = []
    for t in tasks:
        sid = t["data"]["seg_id"]
        if sid not in existing and sid not in seen:
            seen.add(sid)
            new.append(t)
    if order == "uncertain":
        if any(not t.get("predictions") for t in new):
            raise ClassifyError("--order uncertain needs predictions: pass --model DIR")
        new.sort(key=lambda t: t["predictions"][0]["score"])  # stable: ties keep document order
    elif order != "document":
        raise ClassifyError(f"unknown order {order!r}; use 'document' or 'uncertain'")
    if limit is not None:
        if limit < 0:
            raise ClassifyError(f"--limit must be 0 or more, got {limit}")
        new = new[:limit]
    return new


# --------------------------------------------------------------------------------------------
# Push
# --------------------------------------------------------------------------------------------

def existing_seg_ids(conn: Connection, project: int | str) -> set[str]:
    """``seg_id`` of every task in the project."""
    pid = project_id(conn, project)
    ids: set[str] = set()
    with conn.calls(f"listing the tasks of project {pid}"):
        for t in conn.client.tasks.list(project=pid, fields="task_only", page_size=1000):
            sid = (t.data or {}).get("seg_id")
            if sid:
                ids.add(str(sid))
    return ids


def import_tasks(conn: Connection, project: int | str, tasks: Sequence[dict]) -> int:
    """Import tasks (``{"data": ..., "predictions": [...]}``) in batches; returns how many."""
    pid = project_id(conn, project)
    n = 0
    for i in range(0, len(tasks), IMPORT_BATCH):
        batch = [dict(t) for t in tasks[i:i + IMPORT_BATCH]]
        with conn.calls(f"importing tasks into project {pid}"):
            resp = conn.client.projects.import_tasks(pid, request=batch)
        n += resp.task_count if getattr(resp, "task_count", None) is not None else len(batch)
    return n


@dataclass
class PushReport:
    project_id: int
    project_created: bool
    documents: int  # documents read (including failed ones)
    segments: int  # segments read from the documents
    already: int  # of those, already in the project
    imported: int  # tasks created now
    withheld: int  # new segments left for a later push by --limit
    model_version: str | None
    errors: list[DocumentError]


def push(conn: Connection, title: str, inputs: Sequence[str | Path], *, model=None,
         limit: int | None = None, order: str = "document",
         process: Callable | None = None) -> PushReport:
    """Segment the documents, create the project if needed, and import the segments that are not
    in it yet as tasks (with the model's predictions when a model is given)."""
    if order == "uncertain" and model is None:
        raise ClassifyError("--order uncertain needs a model to rank by: pass --model DIR")
    if order not in ("document", "uncertain"):
        raise ClassifyError(f"unknown order {order!r}; use 'document' or 'uncertain'")
    batch = tasks_from_paths(inputs, process)
    pid, created = ensure_project(conn, title)
    existing = set() if created else existing_seg_ids(conn, pid)
    new_all = select_tasks(batch.tasks, existing=existing)
    if model is not None:
        add_predictions(new_all, model)
    chosen = select_tasks(new_all, order=order, limit=limit)
    imported = import_tasks(conn, pid, chosen) if chosen else 0
    distinct = len({t["data"]["seg_id"] for t in batch.tasks})
    return PushReport(project_id=pid, project_created=created, documents=batch.documents,
                      segments=len(batch.tasks), already=distinct - len(new_all), imported=imported,
                      withheld=len(new_all) - len(chosen),
                      model_version=str(model.id) if model is not None else None, errors=batch.errors)


# --------------------------------------------------------------------------------------------
# Pull
# --------------------------------------------------------------------------------------------

def export_tasks(conn: Connection, project: int | str) -> bytes:
    """A full JSON export of the project: every task, with or without annotations."""
    pid = project_id(conn, project)
    with conn.calls(f"exporting project {pid}"):
        data = b"".join(conn.client.projects.exports.download_sync(
            pid, export_type="JSON", download_all_tasks=True))
    return data


@dataclass
class PullReport:
    path: Path
    tasks: int
    annotated: int
    annotations: int
    cancelled: int


def pull(conn: Connection, project: int | str, out: str | Path, *, force: bool = False) -> PullReport:
    """Write the full JSON export of ``project`` to ``out`` atomically. An existing ``out`` is
    only replaced with ``force``."""
    from classify.writers import atomic_write_bytes

    out = Path(out)
    if out.exists() and not force:
        raise ClassifyError(f"{out}: already exists; choose another --out or pass --force to replace it")
    data = export_tasks(conn, project)
    try:
        tasks = json.loads(data)
        if not isinstance(tasks, list):
            raise ValueError(f"a JSON {type(tasks).__name__}")
    except ValueError as exc:
        raise LabelStudioError(f"the export from {conn.url} is not a JSON list of tasks ({exc})") from None
    atomic_write_bytes(out, data)
    anns = [a for t in tasks for a in (t.get("annotations") or [])]
    return PullReport(path=out, tasks=len(tasks),
                      annotated=sum(1 for t in tasks if any(not a.get("was_cancelled")
                                                           for a in t.get("annotations") or [])),
                      annotations=sum(1 for a in anns if not a.get("was_cancelled")),
                      cancelled=sum(1 for a in anns if a.get("was_cancelled")))


# --------------------------------------------------------------------------------------------
# ML backend (used by `classify ls connect-ml` and the retraining loop)
# --------------------------------------------------------------------------------------------

def connect_ml(conn: Connection, project: int | str, url: str, *, title: str = "classify serve-ml",
               is_interactive: bool = False) -> int:
    """Register the ML backend at ``url`` with the project (idempotent: an existing backend with the
    same URL is reused). Label Studio checks the backend's ``/health`` and ``/setup`` first.
    Returns the backend id."""
    pid = project_id(conn, project)
    url = url.rstrip("/")
    with conn.calls(f"listing the ML backends of project {pid}"):
        for b in conn.client.ml.list(project=pid):
            if b.url.rstrip("/") == url:
                return b.id
    with conn.calls(f"connecting the ML backend {url} to project {pid}"):
        backend = conn.client.ml.create(project=pid, url=url, title=title,
                                        is_interactive=is_interactive, auto_update=True)
    return backend.id


def retrieve_predictions(conn: Connection, project: int | str,
                         task_ids: Sequence[int] | None = None) -> None:
    """Ask Label Studio to fetch predictions from the project's ML backend for its tasks (all, or
    ``task_ids``): the Data Manager action ``retrieve_tasks_predictions``, which exists in the
    Community edition (the SDK's ``predict_all_tasks`` does not)."""
    pid = project_id(conn, project)
    selected = ({"all": False, "included": list(task_ids)} if task_ids is not None
                else {"all": True, "excluded": []})
    with conn.calls(f"retrieving predictions for project {pid}"):
        conn.client.actions.create(id="retrieve_tasks_predictions", project=pid,
                                   selected_items=selected)


def train_ml(conn: Connection, project: int | str) -> list[int]:
    """Ask Label Studio to start training on every ML backend connected to the project
    (``POST /api/ml/{id}/train``; Label Studio then sends ``START_TRAINING`` to the backend's
    ``/webhook``). Returns the ids of the backends asked."""
    pid = project_id(conn, project)
    with conn.calls(f"listing the ML backends of project {pid}"):
        backends = [b.id for b in conn.client.ml.list(project=pid)]
    if not backends:
        from classify.errors import LabelStudioError

        raise LabelStudioError(f"{conn.url}: project {pid} has no ML backend connected; "
                               "run `classify ls connect-ml` first")
    for bid in backends:
        with conn.calls(f"starting training of ML backend {bid}"):
            conn.client.ml.train(bid)
    return backends


def list_tasks(conn: Connection, project: int | str) -> list[dict]:
    """All tasks of the project with annotations and predictions, as plain dicts."""
    pid = project_id(conn, project)
    with conn.calls(f"listing the tasks of project {pid}"):
        return [t.model_dump(mode="json") if hasattr(t, "model_dump") else dict(t)
                for t in conn.client.tasks.list(project=pid, fields="all", page_size=1000)]


def create_annotation(conn: Connection, task_id: int, keys: Sequence[str], *,
                      was_cancelled: bool = False, ground_truth: bool = False) -> int:
    """Record an annotation choosing topic ``keys`` (empty = "none of the five") on a task, as the
    connection's user; ``was_cancelled`` records a skip. Returns the annotation id."""
    from classify.labelconfig import choices_result

    result = [] if was_cancelled else choices_result(keys)
    with conn.calls(f"annotating task {task_id}"):
        a = conn.client.annotations.create(task_id, result=result, was_cancelled=was_cancelled,
                                           ground_truth=ground_truth)
    return a.id
