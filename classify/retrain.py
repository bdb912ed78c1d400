"""Retraining: train a candidate on the latest annotations, compare it with the current default on
the same held-out data, and promote it only when it is not worse.

What is compared, honestly:

1. **Leave-one-document-out on the new dataset.** A fitted model cannot be scored on segments it
   was trained on, and the current default was trained on (most of) the same documents. So the
   comparison refits *both training procedures* per fold on the new dataset: the candidate's
   config and the config recorded in the default's card, each scored by nested
   leave-one-document-out (thresholds tuned inside each training fold), exactly as the card's
   metrics are computed. When both configs are the same this comparison is a tie by
   construction: it then answers "does the recipe still work on the new data", and the new data
   wins (more annotations). It cannot detect wrong labels in the new data itself — that is what
   a fixed evaluation export (and ``classify audit``) is for.
2. **A fixed evaluation export** (``--eval-annotations``), when given: both *fitted* models scored
   on the same gold segments. Segments of the evaluation export are removed from the training
   data first, so the candidate never sees them. When given, this comparison decides.

Promotion rule: the candidate becomes the default when its macro-F1 on the deciding comparison
is not lower than the default's (or with ``force``, or when there is no default yet).

Failure safety: the candidate is written to a temporary directory in the model store and
renamed into place; the registry is changed in one locked, atomic write as the very last step.
An error or a crash at any earlier point leaves the registry — and so the default — untouched.
"""

from __future__ import annotations

import datetime as _dt
import os
import shutil
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from classify import registry
from classify.errors import ClassifyError, ModelError
from classify.paths import models_dir
from classify.topics import TOPIC_KEYS

TOLERANCE = 1e-9  # "not worse": equal macro-F1 promotes


@dataclass
class Scores:
    """Metrics of one model (or training procedure) on one held-out set."""

    macro_f1: float
    micro_f1: float
    f1: dict[str, float]

    @classmethod
    def of(cls, metrics: dict) -> Scores:
        return cls(float(metrics["macro_f1"]), float(metrics["micro_f1"]),
                   {k: float(v["f1"]) for k, v in metrics["per_label"].items()})


@dataclass
class Comparison:
    name: str  # what the held-out data is
    detail: str
    candidate: Scores
    default: Scores | None
    note: str = ""


@dataclass
class RetrainResult:
    candidate_id: str
    candidate_dir: Path
    default_id: str | None
    comparisons: list[Comparison]
    decided_by: str | None  # name of the deciding comparison
    promoted: bool
    reason: str
    rows: int
    documents: int
    excluded_eval_rows: int = 0
    warnings: list[str] = field(default_factory=list)


def _say(progress: Callable[[str], None] | None, msg: str) -> None:
    if progress is not None:
        progress(msg)


def default_name() -> str:
    return "retrain-" + _dt.datetime.now(_dt.timezone.utc).strftime("%Y%m%d-%H%M%S")


def _config_of(model):
    from classify.model import ModelConfig

    cfg = (model.card or {}).get("config")
    if not isinstance(cfg, dict):
        return None
    try:
        return ModelConfig.from_dict(cfg)
    except ClassifyError:
        return None  # a card from another version of the code; its config cannot be refit


def _text_key(text) -> str:
    return " ".join(str(text or "").split()).lower()


def drop_eval_rows(df, eval_df):
    """Training rows without the segments of the evaluation set (same id or same text)."""
    ids = set(eval_df["id"].astype(str)) if "id" in eval_df.columns else set()
    texts = {_text_key(t) for t in eval_df["text"]}
    keep = [not (str(r.get("id")) in ids or _text_key(r.get("text")) in texts)
            for r in df.to_dict("records")]
    return df[keep].reset_index(drop=True), len(df) - sum(keep)


def _store_candidate(result, name: str, root: Path, data_sha: str, sources: Sequence[str]):
    """Save the trained candidate under the store as ``<id>/`` (temp dir first, then a rename)."""
    from classify import artifacts

    root.mkdir(parents=True, exist_ok=True)
    staging = root / f".{name}.candidate-{os.getpid()}"
    model = artifacts.save_model(staging, result, name=name, data_sha256=data_sha, data_sources=list(sources))
    final = root / model.id
    try:
        if final.exists():
            # Same id = same model bytes (id carries the model's sha256): reuse the existing copy.
            shutil.rmtree(staging, ignore_errors=True)
        else:
            os.replace(staging, final)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return artifacts.TopicModel(model.estimator, model.card, final)


