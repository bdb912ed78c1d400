"""Feature extraction for the topic model: lemma TF-IDF, character n-grams of the lemmas, topic
seed-term counts, and the context (document title + section heading).

Every transformer here is a scikit-learn estimator fitted inside
:meth:`classify.model.TopicClassifier.fit`, which cross-validation refits, so vocabularies and
idf weights never see a held-out document. Input rows are 2-column object arrays
``[text, context]`` (see :func:`to_matrix`).
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Mapping, Sequence

import numpy as np
import scipy.sparse as sp
from sklearn.base import BaseEstimator, TransformerMixin, clone
from sklearn.feature_extraction.text import CountVectorizer, TfidfTransformer, TfidfVectorizer
from sklearn.pipeline import Pipeline

from classify.preprocess import DutchLemmatizer

TEXT, CONTEXT = 0, 1


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


def trie_regex(terms) -> str:
    """A regex matching any of ``terms`` (longest first), shaped as a trie so the engine branches
    on each next character instead of trying every term in turn."""
    trie: dict = {}
    for t in terms:
        node = trie
        for ch in t:
            node = node.setdefault(ch, {})
        node[""] = {}

    def build(node) -> str:
        alts = [re.escape(ch) + build(child) for ch, child in sorted(node.items()) if ch]
        if not alts:
            return ""
        body = alts[0] if len(alts) == 1 else "(?:" + "|".join(alts) + ")"
        return f"(?:{body})?" if "" in node else body

    return build(trie)


def _word_char(ch: str) -> bool:
    return ch.isalnum() or ch == "_"  # as regex \\w


def parse_term(spec: str) -> tuple[str, bool, bool, bool]:
    """A registry seed-term spec → ``(text, exclusion, word_start, word_end)``.

    ``"terugkeer"`` matches anywhere (also inside ``EU-terugkeerverordening``); ``"^isis"`` only
    at the start of a word (not in ``crisis``); ``"wav$"`` only at the end of a word; a leading
    ``"!"`` makes an exclusion: where it matches, the topic's terms inside it do not count
    (``"!terugkeerder"`` stops ``terugkeer`` from counting jihadist returnees as return policy).
    """
    s = spec.strip().lower()
    excl = s.startswith("!")
    s = s[1:] if excl else s
    start = s.startswith("^")
    s = s[1:] if start else s
    end = s.endswith("$") and len(s) > 1
    s = s[:-1] if end else s
    return s, excl, start, end


class SeedTermCounts(TransformerMixin, BaseEstimator):
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

    def _patterns(self):
        compiled = getattr(self, "_compiled", None)
        if compiled is None:
            # One scan per text with a trie-shaped regex over all topics' term texts (several
            # times faster than one alternation per topic). The lookahead finds, at every
            # position, the longest term text; every term matching there is a prefix of it, so per
            # topic the candidates are looked up once per distinct match (cached) and the longest
            # one whose word-boundary conditions hold wins, as in one regex per topic.
            owners: dict[str, list] = {}
            for j, k in enumerate(self.topics_):
                for spec in self.terms_[k]:
                    text, excl, start, end = parse_term(spec)
                    if text:
                        owners.setdefault(text, []).append((j, excl, start or self.word_start, end, spec))
            # Searched for from each position on (``rx.search(low, pos + 1)``) rather than as a
            # lookahead ``(?=(...))`` tried at every character: the same positions and matches
            # (the pattern has no anchors; word boundaries are checked on the whole text), but
            # the engine skips to candidate positions itself.
            rx = re.compile(trie_regex(owners))
            compiled = self._compiled = (rx, owners, {})
        return compiled

    def _candidates(self, match: str):
        """Per topic, its terms that are prefixes of ``match``, longest first."""
        rx, owners, cache = self._patterns()
        cand = cache.get(match)
        if cand is None:
            per: dict[int, list] = {}
            for i in range(len(match), 0, -1):
                for j, excl, start, end, spec in owners.get(match[:i], ()):
                    per.setdefault(j, []).append((i, excl, start, end, spec))
            cand = cache[match] = list(per.items())
        return cand

    def counts(self, texts) -> np.ndarray:
        """Raw match counts, shape ``(n, topics)``."""
        return self.scan(texts)[0]

    def scan(self, texts, terms: bool = False) -> tuple[np.ndarray, list | None]:
        """Match counts ``(n, topics)`` and, if ``terms``, per text a list per topic of the set of
        its term specs that matched."""
        rx, _, _ = self._patterns()
        search = rx.search
        n_topics = len(self.topics_)
        out = np.zeros((len(texts), n_topics), dtype=np.float64)
        hits = [] if terms else None
        for i, text in enumerate(texts):
            if terms:
                found = [set() for _ in range(n_topics)]
                hits.append(found)
            low = (text or "").lower()
            if not low:
                continue
            row = out[i]
            ends = [0] * n_topics
            size = len(low)
            m = search(low)
            while m is not None:
                pos = m.start()
                before = pos > 0 and _word_char(low[pos - 1])
                for j, cands in self._candidates(m.group()):
                    if pos < ends[j]:
                        continue
                    for n, excl, start, end, spec in cands:
                        if (start and before) or (end and pos + n < size and _word_char(low[pos + n])):
                            continue
                        ends[j] = pos + n
                        if not excl:
                            row[j] += 1
                            if terms:
                                found[j].add(spec)
                        break
                m = search(low, pos + 1)
        return out, hits

    def transform(self, X):
        texts = _column(X)
        return np.log1p(self.counts(texts))

    def get_feature_names_out(self, input_features=None):
        return np.array([f"seed_{k}" for k in self.topics_], dtype=object)

    def __getstate__(self):
        state = self.__dict__.copy()
        state.pop("_compiled", None)
        return state


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
        ids: dict[str, int] = {}
        indices: list[int] = []
        values: list[int] = []
        indptr = [0]
        for doc in texts:
            counts = Counter(split_lemmas(doc))  # keys in order of first occurrence, as sklearn's
            indices.extend([ids.setdefault(w, len(ids)) for w in counts])
            values.extend(counts.values())
            indptr.append(len(indices))
        if not ids:  # not a single word in the batch
            return sp.csr_matrix((len(texts), 0)), np.array([], dtype=object)
        dtype = np.int32 if len(indices) <= np.iinfo(np.int32).max else np.int64
        C = sp.csr_matrix((np.asarray(values, dtype=np.float64), np.asarray(indices, dtype=dtype),
                           np.asarray(indptr, dtype=dtype)), shape=(len(texts), len(ids)))
        C.sort_indices()  # by first-seen id, then columns renumbered in word order (sklearn's order)
        words = sorted(ids)
        rank = np.empty(len(words), dtype=dtype)
        rank[[ids[w] for w in words]] = np.arange(len(words), dtype=dtype)
        # A new matrix, so that scipy's cached "sorted indices" flag is not carried over.
        C = sp.csr_matrix((C.data, rank.take(C.indices), C.indptr), shape=C.shape)
        return C, np.array(words, dtype=object)

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
        C, vocab = self._doc_word(texts)
        parts = []
        if self.words_ is not None:
            rows, cols = [], []
            words = self.words_
            for i, w in enumerate(vocab.tolist()):
                j = words.get(w)
                if j is not None:
                    rows.append(i)
                    cols.append(j)
            select = sp.csr_matrix((np.ones(len(rows)), (rows, cols)), shape=(len(vocab), len(words)))
            parts.append(self.word_weight * self.word_tfidf_.transform(C @ select))
        if self.chars_ is not None:
            word_ngrams = self._word_ngrams(vocab.tolist())
            parts.append(self.char_weight * self.char_tfidf_.transform(C @ word_ngrams))
        if not parts:
            return sp.csr_matrix((len(texts), 0))
        return sp.hstack(parts, format="csr")

    _NGRAM_CACHE_MAX = 200_000

    def _word_ngrams(self, vocab: list[str]) -> sp.csr_matrix:
        """``len(vocab)`` × n-grams counts, equal to ``self.chars_.transform(vocab)``, assembled
        from a per-process cache of each word's row (words repeat across batches, so their
        n-grams are extracted once). The cache is bounded (cleared when full) and never pickled."""
        n_cols = len(self.chars_.vocabulary_)
        if not vocab:
            return sp.csr_matrix((0, n_cols))
        cache = self.__dict__.get("_ngram_rows")
        if cache is None or len(cache) > self._NGRAM_CACHE_MAX:
            cache = self.__dict__["_ngram_rows"] = {}
        new = [w for w in vocab if w not in cache]
        if new:
            M = self.chars_.transform(new).tocsr()
            for i, w in enumerate(new):
                a, b = M.indptr[i], M.indptr[i + 1]
                cache[w] = (M.indices[a:b], M.data[a:b])
        rows = [cache[w] for w in vocab]
        indptr = np.zeros(len(rows) + 1, dtype=np.int64)
        np.cumsum([len(r[0]) for r in rows], out=indptr[1:])
        indices = np.concatenate([r[0] for r in rows])
        data = np.concatenate([r[1] for r in rows])
        return sp.csr_matrix((data, indices, indptr), shape=(len(vocab), n_cols))

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
