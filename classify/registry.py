"""The model registry: which model directory is the default, and the history of trained models.

Every model lives in its own directory under :func:`classify.paths.models_dir`; the registry is
one small JSON file next to them, ``registry.json``::

    {"default": "<model dir name>",
     "history": [{"id", "dir", "created", "data_sha256", "metrics",
                  "promoted_by", "promoted_at"}, ...],
     "previous": ["<dir of an earlier default>", ...]}

``history`` has one entry per registered model (oldest first); ``promoted_by``/``promoted_at``
record the command that last made it the default (``null`` if it never was). ``previous`` is the
stack of earlier defaults that ``rollback`` returns to (most recent last).

Writers hold an exclusive file lock (``.registry.lock``) around read-modify-write and replace the
file atomically, so concurrent commands (``retrain`` and a ``serve-ml`` retraining in the
background) never lose an update and readers never see half a file.
"""

from __future__ import annotations

import contextlib
import datetime as _dt
import fcntl
import json
from collections.abc import Iterator
from pathlib import Path

from classify.errors import ModelError
from classify.paths import models_dir as _models_dir
from classify.writers import atomic_write_text

REGISTRY_FILE = "registry.json"
LOCK_FILE = ".registry.lock"
CARD_FILE = "card.json"


def _root(root: str | Path | None) -> Path:
    return Path(root) if root is not None else _models_dir()


def registry_path(root: str | Path | None = None) -> Path:
    return _root(root) / REGISTRY_FILE


def now() -> str:
    """UTC timestamp in ISO 8601, second precision (the registry's time format)."""
    return _dt.datetime.now(_dt.timezone.utc).replace(microsecond=0).isoformat()


def _empty() -> dict:
    return {"default": None, "history": [], "previous": []}


