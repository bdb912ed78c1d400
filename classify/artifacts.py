"""Save and load model directories, with their cards; integrity and compatibility checks.

A model directory holds:
- ``model.joblib`` — the fitted :class:`classify.model.TopicClassifier` (plus labels and thresholds);
- ``card.json`` — id, created, labels in order, thresholds, training-data sha256 and counts per label,
  config, library versions, cross-validated metrics per label, and the sha256 of ``model.joblib``;
- ``README.md`` — the human-readable model card (intended use, data, metrics, limits).

``models/registry.json`` (written by :mod:`classify.registry`) names the default model.

Loading refuses (``ModelError``) a model whose ``model.joblib`` does not match the card's sha256,
whose labels differ from the topic registry, or that was saved with another scikit-learn minor
version (pickled estimators are not portable across those); patch versions are tolerated.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import platform
import shutil
import tempfile
from collections.abc import Mapping, Sequence
from datetime import datetime, timezone
from pathlib import Path

from classify import __version__
from classify.errors import ModelError
from classify.paths import models_dir
from classify.topics import TOPIC_KEYS
from classify.types import Prediction

MODEL_FILE = "model.joblib"
CARD_FILE = "card.json"
README_FILE = "README.md"
REGISTRY_FILE = "registry.json"
CARD_FORMAT = 1


# --- versions ---------------------------------------------------------------------------------------

def library_versions() -> dict[str, str]:
    import joblib
    import numpy
    import scipy
    import sklearn
    from importlib.metadata import version

    return {"python": platform.python_version(), "scikit-learn": sklearn.__version__,
            "spacy": version("spacy"), "spacy-lookups-data": version("spacy-lookups-data"),
            "numpy": numpy.__version__, "scipy": scipy.__version__, "joblib": joblib.__version__,
            "classify": __version__}


def _major_minor(v: str) -> tuple[int, ...]:
    parts = []
    for p in str(v).split(".")[:2]:
        digits = "".join(ch for ch in p if ch.isdigit())
        parts.append(int(digits) if digits else 0)
    return tuple(parts)


def check_versions(card: Mapping, path: Path) -> None:
    """Refuse a model saved with another scikit-learn minor version (or numpy major version)."""
    import numpy
    import sklearn

    saved = card.get("versions") or {}
    have = {"scikit-learn": sklearn.__version__, "numpy": numpy.__version__}
    sk = saved.get("scikit-learn")
    if sk is None or _major_minor(sk) != _major_minor(have["scikit-learn"]):
        raise ModelError(f"{path}: model was saved with scikit-learn {sk or 'unknown'}, this environment has "
                         f"{have['scikit-learn']}; pickled models are not portable across minor versions. "
                         "Retrain with `classify train` (or install the scikit-learn version of the card)")
    np_saved = saved.get("numpy")
    if np_saved and _major_minor(np_saved)[:1] != _major_minor(have["numpy"])[:1]:
        raise ModelError(f"{path}: model was saved with numpy {np_saved}, this environment has {have['numpy']}; "
                         "retrain with `classify train`")


# --- TopicModel -------------------------------------------------------------------------------------

class TopicModel:
    """A loaded (or freshly trained) model: the estimator with its card.

    ``labels`` are topic keys in registry order; ``predict_scores`` returns probabilities in that
    column order; ``predict`` applies ``thresholds``. Empty text gets no labels.
    """

    def __init__(self, estimator, card: dict, path: Path | None = None):
        self.estimator = estimator
        self.card = card
        self.path = Path(path) if path is not None else None
        self.id: str = card.get("id", "")
        model_labels = [str(k) for k in estimator.classes_]
        # Registry order, whatever order the estimator was trained in.
        self.labels: list[str] = [k for k in TOPIC_KEYS if k in model_labels] + \
            [k for k in model_labels if k not in TOPIC_KEYS]
        self._columns = [model_labels.index(k) for k in self.labels]
        thr = card.get("thresholds") or {k: float(t) for k, t in zip(model_labels, estimator.thresholds_)}
        self.thresholds: dict[str, float] = {k: float(thr[k]) for k in self.labels}
        self._thr = None

    def predict_scores(self, items: Sequence[Mapping]):
        """Probabilities, shape ``(len(items), len(labels))``, columns in ``labels`` order."""
        import numpy as np

        if len(items) == 0:
            return np.zeros((0, len(self.labels)))
        return self.estimator.predict_proba(items)[:, self._columns]

    def predict(self, items: Sequence[Mapping]) -> list[Prediction]:
        import numpy as np

        scores = self.predict_scores(items)
        if self._thr is None:
            self._thr = np.array([self.thresholds[k] for k in self.labels])
        above = scores >= self._thr
        out = []
        labels = self.labels
        for row, hit in zip(scores.tolist(), above.tolist()):
            out.append(Prediction(labels=tuple(k for k, h in zip(labels, hit) if h),
                                  scores={k: round(s, 6) for k, s in zip(labels, row)},
                                  model_version=self.id))
        return out

    def __repr__(self) -> str:
        return f"TopicModel(id={self.id!r}, labels={self.labels}, path={str(self.path)!r})"


# --- save -------------------------------------------------------------------------------------------

def _sha256_bytes(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def sha256_file(path: str | Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def _json_metrics(cv: Mapping | None) -> dict | None:
    if not cv:
        return None
    keep = ("per_label", "macro_f1", "micro_f1", "n", "folds", "documents", "scheme", "fold_thresholds",
            "questions_only")
    return {k: cv[k] for k in keep if k in cv}


def save_model(out_dir: str | Path, result, *, name: str | None = None, data_sha256: str = "",
               data_sources: Sequence[str] = (), created: str | None = None) -> TopicModel:
    """Write ``result`` (a :class:`classify.model.TrainResult`) as a model directory, atomically:
    everything is written to a temporary sibling directory which then replaces ``out_dir``.

    Returns the saved model as a :class:`TopicModel`."""
    import joblib

    out_dir = Path(out_dir)
    name = name or out_dir.name
    buf = io.BytesIO()
    joblib.dump(result.estimator, buf, compress=("zlib", 3))
    blob = buf.getvalue()
    model_sha = _sha256_bytes(blob)
    created = created or datetime.now(timezone.utc).replace(microsecond=0).isoformat()
    metrics = _json_metrics(result.cv)
    card = {
        "format": CARD_FORMAT,
        "id": f"{name}-{model_sha[:8]}",
        "name": name,
        "created": created,
        "labels": list(result.labels),
        "thresholds": dict(result.thresholds),
        "threshold_method": result.threshold_method,
        "data": {"sha256": data_sha256, "rows": result.n_rows, "documents": result.n_docs,
                 "counts": dict(result.counts), "sources": [str(s) for s in data_sources],
                 "topic_examples": _examples_info(result)},
        "config": result.config.to_dict(),
        "versions": library_versions(),
        "metrics": metrics,
        "model_sha256": model_sha,
        "model_file": MODEL_FILE,
        "model_bytes": len(blob),
    }
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(dir=out_dir.parent, prefix=f".{out_dir.name}.", suffix=".tmp"))
    try:
        tmp.chmod(0o755)  # mkdtemp makes it private; a model directory is meant to be shared
        (tmp / MODEL_FILE).write_bytes(blob)
        (tmp / CARD_FILE).write_text(json.dumps(card, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
        (tmp / README_FILE).write_text(render_card_readme(card), encoding="utf-8")
        for f in tmp.iterdir():
            with open(f, "rb") as fh:
                os.fsync(fh.fileno())
        if out_dir.exists():
            old = out_dir.parent / f".{out_dir.name}.old-{os.getpid()}"
            os.replace(out_dir, old)
            os.replace(tmp, out_dir)
            shutil.rmtree(old, ignore_errors=True)
        else:
            os.replace(tmp, out_dir)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return TopicModel(result.estimator, card, out_dir)


def _examples_info(result) -> dict:
    """The registry's topic examples the model was trained on (see ``ModelConfig.examples_weight``)."""
    from classify.topics import examples_sha256

    n = int(getattr(result.estimator, "n_examples_", 0))
    return {"count": n, "weight": float(result.config.examples_weight) if n else 0.0,
            "sha256": examples_sha256(result.labels) if n else ""}


