"""Inter-annotator agreement per topic on a Label Studio export.

Each topic is a binary decision per task (chosen or not), so agreement is computed per topic over
the tasks that at least two annotators labelled (cancelled annotations are ignored; when one
annotator labelled a task twice, their latest annotation counts):

- ``observed``: the share of annotator pairs that made the same decision, averaged over tasks;
- ``kappa``: Cohen's kappa (scikit-learn) when the export has exactly two annotators;
- ``alpha``: Krippendorff's alpha, nominal (package ``krippendorff``), for any number of annotators.

Kappa and alpha are ``None`` when undefined: no co-annotated tasks, or every decision the same (no
variation to agree on beyond chance).
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path

from classify.dataset import read_tasks
from classify.topics import TOPIC_KEYS


@dataclass
class TopicAgreement:
    topic: str
    n: int  # co-annotated tasks
    observed: float | None
    kappa: float | None
    alpha: float | None
    positives: dict = field(default_factory=dict)  # annotator -> tasks where they chose the topic


@dataclass
class Disagreement:
    task_id: object
    id: str  # doc#seg
    topics: list[str]  # topics in dispute
    labels: dict  # annotator -> topic keys they chose


@dataclass
class AgreementReport:
    annotators: list
    n_tasks: int  # tasks with at least one annotation
    n_coannotated: int  # tasks with annotations of two or more annotators
    topics: list[TopicAgreement]
    disagreements: list[Disagreement]

    def to_dict(self) -> dict:
        return asdict(self)


def _latest_per_annotator(annotations: list[dict]) -> dict:
    by: dict = {}
    for a in annotations:  # earliest first: a later one replaces an earlier one
        by[a.get("annotator")] = a["labels"]
    return by


def _undefined_to_none(x: float) -> float | None:
    x = float(x)
    return None if math.isnan(x) else x


def _kappa(a: list[int], b: list[int]) -> float | None:
    from sklearn.metrics import cohen_kappa_score

    if not a:
        return None
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        return _undefined_to_none(cohen_kappa_score(a, b, labels=[0, 1]))


def _alpha(matrix: list[list[float]]) -> float | None:
    import krippendorff
    import numpy as np

    if not matrix or not matrix[0]:
        return None
    data = np.array(matrix, dtype=float)
    values = data[~np.isnan(data)]
    if len(set(values.tolist())) < 2:
        return None  # no variation: alpha is 0/0
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        return _undefined_to_none(krippendorff.alpha(reliability_data=data,
                                                     level_of_measurement="nominal"))


def agreement_from_tasks(tasks: Sequence[dict]) -> AgreementReport:
    """Agreement over tasks as returned by :func:`classify.dataset.read_tasks`."""
    labelled = [t for t in tasks if t["annotations"]]
    per_task = [(t, _latest_per_annotator(t["annotations"])) for t in labelled]
    co = [(t, by) for t, by in per_task if len(by) >= 2]
    annotators = sorted({a for _, by in co for a in by}, key=str)
    index = {a: i for i, a in enumerate(annotators)}

    topics = []
    for key in TOPIC_KEYS:
        observed = []
        matrix = [[math.nan] * len(co) for _ in annotators]
        for j, (_, by) in enumerate(co):
            votes = [int(key in labels) for labels in by.values()]
            pairs = len(votes) * (len(votes) - 1) / 2
            agree = sum(v * (v - 1) / 2 for v in (sum(votes), len(votes) - sum(votes)))
            observed.append(agree / pairs)
            for a, labels in by.items():
                matrix[index[a]][j] = float(key in labels)
        kappa = None
        if len(annotators) == 2:
            a0, a1 = annotators
            pairs2 = [(by[a0], by[a1]) for _, by in co]
            kappa = _kappa([int(key in x) for x, _ in pairs2], [int(key in y) for _, y in pairs2])
        topics.append(TopicAgreement(
            topic=key, n=len(co),
            observed=sum(observed) / len(observed) if observed else None,
            kappa=kappa, alpha=_alpha(matrix),
            positives={str(a): int(sum(v == 1.0 for v in matrix[index[a]])) for a in annotators}))

    disagreements = []
    for t, by in co:
        disputed = [k for k in TOPIC_KEYS if len({k in labels for labels in by.values()}) > 1]
        if disputed:
            data = t["data"]
            disagreements.append(Disagreement(
                task_id=t["task_id"], id=f"{data.get('doc', 'task')}#{data.get('seg', t['task_id'])}",
                topics=disputed, labels={str(a): list(labels) for a, labels in by.items()}))
    return AgreementReport(annotators=[str(a) for a in annotators], n_tasks=len(labelled),
                           n_coannotated=len(co), topics=topics, disagreements=disagreements)


def agreement(path: str | Path) -> AgreementReport:
    """Per-topic agreement and the disagreeing tasks of one Label Studio export."""
    return agreement_from_tasks(read_tasks(path))
