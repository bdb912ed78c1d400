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

    Parameters
    ----------
    lang : spaCy language code of the tokenizer rules and lemma table.
    remove_stop_words : drop spaCy's stop words (checked on the word and on its lemma).
    min_length : drop tokens shorter than this (after lemmatisation).
    tokenizer_exceptions : build spaCy's tokenizer with its abbreviation special cases (slow start).
    batch_size : texts between checks of the cache size (see ``MAX_CACHED_TOKENS``).
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
