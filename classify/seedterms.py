"""Counting the registry's seed terms in texts, per topic: the scanner behind the seed-term
features and the keyword lexicon of the topic model (:class:`classify.features.SeedTermCounts`
is its scikit-learn transformer). No scikit-learn here (see :mod:`classify.scoring`).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from itertools import chain, compress

import numpy as np


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
    looked for only near its longest word (the anchor), which must end a piece (first word), be
    a whole piece (middle word) or start one (last word). Returns ``(ending, equal, starting)``:
    ``(word, words, k)`` for terms whose first word is the anchor (the term starts at
    ``len(piece) - len(word)``); piece → ``(offset, words, k)`` for a middle word (``offset``:
    where the term starts, negative, relative to the anchor's piece); ``(word, offset, words,
    k)`` for a last word. ``words``: the term's words, ``k``: the anchor's index."""
    ending, equal, starting = [], {}, []
    for term in multi:
        words = tuple(term.split(" "))
        k = max(range(len(words)), key=lambda i: (len(words[i]), -i))
        back = -(sum(len(w) for w in words[:k]) + k)  # term start, relative to the anchor word
        if k == 0:
            ending.append((words[0], words, k))
        elif k == len(words) - 1:
            starting.append((words[k], back, words, k))
        else:
            equal.setdefault(words[k], []).append((back, words, k))
    return sorted(ending), equal, sorted(starting)


def _term_at(pieces: list[str], i: int, words: tuple[str, ...], k: int) -> bool:
    """Whether the term with spaces ``words`` occurs with its word ``k`` in piece ``i`` (whose
    anchor condition holds): its first word ends the piece before the middle ones, which are
    whole pieces, and its last word starts the piece after them (pieces are separated by
    single spaces, the only space a term holds)."""
    s = i - k
    n = len(words)
    if s < 0 or s + n > len(pieces):
        return False
    for m in range(n):
        if m == k:
            continue
        piece = pieces[s + m].lower()
        if m == 0:
            if not piece.endswith(words[0]):
                return False
        elif m == n - 1:
            if not piece.startswith(words[m]):
                return False
        elif piece != words[m]:
            return False
    return True


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


class SeedTermScanner:
    """Per topic, how often its seed terms occur in each text (:meth:`scan`).

    Terms are lower-case stems in the syntax of :func:`parse_term` (substring by default, ``^``
    word start, ``$`` word end, ``!`` exclusion); with ``word_start=True`` every term must start a
    word. Counting per topic is leftmost-longest and non-overlapping, as one regex per topic with
    the terms longest first would count (an exclusion that wins a position counts nothing and
    consumes its span). ``terms``: topic key → term specs, in topic order.
    """

    def __init__(self, terms: Mapping[str, Sequence[str]], word_start: bool = True):
        self.topics_ = list(terms)
        self.terms_ = {k: tuple(v) for k, v in terms.items()}
        self.word_start = word_start

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
        it), or ``(starts, heads, hits, checks)``: the offsets where a term without spaces starts
        with the longest such term there; the offsets (relative to the piece; negative when in
        an earlier piece) where a term with spaces may start because its anchor word
        (:func:`_anchors`) is in this piece; what the terms without spaces count in the piece
        (:meth:`_resolve`); and those terms with spaces, to check against the neighbouring
        pieces (:func:`_term_at`). ``_UNEVEN`` when lower-casing changes the piece's length
        (offsets would not add up; such texts are scanned whole)."""
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
        heads: set[int] = set()
        checks = []  # (words, k): terms with spaces whose anchor word k this piece satisfies
        for w, words, k in ending:
            if low.endswith(w):
                heads.add(len(low) - len(w))
                checks.append((words, k))
        for back, words, k in equal.get(low, ()):
            heads.add(back)
            checks.append((words, k))
        for w, back, words, k in starting:
            if low.startswith(w):
                heads.add(back)
                checks.append((words, k))
        if not (starts or heads):
            return None
        # What the terms without spaces found here count in any text (see ``_events``).
        hits = tuple(self._resolve(starts, low, len(self.topics_)))
        return tuple(starts), tuple(sorted(heads)), hits, tuple(checks)

    def _resolve(self, events, low: str, n_topics: int):
        """The terms counted at ``events`` (``(position, longest term text there)`` in order) of
        ``low``: per topic leftmost-longest and non-overlapping, with the word-boundary
        conditions. Yields ``(topic index, term spec, is exclusion)`` in order of position."""
        ends = [0] * n_topics
        size = len(low)
        candidates = self._candidates
        for pos, match in events:
            before = pos > 0 and _word_char(low[pos - 1])
            for j, cands in candidates(match):
                if pos < ends[j]:
                    continue
                for n, excl, start, end, spec in cands:
                    if (start and before) or (end and pos + n < size and _word_char(low[pos + n])):
                        continue
                    ends[j] = pos + n
                    yield j, spec, excl
                    break

    def _events(self, text: str, pieces: list[str] | None = None):
        """The positions where a term starts in ``text.lower()``, in order, each with the
        longest term text starting there: the same as searching the lower-cased text with the
        trie regex from every position, assembled from per-piece results (pieces repeat across
        texts). ``None`` when the text has to be searched whole. ``pieces``:
        ``text.split(" ")``, when the caller has it already.

        When no term with spaces occurs in the text (checked piece by piece, :func:`_term_at`),
        returns instead the tuple of its pieces' hits (see :meth:`_piece`) to count as they are:
        a term without spaces lies inside one piece, and what precedes and follows a piece (a
        space, or nothing) is never a word character, so counting a piece on its own gives what
        counting it within the text gives (the same hits, in the same order)."""
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
        hits = []
        with_spaces = False
        for i in compress(range(len(pieces)), infos):
            info = infos[i]
            if info is _UNEVEN:
                return None
            if info[2]:
                hits.append(info[2])
            if info[3] and not with_spaces:
                for words, k in info[3]:
                    if _term_at(pieces, i, words, k):
                        with_spaces = True
                        break
        if not with_spaces:
            return tuple(hits)
        # A term with spaces occurs: merge it with the other terms' starts, in order of position.
        low = text.lower()
        events = []
        at = prev = 0  # ``at``: offset of piece ``prev`` in the text
        multi = bypiece[1]
        for i in compress(range(len(pieces)), infos):
            if i > prev:
                at += sum(map(len, pieces[prev:i])) + i - prev
                prev = i
            starts, heads = infos[i][:2]
            if starts:
                events.extend([(at + pos, term) for pos, term in starts])
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
            if not text:
                continue
            events = self._events(text, None if pieces is None else pieces[i])
            if events is None:
                low = text.lower()
                events = []
                m = search(low)
                while m is not None:
                    events.append((m.start(), m.group()))
                    m = search(low, m.start() + 1)
            if not events:
                continue
            if type(events) is tuple:  # the pieces' own hits (no term with spaces in the text)
                counted = chain.from_iterable(events)
            else:
                counted = self._resolve(events, text.lower(), n_topics)
            row = [0] * n_topics
            for j, spec, excl in counted:
                if not excl:
                    row[j] += 1
                    if terms:
                        found[j].add(spec)
            out[i] = row
        return out, hits

    def __getstate__(self):
        state = self.__dict__.copy()
        state.pop("_compiled", None)  # regexes and the per-process piece cache: rebuilt on use
        return state
