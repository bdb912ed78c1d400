"""Batch tagging: letters → segments → topic scores → tables; resumable, parallel, nothing lost.

How a run works:

1. The coordinating process lists the inputs (:func:`classify.pipeline.iter_paths`) and plans
   them (files above the size limit become error records here; with ``resume`` each file is
   hashed, sha256 of its bytes, to find the documents already done). On this machine a small
   forked *head start* process segments the first chunks while the model loads
   (:class:`_HeadStart`).
2. Documents not done yet go in chunks to workers: this process itself, worker processes on
   this machine (forked from this one after it loaded the model, or joblib/loky processes where
   ``fork`` is not available), or a Dask cluster. A worker loads the model once (cached per
   process; for tagging the scikit-learn-free scorer, :func:`classify.artifacts.load_scorer`)
   and runs read → clean → segment → predict for each document of the chunk, predicting the
   whole chunk in one call, then builds (and for text outputs encodes) the output rows. A
   document that fails at any stage comes back as an error record; the batch goes on.
3. Every finished document's rows are stored as one line of a *part* file in ``OUT.parts/``
   holding the documents of one chunk (atomic rename; on this machine by the worker that tagged
   the chunk, for Dask by the coordinator, one document per file), and streamed by the
   coordinator, in input order, into temporary output files that replace the targets only when
   the whole run has finished. ``errors.jsonl`` beside the output lists every document that
   failed (path, stage, reason).
4. ``resume=True`` reuses the parts of an interrupted run (same model, same outputs, same
   content hash and path) and computes only the rest, so the final files equal those of an
   uninterrupted run.

:func:`tag` is a generator of progress events (:class:`Started`, :class:`DocumentDone`,
:class:`Finished`); it prints nothing. Memory is bounded by the chunks in flight, not by the
number of documents.
"""

from __future__ import annotations

import glob
import hashlib
import json
import os
import shutil
import time
from collections import deque
from collections.abc import Iterable, Iterator, Sequence
from itertools import chain
from dataclasses import dataclass
from pathlib import Path

from classify.errors import ClassifyError
from classify.topics import TOPIC_KEYS

PART_VERSION = 3
"""Bump when the part-file layout or the row content changes, so stale parts are not reused."""

EXCERPT_CHARS = 200
STAGES = ("read", "clean", "segment", "predict", "write")
BACKENDS = ("local", "dask")
DEFAULT_MAX_MB = 10.0
ERRORS_FILE = "errors.jsonl"


# ----------------------------------------------------------------------------- options & events

@dataclass(frozen=True)
class TagOptions:
    """What to tag into where. Validated on construction; nothing is read or written here."""

    out: Path
    docs_out: Path | None = None
    ls_tasks: Path | None = None
    model: Path | None = None
    jobs: int = 1
    backend: str = "local"
    scheduler: str | None = None
    resume: bool = False
    max_mb: float = DEFAULT_MAX_MB
    chunk_size: int | None = None  # documents per task; None = chosen from the batch size

    def __post_init__(self):
        from classify.writers import table_format

        object.__setattr__(self, "out", Path(self.out))
        table_format(self.out)
        if self.docs_out is not None:
            object.__setattr__(self, "docs_out", Path(self.docs_out))
            table_format(self.docs_out)
        if self.ls_tasks is not None:
            object.__setattr__(self, "ls_tasks", Path(self.ls_tasks))
            if self.ls_tasks.suffix.lower() != ".json":
                raise ClassifyError(f"{self.ls_tasks}: Label Studio tasks are a JSON file; "
                                    "use a name ending in .json")
        targets = [p.resolve() for p in (self.out, self.docs_out, self.ls_tasks) if p is not None]
        if len(set(targets)) != len(targets):
            raise ClassifyError("--out, --docs-out and --label-studio-tasks must name different files")
        if self.out.resolve() == (self.out.parent / ERRORS_FILE).resolve():
            raise ClassifyError(f"{self.out}: this name is reserved for the error records; choose another")
        if self.jobs < 1:
            raise ClassifyError(f"--jobs must be 1 or more, got {self.jobs}")
        if self.backend not in BACKENDS:
            raise ClassifyError(f"unknown backend {self.backend!r}; use one of {', '.join(BACKENDS)}")
        if self.scheduler and self.backend != "dask":
            raise ClassifyError("--scheduler needs --backend dask")
        if self.max_mb <= 0:
            raise ClassifyError(f"--max-mb must be positive, got {self.max_mb}")
        if self.chunk_size is not None and self.chunk_size < 1:
            raise ClassifyError(f"chunk size must be 1 or more, got {self.chunk_size}")

    @property
    def parts_dir(self) -> Path:
        return parts_dir(self.out)

    @property
    def errors_path(self) -> Path:
        return self.out.parent / ERRORS_FILE


@dataclass(frozen=True)
class Started:
    total: int  # documents in the batch
    resumed: int  # of which already done in an earlier, interrupted run
    model_id: str


@dataclass(frozen=True)
class DocumentDone:
    path: str
    n_segments: int
    error: dict | None  # {"path", "stage", "reason"} when the document failed
    resumed: bool


@dataclass(frozen=True)
class Finished:
    documents: int
    tagged: int
    segments: int
    failed: int
    resumed: int
    seconds: float
    outputs: tuple[Path, ...]
    errors_path: Path


def parts_dir(out: str | Path) -> Path:
    out = Path(out)
    return out.with_name(out.name + ".parts")


# ----------------------------------------------------------------------------- schemas

def segment_columns(labels: Sequence[str]) -> list[tuple[str, str]]:
    return ([("doc_id", "str"), ("path", "str"), ("index", "int"), ("kind", "str"),
             ("question_numbers", "list[int]"), ("party", "str"), ("heading", "str"), ("excerpt", "str")]
            + [(f"score_{k}", "float") for k in labels] + [("labels", "list[str]")])