def render_card_readme(card: Mapping) -> str:
    """The human-readable model card (Markdown) for a card dict."""
    from classify.topics import get

    ex = card["data"].get("topic_examples") or {}
    examples = (f", plus {ex['count']} hand-written topic examples from the registry at sample weight "
                f"{ex['weight']:g} (sha256 `{ex['sha256'][:16]}…`)." if ex.get("count") else ".")
    lines = [f"# Model card: {card['id']}", "",
             f"Created {card['created']} with classify {card['versions'].get('classify')}, "
             f"scikit-learn {card['versions'].get('scikit-learn')}, spaCy {card['versions'].get('spacy')}.", "",
             "## Intended use", "",
             "Tags segments of Dutch parliamentary documents on asylum and migration (answers to "
             "parliamentary questions, letters to parliament, reports of written consultations) with "
             "zero to five topics: " + ", ".join(get(k).name for k in card["labels"] if k in TOPIC_KEYS) + ". "
             "It suggests labels for annotators and for batch tagging of incoming letters; a person "
             "reviews the outcome. Not for decisions about individuals.", "",
             "## Model", "",
             "spaCy Dutch tokenizer + lookup lemmas → lemma TF-IDF, character 3–5-grams of the lemmas "
             "and seed-term counts per topic (from `classify/topics.py`) → one-vs-rest logistic "
             "regression (balanced class weights; trained on the segments and, at lower weight "
             "when `augment_train` is set, on their questions and answers alone and on the "
             "registry's hand-written topic examples), blended with a "
             "keyword lexicon whose seed terms are weighted by their smoothed precision on the "
             "training data and matched in the text and in the document title/section heading (the "
             "lexicon's weight per topic is chosen from `blend_grid` together with the threshold); "
             "per-topic thresholds tuned by leave-one-document-out cross-validation inside "
             "the training data; scores of short texts (under `short_text_chars`) are mapped so that "
             "their own tuned thresholds land on the general ones. Settings: see `config` in card.json.", "",
             "## Training data", "",
             f"{card['data']['rows']} segments from {card['data']['documents']} documents "
             f"(sha256 `{card['data']['sha256'][:16]}…`){examples}", "",
             "| topic | positive segments | threshold |", "|---|---:|---:|"]
    for k in card["labels"]:
        lines.append(f"| {k} | {card['data']['counts'].get(k, 0)} | {card['thresholds'][k]:.3f} |")
    lines += ["", "## Metrics", ""]
    m = card.get("metrics")
    if m:
        lines += [f"Cross-validation: {m.get('scheme', 'grouped by document')} ({m.get('folds')} folds, "
                  f"{m.get('documents', card['data']['documents'])} documents); thresholds tuned inside each "
                  "training fold (nested), so no metric is tuned on its test documents.", "",
                  "| topic | precision | recall | F1 | support |", "|---|---:|---:|---:|---:|"]
        for k, v in m["per_label"].items():
            lines.append(f"| {k} | {v['precision']:.3f} | {v['recall']:.3f} | {v['f1']:.3f} | {v['support']} |")
        lines += ["", f"Macro-F1 {m['macro_f1']:.3f}, micro-F1 {m['micro_f1']:.3f}."]
        q = m.get("questions_only")
        if q:
            lines += ["", f"Held-out questions scored without their answers ({q['n']} questions, labels of "
                      f"the question–answer pair, so a topic only the answer raises counts as missed): "
                      f"macro-F1 {q['macro_f1']:.3f}, per topic "
                      + ", ".join(f"{k} {v['f1']:.3f}" for k, v in q["per_label"].items()) + "."]
    else:
        lines.append("Not cross-validated (trained with `--no-cv` or on fewer than two documents).")
    lines += ["", "## Limits", "",
              "- Trained on few documents; topics concentrated in one or two documents (e.g. the "
              "solidarity pool) are estimated from very few independent sources, and the metrics have "
              "wide uncertainty.",
              "- Documents of other years, kinds or styles than the training data may score lower; "
              "the seed-term lexicon carries most of the knowledge for unseen vocabulary. Review "
              "suggestions, and retrain as more annotations arrive.",
              "- Short texts (a question without its answer, \"Kent u het bericht …? Ja.\") are "
              "harder: see the questions-only figure above; a short text with one seed term the "
              "training data never saw may stay below its threshold.",
              "- Scores are blended probabilities, not calibrated; compare them with the thresholds, "
              "not with 0.5.",
              "- Dutch only. Empty segments get no labels.", ""]
    return "\n".join(lines)


