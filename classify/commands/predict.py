"""``classify predict``: score already-segmented texts with a topic model."""

from __future__ import annotations

NAME = "predict"
HELP = "score segments (JSONL or a Label Studio task export) and write predictions as JSONL"
DESCRIPTION = """Score already-segmented text. Input: JSON Lines with at least `id` and `text`
(optional `doc_title`, `heading`), or a Label Studio task export (a JSON list of tasks with
`data`). Output: one JSON object per input item, in input order:
{"id": ..., "labels": [topic keys above threshold], "scores": {topic key: probability}}.

Without --model the default model of models/registry.json is used.

examples:
  classify predict --in segments.jsonl --out predictions.jsonl
  classify predict --model models/seed-2026 --in tasks.json --out predictions.jsonl
"""

BATCH = 1000


def add_arguments(parser) -> None:
    parser.add_argument("--model", metavar="DIR", help="model directory (default: the registry's default)")
    parser.add_argument("--in", dest="input", required=True, metavar="SEGMENTS",
                        help="JSONL segments or Label Studio task export (.json)")
    parser.add_argument("--out", required=True, metavar="PREDICTIONS.jsonl", help="output JSON Lines file")


def _item(obj, where: str) -> dict:
    from classify.errors import ClassifyError

    if not isinstance(obj, dict):
        raise ClassifyError(f"{where}: expected a JSON object, got {type(obj).__name__}")
    if "data" in obj and isinstance(obj["data"], dict):  # Label Studio task
        data = obj["data"]
        text = data.get("text")
        if not text:
            q, a = data.get("question") or "", data.get("answer") or ""
            text = f"{q}\n\n{a}" if q and a else (q or a)
        ident = obj.get("id", data.get("id"))
        return {"id": ident, "text": text or "", "doc_title": data.get("doc_title") or "",
                "heading": data.get("heading") or ""}
    if "id" not in obj or "text" not in obj:
        raise ClassifyError(f"{where}: each segment needs 'id' and 'text' (got keys {', '.join(sorted(obj)) or 'none'})")
    return {"id": obj["id"], "text": obj["text"] or "", "doc_title": obj.get("doc_title") or "",
            "heading": obj.get("heading") or ""}


def read_items(path) -> list[dict]:
    """Segments to score from a JSONL file or a Label Studio task export."""
    import json
    from pathlib import Path

    from classify.errors import ClassifyError

    path = Path(path)
    if not path.is_file():
        raise ClassifyError(f"{path}: no such file")
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise ClassifyError(f"{path}: not UTF-8 text; expected JSON Lines or a JSON task export") from None
    stripped = text.lstrip()
    if stripped.startswith("["):
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise ClassifyError(f"{path}: not valid JSON at line {exc.lineno} ({exc.msg})") from None
        return [_item(obj, f"{path}: item {i}") for i, obj in enumerate(data)]
    items = []
    for n, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        try:
            obj = json.loads(line)
        except json.JSONDecodeError as exc:
            raise ClassifyError(f"{path}: line {n}: not valid JSON ({exc.msg}); expected one segment object per line") from None
        items.append(_item(obj, f"{path}: line {n}"))
    return items


def run(args) -> int:
    import json
    import sys
    import time

    from classify.artifacts import load_model
    from classify.writers import atomic_write_text

    model = load_model(args.model)
    items = read_items(args.input)
    t0 = time.perf_counter()
    lines = []
    for start in range(0, len(items), BATCH):
        batch = items[start:start + BATCH]
        for it, pred in zip(batch, model.predict(batch)):
            lines.append(json.dumps({"id": it["id"], "labels": list(pred.labels), "scores": pred.scores},
                                    ensure_ascii=False))
    atomic_write_text(args.out, "".join(line + "\n" for line in lines))
    dt = time.perf_counter() - t0
    print(f"{len(items)} segments scored with {model.id} in {dt:.2f} s → {args.out}", file=sys.stderr)
    return 0