def document_columns(labels: Sequence[str]) -> list[tuple[str, str]]:
    return ([("doc_id", "str"), ("path", "str"), ("title", "str"), ("date", "str"), ("reference", "str"),
             ("n_segments", "int")]
            + [(f"n_{k}", "int") for k in labels] + [(f"max_{k}", "float") for k in labels])


def excerpt(text: str, n: int = EXCERPT_CHARS) -> str:
    """The first ``n`` characters of ``text`` on one line, with ``…`` when cut."""
    # Flattening a prefix gives a prefix of the flattened text: when 2n characters give more
    # than n, the cut is the one a longer prefix gives.
    flat = " ".join(text[: 2 * n].split())
    if len(flat) > n:
        return flat[: n - 1].rstrip() + "…"
    head = text[: 4 * n]  # enough for the excerpt unless whitespace runs are very long
    flat = " ".join(head.split())  # whitespace runs as one space (str.isspace is the \s set)
    if len(flat) <= n and len(head) == len(text):
        return flat
    return flat[: n - 1].rstrip() + "…"


def _error(path, stage: str, reason: str) -> dict:
    # Project errors start with "<path>: "; the record names the path in its own field.
    prefix = f"{path}: "
    if reason.startswith(prefix):
        reason = reason[len(prefix):]
    return {"path": str(path), "stage": stage, "reason": reason}


# ----------------------------------------------------------------------------- worker side

@dataclass(frozen=True)
class ModelRef:
    """A picklable handle on a model directory; workers load it once per process."""

    path: str
    id: str


# One loaded model per worker process, keyed by directory and model id, so a worker that runs
# many chunks (joblib's loky executor and Dask workers are reused) loads the model once.
_MODEL_CACHE: dict[ModelRef, object] = {}


def _worker_model(ref: ModelRef):
    model = _MODEL_CACHE.get(ref)
    if model is None:
        from classify.artifacts import load_scorer

        model = load_scorer(ref.path)
        if model.id != ref.id:
            raise ClassifyError(f"{ref.path}: model changed during the run (was {ref.id}, now {model.id})")
        _MODEL_CACHE.clear()
        _MODEL_CACHE[ref] = model
    return model


def _unexpected(exc: BaseException) -> str:
    if isinstance(exc, ClassifyError):
        return str(exc)
    return f"unexpected {type(exc).__name__}: {exc} (a bug in classify; please report it with this file)"


def _segment_document(path: str, sha: str | None) -> dict:
    """read → clean → segment one file; a result dict with either the segments or an error.
    ``sha``: the file's content hash, computed here when None (see :func:`_plan`)."""
    from classify.clean import clean
    from classify.readers import read
    from classify.segment import segment

    data = None
    if sha is None:
        # Read once: the bytes are hashed and handed to the reader (files over --max-mb never
        # get here, see :func:`_plan`).
        try:
            with open(path, "rb") as fh:
                data = fh.read()
        except OSError as exc:
            return {"sha": None, "path": path, "error": _unreadable(path, exc)}
        sha = hashlib.sha256(data).hexdigest()
    stage = "read"
    try:
        doc = read(path, data)
        if not doc.text.strip():
            return {"sha": sha, "path": path, "error": _error(path, "read", "no text in the file (empty, "
                                                              "or a scan without a text layer)")}
        stage = "clean"
        doc = clean(doc)
        if not doc.text.strip():
            return {"sha": sha, "path": path, "error": _error(path, "clean", "no text left after removing "
                                                              "page furniture")}
        stage = "segment"
        segments = segment(doc)
    except Exception as exc:  # noqa: BLE001 - one bad document must not stop the batch
        return {"sha": sha, "path": path, "error": _error(path, stage, _unexpected(exc))}
    if not segments:
        return {"sha": sha, "path": path, "error": _error(
            path, "segment", f"no segment found in {len(doc.text)} characters of text "
            "(no questions/answers or letter sections recognised)")}
    return {
        "sha": sha, "path": path,
        "doc": {"title": doc.title, "date": doc.date, "reference": doc.reference},
        "segments": [{"index": s.index, "kind": s.kind, "question": s.question, "answer": s.answer,
                      "question_numbers": [int(n) for n in s.question_numbers], "party": s.party,
                      "heading": s.heading, "start": s.start, "end": s.end} for s in segments],
    }


def _items(result: dict) -> list[dict]:
    title = result["doc"]["title"] or ""
    return [{"text": _segment_text(s), "doc_title": title, "heading": s["heading"] or ""}
            for s in result["segments"]]


def _segment_text(s: dict) -> str:
    q, a = s["question"], s["answer"]
    return f"{q}\n\n{a}" if q and a else (q or a)


def _attach_scores(result: dict, scores, labels: Sequence[str], thresholds: dict) -> None:
    raw = scores.tolist() if hasattr(scores, "tolist") else [[float(x) for x in row] for row in scores]
    result["scores"] = [[round(x, 4) for x in row] for row in raw]
    thr = [thresholds[k] for k in labels]
    result["labels"] = [[k for k, x, t in zip(labels, row, thr) if x >= t] for row in raw]


