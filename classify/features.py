"""Feature extraction for the topic model: lemma TF-IDF, character n-grams of the lemmas, topic
seed-term counts, and the context (document title + section heading).

Every transformer here is a scikit-learn estimator fitted inside
:meth:`classify.model.TopicClassifier.fit`, which cross-validation refits, so vocabularies and
idf weights never see a held-out document. Input rows are 2-column object arrays
``[text, context]`` (see :func:`to_matrix`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import scipy.sparse as sp
from sklearn.base import BaseEstimator, TransformerMixin, clone
from sklearn.feature_extraction.text import CountVectorizer, TfidfTransformer, TfidfVectorizer
from sklearn.pipeline import Pipeline

from classify.preprocess import DutchLemmatizer
from classify.scoring import (  # noqa: F401 - context_of, to_matrix: re-exported
    CONTEXT,
    TEXT,
    NgramRows,
    context_of,
    doc_word_counts,
    tfidf_l2,
    to_matrix,
    word_selection,
)
from classify.seedterms import (  # noqa: F401 - parse_term and trie_regex: re-exported
    SeedTermScanner,
    parse_term,
    trie_regex,
)

def split_lemmas(doc: str) -> list[str]:
    """Analyzer for lemma strings (module-level function, so pipelines pickle)."""
    return doc.split()


class LemmaTfidf(TfidfVectorizer):
    """``TfidfVectorizer`` that tolerates a training column without any term (e.g. no titles or
    headings in the data): it then learns an empty-ish vocabulary and yields zero vectors."""

    def fit_transform(self, raw_documents, y=None):
        docs = list(raw_documents)
        try:
            X = super().fit_transform(docs, y)
            # Terms cut by min_df are only kept for introspection; they would bloat the artifact.
            self.__dict__.pop("stop_words_", None)
            return X
        except ValueError:
            if any(d.strip() for d in docs) and self.min_df == 1:
                raise
            min_df, self.min_df = self.min_df, 1
            try:
                super().fit_transform(["_empty_"])
            finally:
                self.min_df = min_df
            return sp.csr_matrix((len(docs), 1))

    def fit(self, raw_documents, y=None):
        self.fit_transform(raw_documents, y)
        return self


class SeedTermCounts(SeedTermScanner, TransformerMixin, BaseEstimator):
    """Per topic, how often its seed terms occur in each text: ``log1p(count)`` per topic.

    Terms are lower-case stems in the syntax of :func:`parse_term` (substring by default, ``^``
    word start, ``$`` word end, ``!`` exclusion); with ``word_start=True`` every term must start a
    word. Counting per topic is leftmost-longest and non-overlapping, as one regex per topic with
    the terms longest first would count (an exclusion that wins a position counts nothing and
    consumes its span). ``fit`` snapshots the terms (default: ``classify.topics.TOPICS``), so a
    saved model keeps scoring the same after a maintainer edits the registry.
    """

    def __init__(self, terms: Mapping[str, Sequence[str]] | None = None, word_start: bool = True):
        self.terms = terms
        self.word_start = word_start

    def fit(self, X, y=None):
        if self.terms is None:
            from classify.topics import TOPICS

            terms = {t.key: tuple(t.terms) for t in TOPICS}
        else:
            terms = {k: tuple(v) for k, v in self.terms.items()}
        self.topics_ = list(terms)
        self.terms_ = terms
        self.n_features_in_ = 1
        return self

    def transform(self, X):
        texts = _column(X)
        return np.log1p(self.counts(texts))

    def get_feature_names_out(self, input_features=None):
        return np.array([f"seed_{k}" for k in self.topics_], dtype=object)


class LemmaFeatures(TransformerMixin, BaseEstimator):
    """Word TF-IDF and character n-gram TF-IDF of lemma strings, from one counting pass.

    The word block equals ``TfidfVectorizer(analyzer=split_lemmas, min_df=word_min_df,
    sublinear_tf=True)``; the character block equals ``char_wb`` n-grams of the words (Dutch
    compounds: ``terugkeer`` in ``terugkeerverordening``), kept if in at least ``char_min_df``
    documents (the ``char_max_features`` most frequent). Both are computed from one
    documents × words count matrix: the words block by column selection, the character block by a
    sparse product (documents × words) @ (words × n-grams), which extracts the n-grams of each
    distinct word once per batch instead of scanning every character of every document.
    """

    def __init__(self, word_min_df: int = 2, word_weight: float = 1.0, char_weight: float = 0.25,
                 char_ngram_range=(3, 5), char_min_df: int = 2, char_max_features: int | None = 20000,
                 sublinear_tf: bool = True):
        self.word_min_df = word_min_df
        self.word_weight = word_weight
        self.char_weight = char_weight
        self.char_ngram_range = char_ngram_range
        self.char_min_df = char_min_df
        self.char_max_features = char_max_features
        self.sublinear_tf = sublinear_tf

    @staticmethod
    def _doc_word(texts) -> tuple[sp.csr_matrix, np.ndarray]:
        """Documents × words counts and the words (sorted), exactly as
        ``CountVectorizer(analyzer=split_lemmas, lowercase=False, dtype=float64).fit_transform``
        builds them (same columns, same entry order within each row, which later float sums
        follow), without its per-document analyzer and validation overhead."""
        return LemmaFeatures._doc_word_splits([split_lemmas(doc) for doc in texts])

    @staticmethod
    def _doc_word_splits(splits: list[list[str]]) -> tuple[sp.csr_matrix, np.ndarray]:
        """:meth:`_doc_word` of documents already split into words."""
        return doc_word_counts(splits)

    def _char_vectorizer(self, vocabulary=None) -> CountVectorizer:
        return CountVectorizer(analyzer="char_wb", ngram_range=tuple(self.char_ngram_range), lowercase=False,
                               dtype=np.float64, vocabulary=vocabulary)

    def _keep(self, C, min_df: int, max_features: int | None = None) -> np.ndarray:
        df = np.asarray((C > 0).sum(axis=0)).ravel()
        keep = np.flatnonzero(df >= min(min_df, max(C.shape[0], 1)))
        if max_features is not None and len(keep) > max_features:
            order = np.lexsort((keep, -df[keep]))  # most frequent first; ties by index (deterministic)
            keep = np.sort(keep[order[:max_features]])
        return keep

    def fit(self, X, y=None):
        texts = _column(X)
        C, vocab = self._doc_word(texts)
        self.words_ = None
        self.chars_ = None
        if self.word_weight > 0:
            keep = self._keep(C, self.word_min_df)
            if len(keep):
                self.words_ = {str(w): i for i, w in enumerate(vocab[keep])}
                self.word_tfidf_ = TfidfTransformer(sublinear_tf=self.sublinear_tf).fit(C[:, keep])
        if self.char_weight > 0 and len(vocab):
            full = self._char_vectorizer().fit(vocab)
            Cc = (C @ full.transform(vocab)).tocsr()
            keep = self._keep(Cc, self.char_min_df, self.char_max_features)
            if len(keep):
                names = full.get_feature_names_out()[keep]
                self.chars_ = self._char_vectorizer({str(n): i for i, n in enumerate(names)}).fit(["_"])
                self.char_tfidf_ = TfidfTransformer(sublinear_tf=self.sublinear_tf).fit(Cc[:, keep])
        self.n_features_in_ = 1
        return self

    def transform(self, X):
        texts = _column(X)
        parts = self.transform_blocks(texts)
        if not parts:
            return sp.csr_matrix((len(texts), 0))
        return sp.hstack(parts, format="csr")

    def transform_blocks(self, X, splits: list[list[str]] | None = None) -> list[sp.csr_matrix]:
        """The blocks that :meth:`transform` puts side by side (word TF-IDF, character TF-IDF,
        each if fitted), for callers that can use them without copying them into one matrix;
        ``splits``: the documents already split into words (then ``X`` is not read)."""
        C, vocab = self._doc_word(_column(X)) if splits is None else self._doc_word_splits(splits)
        parts = []
        if self.words_ is not None:
            # The products are new matrices: weighted in place (the same arithmetic, no copies).
            parts.append(_scaled(self._tfidf(self.word_tfidf_, C @ word_selection(vocab, self.words_)),
                                 self.word_weight))
        if self.chars_ is not None:
            word_ngrams = self.ngram_rows().matrix(vocab.tolist())
            parts.append(_scaled(self._tfidf(self.char_tfidf_, C @ word_ngrams), self.char_weight))
        return parts

    @staticmethod
    def _tfidf(tfidf: TfidfTransformer, X: sp.csr_matrix) -> sp.csr_matrix:
        if tfidf.norm == "l2" and tfidf.use_idf:
            return tfidf_l2(X.tocsr(), tfidf.idf_, tfidf.sublinear_tf)  # as tfidf.transform(X, copy=False)
        return tfidf.transform(X, copy=False)

    def ngram_rows(self) -> NgramRows:
        """The character n-gram rows of words in this model's n-gram vocabulary, with a
        per-process cache of each word's row (never pickled)."""
        rows = self.__dict__.get("_ngram_rows")
        if rows is None:
            rows = self._ngram_rows = NgramRows(self.chars_.vocabulary_, tuple(self.char_ngram_range))
        return rows

    def __getstate__(self):
        state = super().__getstate__()
        state = dict(state)
        state.pop("_ngram_rows", None)  # a per-process cache: rebuilt on use, never saved
        return state

    def get_feature_names_out(self, input_features=None):
        names = [f"word_{w}" for w in (self.words_ or {})]
        if self.chars_ is not None:
            names += [f"char_{n}" for n in self.chars_.get_feature_names_out()]
        return np.array(names, dtype=object)