# --- load -------------------------------------------------------------------------------------------

def default_model_dir() -> Path:
    """The directory named by ``models/registry.json`` ``"default"`` (under :func:`classify.paths.models_dir`).

    Only reads the registry; :mod:`classify.registry` writes it (register, promote, rollback)."""
    root = models_dir()
    reg_path = root / REGISTRY_FILE
    name = _read_default_name(root)
    if not name:
        raise ModelError(f"{reg_path}: no default model; train one with `classify train --annotations EXPORT "
                         f"--out {root}/NAME --promote`, or pass --model DIR")
    path = root / name
    if not path.is_dir():
        raise ModelError(f"{reg_path}: default model {name!r} not found at {path}; "
                         "promote another model or pass --model DIR")
    return path


def read_card(path: str | Path) -> dict:
    path = Path(path)
    card_path = path / CARD_FILE
    if not path.is_dir():
        raise ModelError(f"{path}: not a model directory (expected a directory with {CARD_FILE} and {MODEL_FILE})")
    try:
        card = json.loads(card_path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ModelError(f"{path}: no {CARD_FILE}; not a model directory written by `classify train`") from None
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise ModelError(f"{card_path}: unreadable model card ({exc}); retrain with `classify train`") from None
    if not isinstance(card, dict) or "model_sha256" not in card or "labels" not in card:
        raise ModelError(f"{card_path}: not a classify model card (missing model_sha256/labels)")
    return card


def _model_blob(path: Path, card: Mapping) -> bytes:
    """``model.joblib`` of a model directory, checked against its card (sha256, label set)."""
    model_path = path / card.get("model_file", MODEL_FILE)
    try:
        blob = model_path.read_bytes()
    except FileNotFoundError:
        raise ModelError(f"{path}: {model_path.name} is missing; retrain with `classify train`") from None
    if _sha256_bytes(blob) != card["model_sha256"]:
        raise ModelError(f"{model_path}: sha256 does not match its card (file changed or corrupted); "
                         "refusing to load it. Restore the file or retrain with `classify train`")
    labels = list(card["labels"])
    if set(labels) != set(TOPIC_KEYS):
        raise ModelError(f"{path}: model labels {{{', '.join(sorted(labels))}}} differ from the topic registry "
                         f"{{{', '.join(sorted(TOPIC_KEYS))}}}; retrain with `classify train` on current annotations")
    return blob


def load_model(path: str | Path | None = None) -> TopicModel:
    """Load a model directory (default: the registry's default model) after checking it:
    sha256 of ``model.joblib`` against the card, label set against the topic registry, library
    versions. Any mismatch raises ``ModelError`` naming the directory and the fix."""
    path = Path(path) if path is not None else default_model_dir()
    card = read_card(path)
    blob = _model_blob(path, card)
    model_path = path / card.get("model_file", MODEL_FILE)
    labels = list(card["labels"])
    check_versions(card, path)
    import joblib

    try:
        estimator = joblib.load(io.BytesIO(blob))
    except Exception as exc:  # unpickling errors come in many types
        raise ModelError(f"{model_path}: cannot be loaded ({type(exc).__name__}: {exc}); retrain with `classify train`") from None
    if [str(k) for k in getattr(estimator, "classes_", [])] != labels:
        raise ModelError(f"{model_path}: estimator labels {list(getattr(estimator, 'classes_', []))} differ "
                         f"from its card {labels}; retrain with `classify train`")
    return TopicModel(estimator, card, path)


# --- scorer (prediction without scikit-learn) -------------------------------------------------------

SCORER_FORMAT = 1
# Texts the exported scorer must score exactly as the model does before it is cached: the
# registry's topic examples and a few shapes (a term with spaces, a short question, empty text).
_PROBE_TEXTS = ("Over de landen van herkomst en terugkeer naar het land van herkomst.",
                "Kent u het bericht?", "", "Vraag 1 \n\n Antwoord op vraag 1 \n Nee. ISIS-strijders; EU-grens.")


def _scorer_cache_path(path: Path, card: Mapping) -> Path:
    import sys

    import numpy

    from classify.lemmas import cache_dir

    key = "|".join([str(card["model_sha256"]), str(SCORER_FORMAT), __version__, numpy.__version__,
                    f"{sys.version_info[0]}.{sys.version_info[1]}"])
    return cache_dir() / "scorers" / f"{_sha256_bytes(key.encode())[:24]}.pickle"


def load_scorer(path: str | Path | None = None) -> TopicModel:
    """A model directory loaded for scoring only (what ``classify tag`` needs): its estimator
    replaced by the :class:`classify.scoring.Scorer` exported from it, which gives the same
    scores without importing scikit-learn (~0.9 s of every start).

    The scorer is exported once per model file (and classify/numpy/Python version) into the
    cache directory (:func:`classify.lemmas.cache_dir`), after checking that it scores probe
    texts exactly as the model does; later loads check the model file's sha256 and labels
    against the card and unpickle the scorer alone. Without a usable cache, or for a model the
    scorer cannot represent, this is :func:`load_model`."""
    import pickle

    from classify.scoring import Scorer

    path = Path(path) if path is not None else default_model_dir()
    card = read_card(path)
    _model_blob(path, card)  # sha256 and labels, as load_model checks them
    cached = _scorer_cache_path(path, card)
    try:
        scorer = pickle.loads(cached.read_bytes())
        if isinstance(scorer, Scorer) and [str(k) for k in scorer.classes_] == list(card["labels"]):
            return TopicModel(scorer, card, path)
    except FileNotFoundError:
        pass
    except Exception:  # noqa: BLE001 - a damaged or foreign cache file: export the scorer again
        pass
    model = load_model(path)
    scorer = Scorer.export(model.estimator)
    if scorer is None:
        return model
    blob = pickle.dumps(scorer, protocol=pickle.HIGHEST_PROTOCOL)
    scorer = pickle.loads(blob)
    from classify.scoring import to_matrix
    from classify.topics import example_rows

    probe = to_matrix([{"text": t, "doc_title": "Brief over migratie", "heading": "Vragen"}
                       for t in [*example_rows(model.labels)[0], *_PROBE_TEXTS]])
    import numpy as np

    if not np.array_equal(scorer.predict_proba(probe), model.estimator.predict_proba(probe)):
        return model  # never happens with the tested parts; the full model is always right
    from classify.writers import atomic_write_bytes

    try:
        atomic_write_bytes(cached, blob)
    except OSError:
        pass  # no writable cache: this run scores with the scorer all the same
    return TopicModel(scorer, card, path)


def _read_default_name(root: Path) -> str | None:
    path = root / REGISTRY_FILE
    if not path.is_file():
        return None
    try:
        reg = json.loads(path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise ModelError(f"{path}: unreadable model registry ({exc}); restore it or pass --model DIR") from None
    return reg.get("default") if isinstance(reg, dict) else None
