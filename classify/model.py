"""The topic model: configuration, fitting, scores, per-topic thresholds, grouped cross-validation.

No file I/O here (see :mod:`classify.artifacts` for saving and loading).

Design, for generalising from ~150 labelled segments to unseen documents:
- features (:mod:`classify.features`): lemma TF-IDF (spaCy Dutch tokenizer + lookup lemmas),
  character 3–5-grams of the lemmas (Dutch compounds), and seed-term counts per topic from the
  registry; optionally a TF-IDF block of the context (document title + section heading), off by
  default because with a handful of training documents it learns their titles;
- one-vs-rest logistic regression with balanced class weights, trained on the segments and, with
  half their weight, on other views of them: each question without its answer and each answer
  (of at least 200 characters) without its question, so the model also meets the short and
  one-sided texts it is used on (questions without answers, "Kent u het bericht …? Ja.");
- a keyword lexicon learned on top of the registry's seed terms: each term's precision for its
  topic is estimated on the training rows and smoothed towards a prior (terms never seen keep the
  maintainers' trust, generic terms that fire on other topics lose it); a segment's lexicon score
  is the noisy-OR of the terms found in its text and its context (title, heading);
- the score of a topic blends both, ``(1 - w) * p_model + w * p_lexicon``; ``w`` starts at
  ``lexicon_weight`` (more for topics with few positive examples, ``w = 1`` without any) and is
  then chosen per topic from ``blend_grid`` together with the threshold, on inner out-of-fold
  scores, so a topic whose lexicon generalises better than the regression leans on it;
- per-topic thresholds chosen on out-of-fold scores of an inner leave-one-document-out loop
  (objective: pooled F1 averaged with the mean per-document F1);
- short texts (under ``short_text_chars``) score lower (fewer words and seed terms), so their own
  thresholds are tuned too (on the short real segments and the question-only views) and their
  scores mapped onto the general scale (one threshold per topic serves both, as consumers of
  ``predict_scores`` expect);
- evaluation by leave-one-document-out (grouped by ``doc``); the thresholds of each outer fold are
  tuned inside that fold only (nested), so the reported metrics are not tuned on the test document.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import scipy.sparse as sp
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.linear_model import LogisticRegression

from classify.errors import ClassifyError
from classify.features import SeedTermCounts, build_context_features, build_text_features, to_matrix
from classify.scoring import (
    Scorer,
    as_matrix,
    blend,
    is_short,
    lexicon_scores,
    rescale_short,
    scan_rows,
    seed_block,
)
from classify.topics import TOPIC_KEYS, example_rows


@dataclass(frozen=True)
class ModelConfig:
    """Training arguments; every field can be set from a JSON file (``classify train --config``).

    - ``C``: inverse regularisation of the logistic regression.
    - ``word_*``, ``char_*``: lemma TF-IDF and character n-gram blocks (weight 0 switches a block off).
    - ``context_weight``: TF-IDF block of title + heading (0: off; the context still feeds the lexicon).
    - ``seed_weight``, ``seed_word_start``, ``seed_context``: seed-term count features (terms
      matched anywhere in a word, or only at its start; counts of the context too).
    - ``lexicon_weight``, ``lexicon_prior``: blend weight of the lexicon, at least
      ``lexicon_weight``, ``prior / (prior + positives)`` for topics with few examples.
    - ``lexicon_prior_precision``, ``lexicon_prior_strength``: trust in a seed term before/against
      the training data (a Beta prior in pseudo-counts).
    - ``threshold_*``, ``default_threshold``: per-topic threshold search (grid, per-document
      objective, shrinkage towards the default, value without positives).
    - ``short_text_chars``, ``augment_questions``, ``augment_train``: separate threshold
      calibration for short texts, also on the training questions without their answers
      (``augment_questions``), and training on those views too (``augment_train``).
    - ``augment_answers`` (answers of at least ``augment_min_answer_chars`` alone),
      ``augment_sentences`` (the first N sentences of each question): more views of the training
      segments, the kinds of text met in use; ``augment_weight``: their sample weight when
      ``augment_train`` fits on them. Views stay in their document's fold.
    - ``blend_grid``: candidate lexicon blend weights per topic; the weight and threshold are
      chosen together on the inner out-of-fold scores (empty: the ``lexicon_weight`` rule alone).
    - ``examples_weight``: sample weight of the registry's hand-written topic examples
      (:func:`classify.topics.example_rows`), added to every fit as weak labels (0: not used).
      They never count towards term precisions, thresholds or metrics.
    - ``max_folds``: leave-one-document-out up to this many documents, grouped k-fold beyond.
    """

    C: float = 4.0
    word_weight: float = 1.0
    word_min_df: int = 2
    char_weight: float = 0.25
    char_ngram_range: tuple[int, int] = (3, 5)
    char_min_df: int = 2
    char_max_features: int | None = 20000
    context_weight: float = 0.0
    seed_weight: float = 1.0
    seed_word_start: bool = False
    seed_context: bool = False
    lexicon_weight: float = 0.3
    lexicon_prior: float = 20.0
    lexicon_prior_precision: float = 0.6
    lexicon_prior_strength: float = 2.0
    threshold_grid: tuple[float, ...] = field(default_factory=lambda: tuple(np.round(np.arange(0.2, 0.91, 0.025), 3)))
    default_threshold: float = 0.5
    threshold_shrinkage: float = 0.0
    threshold_by_document: bool = True
    augment_questions: bool = True
    augment_answers: bool = True
    augment_sentences: int = 0
    augment_min_answer_chars: int = 200
    augment_train: bool = True
    augment_weight: float = 0.5
    blend_grid: tuple[float, ...] = (0.1, 0.3, 0.5, 0.7, 0.9, 1.0)
    short_text_chars: int = 500
    examples_weight: float = 0.5
    max_folds: int = 10
    random_state: int = 0
    labels: tuple[str, ...] = TOPIC_KEYS

    def __post_init__(self):
        object.__setattr__(self, "char_ngram_range", tuple(int(n) for n in self.char_ngram_range))
        object.__setattr__(self, "threshold_grid", tuple(float(t) for t in self.threshold_grid))
        object.__setattr__(self, "blend_grid", tuple(float(t) for t in self.blend_grid))
        object.__setattr__(self, "labels", tuple(self.labels))
        lo, hi = self.char_ngram_range
        if not 1 <= lo <= hi:
            raise ClassifyError(f"config: char_ngram_range must be (min, max) with 1 <= min <= max, got {self.char_ngram_range}")
        if self.C <= 0:
            raise ClassifyError(f"config: C must be > 0, got {self.C}")
        for name in ("word_weight", "char_weight", "context_weight", "seed_weight"):
            if getattr(self, name) < 0:
                raise ClassifyError(f"config: {name} must be >= 0, got {getattr(self, name)}")
        if self.word_weight == 0 and self.char_weight == 0:
            raise ClassifyError("config: at least one of word_weight, char_weight must be > 0")
        if not 0 <= self.lexicon_weight <= 1:
            raise ClassifyError(f"config: lexicon_weight must be in [0, 1], got {self.lexicon_weight}")
        if self.lexicon_prior < 0:
            raise ClassifyError(f"config: lexicon_prior must be >= 0, got {self.lexicon_prior}")
        if not 0 < self.lexicon_prior_precision < 1:
            raise ClassifyError(f"config: lexicon_prior_precision must be in (0, 1), got {self.lexicon_prior_precision}")
        if self.lexicon_prior_strength <= 0:
            raise ClassifyError(f"config: lexicon_prior_strength must be > 0, got {self.lexicon_prior_strength}")
        if not self.threshold_grid or not all(0 < t < 1 for t in self.threshold_grid):
            raise ClassifyError("config: threshold_grid must be a non-empty list of numbers in (0, 1)")
        if self.max_folds < 2:
            raise ClassifyError(f"config: max_folds must be >= 2, got {self.max_folds}")
        if self.short_text_chars < 0:
            raise ClassifyError(f"config: short_text_chars must be >= 0, got {self.short_text_chars}")
        if not 0 <= self.threshold_shrinkage <= 1:
            raise ClassifyError(f"config: threshold_shrinkage must be in [0, 1], got {self.threshold_shrinkage}")
        if not 0 <= self.examples_weight <= 1:
            raise ClassifyError(f"config: examples_weight must be in [0, 1], got {self.examples_weight}")
        if not 0 < self.augment_weight <= 1:
            raise ClassifyError(f"config: augment_weight must be in (0, 1], got {self.augment_weight}")
        if self.augment_sentences < 0 or self.augment_min_answer_chars < 0:
            raise ClassifyError("config: augment_sentences and augment_min_answer_chars must be >= 0")
        if not all(0 <= w <= 1 for w in self.blend_grid):
            raise ClassifyError(f"config: blend_grid must hold numbers in [0, 1], got {list(self.blend_grid)}")
        if not 0 < self.default_threshold < 1:
            raise ClassifyError(f"config: default_threshold must be in (0, 1), got {self.default_threshold}")
        unknown = [k for k in self.labels if k not in TOPIC_KEYS]
        if unknown or not self.labels:
            raise ClassifyError(f"config: labels must be topic keys of the registry ({', '.join(TOPIC_KEYS)}); "
                                f"unknown: {', '.join(unknown) or '(empty list)'}")

    @classmethod
    def from_dict(cls, data: Mapping) -> ModelConfig:
        names = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(data) - names)
        if unknown:
            raise ClassifyError(f"config: unknown setting(s) {', '.join(unknown)}; known: {', '.join(sorted(names))}")
        try:
            return cls(**dict(data))
        except TypeError as exc:
            raise ClassifyError(f"config: {exc}") from None

    def to_dict(self) -> dict:
        d = dataclasses.asdict(self)
        d["char_ngram_range"] = list(self.char_ngram_range)
        d["threshold_grid"] = list(self.threshold_grid)
        d["blend_grid"] = list(self.blend_grid)
        d["labels"] = list(self.labels)
        return d


class TopicClassifier(ClassifierMixin, BaseEstimator):
    """Multi-label topic classifier on ``[text, context]`` rows (see :func:`classify.features.to_matrix`).

    ``fit(X, y)`` takes ``y`` as a list of topic-key lists (or an indicator matrix in
    ``config.labels`` order); ``classes_`` are the topic keys. ``predict_proba`` gives the blended
    scores, ``predict`` applies ``thresholds_`` (set by :func:`train_model`; default 0.5).

    Every learned part (vocabularies, idf, term precisions, regression) is fitted in ``fit``, so
    cross-validation that refits this estimator never sees the held-out rows. The seed terms are
    scanned once per text and used twice: as features and for the lexicon score.
    """

    def __init__(self, config: ModelConfig | None = None):
        self.config = config

    def _cfg(self) -> ModelConfig:
        return self.config if self.config is not None else ModelConfig()

    def fit(self, X, y, sample_weight=None):
        cfg = self._cfg()
        X = _as_matrix(X)
        Y = label_matrix(y, cfg.labels)
        if len(X) != len(Y):
            raise ValueError(f"X has {len(X)} rows but y has {len(Y)}")
        weight = np.ones(len(X)) if sample_weight is None else np.asarray(sample_weight, dtype=float)
        # Term precisions come from the real segments (weight 1) only: not from their augmented
        # views, nor from the registry's topic examples appended below.
        real = weight >= 1
        self.n_examples_ = 0
        if cfg.examples_weight > 0:
            texts, ys = example_rows(cfg.labels)
            if texts:
                X = np.vstack([X, np.array([[t, ""] for t in texts], dtype=object)])
                Y = np.vstack([Y, label_matrix(ys, cfg.labels)])
                weight = np.concatenate([weight, np.full(len(texts), cfg.examples_weight)])
                real = np.concatenate([real, np.zeros(len(texts), bool)])
                self.n_examples_ = len(texts)
        self.classes_ = np.array(cfg.labels, dtype=object)
        self.lexicon_ = SeedTermCounts(word_start=cfg.seed_word_start).fit(X[:, 0])
        scan = self._scan(X)
        self.text_features_ = build_text_features(cfg).fit(X)
        self.context_features_ = build_context_features(cfg).fit(X) if cfg.context_weight > 0 else None
        F = self._design(X, scan)
        self.clf_ = LinearOneVsRest(C=cfg.C, random_state=cfg.random_state).fit(F, Y, sample_weight=weight)
        self.term_precision_ = self._term_precision([h for h, r in zip(scan[2], real) if r], Y[real], cfg)
        # Blend weight of the lexicon per topic: at least lexicon_weight, and more the fewer
        # positive rows the model saw, topic examples included (a topic without any is scored by the
        # lexicon alone).
        n_pos = Y.sum(axis=0)
        self.blend_weights_ = np.maximum(cfg.lexicon_weight, cfg.lexicon_prior / (cfg.lexicon_prior + n_pos)) \
            if cfg.lexicon_prior > 0 else np.full(len(n_pos), cfg.lexicon_weight)
        self.blend_weights_[n_pos == 0] = 1.0
        self.thresholds_ = np.full(len(cfg.labels), cfg.default_threshold)
        self.n_features_in_ = 2
        return self

    # -- parts -------------------------------------------------------------------------------------
    def _scan(self, X, pieces=None) -> tuple[np.ndarray, np.ndarray, list]:
        """Seed-term counts of text and context (registry topic order) and, per row and topic, the
        set of terms found in either (:func:`classify.scoring.scan_rows`)."""
        return scan_rows(self.lexicon_, X, pieces)

    def _design(self, X, scan) -> sp.csr_matrix:
        cfg = self._cfg()
        parts = [self.text_features_.transform(X)]
        if self.context_features_ is not None:
            parts.append(cfg.context_weight * self.context_features_.transform(X))
        if cfg.seed_weight > 0:
            parts.append(self._seed_block(scan))
        return sp.hstack(parts, format="csr")

    def _seed_block(self, scan) -> sp.csr_matrix:
        """The seed-term count features of :meth:`_design` (:func:`classify.scoring.seed_block`)."""
        cfg = self._cfg()
        return seed_block(scan, cfg.seed_weight, cfg.seed_context)

    def _term_precision(self, hits, Y, cfg: ModelConfig) -> list[dict[str, float]]:
        """Per topic, each seed term's precision on the training rows (rows where it matches that
        carry the topic), smoothed towards ``lexicon_prior_precision``; unseen terms keep the prior.
        Like estimating the accuracy of Snorkel labelling functions: generic terms that fire on
        other topics lose weight, terms the data never saw keep the maintainers' trust."""
        a, prior = cfg.lexicon_prior_strength, cfg.lexicon_prior_precision
        out = []
        for jt, key in enumerate(self.lexicon_.topics_):
            y = Y[:, list(cfg.labels).index(key)] if key in cfg.labels else np.zeros(len(Y), int)
            seen: dict[str, list[int]] = {}
            for i, row in enumerate(hits):
                for term in row[jt]:
                    seen.setdefault(term, [0, 0])
                    seen[term][0] += 1
                    seen[term][1] += int(y[i])
            out.append({t: round((tp + a * prior) / (n + a), 6) for t, (n, tp) in sorted(seen.items())})
        return out

    def _lexicon(self, hits) -> np.ndarray:
        order = [self.lexicon_.topics_.index(k) for k in self.classes_]
        return lexicon_scores(hits, self.term_precision_, self._cfg().lexicon_prior_precision, order)

    # -- scores ------------------------------------------------------------------------------------
    def lexicon_scores(self, X) -> np.ndarray:
        """Keyword-lexicon score per topic (``classes_`` order): noisy-OR of the smoothed
        precisions of the distinct seed terms found in the text and its context."""
        X = _as_matrix(X)
        return self._lexicon(self._scan(X)[2])

    def components(self, X) -> tuple[np.ndarray, np.ndarray]:
        """The two scores that ``predict_proba`` blends: regression probabilities and lexicon
        scores, ``(n, labels)`` each (one scan of the seed terms for both)."""
        X = _as_matrix(X)
        scorer = Scorer.of(self)
        if scorer is not None:
            return scorer.components(X)
        scan = self._scan(X)
        return self.clf_.predict_proba(self._design(X, scan)), self._lexicon(scan[2])

    def model_scores(self, X) -> np.ndarray:
        """Probabilities of the logistic regression alone."""
        X = _as_matrix(X)
        return self.clf_.predict_proba(self._design(X, self._scan(X)))

    def predict_proba(self, X) -> np.ndarray:
        X = _as_matrix(X)
        if len(X) == 0:
            return np.zeros((0, len(self.classes_)))
        p_model, p_lex = self.components(X)
        return blend(p_model, p_lex, self.blend_weights_, X[:, 0], self.is_short(X), self.thresholds_,
                     getattr(self, "short_thresholds_", None))

    def predict(self, X) -> np.ndarray:
        return (self.predict_proba(X) >= self.thresholds_).astype(int)

    def is_short(self, X) -> np.ndarray:
        """Rows whose text is shorter than ``config.short_text_chars`` (all False when 0)."""
        return is_short(_as_matrix(X)[:, 0], self._cfg().short_text_chars)

    def _rescale_short(self, X, p: np.ndarray) -> np.ndarray:
        """Map scores of short texts so that their own tuned threshold lands on the general one.

        Short texts (a question without its answer, "Kent u het bericht …?") carry fewer words
        and seed terms, so their scores run lower; a monotone piecewise-linear map per topic
        (0 → 0, short threshold → threshold, 1 → 1) lets one threshold per topic serve both
        (:func:`classify.scoring.rescale_short`).
        """
        return rescale_short(p, self.is_short(X), self.thresholds_, getattr(self, "short_thresholds_", None))


