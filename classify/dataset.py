"""Annotation exports → training rows, and annotator aggregation.

Reads Label Studio exports (full JSON, JSON_MIN) and the project's own dataset files
(``.jsonl`` written by :func:`write_dataset`) and turns them into one row per task.

Aggregation rule when several annotators labelled a task (documented in the README):
1. cancelled (skipped) annotations are ignored; a task with no remaining annotation is left out;
2. an annotation marked ``ground_truth`` wins outright;
3. otherwise each topic is decided by majority vote over the annotations; a tie is broken by the
   earliest annotation (the first annotator's decision), and the tied topics are recorded in
   ``tied`` so they can be reviewed.
An empty choice list from a non-cancelled annotation (or the explicit "None of the five"
choice) is the decision "none of the five topics"; "None of the five" together with a topic is
a contradiction and an error naming the task. Choice values are mapped by the registry (display
name or key, any case); an unknown value is an error naming the task and the value.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Sequence
from pathlib import Path

import pandas as pd

from classify.errors import ExportError
from classify.topics import NONE_CHOICE, TOPIC_KEYS, TOPICS, choice_to_key

TEXT_FIELDS = ("doc", "doc_title", "seg", "kind", "question_numbers", "party", "heading",
               "question", "answer", "text")
CHOICES_FROM_NAME = "topics"


def _task_text(data: dict) -> str:
    if data.get("text"):
        return str(data["text"])
    q, a = data.get("question") or "", data.get("answer") or ""
    return f"{q}\n\n{a}" if q and a else (q or a)


def _map_choices(values: Iterable[str], path: Path, task_id) -> list[str]:
    """Choice values → topic keys; [] for "none of the five" (explicit or an empty result)."""
    keys: list[str] = []
    said_none = False
    for v in values:
        if not isinstance(v, str):
            raise ExportError(f"{path}: task {task_id}: choice value {v!r} is not a string")
        try:
            k = choice_to_key(v)
        except KeyError:
            raise ExportError(f"{path}: task {task_id}: unknown choice value {v!r} (expected one of "
                              f"{', '.join(repr(t.name) for t in TOPICS)}, {NONE_CHOICE!r} or a topic key)") from None
        if k is None:
            said_none = True
        elif k not in keys:
            keys.append(k)
    if said_none and keys:
        raise ExportError(f"{path}: task {task_id}: an annotation chooses {NONE_CHOICE!r} together with "
                          f"{', '.join(keys)}; correct it in Label Studio and export again")
    return keys


def _choices_of_result(result, path: Path, task_id) -> list[str]:
    if result is None:
        result = []
    if not isinstance(result, list):
        raise ExportError(f"{path}: task {task_id}: annotation 'result' is a {type(result).__name__}, "
                          "expected a list")
    values: list[str] = []
    for r in result:
        if not isinstance(r, dict):
            raise ExportError(f"{path}: task {task_id}: annotation result item is not an object")
        value = r.get("value") or {}
        if r.get("type") == "choices" or (isinstance(value, dict) and "choices" in value):
            choices = value.get("choices") if isinstance(value, dict) else None
            if not isinstance(choices, list):
                raise ExportError(f"{path}: task {task_id}: a choices result without a 'choices' list")
            values.extend(choices)
    return _map_choices(values, path, task_id)


def aggregate(annotations: Sequence[dict]) -> tuple[list[str], list[str]]:
    """Resolve several annotators' topic lists into (labels, tied topics).

    ``annotations``: dicts with ``labels`` (topic keys), ``ground_truth`` (bool), in the order they
    were made (earliest first). See the module docstring for the rule.
    """
    if not annotations:
        return [], []
    for a in annotations:
        if a.get("ground_truth"):
            return [k for k in TOPIC_KEYS if k in a["labels"]], []
    n = len(annotations)
    labels, tied = [], []
    for k in TOPIC_KEYS:
        votes = sum(k in a["labels"] for a in annotations)
        if 2 * votes > n:
            labels.append(k)
        elif 2 * votes == n:
            tied.append(k)
            if k in annotations[0]["labels"]:
                labels.append(k)
    return labels, tied


def _tasks_from_full_export(tasks: list, path: Path) -> list[dict]:
    out = []
    for n, t in enumerate(tasks):
        if not isinstance(t, dict) or not isinstance(t.get("data"), dict):
            raise ExportError(f"{path}: item {n} is not a Label Studio task with a 'data' object "
                              "(expected a full JSON export)")
        tid = t.get("id", f"#{n}")
        raw = t.get("annotations") or []
        if not isinstance(raw, list):
            raise ExportError(f"{path}: task {tid}: 'annotations' is not a list")
        anns, cancelled = [], 0
        for a in sorted(raw, key=lambda a: (str(a.get("created_at") or ""), a.get("id") or 0)
                        if isinstance(a, dict) else ("", 0)):
            if not isinstance(a, dict):
                raise ExportError(f"{path}: task {tid}: an annotation is not an object")
            if a.get("was_cancelled"):
                cancelled += 1
                continue
            anns.append({"id": a.get("id"), "labels": _choices_of_result(a.get("result"), path, tid),
                         "ground_truth": bool(a.get("ground_truth")),
                         "annotator": _annotator(a.get("completed_by"))})
        out.append({"task_id": tid, "data": t["data"], "annotations": anns, "cancelled": cancelled})
    return out


def _annotator(value):
    """``completed_by`` is an id, or (in some exports) a user object."""
    if isinstance(value, dict):
        return value.get("id", value.get("email"))
    return value


def _tasks_from_min_export(items: list, path: Path) -> list[dict]:
    by_task: dict = {}
    for n, it in enumerate(items):
        tid = it.get("id")
        if not any(k in it for k in ("text", "question", "answer")):
            raise ExportError(f"{path}: item {n} (id {tid}) has no 'text', 'question' or 'answer'; "
                              "expected a Label Studio JSON or JSON_MIN export")
        raw = it.get(CHOICES_FROM_NAME)
        if isinstance(raw, dict):
            values = raw.get("choices") or []
        elif isinstance(raw, str):
            values = [raw]
        elif raw is None:
            values = []
        elif isinstance(raw, list):
            values = raw
        else:
            raise ExportError(f"{path}: task {tid}: '{CHOICES_FROM_NAME}' is a {type(raw).__name__}")
        task = by_task.setdefault(tid, {"task_id": tid,
                                        "data": {k: it.get(k) for k in TEXT_FIELDS if k in it},
                                        "annotations": [], "cancelled": 0})
        task["annotations"].append({"id": it.get("annotation_id"), "labels": _map_choices(values, path, tid),
                                    "ground_truth": False, "annotator": it.get("annotator"),
                                    "_order": (str(it.get("created_at") or ""), str(it.get("annotation_id") or ""))})
    for task in by_task.values():
        task["annotations"].sort(key=lambda a: a.pop("_order"))
    return list(by_task.values())


def read_tasks(path: str | Path) -> list[dict]:
    """The tasks of one Label Studio export (full JSON or JSON_MIN), in file order.

    Each task: ``task_id``, ``data`` (the task's fields), ``annotations`` (non-cancelled, earliest
    first; each ``id``, ``labels`` (topic keys, [] = none of the five), ``ground_truth``,
    ``annotator``) and ``cancelled`` (how many cancelled annotations were dropped; JSON_MIN
    exports do not contain them).
    """
    path = Path(path)
    data = _load_json(path)
    if not data:
        return []
    if all(isinstance(t, dict) and "data" in t for t in data):
        return _tasks_from_full_export(data, path)
    if all(isinstance(t, dict) and "id" in t and "data" not in t for t in data):
        return _tasks_from_min_export(data, path)
    raise ExportError(f"{path}: items are neither full-export tasks (with 'data') nor JSON_MIN rows "
                      "(with 'id'); expected a Label Studio JSON or JSON_MIN export")


def _load_json(path: Path) -> list:
    if not path.is_file():
        raise ExportError(f"{path}: no such file")
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except UnicodeDecodeError:
        raise ExportError(f"{path}: not UTF-8 text; expected a Label Studio JSON export") from None
    except json.JSONDecodeError as exc:
        raise ExportError(f"{path}: not valid JSON at line {exc.lineno} ({exc.msg}); "
                          "expected a Label Studio JSON or JSON_MIN export") from None
    if not isinstance(data, list):
        raise ExportError(f"{path}: expected a JSON list of tasks, got a JSON {type(data).__name__}; "
                          "export the project as JSON or JSON_MIN")
    return data


def _row(data: dict, task_id, anns: list[dict], path: Path) -> dict:
    labels, tied = aggregate(anns)
    text = _task_text(data)
    return {
        "id": f"{data.get('doc', 'task')}#{data.get('seg', task_id)}",
        "task_id": task_id,
        "doc": data.get("doc") or f"task-{task_id}",
        "seg": data.get("seg"),
        "doc_title": data.get("doc_title") or "",
        "heading": data.get("heading") or "",
        "party": data.get("party"),
        "kind": data.get("kind"),
        "question": data.get("question") or "",
        "answer": data.get("answer") or "",
        "text": text,
        "labels": labels,
        "tied": tied,
        "n_annotations": len(anns),
        "annotators": [a.get("annotator") for a in anns],
        "source": str(path),
    }


def _rows_from_jsonl(path: Path) -> list[dict]:
    rows = []
    with path.open(encoding="utf-8") as fh:
        for n, line in enumerate(fh, 1):
            if not line.strip():
                continue
            try:
                r = json.loads(line)
            except json.JSONDecodeError as exc:
                raise ExportError(f"{path}: line {n}: not valid JSON ({exc.msg})") from None
            if not isinstance(r, dict) or "text" not in r or "labels" not in r:
                raise ExportError(f"{path}: line {n}: a dataset row needs 'text' and 'labels'")
            if not isinstance(r["labels"], list):
                raise ExportError(f"{path}: line {n}: 'labels' must be a list of topic keys")
            unknown = [k for k in r["labels"] if k not in TOPIC_KEYS]
            if unknown:
                raise ExportError(f"{path}: line {n}: unknown topic {unknown[0]!r}")
            r.setdefault("doc", r.get("id", f"row-{n}"))
            r.setdefault("doc_title", "")
            r.setdefault("heading", "")
            rows.append(r)
    return rows


def read_rows(path: str | Path) -> list[dict]:
    """Rows of one export or dataset file (see module docstring); tasks without a (non-cancelled)
    annotation are left out."""
    path = Path(path)
    if path.suffix == ".jsonl":
        if not path.is_file():
            raise ExportError(f"{path}: no such file")
        return _rows_from_jsonl(path)
    return [_row(t["data"], t["task_id"], t["annotations"], path)
            for t in read_tasks(path) if t["annotations"]]


def build_dataset(paths: Sequence[str | Path]) -> pd.DataFrame:
    """One row per task from one or more exports/datasets; a later file wins for the same task id.

    Columns: id, task_id, doc, seg, doc_title, heading, party, kind, question, answer, text,
    labels (list of topic keys), tied, n_annotations, annotators, source, and one 0/1 column per
    topic key.
    """
    rows: dict[str, dict] = {}
    for p in paths:
        for r in read_rows(p):
            rows[r["id"]] = r
    df = pd.DataFrame(list(rows.values()))
    if df.empty:
        df = pd.DataFrame(columns=["id", "doc", "doc_title", "heading", "text", "labels"])
    for k in TOPIC_KEYS:
        df[k] = [int(k in labels) for labels in df["labels"]] if len(df) else []
    return df


def dataset_sha256(df: pd.DataFrame) -> str:
    """A content hash of the training data (texts, context and labels), independent of row order."""
    h = hashlib.sha256()
    for line in sorted(json.dumps([r["id"], r["text"], r.get("doc_title", ""), r.get("heading", ""),
                                   sorted(r["labels"])], ensure_ascii=False)
                       for r in df.to_dict("records")):
        h.update(line.encode("utf-8"))
        h.update(b"\n")
    return h.hexdigest()


def write_dataset(df: pd.DataFrame, out: str | Path) -> None:
    """Write rows as JSON Lines, atomically."""
    from classify.writers import atomic_write_text

    cols = [c for c in df.columns if c not in TOPIC_KEYS]
    lines = [json.dumps({c: r[c] for c in cols}, ensure_ascii=False, default=str) for r in df.to_dict("records")]
    atomic_write_text(out, "".join(line + "\n" for line in lines))
