"""Dutch text → lower-case lemma strings, as a picklable scikit-learn transformer.

The lemmatizer itself (spaCy's Dutch tokenizer rules and lookup lemma table, with its caches) is
:class:`classify.lemmas.Lemmatizer`; this module adds the scikit-learn interface.
"""

from __future__ import annotations

from sklearn.base import BaseEstimator, TransformerMixin

from classify.lemmas import (  # noqa: F401 - re-exported: the names this module always had
    MAX_CACHED_TOKENS,
    NUMBER_TOKEN,
    LemmaTable,
    Lemmatizer,
    _check_texts,
    build_tokenizer,
    cache_dir,
    lemma_table,
    load_lemma_table,
    load_stop_words,
)


class DutchLemmatizer(Lemmatizer, TransformerMixin, BaseEstimator):
    """Texts → strings of lower-case lemmas (stop words and punctuation dropped, numbers normalised).

    Stateless (``fit`` learns nothing), so caching its output across cross-validation folds cannot
    leak. The spaCy tokenizer is loaded lazily on first use and never pickled.

    Parameters: those of :class:`classify.lemmas.Lemmatizer`.
    """

    def fit(self, X, y=None):
        _check_texts(X)
        self.n_features_in_ = 1
        return self

    def transform(self, X) -> list[str]:
        texts = _check_texts(X)
        return list(self._lemma_strings(texts))

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.string = True
        tags.input_tags.two_d_array = False
        return tags