def read(root: str | Path | None = None) -> dict:
    """The registry as a dict; an empty registry when the file does not exist yet."""
    path = registry_path(root)
    if not path.is_file():
        return _empty()
    try:
        reg = json.loads(path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ModelError(f"{path}: not a valid registry file ({exc}); restore it from version "
                         "control or delete it and register the models again") from None
    if not isinstance(reg, dict) or not isinstance(reg.get("history", []), list):
        raise ModelError(f"{path}: expected an object with 'default' and a 'history' list")
    reg.setdefault("default", None)
    return _normalise(reg)


def _normalise(reg: dict) -> dict:
    """One history entry per directory; a ``previous`` stack even for files written without one.

    A writer that appends an entry per promotion (and no ``previous``) leaves the promotion order
    in the history: the earlier defaults are the promoted entries before the current one.
    """
    history = [e for e in reg.get("history") or [] if isinstance(e, dict) and e.get("dir")]
    if "previous" not in reg:
        seq: list[str] = []
        for e in history:
            if e.get("promoted_at") and (not seq or seq[-1] != e["dir"]):
                seq.append(e["dir"])
        if seq and seq[-1] == reg.get("default"):
            seq.pop()
        reg["previous"] = seq
    merged: dict[str, dict] = {}
    for e in history:
        merged[e["dir"]] = {**merged[e["dir"]], **e} if e["dir"] in merged else dict(e)
    reg["history"] = list(merged.values())
    return reg


def _write(reg: dict, root: Path) -> None:
    atomic_write_text(registry_path(root), json.dumps(reg, indent=2, ensure_ascii=False) + "\n")


@contextlib.contextmanager
def locked(root: str | Path | None = None) -> Iterator[dict]:
    """Hold the registry lock; yields the registry, which is written back if the block succeeds.

    The write is the last step and atomic: an exception inside the block leaves the file as it was.
    """
    root = _root(root)
    root.mkdir(parents=True, exist_ok=True)
    with open(root / LOCK_FILE, "a+") as lock:
        fcntl.flock(lock.fileno(), fcntl.LOCK_EX)
        try:
            before = json.dumps(read(root), sort_keys=True)
            reg = read(root)
            yield reg
            if json.dumps(reg, sort_keys=True) != before:
                _write(reg, root)
        finally:
            fcntl.flock(lock.fileno(), fcntl.LOCK_UN)


def default_dir_name(root: str | Path | None = None) -> str | None:
    return read(root).get("default")


def default_model_dir(root: str | Path | None = None) -> Path | None:
    """The directory of the default model, or ``None`` when no default is registered."""
    name = default_dir_name(root)
    return _root(root) / name if name else None


def _read_card(model_dir: Path) -> dict:
    path = model_dir / CARD_FILE
    try:
        card = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ModelError(f"{model_dir}: no {CARD_FILE}; is this a model directory written by "
                         "'classify train'?") from None
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ModelError(f"{path}: not valid JSON ({exc})") from None
    if not isinstance(card, dict) or not card.get("id"):
        raise ModelError(f"{path}: the card has no 'id'")
    return card


def card_metrics(card: dict) -> dict:
    """The headline metrics of a model card (cross-validated macro/micro F1 and per-topic F1)."""
    m = card.get("metrics") or card.get("cv_metrics") or {}
    if not isinstance(m, dict):
        return {}
    out = {k: m[k] for k in ("macro_f1", "micro_f1") if isinstance(m.get(k), (int, float))}
    per = m.get("per_label") or m.get("per_topic") or {}
    if isinstance(per, dict):
        f1 = {k: v.get("f1") for k, v in per.items() if isinstance(v, dict) and "f1" in v}
        if f1:
            out["f1"] = f1
    return out


def _card_sha(card: dict) -> str | None:
    data = card.get("data") if isinstance(card.get("data"), dict) else {}
    return card.get("data_sha256") or data.get("sha256") or data.get("data_sha256")


def entry_for(model_dir: str | Path, root: str | Path | None = None, metrics: dict | None = None) -> dict:
    """A history entry for a model directory inside the store, read from its card."""
    root = _root(root)
    model_dir = Path(model_dir)
    if not model_dir.is_absolute() and not model_dir.exists():
        model_dir = root / model_dir
    card = _read_card(model_dir)
    try:
        rel = model_dir.resolve().relative_to(root.resolve())
    except ValueError:
        raise ModelError(f"{model_dir}: not inside the model store {root}; move it there "
                         "(or set CLASSIFY_MODELS_DIR) before registering it") from None
    return {
        "id": card["id"],
        "dir": rel.as_posix(),
        "created": card.get("created"),
        "data_sha256": _card_sha(card),
        "metrics": metrics if metrics is not None else card_metrics(card),
        "promoted_by": None,
        "promoted_at": None,
    }


def _set_default(reg: dict, name: str, promoted_by: str) -> None:
    if reg.get("default") and reg["default"] != name:
        reg["previous"].append(reg["default"])
    reg["default"] = name
    for e in reg["history"]:
        if e["dir"] == name:
            e["promoted_by"] = promoted_by
            e["promoted_at"] = now()


def register(model_dir: str | Path, *, make_default: bool = False, promoted_by: str = "",
             metrics: dict | None = None, root: str | Path | None = None) -> dict:
    """Add a model directory to the history (idempotent); optionally make it the default.

    Returns the history entry. The first model registered in an empty store becomes the default.
    """
    root = _root(root)
    entry = entry_for(model_dir, root, metrics)
    with locked(root) as reg:
        existing = next((e for e in reg["history"] if e["dir"] == entry["dir"]), None)
        if existing is None:
            reg["history"].append(entry)
        else:
            if existing["id"] != entry["id"]:
                # the directory now holds another model (retrained in place): describe that one
                existing.update({k: entry[k] for k in ("id", "created", "data_sha256", "metrics")})
            elif metrics is not None:
                existing["metrics"] = metrics
            entry = existing
        if make_default or not reg.get("default"):
            _set_default(reg, entry["dir"], promoted_by or "register")
    return entry


def find(reg: dict, ref: str) -> dict:
    """The history entry whose id or directory name is ``ref`` (a unique id prefix also works)."""
    ref = ref.rstrip("/").split("/")[-1] if "/" in ref else ref
    exact = [e for e in reg["history"] if ref in (e["id"], e["dir"])]
    if exact:
        return exact[-1]
    prefix = [e for e in reg["history"] if e["id"].startswith(ref) or e["dir"].startswith(ref)]
    if len(prefix) == 1:
        return prefix[0]
    known = ", ".join(e["id"] for e in reg["history"]) or "none"
    if prefix:
        raise ModelError(f"model {ref!r} is ambiguous; matches: {', '.join(e['id'] for e in prefix)}")
    raise ModelError(f"no model {ref!r} in the registry; known models: {known} "
                     "(see 'classify models list')")


def promote(ref: str, *, promoted_by: str = "models promote", root: str | Path | None = None) -> dict:
    """Make the registered model ``ref`` (id or directory name) the default; returns its entry."""
    root = _root(root)
    with locked(root) as reg:
        entry = find(reg, ref)
        if not (root / entry["dir"]).is_dir():
            raise ModelError(f"model {entry['id']}: its directory {root / entry['dir']} is missing")
        _set_default(reg, entry["dir"], promoted_by)
        return dict(entry)


def rollback(*, promoted_by: str = "models rollback", root: str | Path | None = None) -> dict:
    """Return to the previous default (the one before the last promotion); returns its entry."""
    root = _root(root)
    with locked(root) as reg:
        prev = reg["previous"]
        while prev and not (root / prev[-1]).is_dir():
            prev.pop()  # a deleted model cannot be rolled back to; skip it
        if not prev:
            raise ModelError(f"{registry_path(root)}: no previous default to roll back to")
        name = prev.pop()
        reg["default"] = name
        entry = next((e for e in reg["history"] if e["dir"] == name), None)
        if entry is None:
            raise ModelError(f"{registry_path(root)}: previous default {name!r} has no history entry")
        entry["promoted_by"] = promoted_by
        entry["promoted_at"] = now()
        return dict(entry)


def entries(root: str | Path | None = None) -> list[dict]:
    """History entries (oldest first), each with ``default: bool`` added."""
    reg = read(root)
    return [{**e, "default": e["dir"] == reg.get("default")} for e in reg["history"]]