def tag_chunk(items: Sequence[tuple[str, str]], ref: ModelRef, parts: str | None = None,
              rows: tuple | None = None) -> list[dict]:
    """Tag a chunk of documents ``(path, sha256)``; one result dict per document, same order.

    This is the unit of work sent to worker processes or Dask workers: the model is predicted
    once for all segments of the chunk (less per-call overhead); if that fails the documents are
    predicted one by one so only the culprit becomes an error record. With ``parts`` (the
    ``OUT.parts`` directory, on a file system this worker shares with the coordinator) the
    chunk's tagged documents are stored there (one part file), in parallel, instead of by the
    coordinator. With ``rows`` (``(document rows, Label Studio tasks, segment row encoder,
    document row encoder)``: whether those are wanted, and how to encode text outputs) the
    output rows are built here too, in parallel, and a tagged document's result holds just them
    (see :func:`_output_rows`): less to send back, less for the coordinator to do. Parts are
    written only with ``rows`` (a part holds a document's output rows).
    """
    results = _tag_chunk(items, ref)
    if rows is not None:
        model = _worker_model(ref)
        results = [r if "error" in r else _output_rows(r, r["path"], model, *rows) for r in results]
        if parts is not None:
            write_parts(Path(parts), [r for r in results if "error" not in r])
    return results


def _output_rows(result: dict, path: str, model, docs: bool, tasks: bool, encode_rows=None,
                 encode_doc=None) -> dict:
    """A tagged document's output rows (see :func:`tag_chunk`), or a "write" error record.

    With the encoders of text outputs (:func:`classify.writers.row_encoder`) the rows come as
    the text the writers add (``rows_text`` with ``n_rows``, ``doc_text``); the tasks always
    come as JSON strings (``tasks_json``). Encoded by the worker that made them, in parallel,
    and cheaper to send back than the row dicts."""
    from classify.writers import JsonListWriter

    labels = list(model.labels)
    try:
        rows = segment_rows(result, path, labels)
        out = {"sha": result.get("sha"), "path": path, "n_rows": len(rows)}
        if encode_rows is not None:
            out["rows_text"] = encode_rows(rows)
        else:
            out["rows"] = rows
        if docs:
            drow = document_row(result, path, labels)
            if encode_doc is not None:
                out["doc_text"] = encode_doc([drow])
            else:
                out["doc_row"] = drow
        if tasks:
            out["tasks_json"] = JsonListWriter.encode(label_studio_tasks(result, path, labels, model.id,
                                                                         model.thresholds))
    except Exception as exc:  # noqa: BLE001 - a malformed result must not stop the batch
        return {"sha": result.get("sha"), "path": path, "error": _error(path, "write", _unexpected(exc))}
    return out


class Segmented(list):
    """A chunk whose documents are segmented already (by the head start, :class:`_HeadStart`):
    the :func:`_segment_document` results, in order; :func:`tag_chunk` predicts them."""


def _tag_chunk(items: Sequence[tuple[str, str]] | Segmented, ref: ModelRef) -> list[dict]:
    model = _worker_model(ref)
    if isinstance(items, Segmented):
        results = list(items)
    else:
        results = [_segment_document(path, sha) for path, sha in items]
    ok = [r for r in results if "error" not in r]
    batch = [it for r in ok for it in _items(r)]
    try:
        scores = model.predict_scores(batch) if batch else []
    except Exception:  # noqa: BLE001 - find the document that fails, keep the others
        scores = None
    if scores is not None:
        start = 0
        for r in ok:
            n = len(r["segments"])
            _attach_scores(r, scores[start:start + n], model.labels, model.thresholds)
            start += n
        return results
    for i, r in enumerate(results):
        if "error" in r:
            continue
        try:
            _attach_scores(r, model.predict_scores(_items(r)), model.labels, model.thresholds)
        except Exception as exc:  # noqa: BLE001
            results[i] = {"sha": r["sha"], "path": r["path"], "error": _error(r["path"], "predict", _unexpected(exc))}
    return results


# ----------------------------------------------------------------------------- parts (resume)

class PartStore:
    """``OUT.parts/``: the finished documents, one JSON line each holding the document's output
    rows (as the outputs' writers take them, see :func:`_output_rows`), in part files of one
    chunk each (``<sha256>.jsonl``, see :func:`write_parts`; a file per chunk rather than per
    document, because creating files is what costs on many file systems), plus a manifest
    naming the model and the outputs (a resumed run must write the same ones). Files are
    replaced atomically, so a killed run leaves only whole part files (and perhaps a hidden
    temp file, ignored); a line that does not parse (a file torn by a power loss) is not
    counted as done and its document is recomputed."""

    def __init__(self, root: Path, model_id: str, resume: bool, outputs: dict | None = None):
        self.root = root
        self.manifest = {"version": PART_VERSION, "model_id": model_id, "outputs": outputs or {}}
        self._index: dict[str, Path] = {}  # sha → part file holding it
        self._loaded: tuple | None = None  # (file, its stat, its documents by sha): the last file read
        mpath = root / "manifest.json"
        if resume and mpath.is_file():
            try:
                found = json.loads(mpath.read_text(encoding="utf-8"))
            except (OSError, ValueError):
                found = None
            if found != self.manifest:
                what = (f"model {found.get('model_id')!r}, format {found.get('version')}, outputs "
                        f"{_outputs_text(found.get('outputs'))}" if isinstance(found, dict) else "an unreadable manifest")
                raise ClassifyError(
                    f"{root}: the interrupted run used {what}, this run uses model {model_id!r} "
                    f"(format {PART_VERSION}, outputs {_outputs_text(outputs)}); run the same command "
                    "with --resume, or without --resume to start over")
            for f in sorted(root.glob("[!.]*.jsonl")):
                for key in self._read(f):
                    self._index[key] = f
        else:
            if root.exists():
                shutil.rmtree(root)
            root.mkdir(parents=True)
            self._write(mpath, self.manifest)

    def has(self, sha: str, path: str) -> bool:
        """Whether the document at ``path`` with content hash ``sha`` is done (its rows name
        its path: the same content under another name, or moved, is done again)."""
        return (sha, path) in self._index

    def load(self, sha: str, path: str) -> dict | None:
        key = (sha, path)
        f = self._index.get(key)
        if f is None:
            return None
        try:
            st = f.stat()
        except OSError:
            return None
        stamp = (st.st_mtime_ns, st.st_size)
        if self._loaded is None or self._loaded[:2] != (f, stamp):
            self._loaded = (f, stamp, self._read(f))  # documents of one chunk come in a row
        return self._loaded[2].get(key)

    @staticmethod
    def _read(f: Path) -> dict[tuple[str, str], dict]:
        """The valid documents of part file ``f`` by (sha, path) (torn or foreign lines left out)."""
        docs = {}
        try:
            lines = f.read_bytes().splitlines()
        except OSError:
            return docs
        for line in lines:
            try:
                data = json.loads(line)
            except ValueError:
                continue
            if (not isinstance(data, dict) or data.get("v") != PART_VERSION or not isinstance(data.get("sha"), str)
                    or not isinstance(data.get("path"), str)
                    or not isinstance(data.get("n_rows"), int) or data["n_rows"] < 1
                    or not (isinstance(data.get("rows_text"), str) or
                            (isinstance(data.get("rows"), list) and len(data["rows"]) == data["n_rows"]))):
                continue
            docs[(data["sha"], data["path"])] = data
        return docs

    def save(self, result: dict) -> None:
        f = write_parts(self.root, [result])
        if f is not None:
            self._index[(result["sha"], result["path"])] = f

    def _write(self, path: Path, obj) -> None:
        _write_bytes(path, json.dumps(obj, ensure_ascii=False, separators=(",", ":")).encode("utf-8"))

    def remove(self) -> None:
        shutil.rmtree(self.root, ignore_errors=True)