class LinearOneVsRest(ClassifierMixin, BaseEstimator):
    """One binary logistic regression per label column (liblinear, balanced class weights),
    stacked into one weight matrix so scoring is a single sparse product. Unlike
    ``OneVsRestClassifier`` it passes ``sample_weight`` (augmented views weigh less). A column
    without positives (or without negatives) scores a constant 0 (or 1); without any feature
    column every label scores 0.5."""

    def __init__(self, C: float = 1.0, random_state: int = 0):
        self.C = C
        self.random_state = random_state

    def fit(self, F, Y, sample_weight=None):
        Y = np.asarray(Y, dtype=int)
        coef = np.zeros((Y.shape[1], F.shape[1]))
        intercept = np.zeros(Y.shape[1])
        for j in range(Y.shape[1]):
            y = Y[:, j]
            if y.min() == y.max():
                intercept[j] = 50.0 if y.max() else -50.0
                continue
            if F.shape[1] == 0:  # no feature survived (e.g. a config that switches them all off):
                continue  # with balanced class weights an intercept-only model scores 0.5
            lr = LogisticRegression(C=self.C, class_weight="balanced", solver="liblinear",
                                    random_state=self.random_state, max_iter=1000)
            lr.fit(F, y, sample_weight=sample_weight)
            coef[j], intercept[j] = lr.coef_[0], lr.intercept_[0]
        self.coef_ = coef
        self.intercept_ = intercept
        self.classes_ = np.arange(Y.shape[1])
        return self

    def predict_proba(self, F) -> np.ndarray:
        from scipy.special import expit

        return expit(np.asarray(F @ self.coef_.T) + self.intercept_)


