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
from itertools import chain, compress
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


def _anchors(multi):
    """Where to look for terms with spaces, by a piece (space-delimited) of text: each term is
    looked for only near its longest (rarest) word, which must end a piece (first word), be a
    whole piece (middle word) or start one (last word). Returns ``(ending, equal, starting)``:
    words that end a piece where a term starts at ``len(piece) - len(word)``; piece → offsets
    (negative) of term starts for a middle word; ``(word, offset)`` for a last word."""
    ending, equal, starting = set(), {}, set()
    for term in multi:
        words = term.split(" ")
        k = max(range(len(words)), key=lambda i: (len(words[i]), -i))
        back = -(sum(len(w) for w in words[:k]) + k)  # term start, relative to the anchor word
        if k == 0:
            ending.add(words[0])
        elif k == len(words) - 1:
            starting.add((words[k], back))
        else:
            equal.setdefault(words[k], set()).add(back)
    return sorted(ending), equal, sorted(starting)


_UNEVEN = ("uneven",)  # a piece whose length lower-casing changes (truthy, compared by identity)
_UNSEEN = object()


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

    # Pieces of text (see ``_events``) cached per process before the cache is cleared (~7 MB);
    # the words of a language repeat, so a bounded cache keeps nearly all the hits.
    _PIECE_CACHE_MAX = 50_000

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
            # For the scan by pieces (``_events``): terms without a space never cross a space, so
            # they are found inside each space-delimited piece of a text (cached per piece); a
            # term with spaces ("landen van herkomst") is matched on the whole text, only at the
            # positions its longest word points to (``_anchors``).
            multi = [t for t in owners if " " in t]
            single = [t for t in owners if " " not in t]
            bypiece = (re.compile(trie_regex(single)) if single else None,
                       re.compile(trie_regex(multi)) if multi else None, _anchors(multi))
            if any(t != t.strip(" ") for t in multi):
                bypiece = None  # a term starting or ending with a space: scan whole texts only
            compiled = self._compiled = (rx, owners, {}, bypiece, {})
        return compiled

    def _candidates(self, match: str):
        """Per topic, its terms that are prefixes of ``match``, longest first."""
        rx, owners, cache = self._patterns()[:3]
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

    def _piece(self, piece: str):
        """What a space-free piece of text contributes to a scan: ``None`` (no term starts in
        it), or ``(starts, heads)``: the offsets where a term without spaces starts with the
        longest such term there, and the offsets (relative to the piece; negative when in an
        earlier piece) where a term with spaces may start because its anchor word
        (:func:`_anchors`) is in this piece. ``_UNEVEN`` when lower-casing changes the piece's
        length (offsets would not add up; such texts are scanned whole)."""
        single, _, (ending, equal, starting) = self._compiled[3]
        low = piece.lower()
        if len(low) != len(piece):
            return _UNEVEN
        starts = []
        if single is not None:
            search = single.search
            m = search(low)
            while m is not None:
                pos = m.start()
                starts.append((pos, m.group()))
                m = search(low, pos + 1)
        heads = {len(low) - len(w) for w in ending if low.endswith(w)}
        heads.update(equal.get(low, ()))
        heads.update(back for w, back in starting if low.startswith(w))
        return (tuple(starts), tuple(sorted(heads))) if starts or heads else None

    def _events(self, text: str, low: str, pieces: list[str] | None = None):
        """The positions where a term starts in ``low`` (``text.lower()``), in order, each with
        the longest term text starting there: the same as searching ``low`` with the trie regex
        from every position, assembled from per-piece results (pieces repeat across texts).
        ``None`` when the text has to be searched whole. ``pieces``: ``text.split(" ")``, when
        the caller has it already."""
        bypiece = self._compiled[3]
        if bypiece is None:
            return None
        cache = self._compiled[4]
        if pieces is None:
            pieces = text.split(" ")
        try:
            infos = list(map(cache.__getitem__, pieces))
        except KeyError:
            if len(cache) > self._PIECE_CACHE_MAX:
                # A new dict rather than clear(): another thread may be reading the old one.
                cache = {}
                self._compiled = self._compiled[:4] + (cache,)
            piece = self._piece
            infos = []
            for p in pieces:
                info = cache.get(p, _UNSEEN)
                if info is _UNSEEN:
                    info = cache[p] = piece(p)
                infos.append(info)
        events = []
        at = prev = 0  # ``at``: offset of piece ``prev`` in the text
        multi = bypiece[1]
        for i in compress(range(len(pieces)), infos):
            info = infos[i]
            if info is _UNEVEN:
                return None
            if i > prev:
                at += sum(map(len, pieces[prev:i])) + i - prev
                prev = i
            starts, heads = info
            if starts:
                events.extend([(at + pos, found) for pos, found in starts])
            for pos in heads:
                m = multi.match(low, at + pos) if at + pos >= 0 else None
                if m is not None:
                    # A term with spaces is longer than any term inside the piece at the same
                    # offset; keep the events in order of position.
                    pos += at
                    k = len(events)
                    while k and events[k - 1][0] >= pos:
                        k -= 1
                    if k < len(events) and events[k][0] == pos:
                        events[k] = (pos, m.group())
                    else:
                        events.insert(k, (pos, m.group()))
        return events

    def scan(self, texts, terms: bool = False, pieces: list[list[str]] | None = None) -> tuple[np.ndarray, list | None]:
        """Match counts ``(n, topics)`` and, if ``terms``, per text a list per topic of the set of
        its term specs that matched. ``pieces``: each text split at single spaces
        (``text.split(" ")``), when the caller has them already."""
        rx, _, _, _, _ = self._patterns()
        search = rx.search
        n_topics = len(self.topics_)
        out = np.zeros((len(texts), n_topics), dtype=np.float64)
        hits = [] if terms else None
        for i, text in enumerate(texts):
            if terms:
                found = [set() for _ in range(n_topics)]
                hits.append(found)
            text = text or ""
            low = text.lower()
            if not low:
                continue
            events = self._events(text, low, None if pieces is None else pieces[i])
            if events is None:
                events = []
                m = search(low)
                while m is not None:
                    events.append((m.start(), m.group()))
                    m = search(low, m.start() + 1)
            if not events:
                continue
            row = out[i]
            ends = [0] * n_topics
            size = len(low)
            for pos, match in events:
                before = pos > 0 and _word_char(low[pos - 1])
                for j, cands in self._candidates(match):
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
        return LemmaFeatures._doc_word_splits([split_lemmas(doc) for doc in texts])

    @staticmethod
    def _doc_word_splits(splits: list[list[str]]) -> tuple[sp.csr_matrix, np.ndarray]:
        """:meth:`_doc_word` of documents already split into words."""
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
            rows, cols = [], []
            words = self.words_
            for i, w in enumerate(vocab.tolist()):
                j = words.get(w)
                if j is not None:
                    rows.append(i)
                    cols.append(j)
            select = sp.csr_matrix((np.ones(len(rows)), (rows, cols)), shape=(len(vocab), len(words)))
            # The products are new matrices: weighted in place (the same arithmetic, no copies).
            parts.append(_scaled(self.word_tfidf_.transform(C @ select, copy=False), self.word_weight))
        if self.chars_ is not None:
            word_ngrams = self._word_ngrams(vocab.tolist())
            parts.append(_scaled(self.char_tfidf_.transform(C @ word_ngrams, copy=False), self.char_weight))
        return parts

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