def _outputs_text(outputs) -> str:
    if not isinstance(outputs, dict):
        return "?"
    return ", ".join(f"{k} {v}" for k, v in outputs.items() if v) or "none"


def write_parts(root: Path, results: Sequence[dict]) -> Path | None:
    """Store tagged documents (their output rows, see :func:`_output_rows`) as one part file
    (see :class:`PartStore`), named by the hash of the documents' content hashes and paths
    (unique also when two files have the same content); returns its path (None when there is
    nothing to store)."""
    if not results:
        return None
    name = hashlib.sha256("\n".join(f"{r['sha']} {r['path']}" for r in results).encode("utf-8")).hexdigest()
    path = root / f"{name}.jsonl"
    lines = [json.dumps({"v": PART_VERSION, **r}, ensure_ascii=False, separators=(",", ":")) for r in results]
    _write_bytes(path, ("\n".join(lines) + "\n").encode("utf-8"))
    return path


def _write_bytes(path: Path, data: bytes) -> None:
    # No fsync per part: rename is atomic against a killed process; after a power loss a part
    # may be empty or torn, and PartStore then skips its torn lines and the documents are redone.
    # Each process writes its own chunks' parts, so a temp name with the pid is safe (and
    # cheaper than mkstemp).
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_bytes(data)
    os.replace(tmp, path)


# ----------------------------------------------------------------------------- rows

def segment_rows(result: dict, path: str, labels: Sequence[str]) -> list[dict]:
    doc_id = Path(path).name
    rows = []
    for s, scores, tags in zip(result["segments"], result["scores"], result["labels"]):
        row = {"doc_id": doc_id, "path": path, "index": s["index"], "kind": s["kind"],
               "question_numbers": s["question_numbers"], "party": s["party"], "heading": s["heading"],
               "excerpt": excerpt(_segment_text(s))}
        row.update({f"score_{k}": x for k, x in zip(labels, scores)})
        row["labels"] = list(tags)
        rows.append(row)
    return rows


def document_row(result: dict, path: str, labels: Sequence[str]) -> dict:
    row = {"doc_id": Path(path).name, "path": path, **result["doc"], "n_segments": len(result["segments"])}
    for k in labels:
        row[f"n_{k}"] = sum(k in tags for tags in result["labels"])
    for j, k in enumerate(labels):
        row[f"max_{k}"] = max(scores[j] for scores in result["scores"])
    return row


def label_studio_tasks(result: dict, path: str, labels: Sequence[str], model_id: str,
                       thresholds: dict) -> list[dict]:
    """Label Studio tasks with the model's predictions attached, built exactly as ``classify ls
    push`` builds them (:func:`classify.labelstudio.task_data`: same fields and stable ``seg_id``,
    so importing both gives no duplicates) plus ``path``. The prediction chooses the registry
    display names of the predicted topics (or ``None of the five``) in the ``topics`` choices of
    ``annotations/label_config.xml``; ``score`` is :func:`classify.labelstudio.certainty`."""
    from classify.labelconfig import choices_result
    from classify.labelstudio import certainty, task_data
    from classify.types import Document, Segment

    doc_id = Path(path).name
    doc = Document(doc_id=doc_id, path=path, text="", title=result["doc"]["title"])
    tasks = []
    for s, scores, tags in zip(result["segments"], result["scores"], result["labels"]):
        seg = Segment(doc_id=doc_id, index=s["index"], kind=s["kind"], question=s["question"],
                      answer=s["answer"], question_numbers=tuple(s["question_numbers"]),
                      party=s["party"], heading=s["heading"], start=s["start"], end=s["end"])
        data = task_data(doc, seg)
        data["path"] = path
        tasks.append({"data": data, "predictions": [{
            "model_version": model_id,
            "score": round(certainty(dict(zip(labels, scores)), thresholds), 6),
            "result": choices_result([k for k in labels if k in tags]),
        }]})
    return tasks