def _as_matrix(X) -> np.ndarray:
    return as_matrix(X)


def label_matrix(y, labels: Sequence[str]) -> np.ndarray:
    """Topic-key lists (or an indicator matrix already in ``labels`` order) → 0/1 matrix."""
    if isinstance(y, np.ndarray) and y.ndim == 2:
        if y.shape[1] != len(labels):
            raise ValueError(f"indicator matrix has {y.shape[1]} columns, expected {len(labels)} ({', '.join(labels)})")
        return y.astype(int)
    index = {k: j for j, k in enumerate(labels)}
    Y = np.zeros((len(y), len(labels)), dtype=int)
    for i, keys in enumerate(y):
        for k in keys:
            if k not in index:
                raise ValueError(f"row {i}: unknown label {k!r}; expected one of {', '.join(labels)}")
            Y[i, index[k]] = 1
    return Y


# --- thresholds -----------------------------------------------------------------------------------

def tune_thresholds(Y: np.ndarray, P: np.ndarray, grid: Sequence[float], default: float = 0.5,
                    groups: np.ndarray | None = None) -> np.ndarray:
    """Per column, the grid threshold maximising F1 of ``P >= t`` against ``Y``.

    With ``groups`` the objective is the mean F1 over the groups (documents) that have positives
    plus the pooled F1, so one long document does not decide the threshold for all the others.
    Ties (a plateau of equal F1) resolve to the middle of the widest best run, which is steadier on
    unseen data than its edge. A column without positives keeps ``default``.
    """
    out = np.full(Y.shape[1], default, dtype=float)
    for j in range(Y.shape[1]):
        if Y[:, j].sum():
            out[j] = _tune_column(Y[:, j], P[:, j], grid, groups)[0]
    return out