def retrain(df, *, eval_df=None, name: str | None = None, config=None, force: bool = False,
            promoted_by: str = "retrain", sources: Sequence[str] = (),
            progress: Callable[[str], None] | None = None) -> RetrainResult:
    """Train a candidate on ``df``, compare it with the current default, promote by the rule.

    ``config``: a :class:`classify.model.ModelConfig` for the candidate (default: the config of
    the current default model, else the built-in defaults). ``eval_df``: a fixed evaluation set.
    """
    from classify import artifacts
    from classify import model as model_mod
    from classify.dataset import dataset_sha256
    from classify.evaluation import evaluate

    root = models_dir()
    warnings: list[str] = []
    if df is None or len(df) == 0:
        raise ClassifyError("retrain: the annotations hold no labelled segments")
    excluded = 0
    if eval_df is not None:
        if len(eval_df) == 0:
            raise ClassifyError("retrain: the evaluation export holds no labelled segments")
        df, excluded = drop_eval_rows(df, eval_df)
        if len(df) == 0:
            raise ClassifyError("retrain: every training segment is also in the evaluation export; "
                                "nothing is left to train on")
    n_docs = int(df["doc"].astype(str).nunique()) if "doc" in df.columns else len(df)
    if n_docs < 2:
        raise ClassifyError(f"retrain: leave-one-document-out needs segments from at least two documents; "
                            f"the annotations have {n_docs}")

    # 1. the current default (loading it first: a broken default is reported before any work)
    current = None
    if registry.default_dir_name() is not None:
        try:
            current = artifacts.load_model(None)
        except ModelError as exc:
            if not force:
                raise ModelError(f"{exc} (the current default cannot be compared; fix it with "
                                 "`classify models rollback`/`promote`, or retrain with --force)") from None
            warnings.append(f"current default not usable: {exc}")
    default_cfg = _config_of(current) if current is not None else None
    cand_cfg = config or default_cfg or model_mod.ModelConfig()

    # 2. train the candidate (its nested leave-one-document-out metrics come with it)
    name = name or default_name()
    _say(progress, f"training candidate {name!r} on {len(df)} segments from {n_docs} documents "
                   "(with leave-one-document-out cross-validation)")
    result = model_mod.train_model(df, cand_cfg, cv=True)
    data_sha = dataset_sha256(df)

    comparisons: list[Comparison] = []
    lodo_default = None
    lodo_note = ""
    if current is not None:
        if default_cfg is None:
            lodo_note = "the default's card has no usable config; its training procedure cannot be refit"
        elif default_cfg == cand_cfg:
            lodo_default = Scores.of(result.cv)
            lodo_note = "same config: refitting both procedures gives the same scores"
        else:
            _say(progress, f"cross-validating the default's config ({current.id}) on the same folds")
            lodo_default = Scores.of(model_mod.cross_validate(df, default_cfg))
    comparisons.append(Comparison(
        name="leave-one-document-out",
        detail=f"{len(df)} segments, {n_docs} documents; each training procedure refit per fold",
        candidate=Scores.of(result.cv), default=lodo_default, note=lodo_note))

    # 3. save the candidate (not yet the default)
    candidate = _store_candidate(result, name, root, data_sha, sources)
    _say(progress, f"saved candidate {candidate.id} in {candidate.path}")

    if eval_df is not None:
        _say(progress, f"scoring both models on the fixed evaluation set ({len(eval_df)} segments)")
        comparisons.append(Comparison(
            name="fixed evaluation export",
            detail=f"{len(eval_df)} segments; both fitted models"
                   + (f"; {excluded} of them removed from the training data" if excluded else ""),
            candidate=Scores.of(evaluate(candidate, eval_df)),
            default=Scores.of(evaluate(current, eval_df)) if current is not None else None))

    # 4. decide
    deciding = comparisons[-1]
    if current is None:
        promote, reason = True, "there is no default model yet"
    elif deciding.default is None:
        promote = force
        reason = (f"no comparison with the default possible ({deciding.note or 'no scores'})"
                  + ("; promoted because of --force" if force else "; not promoted (use --force)"))
    else:
        c, d = deciding.candidate.macro_f1, deciding.default.macro_f1
        better = c >= d - TOLERANCE
        promote = better or force
        verdict = "not worse than" if better else "worse than"
        reason = (f"candidate macro-F1 {c:.3f} is {verdict} the default's {d:.3f} on the {deciding.name}"
                  + ("" if better or not force else "; promoted anyway because of --force"))

    # 5. the last step: one atomic registry write (history entry, and the default if promoted)
    metrics = {"macro_f1": round(deciding.candidate.macro_f1, 4), "micro_f1": round(deciding.candidate.micro_f1, 4),
               "f1": {k: round(v, 4) for k, v in deciding.candidate.f1.items()},
               "evaluated_on": deciding.name}
    registry.register(candidate.path, make_default=promote, promoted_by=promoted_by, metrics=metrics)
    return RetrainResult(
        candidate_id=candidate.id, candidate_dir=candidate.path,
        default_id=current.id if current is not None else None, comparisons=comparisons,
        decided_by=deciding.name, promoted=promote, reason=reason, rows=len(df), documents=n_docs,
        excluded_eval_rows=excluded, warnings=warnings)


def format_comparison(c: Comparison, candidate_id: str, default_id: str | None) -> str:
    """Per-topic F1, macro- and micro-F1 of default and candidate, with the change."""
    head = f"{c.name} ({c.detail})"
    rows = [["topic", "default", "candidate", "change"]]

    def cell(x):
        return "-" if x is None else f"{x:.3f}"

    def change(a, b):
        return "-" if a is None or b is None else f"{b - a:+.3f}"

    d = c.default
    for k in TOPIC_KEYS:
        a = d.f1.get(k) if d else None
        b = c.candidate.f1.get(k)
        rows.append([k, cell(a), cell(b), change(a, b)])
    for label, attr in (("macro-F1", "macro_f1"), ("micro-F1", "micro_f1")):
        a = getattr(d, attr) if d else None
        b = getattr(c.candidate, attr)
        rows.append([label, cell(a), cell(b), change(a, b)])
    widths = [max(len(r[i]) for r in rows) for i in range(4)]
    lines = [head, f"  default = {default_id or '(none)'}, candidate = {candidate_id}"]
    for r in rows:
        lines.append("  " + "  ".join(r[0].ljust(widths[0]) if i == 0 else r[i].rjust(widths[i])
                                      for i in range(4)))
    if c.note:
        lines.append(f"  note: {c.note}")
    return "\n".join(lines)