# ----------------------------------------------------------------------------- backends

def _chunked(items: Sequence, size: int, tail: int = 0) -> Iterator[list]:
    """``items`` in chunks of ``size``; the last ``tail`` chunks' worth in quarter chunks, so
    the processes finish together (the last chunk of a process is a quarter as long to wait for)."""
    end = max(0, len(items) - tail * size) if tail and size >= 4 else len(items)
    for i in range(0, end, size):
        yield list(items[i:min(i + size, end)])
    small = max(1, size // 4)
    for i in range(end, len(items), small):
        yield list(items[i:i + small])


def _chunk_size(n: int, workers: int) -> int:
    # Big enough to batch the model call (its per-batch vocabulary work is shared by all the
    # chunk's segments: at 10,000 letters, 128 letters per call used ~8 % less CPU than 64;
    # 256 no less again, for ~30 MB more per process), small enough that every process gets
    # several chunks (load balance, bounded memory) and an interrupted run keeps most of its
    # work.
    return max(1, min(128, -(-n // (workers * 4))))


def _worker_init(parent_pid: int) -> None:
    """Worker initializer. Ctrl-C and ``kill`` are handled by the coordinator, which then stops
    the workers (a forked worker would otherwise inherit its SIGTERM handler and print
    tracebacks). And end this worker when the process that started it is gone: after a
    ``kill -9`` of ``classify tag`` the workers would otherwise stay alive (holding memory and
    the terminal's stderr) until someone kills them."""
    import signal
    import threading

    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)

    def watch():
        while os.getppid() == parent_pid:
            time.sleep(1.0)
        os._exit(1)

    threading.Thread(target=watch, name="exit-with-parent", daemon=True).start()


def _warm_up(ref: ModelRef) -> None:
    # One tiny prediction: the model's lazy parts (spaCy tokenizer, lemma table) load now too.
    _worker_model(ref).predict_scores([{"text": "Vraag over terugkeer.", "doc_title": "", "heading": ""}])


def _can_fork() -> bool:
    import multiprocessing
    import sys

    # macOS offers fork but system libraries are not fork-safe there; Windows has no fork.
    return sys.platform.startswith("linux") and "fork" in multiprocessing.get_all_start_methods()


def _start_workers(n: int, ref: ModelRef):
    """``n`` worker processes for :func:`tag_chunk`, as a ``concurrent.futures`` executor.

    On Linux they are forked from this process, which has loaded the model and warmed it up:
    they start in milliseconds with the libraries and the model already in memory (shared
    copy-on-write until written), and no helper process. Elsewhere they are joblib's loky
    processes, each importing the libraries and loading the model itself (started now, so
    that happens while this process works)."""
    if _can_fork():
        import multiprocessing
        from concurrent.futures import ProcessPoolExecutor

        _warm_up(ref)  # here, once: the workers inherit spaCy and the tokenizer too
        executor = ProcessPoolExecutor(max_workers=n, mp_context=multiprocessing.get_context("fork"),
                                       initializer=_worker_init, initargs=(os.getpid(),))
        executor.submit(int)  # the first submit forks the workers (now, while this process plans)
        return executor
    from joblib.externals.loky import get_reusable_executor

    executor = get_reusable_executor(max_workers=n, initializer=_worker_init, initargs=(os.getpid(),))
    for _ in range(n):
        executor.submit(_warm_up, ref)
    return executor


def _stop_workers(executor, kill: bool) -> None:
    """Shut the workers down; with ``kill`` (interrupted or failed run) at once, not after their
    current chunk."""
    from concurrent.futures import ProcessPoolExecutor

    if not isinstance(executor, ProcessPoolExecutor):  # loky: reusable, kept for the next run
        if kill:
            executor.shutdown(wait=False, kill_workers=True)
        return
    if kill:
        for proc in list((getattr(executor, "_processes", None) or {}).values()):
            try:
                proc.kill()
            except (OSError, AttributeError):
                pass
    executor.shutdown(wait=not kill, cancel_futures=True)


class _HeadStart:
    """Segments the first chunks of a run in a forked process while this one imports the
    libraries and loads the model (~1 s during which the second core would otherwise idle);
    :meth:`finish` then hands over the chunks segmented so far, to be predicted like any other.

    The child is forked before any of the heavy libraries are loaded (it stays small), only
    reads, cleans and segments, and sends each chunk's results when the chunk is complete; a
    chunk it has not finished when asked to stop (or cannot finish: it is killed after a short
    wait, say on a pathological PDF) is simply done again by the workers. So it can save time
    but never lose or duplicate a document."""

    MAX_CHUNKS = 8  # bounds the memory held for the hand-over
    WAIT = 0.5  # seconds to wait at the hand-over for the chunk in progress

    def __init__(self, chunks: list[list]):
        import multiprocessing
        import threading

        ctx = multiprocessing.get_context("fork")
        self._conn, send = ctx.Pipe(duplex=False)
        self._stop = ctx.Event()
        self._proc = ctx.Process(target=_head_start_main, args=(chunks[:self.MAX_CHUNKS], send, self._stop),
                                 name="classify-head-start", daemon=True)
        self._proc.start()
        send.close()
        self._done: list[Segmented] = []
        self._thread = threading.Thread(target=self._collect, name="head-start-results", daemon=True)
        self._thread.start()

    def _collect(self) -> None:
        try:
            while True:
                results = self._conn.recv()
                if results is None:
                    return
                self._done.append(Segmented(results))
        except (EOFError, OSError):  # the child ended (or was killed)
            return

    def finish(self) -> list[Segmented]:
        """Stop the child; the chunks it completed, in order (the first ``len(...)`` chunks)."""
        self._stop.set()
        self._thread.join(self.WAIT)
        if self._thread.is_alive():
            self._proc.kill()
            self._thread.join()
        self._proc.join()
        self._conn.close()
        return self._done

    def cancel(self) -> None:
        if self._proc.is_alive():
            self._proc.kill()
        self._proc.join()
        self._conn.close()


def _head_start_main(chunks: list[list], conn, stop) -> None:
    import signal

    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the parent's to handle
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    try:
        for chunk in chunks:
            if stop.is_set():
                break
            conn.send([_segment_document(path, sha) for path, sha in chunk])
        conn.send(None)
    except BaseException:  # noqa: BLE001 - whatever happens, the parent redoes what is missing
        pass
    finally:
        conn.close()


def _local_results(chunks: Iterable[list], ref: ModelRef, jobs: int, parts: str | None = None,
                   n_chunks: int | None = None, started: list | None = None,
                   rows: tuple | None = None) -> Iterator[list[dict]]:
    """Chunk results in input order, computed by this process and ``jobs - 1`` worker processes.

    The workers always have up to four chunks each queued (the earliest chunks nobody has
    started; with fewer, a worker often ran dry while this process tagged a chunk of its own).
    This process collects results in order and, whenever the next one is not ready, tags the
    earliest unstarted chunk itself instead of waiting, so both the workers and this process
    stay busy whatever share of the time this process spends writing the outputs. At most
    ``5 * jobs`` chunks are in flight or waiting to be collected (bounded memory). No
    worker is started for a batch of a single chunk. ``started``: ``[executor, n]``, ``n``
    workers started earlier by :func:`_start_workers`, taken over (emptied) and shut down here."""
    executor = None
    if started:
        executor, workers = started
        started.clear()
        if n_chunks is not None and n_chunks < 2:
            _stop_workers(executor, kill=True)  # nothing to share out after all
            executor, workers = None, 0
    else:
        workers = jobs - 1 if n_chunks is None else min(jobs - 1, n_chunks - 1)
    if workers < 1:
        for chunk in chunks:
            yield tag_chunk(chunk, ref, parts, rows)
        return
    from concurrent.futures import FIRST_COMPLETED, wait
    from concurrent.futures.process import BrokenProcessPool

    if executor is None:
        executor = _start_workers(workers, ref)
    import sys

    # The executor's manager thread moves the results out of the pipe only while it holds the
    # GIL, which this thread (tagging a chunk of its own) hands over every switch interval: at
    # the default 5 ms a result of several pipe buffers took long enough that workers ran dry.
    switch_interval = sys.getswitchinterval()
    sys.setswitchinterval(min(switch_interval, 0.0005))
    queued_max = 4 * workers
    window_max = 5 * jobs
    # Slots in input order: ["todo", chunk] | ["remote", future, chunk] | ["done", results].
    window: deque = deque()
    source = iter(chunks)
    exhausted = finished = False
    remote = 0

    def next_todo():
        nonlocal exhausted
        for slot in window:
            if slot[0] == "todo":
                return slot
        if exhausted or len(window) >= window_max:
            return None
        chunk = next(source, None)
        if chunk is None:
            exhausted = True
            return None
        window.append(["todo", chunk])
        return window[-1]

    try:
        while True:
            while remote < queued_max:
                slot = next_todo()
                if slot is None:
                    break
                slot[:] = ["remote", executor.submit(tag_chunk, slot[1], ref, parts, rows), slot[1]]
                remote += 1
            if not window:
                finished = True
                break
            head = window[0]
            if head[0] == "remote" and head[1].done():
                window.popleft()
                remote -= 1
                try:
                    results = head[1].result()
                except BrokenProcessPool as exc:
                    raise ClassifyError(f"a worker process died ({exc}); the documents finished so far "
                                        "are kept: run the same command with --resume") from None
                yield results
            elif head[0] == "done":
                window.popleft()
                yield head[1]
            else:
                # The next result is not ready: do useful work here instead of waiting.
                slot = next_todo()
                if slot is not None:
                    slot[:] = ["done", tag_chunk(slot[1], ref, parts, rows)]
                    continue
                # None left to start (the end of the input, or the window is full): take back
                # the latest chunk queued for a worker that has not started it yet, if any (at
                # the end this process would otherwise wait while a worker works its queue).
                for slot in reversed(window):
                    if slot[0] == "remote" and slot[1].cancel():
                        remote -= 1
                        slot[:] = ["done", tag_chunk(slot[2], ref, parts, rows)]
                        break
                else:
                    wait([head[1]], return_when=FIRST_COMPLETED)
    finally:
        for slot in window:
            if slot[0] == "remote":
                slot[1].cancel()
        sys.setswitchinterval(switch_interval)
        _stop_workers(executor, kill=not finished)


def _dask_results(chunks: Iterable[list], ref: ModelRef, jobs: int, scheduler: str | None) -> Iterator[list[dict]]:
    try:
        from dask.distributed import Client, LocalCluster
    except ImportError:
        raise ClassifyError("--backend dask needs dask.distributed; install it with "
                            "pip install 'classify[dask]'") from None
    import logging

    cluster = None
    try:
        if scheduler:
            try:
                client = Client(scheduler, timeout="20s")
            except (OSError, TimeoutError) as exc:
                raise ClassifyError(f"cannot reach the Dask scheduler at {scheduler}: {exc}; "
                                    "check the address (tcp://host:8786) and that it is running") from None
        else:
            cluster = LocalCluster(n_workers=jobs, threads_per_worker=1, processes=True,
                                   dashboard_address=None, silence_logs=logging.ERROR)
            client = Client(cluster)
        try:
            width = 2 * max(1, sum(client.nthreads().values()))
            window: deque = deque()
            it = iter(chunks)
            # Futures are kept in submission order and collected from the head, so results come
            # back in input order while at most ``width`` chunks are in flight.
            for chunk in it:
                window.append(client.submit(tag_chunk, chunk, ref, pure=False))
                if len(window) >= width:
                    yield window.popleft().result()
            while window:
                yield window.popleft().result()
        finally:
            client.close()
    finally:
        if cluster is not None:
            cluster.close()


# ----------------------------------------------------------------------------- orchestration

def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def _plan(paths: Sequence[Path], max_bytes: int, store: PartStore, resume: bool):
    """Per input: (path, sha, state) with state "done" (part exists), "todo" or an error dict.

    Only ``resume`` needs the content hashes now (to find the finished documents); otherwise
    ``sha`` is None and the worker that tags the file hashes it (in parallel, while the file is
    in the page cache anyway)."""
    plan = []
    for p in paths:
        sp = str(p)
        try:
            size = p.stat().st_size
            if size > max_bytes:
                plan.append((sp, None, _error(sp, "read", f"file is {size / 1e6:.1f} MB, above the "
                                              f"{max_bytes / 1e6:g} MB limit for one letter; split it, "
                                              "or raise the limit with --max-mb")))
                continue
            sha = _sha256(p) if resume else None
        except OSError as exc:
            plan.append((sp, None, _unreadable(sp, exc)))
            continue
        plan.append((sp, sha, "done" if resume and store.has(sha, sp) else "todo"))
    return plan


def _unreadable(path: str, exc: OSError) -> dict:
    return _error(path, "read", f"cannot read the file: {exc.strerror or exc}")


def _remove_stale_temp_files(target: Path) -> None:
    """Temp files a killed run left beside ``target`` (see :mod:`classify.writers`)."""
    for stale in target.parent.glob(f".{glob.escape(target.name)}.*.tmp"):
        try:
            stale.unlink()
        except OSError:
            pass


def tag(inputs: Sequence[str | Path], options: TagOptions) -> Iterator[Started | DocumentDone | Finished]:
    """Tag every document under ``inputs``; yields progress events, writes the outputs.

    Raises ClassifyError when nothing can be done (no inputs, bad model, unwritable output);
    a document that fails becomes an error record in ``errors.jsonl`` instead.
    """
    from classify.artifacts import load_scorer
    from classify.pipeline import iter_paths

    t0 = time.perf_counter()
    paths = iter_paths(inputs)
    if not paths:
        raise ClassifyError(f"no documents found in {' '.join(map(str, inputs))} "
                            "(looked for .txt, .html, .htm, .pdf and .docx files)")
    from classify.artifacts import default_model_dir, read_card

    model_dir = Path(options.model) if options.model is not None else default_model_dir()
    ref = ModelRef(str(model_dir), str(read_card(model_dir).get("id", "")))
    box: list = [("paths", paths)]  # for _run: the paths to plan, or ("plan", the plan made from them)
    del paths  # _run drops the list once it is planned (Path objects cost ~10x more per letter)
    head = None
    gc_state = None
    started: list = []  # [executor, number of workers] until _local_results takes them over
    try:
        if options.backend == "local" and not options.resume and options.jobs > 1 and _can_fork():
            # Plan now and let a forked child segment the first chunks while the model loads.
            plan = _plan(box.pop()[1], int(options.max_mb * 1e6), None, False)
            box.append(("plan", plan))
            todo = [(p, sha) for p, sha, state in plan if state == "todo"]
            size = options.chunk_size or _chunk_size(len(todo), options.jobs)
            if len(todo) > size:
                head = _HeadStart(list(_chunked(todo[:size * _HeadStart.MAX_CHUNKS], size)))
            del todo
        model = load_scorer(model_dir)  # scores as the model does, without importing scikit-learn
        if model.id != ref.id:
            raise ClassifyError(f"{model_dir}: the model card changed while loading; try again")
        _MODEL_CACHE.clear()
        _MODEL_CACHE[ref] = model  # this process tags too; forked workers inherit it
        gc_state = _quiet_gc()
        labels = list(model.labels)
        if set(labels) - set(TOPIC_KEYS):
            raise ClassifyError(f"{model.path}: model labels {labels} are not in the topic registry")

        # Start the local workers now, before the inputs are hashed (with --resume only after the
        # plan shows how much is left to do).
        if options.backend == "local" and not options.resume and options.jobs > 1:
            n_docs = len(box[0][1])
            n = min(options.jobs - 1, -(-n_docs // (options.chunk_size or _chunk_size(n_docs, options.jobs))) - 1)
            if n >= 1:
                started += [_start_workers(n, ref), n]
        yield from _run(box, options, model, ref, labels, started, t0, head)
    finally:
        if head is not None:
            head.cancel()
        if started:  # the run ended before it needed them
            _stop_workers(started[0], kill=True)
        if gc_state is not None:
            _restore_gc(gc_state)


def _quiet_gc():
    """Fewer garbage-collector passes during a run. The model, libraries and lemma caches loaded
    so far are moved out of the collector's reach (``gc.freeze``: they live as long as the run,
    and forked workers then do not touch their pages just to scan them), and the youngest
    generation is collected every 20,000 allocations instead of 700 (a chunk allocates millions
    of short-lived objects; reference counting frees them, the collector only finds cycles).
    Returns what :func:`_restore_gc` needs to put the previous settings back."""
    import gc

    old = gc.get_threshold()
    froze = gc.get_freeze_count() == 0  # a caller that froze objects itself keeps its own state
    if froze:
        gc.collect()
        gc.freeze()
    gc.set_threshold(20_000, old[1], old[2])
    return old, froze


def _restore_gc(state) -> None:
    import gc

    old, froze = state
    if froze:
        gc.unfreeze()
    gc.set_threshold(*old)


def _run(box: list, options: TagOptions, model, ref: ModelRef, labels: list[str], started, t0: float,
         head: _HeadStart | None = None):
    """The rest of :func:`tag`, after the model is loaded (and the workers started); ``box``
    holds ``("paths", the paths)`` or ``("plan", the plan made from them)`` (see :func:`_plan`); ``head``: the head
    start segmenting the first chunks, if any."""
    from classify.writers import JsonListWriter, open_table, row_encoder, table_format, write_jsonl

    kind, paths = box.pop()
    # What the output rows need (see tag_chunk): parts hold the rows, so they belong to these outputs.
    spec = (options.docs_out is not None, options.ls_tasks is not None,
            row_encoder(options.out, segment_columns(labels)),
            row_encoder(options.docs_out, document_columns(labels)) if options.docs_out is not None else None)
    outputs = {"segments": table_format(options.out),
               "documents": table_format(options.docs_out) if options.docs_out is not None else None,
               "label_studio_tasks": options.ls_tasks is not None}
    try:
        store = PartStore(options.parts_dir, model.id, options.resume, outputs)
    except OSError as exc:
        raise ClassifyError(f"{options.parts_dir}: cannot create the work directory beside the output "
                            f"({exc.strerror or exc}); check that {options.out.parent} is writable") from None
    plan = paths if kind == "plan" else _plan(paths, int(options.max_mb * 1e6), store, options.resume)
    del paths  # the plan keeps the path strings; Path objects cost ~10x more per letter
    todo = [(p, sha) for p, sha, state in plan if state == "todo"]
    resumed = sum(1 for _, _, state in plan if state == "done")
    yield Started(total=len(plan), resumed=resumed, model_id=model.id)

    workers = options.jobs
    size = options.chunk_size or _chunk_size(len(todo), workers)
    ahead = head.finish() if head is not None else []  # the first chunks, segmented already
    chunks = chain(ahead, _chunked(todo[len(ahead) * size:], size, tail=2 * workers))
    # On this machine the workers write the parts themselves (in parallel); Dask workers may not
    # see this file system, so their results are stored here.
    parts_by_workers = options.backend == "local"
    if options.backend == "dask":
        chunk_results = _dask_results(chunks, ref, workers, options.scheduler)
    else:
        chunk_results = _local_results(chunks, ref, workers, str(store.root), n_chunks=-(-len(todo) // size),
                                       started=started, rows=spec)
    results = (r for chunk in chunk_results for r in chunk)

    outputs = tuple(p for p in (options.out, options.docs_out, options.ls_tasks) if p is not None)
    for target in (*outputs, options.errors_path):
        _remove_stale_temp_files(target)

    writers = []
    try:
        seg_writer = open_table(options.out, segment_columns(labels))
        writers.append(seg_writer)
        doc_writer = open_table(options.docs_out, document_columns(labels)) if options.docs_out else None
        if doc_writer:
            writers.append(doc_writer)
        ls_writer = JsonListWriter(options.ls_tasks) if options.ls_tasks else None
        if ls_writer:
            writers.append(ls_writer)

        errors: list[dict] = []
        n_tagged = n_segments = 0
        for path, sha, state in plan:
            was_resumed = state == "done"
            if isinstance(state, dict):
                result = {"path": path, "error": state}
            elif was_resumed:
                result = store.load(sha, path)
                if result is None:  # torn or foreign part: do this one again, here
                    result = tag_chunk([(path, sha)], ref, None, spec)[0]
                    was_resumed = False
                    if "error" not in result:
                        store.save(result)
            else:
                result = next(results)
                if result["path"] != path:  # the backends keep order; guard against a bug
                    raise RuntimeError(f"result order broken: expected {path}, got {result['path']}")
                if "error" not in result and not parts_by_workers:
                    result = _output_rows(result, path, model, *spec)  # not built by the worker
                    if "error" not in result:
                        store.save(result)
            if "error" in result:
                err = {**result["error"], "path": path}
                errors.append(err)
                yield DocumentDone(path=path, n_segments=0, error=err, resumed=False)
                continue
            n_rows = result["n_rows"]
            if "rows_text" in result:
                seg_writer.write_encoded(result["rows_text"], n_rows)
            else:
                for row in result["rows"]:
                    seg_writer.write(row)
            if doc_writer:
                if "doc_text" in result:
                    doc_writer.write_encoded(result["doc_text"], 1)
                else:
                    doc_writer.write(result["doc_row"])
            if ls_writer:
                ls_writer.write_encoded(result["tasks_json"])
            n_tagged += 1
            n_segments += n_rows
            yield DocumentDone(path=path, n_segments=n_rows, error=None, resumed=was_resumed)
        # Run the backend to its end (it shuts its workers down), checking it had no more.
        if next(results, None) is not None:
            raise RuntimeError("the backend returned more results than there are documents")

        for w in writers:
            w.commit()
        write_jsonl(options.errors_path, errors)
    except BaseException as exc:
        for w in writers:
            w.abort()
        chunk_results.close()
        if isinstance(exc, OSError):
            raise ClassifyError(f"cannot write the output ({exc.strerror or exc}: {exc.filename or ''}); "
                                f"finished documents are kept in {store.root}: fix the problem and run "
                                "the same command with --resume") from None
        raise
    store.remove()
    yield Finished(documents=len(plan), tagged=n_tagged, segments=n_segments, failed=len(errors),
                   resumed=resumed, seconds=time.perf_counter() - t0, outputs=outputs,
                   errors_path=options.errors_path)