class ColumnLemmas(TransformerMixin, BaseEstimator):
    """Select one column of the ``[text, context]`` matrix and lemmatise it."""

    def __init__(self, column: int = TEXT, lemmatizer: DutchLemmatizer | None = None):
        self.column = column
        self.lemmatizer = lemmatizer

    def fit(self, X, y=None):
        self.lemmatizer_ = clone(self.lemmatizer) if self.lemmatizer is not None else DutchLemmatizer()
        self.lemmatizer_.fit(X[:, self.column])
        self.n_features_in_ = 2
        return self

    def transform(self, X):
        return self.lemmatizer_.transform(X[:, self.column])


def _scaled(X: sp.csr_matrix, weight: float) -> sp.csr_matrix:
    """``weight * X`` computed in place on ``X`` (a matrix nobody else holds)."""
    X.data *= weight
    return X


def _column(X) -> list:
    if isinstance(X, str):
        raise ValueError("Iterable over raw text documents expected, string object received.")
    if isinstance(X, np.ndarray) and X.ndim == 2:
        X = X[:, 0]
    return ["" if x is None else str(x) for x in X]


def build_text_features(config) -> Pipeline:
    """Lemmas of the text column → word and character TF-IDF (a :class:`classify.model.ModelConfig`)."""
    return Pipeline([("lemmas", ColumnLemmas(TEXT)),
                     ("tfidf", LemmaFeatures(word_min_df=config.word_min_df, word_weight=config.word_weight,
                                             char_weight=config.char_weight,
                                             char_ngram_range=tuple(config.char_ngram_range),
                                             char_min_df=config.char_min_df,
                                             char_max_features=config.char_max_features))])


def build_context_features(config) -> Pipeline:
    """Lemmas of the context column (document title + heading) → TF-IDF."""
    return Pipeline([("lemmas", ColumnLemmas(CONTEXT)),
                     ("tfidf", LemmaTfidf(analyzer=split_lemmas, lowercase=False, min_df=1, sublinear_tf=True,
                                          dtype=np.float64))])