def _tune_column(y: np.ndarray, p: np.ndarray, grid: Sequence[float],
                 groups: np.ndarray | None = None) -> tuple[float, float]:
    """The threshold of :func:`tune_thresholds` for one column, and its objective value."""
    grid = np.asarray(sorted(grid))
    f1 = np.array([_f1(y, p >= t) for t in grid])
    if groups is not None:
        per_doc = [np.array([_f1(y[groups == g], p[groups == g] >= t) for t in grid])
                   for g in dict.fromkeys(groups) if y[groups == g].any()]
        f1 = (f1 + np.mean(per_doc, axis=0)) / 2
    best = np.isclose(f1, f1.max())
    # widest run of best values
    runs, start = [], None
    for i, b in enumerate(list(best) + [False]):
        if b and start is None:
            start = i
        elif not b and start is not None:
            runs.append((i - start, -start, start, i - 1))
            start = None
    _, _, a, b = max(runs)
    return float(grid[(a + b) // 2]), float(f1.max())


def _f1(y: np.ndarray, yhat: np.ndarray) -> float:
    tp = float(np.sum(y & yhat))
    denom = float(np.sum(y) + np.sum(yhat))
    return 2 * tp / denom if denom else 0.0


def multilabel_metrics(Y: np.ndarray, Yhat: np.ndarray, labels: Sequence[str]) -> dict:
    """Per-label precision/recall/F1/support, macro and micro F1 (plain floats, JSON-ready)."""
    Y = np.asarray(Y, dtype=bool)
    Yhat = np.asarray(Yhat, dtype=bool)
    per = {}
    for j, k in enumerate(labels):
        tp = int(np.sum(Y[:, j] & Yhat[:, j]))
        fp = int(np.sum(~Y[:, j] & Yhat[:, j]))
        fn = int(np.sum(Y[:, j] & ~Yhat[:, j]))
        p = tp / (tp + fp) if tp + fp else 0.0
        r = tp / (tp + fn) if tp + fn else 0.0
        f = 2 * p * r / (p + r) if p + r else 0.0
        per[k] = {"precision": round(p, 4), "recall": round(r, 4), "f1": round(f, 4),
                  "support": int(Y[:, j].sum()), "tp": tp, "fp": fp, "fn": fn}
    tp = sum(v["tp"] for v in per.values())
    fp = sum(v["fp"] for v in per.values())
    fn = sum(v["fn"] for v in per.values())
    micro = 2 * tp / (2 * tp + fp + fn) if tp + fp + fn else 0.0
    return {"per_label": per,
            "macro_f1": round(float(np.mean([v["f1"] for v in per.values()])), 4),
            "micro_f1": round(micro, 4),
            "n": int(len(Y))}


# --- fitting with thresholds, cross-validation ------------------------------------------------------

def _groups(df) -> np.ndarray:
    return np.asarray(df["doc"].astype(str)) if "doc" in df.columns else np.arange(len(df)).astype(str)


def _check_df(df) -> None:
    missing = [c for c in ("text", "labels") if c not in df.columns]
    if missing:
        raise ClassifyError(f"training data lacks column(s) {', '.join(missing)}; build it with "
                            "classify.dataset.build_dataset (classify dataset)")
    if len(df) == 0:
        raise ClassifyError("training data is empty: the export has no annotated tasks")


def _first_sentences(text: str, n: int) -> str:
    import re

    parts = re.split(r"(?<=[.?!])\s+(?=[A-Z\"'‘“(])", " ".join(str(text or "").split()))
    return " ".join(parts[:n])


def training_views(df, config: ModelConfig) -> list[tuple[int, str]]:
    """Extra training texts ``(row, text)`` from the segments of ``df``, as configured: each
    question without its answer (``augment_questions``), each answer of at least
    ``augment_min_answer_chars`` without its question (``augment_answers``; "Ja." carries no
    topic), the first ``augment_sentences`` sentences of each question. They keep the row's
    labels and document."""
    if not {"question", "answer"} <= set(df.columns):
        return []
    out = []
    q = [str(x or "").strip() for x in df["question"]]
    a = [str(x or "").strip() for x in df["answer"]]
    for i in range(len(df)):
        if not (q[i] and a[i]):
            continue
        if config.augment_questions:
            out.append((i, q[i]))
        if config.augment_answers and len(a[i]) >= config.augment_min_answer_chars:
            out.append((i, a[i]))
        if config.augment_sentences:
            first = _first_sentences(q[i], config.augment_sentences)
            if first and first != q[i]:
                out.append((i, first))
    return out


def training_arrays(df, config: ModelConfig) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """``X`` (``[text, context]`` rows), ``Y``, ``groups`` (document of each row), ``source``
    (index of the ``df`` row each row comes from) and ``weight`` (sample weight) for training.

    The first ``len(df)`` rows are ``df`` itself (weight 1); then the views of
    :func:`training_views` (same labels, same document, weight ``augment_weight``): the model
    and its thresholds then also see short texts, as in questions without answers or
    "Kent u het bericht …?" pairs, and answers that carry the topic on their own.
    """
    X, Y, groups = to_matrix(df), label_matrix(list(df["labels"]), config.labels), _groups(df)
    source = np.arange(len(df))
    weight = np.ones(len(df))
    views = training_views(df, config)
    if views:
        extra = np.array([i for i, _ in views], dtype=int)
        Xv = X[extra].copy()
        Xv[:, 0] = [t for _, t in views]
        X = np.vstack([X, Xv])
        Y = np.vstack([Y, Y[extra]])
        groups = np.concatenate([groups, groups[extra]])
        source = np.concatenate([source, extra])
        weight = np.concatenate([weight, np.full(len(extra), config.augment_weight)])
    return X, Y, groups, source, weight


def document_folds(groups: np.ndarray, max_folds: int) -> np.ndarray:
    """Fold of each row: its document (leave-one-document-out) when there are at most
    ``max_folds`` documents, else ``max_folds`` folds of whole documents (``GroupKFold``), so the
    cost stays bounded as annotations grow. Never splits a document."""
    uniq = list(dict.fromkeys(groups))
    if len(uniq) <= max_folds:
        return np.asarray(groups)
    from sklearn.model_selection import GroupKFold

    folds = np.empty(len(groups), dtype=object)
    for k, (_, test) in enumerate(GroupKFold(n_splits=max_folds).split(np.zeros(len(groups)), groups=groups)):
        folds[test] = f"fold-{k}"
    return folds


def _scheme(n_groups: int, max_folds: int) -> str:
    return "leave-one-document-out" if n_groups <= max_folds else f"{max_folds}-fold grouped by document"


def _oof_scores(X, Y, groups, config: ModelConfig, fit_rows: np.ndarray | None = None,
                weight: np.ndarray | None = None, components: bool = False):
    """Out-of-fold blended scores by leave-one-document-out (or grouped k-fold, see
    :func:`document_folds`), fitting on ``fit_rows`` of the other folds only; None with fewer
    than two groups. With ``components``: the pair (regression scores, lexicon scores) instead."""
    folds = document_folds(groups, config.max_folds)
    uniq = list(dict.fromkeys(folds))
    if len(uniq) < 2:
        return None
    fit_rows = np.ones(len(X), bool) if fit_rows is None else fit_rows
    weight = np.ones(len(X)) if weight is None else weight
    P = np.zeros(Y.shape, dtype=float)
    L = np.zeros(Y.shape, dtype=float)
    for g in uniq:
        test = folds == g
        train = ~test & fit_rows
        est = TopicClassifier(config).fit(X[train], Y[train], sample_weight=weight[train])
        if components:
            P[test], L[test] = est.components(X[test])
        else:
            P[test] = est.predict_proba(X[test])
    return (P, L) if components else P


def fit_with_thresholds(X, Y, groups, config: ModelConfig, augmented: np.ndarray | None = None,
                        weight: np.ndarray | None = None) -> tuple[TopicClassifier, dict]:
    """Fit on all rows (the ``augmented`` ones only if ``config.augment_train``, with their
    ``weight``); thresholds from leave-one-group-out scores inside these rows only."""
    fit_rows = np.ones(len(X), bool)
    if augmented is not None and not config.augment_train:
        fit_rows = ~augmented
    weight = np.ones(len(X)) if weight is None else weight
    est = TopicClassifier(config).fit(X[fit_rows], Y[fit_rows], sample_weight=weight[fit_rows])
    real = np.ones(len(X), bool) if augmented is None else ~augmented
    short = est.is_short(X)
    long_rows = ~short & real
    by_doc = config.threshold_by_document
    if config.blend_grid:
        parts = _oof_scores(X, Y, groups, config, fit_rows, weight, components=True)
        P = None
        if parts is not None:
            Pm, Pl = parts
            rows = long_rows if long_rows.any() else short
            for j in range(Y.shape[1]):
                y = Y[rows, j]
                if not y.any() or est.blend_weights_[j] >= 1:
                    continue
                # The lexicon's weight for this topic and its threshold, chosen together on
                # out-of-fold scores (the rule's weight first: it wins ties).
                best_w, best = est.blend_weights_[j], -1.0
                for w in dict.fromkeys([float(est.blend_weights_[j]), *config.blend_grid]):
                    p = (1 - w) * Pm[rows, j] + w * Pl[rows, j]
                    score = _tune_column(y, p, config.threshold_grid, groups[rows] if by_doc else None)[1]
                    if score > best + 1e-9:
                        best_w, best = w, score
                est.blend_weights_[j] = best_w
            P = (1 - est.blend_weights_) * Pm + est.blend_weights_ * Pl
    else:
        P = _oof_scores(X, Y, groups, config, fit_rows, weight)
    if P is not None:
        s = config.threshold_shrinkage

        def tune(rows):
            tuned = tune_thresholds(Y[rows], P[rows], config.threshold_grid, config.default_threshold,
                                    groups=groups[rows] if config.threshold_by_document else None)
            # Thresholds tuned on a handful of documents are noisy: pull them towards the default.
            return (1 - s) * tuned + s * config.default_threshold

        # The general thresholds come from the real segments only; the question-only copies
        # (``augmented``) just calibrate the short-text scale.
        est.thresholds_ = tune(long_rows) if long_rows.any() else tune(short)
        if config.short_text_chars and short.any() and long_rows.any():
            t_short = tune(short)
            # Topics without short positives keep the identity mapping.
            no_pos = Y[short].sum(axis=0) == 0
            t_short[no_pos] = est.thresholds_[no_pos]
            est.short_thresholds_ = t_short
        how = "inner " + _scheme(len(set(groups)), config.max_folds)
    else:
        how = f"default {config.default_threshold} (fewer than two documents)"
    return est, {"thresholds": how}


def question_rows(df) -> np.ndarray:
    """Indices of rows with both a question and an answer (their question alone is a short text
    of the "question without answer" kind)."""
    if not {"question", "answer"} <= set(df.columns):
        return np.array([], dtype=int)
    return np.array([i for i, (q, a) in enumerate(zip(df["question"], df["answer"]))
                     if str(q or "").strip() and str(a or "").strip()], dtype=int)


def cross_validate(df, config: ModelConfig | None = None, *, nested: bool = True,
                   views: Mapping[str, Sequence[str]] | None = None) -> dict:
    """Leave-one-document-out evaluation of the full training procedure on ``df``.

    For each document: train on the others (thresholds tuned by an inner leave-one-document-out
    loop on those others when ``nested``), score the held-out document. Returns metrics
    (:func:`multilabel_metrics`) plus ``oof_scores`` (n × labels), ``oof_pred``, ``labels``,
    ``folds`` and ``fold_thresholds``; and ``questions_only``: the same fold models scored on the
    held-out questions without their answers (labels of the pair), when the data has any.

    ``views`` (name → one text per ``df`` row, ``""`` to leave a row out) scores other texts of
    the held-out rows with the same fold models and thresholds, e.g. answers alone or the first
    sentences of the question; their metrics land in ``result["views"][name]`` (labels of the row).
    """
    config = config or ModelConfig()
    _check_df(df)
    X, Y, groups, _, weight = training_arrays(df, config)
    n = len(df)
    augmented = np.arange(len(X)) >= n
    n_docs = len(set(groups[:n]))
    folds = document_folds(groups, config.max_folds)
    uniq = list(dict.fromkeys(folds[:n]))
    if len(uniq) < 2:
        raise ClassifyError(f"cross-validation needs segments from at least two documents; the data has "
                            f"{len(uniq)} (use --no-cv to train without it)")
    P = np.zeros((n, Y.shape[1]), dtype=float)
    Yhat = np.zeros((n, Y.shape[1]), dtype=int)
    fold_thresholds = {}
    qrows = question_rows(df)
    Xq = X[qrows].copy()
    if len(qrows):
        Xq[:, 0] = [str(q).strip() for q in df["question"].iloc[qrows]]
    Yq_hat = np.zeros((len(qrows), Y.shape[1]), dtype=int)
    view_rows, view_X, view_hat = {}, {}, {}
    for name, texts in (views or {}).items():
        texts = ["" if t is None else str(t).strip() for t in texts]
        if len(texts) != n:
            raise ValueError(f"view {name!r} has {len(texts)} texts for {n} rows")
        rows = np.array([i for i, t in enumerate(texts) if t], dtype=int)
        Xv = X[rows].copy()
        Xv[:, 0] = [texts[i] for i in rows]
        view_rows[name], view_X[name] = rows, Xv
        view_hat[name] = np.zeros((len(rows), Y.shape[1]), dtype=int)
    for g in uniq:
        train = folds != g
        test = folds[:n] == g  # scored: the held-out documents' own segments
        if nested:
            est, _ = fit_with_thresholds(X[train], Y[train], groups[train], config, augmented[train], weight[train])
        else:
            rows = train & (~augmented | config.augment_train)
            est = TopicClassifier(config).fit(X[rows], Y[rows], sample_weight=weight[rows])
        P[test] = est.predict_proba(X[:n][test])
        Yhat[test] = (P[test] >= est.thresholds_).astype(int)
        fold_thresholds[str(g)] = [round(float(t), 4) for t in est.thresholds_]
        qtest = folds[qrows] == g
        if qtest.any():
            Yq_hat[qtest] = (est.predict_proba(Xq[qtest]) >= est.thresholds_).astype(int)
        for name, rows in view_rows.items():
            vtest = folds[rows] == g
            if vtest.any():
                view_hat[name][vtest] = (est.predict_proba(view_X[name][vtest]) >= est.thresholds_).astype(int)
    result = multilabel_metrics(Y[:n], Yhat, config.labels)
    result.update({"labels": list(config.labels), "folds": len(uniq), "documents": n_docs,
                   "scheme": _scheme(n_docs, config.max_folds),
                   "oof_scores": P, "oof_pred": Yhat, "fold_thresholds": fold_thresholds})
    if len(qrows):
        result["questions_only"] = multilabel_metrics(Y[qrows], Yq_hat, config.labels)
    if views:
        result["views"] = {name: multilabel_metrics(Y[rows], view_hat[name], config.labels)
                           for name, rows in view_rows.items()}
    return result


def cross_val_predict_proba(df, config: ModelConfig | None = None) -> np.ndarray:
    """Out-of-fold scores (n × labels, ``config.labels`` order) by leave-one-document-out, for the
    label audit. Rows of a single-document dataset fall back to 5 contiguous folds."""
    config = config or ModelConfig()
    _check_df(df)
    X, Y, groups, source, weight = training_arrays(df, config)
    if len(set(groups)) < 2:
        groups = (source * 5 // max(len(df), 1)).astype(str)
    augmented = np.arange(len(X)) >= len(df)
    P = _oof_scores(X, Y, groups, config, ~augmented | config.augment_train, weight)
    assert P is not None
    return P[: len(df)]


@dataclass
class TrainResult:
    """A fitted estimator with what the model card needs."""

    estimator: TopicClassifier
    config: ModelConfig
    labels: list[str]
    thresholds: dict[str, float]
    cv: dict | None
    counts: dict[str, int]
    n_rows: int
    n_docs: int
    threshold_method: str


def train_model(df, config: ModelConfig | None = None, *, cv: bool = True) -> TrainResult:
    """Fit the model on all rows of ``df`` (thresholds by inner leave-one-document-out) and, if
    ``cv``, estimate its quality by nested leave-one-document-out first."""
    config = config or ModelConfig()
    _check_df(df)
    X, Y, groups, _, weight = training_arrays(df, config)
    cv_result = cross_validate(df, config) if cv and len(set(groups)) >= 2 else None
    est, info = fit_with_thresholds(X, Y, groups, config, np.arange(len(X)) >= len(df), weight)
    n = len(df)
    return TrainResult(
        estimator=est, config=config, labels=list(config.labels),
        thresholds={k: round(float(t), 4) for k, t in zip(config.labels, est.thresholds_)},
        cv=cv_result, counts={k: int(Y[:n, j].sum()) for j, k in enumerate(config.labels)},
        n_rows=int(len(df)), n_docs=int(len(set(groups))), threshold_method=info["thresholds"],
    )
