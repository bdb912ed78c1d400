"""Scoring with a trained topic model, without scikit-learn.

:class:`Scorer` holds what :meth:`classify.model.TopicClassifier.predict_proba` needs (the
lemmatizer's settings, the word and character vocabularies with their idf weights, the seed-term
scanner, the regression weights, the lexicon's term precisions, the blend weights and thresholds)
as plain Python and numpy objects, and computes the same scores with the same arithmetic, in the
same order (bit for bit). The classifier itself scores through it (:meth:`Scorer.of`), so there is
one implementation of prediction.

Why: importing scikit-learn (with the scipy.stats and pandas it pulls in) takes ~0.9 s, about
half of the start of ``classify tag``. A scorer exported from a model (:meth:`Scorer.export`,
cached by :func:`classify.artifacts.load_scorer`) unpickles with numpy, scipy.sparse and spaCy's
tokenizer alone.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from itertools import chain

import numpy as np
import scipy.sparse as sp

from classify.lemmas import Lemmatizer
from classify.seedterms import SeedTermScanner

TEXT, CONTEXT = 0, 1
_WHITE_SPACES = re.compile(r"\s\s+")  # as scikit-learn's vectorizers normalise white space


def context_of(item: Mapping) -> str:
    """Document title and section heading as one short text."""
    return " \n ".join(str(item.get(k) or "") for k in ("doc_title", "heading") if item.get(k))


def to_matrix(items) -> np.ndarray:
    """Items (mappings with ``text`` and optional ``doc_title``/``heading``, or a DataFrame with
    those columns) → an ``(n, 2)`` object array ``[text, context]``."""
    if hasattr(items, "to_dict") and hasattr(items, "columns"):
        items = items.to_dict("records")
    rows = [(str(it.get("text") or ""), context_of(it)) for it in items]
    X = np.empty((len(rows), 2), dtype=object)
    for i, (text, context) in enumerate(rows):
        X[i, TEXT] = text
        X[i, CONTEXT] = context
    return X


def as_matrix(X) -> np.ndarray:
    if isinstance(X, np.ndarray) and X.ndim == 2 and X.shape[1] == 2:
        return X
    return to_matrix(X)


# --- counting ---------------------------------------------------------------------------------------

def doc_word_counts(splits: list[list[str]]) -> tuple[sp.csr_matrix, np.ndarray]:
    """Documents (split into words) × words counts and the words (sorted), exactly as
    ``CountVectorizer(analyzer=str.split, lowercase=False, dtype=float64).fit_transform`` builds
    them (same columns, same entry order within each row, which later float sums follow),
    without its per-document analyzer and validation overhead."""
    n = len(splits)
    tokens = list(chain.from_iterable(splits))
    if not tokens:  # not a single word in the batch
        return sp.csr_matrix((n, 0)), np.array([], dtype=object)
    # Ids in order of first occurrence in the batch, as sklearn assigns them; each row's
    # entries then go in order of id (its ``sort_indices``), with their counts.
    first = list(dict.fromkeys(tokens))
    ids = dict(zip(first, range(len(first))))
    codes = np.fromiter(map(ids.__getitem__, tokens), dtype=np.int64, count=len(tokens))
    rows = np.repeat(np.arange(n, dtype=np.int64), np.fromiter(map(len, splits), dtype=np.int64, count=n))
    keys, counts = np.unique(rows * len(first) + codes, return_counts=True)
    nnz = len(keys)
    dtype = np.int32 if nnz <= np.iinfo(np.int32).max else np.int64
    indptr = np.zeros(n + 1, dtype=dtype)
    np.cumsum(np.bincount(keys // len(first), minlength=n), out=indptr[1:])
    words = sorted(first)
    rank = np.empty(len(words), dtype=dtype)
    rank[[ids[w] for w in words]] = np.arange(len(words), dtype=dtype)
    # Columns renumbered in word order (sklearn's order); entries stay in order of id.
    C = sp.csr_matrix((counts.astype(np.float64), rank.take(keys % len(first)), indptr), shape=(n, len(first)))
    return C, np.array(words, dtype=object)


def word_selection(vocab: np.ndarray, words: Mapping[str, int]) -> sp.csr_matrix:
    """Batch words (``vocab``, see :func:`doc_word_counts`) × model words: 1 where a batch word
    is the model's word, so ``counts @ selection`` keeps the model's columns."""
    rows, cols = [], []
    for i, w in enumerate(vocab.tolist()):
        j = words.get(w)
        if j is not None:
            rows.append(i)
            cols.append(j)
    return sp.csr_matrix((np.ones(len(rows)), (rows, cols)), shape=(len(vocab), len(words)))


def char_wb_ngrams(text: str, ngram_range: tuple[int, int]) -> list[str]:
    """The character n-grams of scikit-learn's ``analyzer="char_wb"`` (no lower-casing): per
    word, padded with a space on either side; a word shorter than n gives one n-gram."""
    lo, hi = ngram_range
    out = []
    append = out.append
    for w in _WHITE_SPACES.sub(" ", text).split():
        w = " " + w + " "
        size = len(w)
        for n in range(lo, hi + 1):
            offset = 0
            append(w[offset:offset + n])
            while offset + n < size:
                offset += 1
                append(w[offset:offset + n])
            if offset == 0:
                break
    return out


class NgramRows:
    """Words → their rows of character n-gram counts in a fixed vocabulary, equal to
    ``CountVectorizer(analyzer="char_wb", ngram_range, lowercase=False, dtype=float64,
    vocabulary=vocabulary).transform(words)``, from a per-process cache of each word's row
    (words repeat across batches, so their n-grams are extracted once). The cache is bounded
    (cleared when full) and never pickled."""

    CACHE_MAX = 200_000

    def __init__(self, vocabulary: Mapping[str, int], ngram_range: tuple[int, int]):
        self.vocabulary = vocabulary
        self.ngram_range = tuple(ngram_range)

    def _row(self, word: str) -> tuple[np.ndarray, np.ndarray]:
        counts: dict[int, int] = {}
        vocab = self.vocabulary
        for gram in char_wb_ngrams(word, self.ngram_range):
            j = vocab.get(gram)
            if j is not None:
                counts[j] = counts.get(j, 0) + 1
        cols = sorted(counts)
        return (np.array(cols, dtype=np.int32), np.array([counts[j] for j in cols], dtype=np.float64))

    def matrix(self, words: list[str]) -> sp.csr_matrix:
        n_cols = len(self.vocabulary)
        if not words:
            return sp.csr_matrix((0, n_cols))
        cache = self.__dict__.get("_cache")
        if cache is None or len(cache) > self.CACHE_MAX:
            cache = self._cache = {}
        for w in words:
            if w not in cache:
                cache[w] = self._row(w)
        rows = [cache[w] for w in words]
        indptr = np.zeros(len(rows) + 1, dtype=np.int64)
        np.cumsum([len(r[0]) for r in rows], out=indptr[1:])
        indices = np.concatenate([r[0] for r in rows])
        data = np.concatenate([r[1] for r in rows])
        return sp.csr_matrix((data, indices, indptr), shape=(len(words), n_cols))

    def __getstate__(self):
        state = self.__dict__.copy()
        state.pop("_cache", None)
        return state


def tfidf_l2(X: sp.csr_matrix, idf: np.ndarray, sublinear_tf: bool) -> sp.csr_matrix:
    """``TfidfTransformer(norm="l2", use_idf=True, sublinear_tf=...).transform(X, copy=False)``
    with the transformer's fitted ``idf``: the same operations in the same order (in place on
    ``X``, a matrix nobody else holds). Row norms are summed entry by entry, as scikit-learn's
    ``inplace_csr_row_normalize_l2`` does."""
    data = X.data
    if sublinear_tf:
        np.log(data, data)
        data += 1.0
    data *= idf[X.indices]
    squares = sp.csr_matrix((data * data, X.indices, X.indptr), shape=X.shape)
    norms = np.sqrt(squares @ np.ones(X.shape[1]))  # csr_matvec: sequential sums per row
    norms[norms == 0.0] = 1.0  # an all-zero row stays as it is
    data /= np.repeat(norms, np.diff(X.indptr))
    return X


# --- seed terms and lexicon -------------------------------------------------------------------------

def scan_rows(scanner: SeedTermScanner, X: np.ndarray, pieces=None) -> tuple[np.ndarray, np.ndarray, list]:
    """Seed-term counts of text and context (scanner topic order) and, per row and topic, the
    set of terms found in either. Contexts repeat (one title per document): scanned once each.
    ``pieces``: the texts split at single spaces, if the caller has them."""
    counts_t, hits_t = scanner.scan(X[:, TEXT], terms=True, pieces=pieces)
    uniq = list(dict.fromkeys(X[:, CONTEXT].tolist()))
    counts_u, hits_u = scanner.scan(uniq, terms=True)
    where = {c: i for i, c in enumerate(uniq)}
    idx = [where[c] for c in X[:, CONTEXT].tolist()]
    counts_c = counts_u[idx] if len(idx) else np.zeros_like(counts_t)
    # ``a | b`` for every topic; when the context found nothing, ``a | set()`` is ``a.copy()``
    # (the same set, built the same way) and an empty ``a`` can be kept as it is.
    hits = [[a | b for a, b in zip(t, u)] if any(u) else [a.copy() if a else a for a in t]
            for t, u in zip(hits_t, (hits_u[i] for i in idx))]
    return counts_t, counts_c, hits


def lexicon_scores(hits, term_precision: Sequence[Mapping[str, float]], prior: float,
                   order: Sequence[int]) -> np.ndarray:
    """Noisy-OR per topic of the precisions of the distinct seed terms found (``prior`` for a
    term without one), columns in ``order`` (scanner topic index per output column). The
    product runs over the terms in sorted order: a set's own order follows the process's string
    hashes, and floating-point products in another order may differ in the last bit, so every
    process (a worker, a Dask worker, the next run) gives the same scores."""
    S = np.zeros((len(hits), len(term_precision)))
    for i, row in enumerate(hits):
        for j, terms in enumerate(row):
            if terms:
                prec = term_precision[j]
                miss = 1.0
                for t in sorted(terms) if len(terms) > 1 else terms:
                    miss *= 1.0 - prec.get(t, prior)
                S[i, j] = 1.0 - miss
    return S[:, list(order)]


def seed_block(scan, seed_weight: float, seed_context: bool) -> sp.csr_matrix:
    """The seed-term count features: log counts of the text (and of the context, with
    ``seed_context``), scaled by ``seed_weight``."""
    seeds = [np.log1p(scan[0])] + ([np.log1p(scan[1])] if seed_context else [])
    return sp.csr_matrix(seed_weight * np.hstack(seeds))


def blend(p_model: np.ndarray, p_lex: np.ndarray, weights: np.ndarray, texts, short: np.ndarray,
          thresholds: np.ndarray, short_thresholds: np.ndarray | None) -> np.ndarray:
    """``(1 - w) * p_model + w * p_lexicon`` per topic, short texts' scores mapped so that their
    own thresholds land on the general ones (see ``TopicClassifier._rescale_short``), empty
    texts 0."""
    p = (1 - weights) * p_model + weights * p_lex
    p = rescale_short(p, short, thresholds, short_thresholds)
    empty = np.array([not (t or "").strip() for t in texts])
    if empty.any():
        p[empty] = 0.0  # no text, no evidence: never label an empty segment
    return p


def rescale_short(p: np.ndarray, short: np.ndarray, t: np.ndarray, t_short: np.ndarray | None) -> np.ndarray:
    """Per topic a monotone piecewise-linear map of the short rows' scores (0 → 0, short
    threshold ``t_short`` → threshold ``t``, 1 → 1)."""
    if t_short is None or not short.any():
        return p
    q = p[short]
    low = q <= t_short
    up = np.where(low, q * t / np.maximum(t_short, 1e-9),
                  t + (q - t_short) * (1 - t) / np.maximum(1 - t_short, 1e-9))
    p = p.copy()
    p[short] = np.clip(up, 0.0, 1.0)
    return p


def is_short(texts, n: int) -> np.ndarray:
    """Rows whose text is shorter than ``n`` characters (all False when ``n`` is 0)."""
    return np.array([len((t or "").strip()) < n for t in texts], dtype=bool) if n else np.zeros(len(texts), bool)


def _expit(x: np.ndarray) -> np.ndarray:
    from scipy.special import expit

    return expit(x)


# --- the scorer -------------------------------------------------------------------------------------

class Scorer:
    """A topic model's scores without scikit-learn; see the module docstring.

    Built with :meth:`of` (sharing the classifier's parts and caches, for its own use) or
    :meth:`export` (copies of the parts as plain objects, to pickle). ``classes_``,
    ``thresholds_`` and :meth:`predict_proba` make it usable where the estimator is
    (:class:`classify.artifacts.TopicModel`)."""

    def __init__(self, *, classes, lemmatizer: Lemmatizer, column: int, words, word_idf, word_weight: float,
                 ngrams: NgramRows | None, char_idf, char_weight: float, sublinear_tf: tuple[bool, bool],
                 scanner: SeedTermScanner, seed_weight: float, seed_context: bool, coef, intercept,
                 term_precision, prior: float, lexicon_order, blend_weights, thresholds, short_thresholds,
                 short_text_chars: int):
        self.classes_ = np.asarray(classes, dtype=object)
        self.lemmatizer = lemmatizer
        self.column = column
        self.words = words
        self.word_idf = word_idf
        self.word_weight = word_weight
        self.ngrams = ngrams
        self.char_idf = char_idf
        self.char_weight = char_weight
        self.sublinear_tf = sublinear_tf
        self.scanner = scanner
        self.seed_weight = seed_weight
        self.seed_context = seed_context
        self.coef = coef
        self.intercept = intercept
        self.term_precision = term_precision
        self.prior = prior
        self.lexicon_order = list(lexicon_order)
        self.blend_weights_ = blend_weights
        self.thresholds_ = thresholds
        self.short_thresholds_ = short_thresholds
        self.short_text_chars = short_text_chars

    # -- construction ----------------------------------------------------------------------------------
    @classmethod
    def of(cls, est, plain: bool = False) -> Scorer | None:
        """The scorer of a fitted :class:`classify.model.TopicClassifier`, or None when its parts
        are not the ones this class knows (a context TF-IDF block, another classifier, another
        TF-IDF normalisation): then the classifier scores with its scikit-learn parts. With
        ``plain`` the parts are copied into plain classes (see :meth:`export`); otherwise they
        are the classifier's own (with their caches)."""
        from classify.features import ColumnLemmas, LemmaFeatures
        from classify.model import LinearOneVsRest

        cfg = est._cfg()
        steps = getattr(est.text_features_, "steps", None)
        if (est.context_features_ is not None or type(est.clf_) is not LinearOneVsRest
                or not steps or len(steps) != 2 or type(steps[0][1]) is not ColumnLemmas
                or type(steps[1][1]) is not LemmaFeatures):
            return None
        lemmas, feats = steps[0][1], steps[1][1]
        tfidfs = [t for t in (getattr(feats, "word_tfidf_", None) if feats.words_ is not None else None,
                              getattr(feats, "char_tfidf_", None) if feats.chars_ is not None else None) if t is not None]
        if any(t.norm != "l2" or not t.use_idf for t in tfidfs):
            return None
        lemmatizer = lemmas.lemmatizer_
        scanner = est.lexicon_
        ngrams = feats.ngram_rows() if feats.chars_ is not None else None
        if plain:
            lemmatizer = Lemmatizer(**{k: getattr(lemmatizer, k) for k in
                                       ("lang", "remove_stop_words", "min_length", "tokenizer_exceptions",
                                        "batch_size")})
            scanner = SeedTermScanner(scanner.terms_, scanner.word_start)
            scanner.topics_ = list(est.lexicon_.topics_)
            if ngrams is not None:
                ngrams = NgramRows(dict(ngrams.vocabulary), ngrams.ngram_range)
        n_blocks = (feats.words_ is not None) + (feats.chars_ is not None)
        width = (len(feats.words_) if feats.words_ is not None else 0) + \
            (len(feats.chars_.vocabulary_) if feats.chars_ is not None else 0) + \
            (len(scanner.topics_) * (2 if cfg.seed_context else 1) if cfg.seed_weight > 0 else 0)
        if n_blocks == 0 or width != est.clf_.coef_.shape[1]:
            return None
        topics = list(est.lexicon_.topics_)
        return cls(
            classes=est.classes_, lemmatizer=lemmatizer, column=lemmas.column,
            words=feats.words_, word_idf=feats.word_tfidf_.idf_ if feats.words_ is not None else None,
            word_weight=feats.word_weight,
            ngrams=ngrams, char_idf=feats.char_tfidf_.idf_ if feats.chars_ is not None else None,
            char_weight=feats.char_weight,
            sublinear_tf=(bool(feats.word_tfidf_.sublinear_tf) if feats.words_ is not None else False,
                          bool(feats.char_tfidf_.sublinear_tf) if feats.chars_ is not None else False),
            scanner=scanner, seed_weight=cfg.seed_weight, seed_context=cfg.seed_context,
            coef=est.clf_.coef_, intercept=est.clf_.intercept_,
            term_precision=est.term_precision_, prior=cfg.lexicon_prior_precision,
            lexicon_order=[topics.index(k) for k in est.classes_],
            blend_weights=est.blend_weights_, thresholds=est.thresholds_,
            short_thresholds=getattr(est, "short_thresholds_", None), short_text_chars=cfg.short_text_chars)

    @classmethod
    def export(cls, est) -> Scorer | None:
        """A copy to pickle: every part a plain object (no scikit-learn class), arrays copied."""
        scorer = cls.of(est, plain=True)
        if scorer is None:
            return None
        for name in ("word_idf", "char_idf", "coef", "intercept", "blend_weights_", "thresholds_",
                     "short_thresholds_"):
            value = getattr(scorer, name)
            if value is not None:
                setattr(scorer, name, np.array(value, dtype=np.float64))
        scorer.words = dict(scorer.words) if scorer.words is not None else None
        scorer.term_precision = [dict(p) for p in scorer.term_precision]
        return scorer

    # -- scores ----------------------------------------------------------------------------------------
    def blocks(self, X: np.ndarray, scan, pieces=None) -> list[sp.csr_matrix]:
        """The feature blocks (word TF-IDF, character TF-IDF, seed-term counts), side by side
        equal to the classifier's design matrix."""
        splits = self.lemmatizer.token_lists(X[:, self.column], pieces if self.column == TEXT else None)
        C, vocab = doc_word_counts(splits)
        out = []
        if self.words is not None:
            B = tfidf_l2(C @ word_selection(vocab, self.words), self.word_idf, self.sublinear_tf[0])
            B.data *= self.word_weight
            out.append(B)
        if self.ngrams is not None:
            B = tfidf_l2(C @ self.ngrams.matrix(vocab.tolist()), self.char_idf, self.sublinear_tf[1])
            B.data *= self.char_weight
            out.append(B)
        if self.seed_weight > 0:
            out.append(seed_block(scan, self.seed_weight, self.seed_context))
        return [b.tocsr() for b in out]

    def model_proba(self, X: np.ndarray, scan, pieces=None) -> np.ndarray:
        """The regression's probabilities. The linear scores are accumulated block by block with
        scipy's own kernel for ``F @ coef.T``, in the order in which it walks a row of the
        stacked matrix, so the sums are the same to the last bit as with the stacked design
        matrix; without that kernel, the blocks are stacked."""
        blocks = self.blocks(X, scan, pieces)
        coef = self.coef
        n, k = len(X), coef.shape[0]
        try:
            from scipy.sparse import _sparsetools

            matvecs = _sparsetools.csr_matvecs
        except (ImportError, AttributeError):  # a private kernel: without it, the plain product
            return _expit(np.asarray(sp.hstack(blocks, format="csr") @ coef.T) + self.intercept)
        scores = np.zeros((n, k), dtype=np.float64)
        flat = scores.ravel()  # a view: the kernel adds into ``scores``
        start = 0
        for B in blocks:
            width = B.shape[1]
            W = np.ascontiguousarray(coef[:, start:start + width].T, dtype=np.float64)
            indices = B.indices.astype(B.indptr.dtype, copy=False)
            matvecs(n, width, k, B.indptr, indices, B.data, W.ravel(), flat)
            start += width
        return _expit(scores + self.intercept)

    def lexicon(self, hits) -> np.ndarray:
        return lexicon_scores(hits, self.term_precision, self.prior, self.lexicon_order)

    def components(self, X) -> tuple[np.ndarray, np.ndarray]:
        """Regression probabilities and lexicon scores, ``(n, labels)`` each."""
        X = as_matrix(X)
        # The texts split at single spaces, once for the seed-term scan and the lemmatizer.
        pieces = [("" if t is None else str(t)).split(" ") for t in X[:, TEXT]]
        scan = scan_rows(self.scanner, X, pieces)
        return self.model_proba(X, scan, pieces), self.lexicon(scan[2])

    def predict_proba(self, X) -> np.ndarray:
        X = as_matrix(X)
        if len(X) == 0:
            return np.zeros((0, len(self.classes_)))
        p_model, p_lex = self.components(X)
        return blend(p_model, p_lex, self.blend_weights_, X[:, TEXT], is_short(X[:, TEXT], self.short_text_chars),
                     self.thresholds_, self.short_thresholds_)
