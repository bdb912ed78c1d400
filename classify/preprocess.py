"""Dutch text → lower-case lemma strings, as a picklable scikit-learn transformer.

The spaCy parts are the Dutch tokenizer (``spacy.lang.nl`` prefixes, suffixes and infixes, the
same rules ``spacy.blank("nl")`` uses) and the Dutch lookup table of spaCy's lookup lemmatizer
(``spacy-lookups-data``, offline; ``nlp.add_pipe("lemmatizer", config={"mode": "lookup"})`` reads
the same table). For speed the tokenizer is built without its ~4,700 abbreviation special cases
(building them costs ~0.8 s per process and only decides whether ``bijv.`` keeps its dot) and the
lemma lookup is a plain dict lookup cached per token, instead of running spaCy's pipeline
components on every token.

Output per text: lemmas separated by single spaces, stop words and punctuation removed, numbers
replaced by ``NUMBER_TOKEN``. The vectorisers split on whitespace.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable

import numpy as np
from sklearn.base import BaseEstimator, TransformerMixin

NUMBER_TOKEN = "_num_"
# Tokens seen per process before the tokenizer and token cache are rebuilt, so a long batch run
# over many letters does not grow spaCy's string store (and the cache) without bound.
MAX_CACHED_TOKENS = 300_000


def build_tokenizer(lang: str = "nl", exceptions: bool = False):
    """A new spaCy tokenizer with the rules of ``spacy.blank(lang)``; special cases only if ``exceptions``."""
    if exceptions:
        import spacy

        return spacy.blank(lang).tokenizer
    from spacy.tokenizer import Tokenizer
    from spacy.util import compile_infix_regex, compile_prefix_regex, compile_suffix_regex, get_lang_class
    from spacy.vocab import Vocab

    defaults = get_lang_class(lang).Defaults
    return Tokenizer(
        Vocab(),
        rules={},
        prefix_search=compile_prefix_regex(defaults.prefixes).search if defaults.prefixes else None,
        suffix_search=compile_suffix_regex(defaults.suffixes).search if defaults.suffixes else None,
        infix_finditer=compile_infix_regex(defaults.infixes).finditer if defaults.infixes else None,
        token_match=defaults.token_match,
        url_match=defaults.url_match,
    )


@functools.lru_cache(maxsize=4)
def load_lemma_table(lang: str = "nl") -> dict[str, str]:
    """spaCy's lookup-lemmatizer table for ``lang`` from spacy-lookups-data (read once per process)."""
    import srsly
    import spacy_lookups_data

    return srsly.read_gzip_json(str(spacy_lookups_data.get_file(f"{lang}_lemma_lookup.json.gz")))


@functools.lru_cache(maxsize=4)
def load_stop_words(lang: str = "nl") -> frozenset[str]:
    from spacy.util import get_lang_class

    return frozenset(get_lang_class(lang).Defaults.stop_words)


def _is_number(s: str) -> bool:
    return s[:1].isdigit() and s.replace(".", "").replace(",", "").replace("-", "").isdigit()


class DutchLemmatizer(TransformerMixin, BaseEstimator):
    """Texts → strings of lower-case lemmas (stop words and punctuation dropped, numbers normalised).

    Stateless (``fit`` learns nothing), so caching its output across cross-validation folds cannot
    leak. The spaCy tokenizer is loaded lazily on first use and never pickled.

    Parameters
    ----------
    lang : spaCy language code of the tokenizer rules and lemma table.
    remove_stop_words : drop spaCy's stop words (checked on the word and on its lemma).
    min_length : drop tokens shorter than this (after lemmatisation).
    tokenizer_exceptions : build spaCy's tokenizer with its abbreviation special cases (slow start).
    batch_size : texts per ``Tokenizer.pipe`` batch.
    """

    def __init__(self, lang: str = "nl", remove_stop_words: bool = True, min_length: int = 2,
                 tokenizer_exceptions: bool = False, batch_size: int = 256):
        self.lang = lang
        self.remove_stop_words = remove_stop_words
        self.min_length = min_length
        self.tokenizer_exceptions = tokenizer_exceptions
        self.batch_size = batch_size

    def fit(self, X, y=None):
        _check_texts(X)
        self.n_features_in_ = 1
        return self

    def transform(self, X) -> list[str]:
        texts = _check_texts(X)
        return [" ".join(lemmas) for lemmas in self.iter_lemmas(texts)]

    def iter_lemmas(self, texts: Iterable[str]):
        """Yield the list of lemmas of each text, in order (streams, in batches of ``batch_size``)."""
        from itertools import islice

        from spacy.attrs import ORTH

        it = iter(texts)
        while True:
            chunk = ["" if t is None else str(t) for t in islice(it, self.batch_size)]
            if not chunk:
                return
            tokenizer, cache = self._state()
            strings = tokenizer.vocab.strings
            for doc in tokenizer.pipe(chunk, batch_size=self.batch_size):
                out = []
                for h in doc.to_array(ORTH).tolist():
                    lemma = cache.get(h, False)
                    if lemma is False:
                        lemma = cache[h] = self._lemma(strings[h])
                    if lemma:
                        out.append(lemma)
                yield out
            if len(cache) > MAX_CACHED_TOKENS:
                self._reset()  # between batches: no Doc of the old vocabulary is still in use

    def _lemma(self, word: str) -> str | None:
        """The normalised output for one token, or None to drop it."""
        table = load_lemma_table(self.lang)
        lower = word.lower()
        lemma = (table.get(word) or table.get(lower) or lower).lower()
        if _is_number(lemma):
            return NUMBER_TOKEN
        if not any(c.isalnum() for c in lemma) or len(lemma) < self.min_length:
            return None
        if self.remove_stop_words:
            stop = load_stop_words(self.lang)
            if lower in stop or lemma in stop:
                return None
        return lemma

    def _state(self):
        state = getattr(self, "_runtime", None)
        if state is None:
            # A private tokenizer per transformer (cheap to build), so its string store can be
            # dropped (see MAX_CACHED_TOKENS) without touching other users.
            tokenizer = build_tokenizer(self.lang, self.tokenizer_exceptions)
            state = self._runtime = (tokenizer, {})
        return state

    def _reset(self) -> None:
        self._runtime = None

    def __getstate__(self):
        state = self.__dict__.copy()
        state.pop("_runtime", None)  # the spaCy tokenizer and cache are rebuilt after unpickling
        return state

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.string = True
        tags.input_tags.two_d_array = False
        return tags


def _check_texts(X) -> list:
    if isinstance(X, str):
        raise ValueError("Iterable over raw text documents expected, string object received.")
    if isinstance(X, np.ndarray) and X.ndim == 2:
        if X.shape[1] != 1:
            raise ValueError(f"one column of texts expected, got an array of shape {X.shape}")
        X = X[:, 0]
    return list(X)
