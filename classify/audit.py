"""Label audit: find segments whose annotation the cross-validated model confidently disputes.

The idea is cleanlab's (Northcutt et al., "Confident learning"), in its simplest multi-label
form: for every segment and topic take the *self-confidence*, the out-of-fold probability the
model gives to the label the annotators chose (``p`` when the topic was given, ``1 - p`` when it
was not). A segment's label quality is its lowest self-confidence over the five topics; segments
are ranked by it, lowest first. Out-of-fold means leave-one-document-out: the model that scores a
segment never saw that segment's document, so it cannot simply repeat the annotation.

The model's scores are blends that are not calibrated around 0.5 (each topic has its own
threshold), so before taking self-confidence each score is mapped piecewise-linearly onto a
probability scale with the threshold at 0.5 (0 → 0, threshold → 0.5, 1 → 1). Then "the model
disagrees with the annotation on a topic" is exactly "self-confidence below 0.5", and a listed
segment always has at least one topic the model would have decided differently.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np


@dataclass(frozen=True)
class Disagreement:
    topic: str
    annotated: bool  # what the annotators decided for this topic
    probability: float  # the model's out-of-fold probability that the topic applies


@dataclass(frozen=True)
class LabelIssue:
    row: int  # position in the dataset
    id: str
    quality: float  # lowest self-confidence over the topics (0 = the model is sure it is wrong)
    labels: tuple[str, ...]  # the annotated topics
    disagreements: tuple[Disagreement, ...] = field(default=())
    suggested: tuple[str, ...] = ()  # the topics the model would choose


def calibrate_to_threshold(probs: np.ndarray, thr: np.ndarray) -> np.ndarray:
    """Map scores so each topic's threshold sits at 0.5: [0, t] → [0, 0.5], [t, 1] → [0.5, 1]."""
    thr = np.clip(thr, 1e-6, 1 - 1e-6)
    return np.where(probs < thr, 0.5 * probs / thr, 0.5 + 0.5 * (probs - thr) / (1 - thr))


def find_label_issues(y: np.ndarray, probs: np.ndarray, labels: Sequence[str],
                      thresholds: Mapping[str, float] | None = None, *,
                      ids: Sequence[str] | None = None, top: int | None = None) -> list[LabelIssue]:
    """Rank segments by label quality (lowest first); only segments with a disagreement.

    ``y``: n × k 0/1 annotations; ``probs``: n × k out-of-fold probabilities, columns in the
    order of ``labels``; ``thresholds``: the decision threshold per topic (default 0.5).
    """
    y = np.asarray(y, dtype=int)
    probs = np.asarray(probs, dtype=float)
    if y.shape != probs.shape or y.ndim != 2 or y.shape[1] != len(labels):
        raise ValueError(f"annotations {y.shape} and probabilities {probs.shape} must both be "
                         f"n × {len(labels)} (one column per topic)")
    thr = np.array([float((thresholds or {}).get(k, 0.5)) for k in labels])
    q = calibrate_to_threshold(probs, thr)
    self_conf = np.where(y == 1, q, 1.0 - q)
    predicted = probs >= thr
    disagree = predicted != (y == 1)
    quality = self_conf.min(axis=1)
    order = np.lexsort((np.arange(len(y)), quality))  # stable: lowest quality first, then row order
    issues: list[LabelIssue] = []
    for i in order:
        if not disagree[i].any():
            continue
        dis = tuple(Disagreement(labels[j], bool(y[i, j]), round(float(probs[i, j]), 4))
                    for j in np.argsort(self_conf[i]) if disagree[i, j])
        issues.append(LabelIssue(
            row=int(i), id=str(ids[i]) if ids is not None else str(i), quality=round(float(quality[i]), 4),
            labels=tuple(k for j, k in enumerate(labels) if y[i, j]),
            disagreements=dis, suggested=tuple(k for j, k in enumerate(labels) if predicted[i, j])))
        if top is not None and len(issues) >= top:
            break
    return issues


@dataclass
class AuditResult:
    issues: list[LabelIssue]
    rows: list[dict]  # the dataset rows, by position (LabelIssue.row)
    n_segments: int
    n_documents: int
    n_disagreeing: int  # segments with at least one disagreeing topic (before --top)
    thresholds: dict[str, float]
    config_source: str


def audit(df, *, config=None, config_source: str = "built-in defaults", top: int | None = None) -> AuditResult:
    """Out-of-fold (leave-one-document-out) scores for ``df`` and its ranked label issues.

    Thresholds for "disagreeing" are tuned on the out-of-fold scores of this dataset, as the model
    would tune them (the ranking itself does not depend on them much: it is self-confidence).
    """
    from classify.errors import ClassifyError
    from classify.model import ModelConfig, cross_val_predict_proba, label_matrix, tune_thresholds

    if len(df) == 0:
        raise ClassifyError("audit: the annotations hold no labelled segments")
    if top is not None and top < 1:
        raise ClassifyError(f"audit: --top must be 1 or more, got {top}")
    config = config or ModelConfig()
    labels = list(config.labels)
    n_docs = int(df["doc"].astype(str).nunique()) if "doc" in df.columns else 1
    probs = cross_val_predict_proba(df, config)
    y = label_matrix(list(df["labels"]), labels)
    thr_arr = tune_thresholds(y, probs, config.threshold_grid, config.default_threshold)
    thresholds = {k: float(t) for k, t in zip(labels, thr_arr)}
    rows = df.to_dict("records")
    ids = [str(r.get("id", i)) for i, r in enumerate(rows)]
    all_issues = find_label_issues(y, probs, labels, thresholds, ids=ids)
    return AuditResult(issues=all_issues[:top] if top else all_issues, rows=rows, n_segments=len(df),
                       n_documents=n_docs, n_disagreeing=len(all_issues), thresholds=thresholds,
                       config_source=config_source)


def review_tasks(result: AuditResult) -> list[dict]:
    """Label Studio tasks for a review batch: the segment's fields, the annotation that is in doubt
    and the cross-validated model's choice as two predictions, least trustworthy label first."""
    from classify.labelconfig import choices_result
    from classify.labelstudio import segment_id

    tasks = []
    for rank, issue in enumerate(result.issues, 1):
        r = result.rows[issue.row]
        text = str(r.get("text") or "")
        data = {
            "seg_id": "review:" + segment_id(str(r.get("doc", "")), r.get("seg") or issue.row, text),
            "doc": str(r.get("doc", "")), "doc_title": str(r.get("doc_title") or r.get("doc") or ""),
            "seg": r.get("seg"), "kind": r.get("kind"), "party": r.get("party"),
            "heading": str(r.get("heading") or ""),
            "question": str(r.get("question") or (text if not r.get("answer") else "")),
            "answer": str(r.get("answer") or ""), "text": text,
            "review_rank": rank, "review_quality": issue.quality,
            "review_reason": "; ".join(
                f"{d.topic}: annotated {'yes' if d.annotated else 'no'}, model {d.probability:.2f}"
                for d in issue.disagreements),
        }
        tasks.append({"data": data, "predictions": [
            {"model_version": "annotation under review", "score": issue.quality,
             "result": choices_result(issue.labels)},
            {"model_version": "audit: cross-validated model", "score": issue.quality,
             "result": choices_result(issue.suggested)},
        ]})
    return tasks
