"""Dutch text → lower-case lemmas: spaCy's Dutch tokenizer and lookup lemma table, cached.

The spaCy parts are the Dutch tokenizer (``spacy.lang.nl`` prefixes, suffixes and infixes, the
same rules ``spacy.blank("nl")`` uses) and the Dutch lookup table of spaCy's lookup lemmatizer
(``spacy-lookups-data``, offline; ``nlp.add_pipe("lemmatizer", config={"mode": "lookup"})`` reads
the same table). For speed:

- the tokenizer is built without its ~4,700 abbreviation special cases (building them costs
  ~0.8 s per process and only decides whether ``bijv.`` keeps its dot);
- spaCy's tokenizer splits text on whitespace and tokenizes every whitespace-delimited chunk on
  its own, so the lemmas of a chunk (``terugkeer,``) are computed once and cached: a text is
  split with ``str.split()`` (the same whitespace as spaCy's) and only chunks not seen before go
  through spaCy, giving the same lemmas several times faster;
- the lemma table is read from a SQLite copy built once per spacy-lookups-data version in the
  user cache directory (:func:`cache_dir`): opening it takes ~1 ms and no memory, against
  0.2–0.5 s and ~35 MB per process for parsing the gzip JSON; only tokens not seen before are
  looked up.

Output per text: lemmas separated by single spaces, stop words and punctuation removed, numbers
replaced by ``NUMBER_TOKEN``. The vectorisers split on whitespace.

No scikit-learn here: ``classify tag`` scores with it without importing scikit-learn
(:mod:`classify.scoring`); :mod:`classify.preprocess` wraps it as a transformer.
"""

from __future__ import annotations

import functools
import os
import sqlite3
import threading
from collections.abc import Iterable
from itertools import chain
from pathlib import Path

import numpy as np

NUMBER_TOKEN = "_num_"
# Chunks and tokens cached per lemmatizer before the tokenizer and caches are rebuilt, so a long
# batch run over many letters does not grow spaCy's string store (and the caches) without bound
# (~15 MB at most; a rebuild costs ~0.1 s).
MAX_CACHED_TOKENS = 100_000


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


def load_lemma_table(lang: str = "nl") -> dict[str, str]:
    """spaCy's lookup-lemmatizer table for ``lang`` from spacy-lookups-data, as a dict (parsed
    anew on every call; the lemmatizer uses :func:`lemma_table`)."""
    import srsly
    import spacy_lookups_data

    return srsly.read_gzip_json(str(spacy_lookups_data.get_file(f"{lang}_lemma_lookup.json.gz")))


def cache_dir() -> Path:
    """Where derived files are cached: ``$CLASSIFY_CACHE_DIR``, else ``$XDG_CACHE_HOME/classify``,
    else ``~/.cache/classify``."""
    env = os.environ.get("CLASSIFY_CACHE_DIR")
    if env:
        return Path(env)
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "classify"


class LemmaTable:
    """Read-only ``get(word)`` on spaCy's lemma table for ``lang``, backed by a SQLite file in
    :func:`cache_dir` that is built on first use (once per spacy-lookups-data version, written
    to a temporary file and renamed, so concurrent processes never see half a table). Without a
    writable cache directory the table is parsed into memory instead. Safe across ``fork``
    (a child process opens its own connection) and threads."""

    def __init__(self, lang: str = "nl"):
        self.lang = lang
        self._lock = threading.Lock()
        self._conn = None
        self._pid = None
        self._dict: dict[str, str] | None = None

    def get(self, word: str) -> str | None:
        if self._dict is not None:
            return self._dict.get(word)
        with self._lock:
            if self._pid != os.getpid():
                self._open()
                if self._dict is not None:
                    return self._dict.get(word)
            row = self._conn.execute("SELECT v FROM lemma WHERE k = ?", (word,)).fetchone()
        return row[0] if row else None

    def _path(self) -> Path:
        from importlib.metadata import version

        import spacy_lookups_data

        source = Path(spacy_lookups_data.get_file(f"{self.lang}_lemma_lookup.json.gz"))
        tag = f"{version('spacy-lookups-data')}-{source.stat().st_size}"
        return cache_dir() / f"{self.lang}_lemma_lookup-{tag}.sqlite"

    def _open(self) -> None:
        path = self._path()
        for attempt in range(2):
            try:
                if not path.is_file():
                    self._build(path)
                conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True, check_same_thread=False)
                conn.execute("SELECT v FROM lemma WHERE k = ''").fetchone()  # fails if damaged
            except (OSError, sqlite3.Error):
                if attempt == 0 and path.is_file():
                    try:
                        path.unlink()  # damaged: build it again
                        continue
                    except OSError:
                        pass
                self._dict = load_lemma_table(self.lang)  # no usable cache: keep it in memory
                return
            self._conn, self._pid = conn, os.getpid()
            return

    def _build(self, path: Path) -> None:
        import tempfile

        table = load_lemma_table(self.lang)
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
        os.close(fd)
        try:
            conn = sqlite3.connect(tmp)
            try:
                conn.execute("CREATE TABLE lemma (k TEXT PRIMARY KEY, v TEXT NOT NULL) WITHOUT ROWID")
                conn.executemany("INSERT INTO lemma VALUES (?, ?)", table.items())
                conn.commit()
            finally:
                conn.close()
            os.replace(tmp, path)
        except BaseException:
            try:
                os.unlink(tmp)
            except OSError:
                pass
            raise


@functools.lru_cache(maxsize=4)
def lemma_table(lang: str = "nl") -> LemmaTable:
    """The process's :class:`LemmaTable` for ``lang`` (opened lazily on the first lookup)."""
    return LemmaTable(lang)


@functools.lru_cache(maxsize=4)
def load_stop_words(lang: str = "nl") -> frozenset[str]:
    from spacy.util import get_lang_class

    return frozenset(get_lang_class(lang).Defaults.stop_words)


def _is_number(s: str) -> bool:
    return s[:1].isdigit() and s.replace(".", "").replace(",", "").replace("-", "").isdigit()


class Lemmatizer:
    """Texts → lower-case lemmas (stop words and punctuation dropped, numbers normalised), with
    no scikit-learn in sight (see :class:`classify.preprocess.DutchLemmatizer` for the
    transformer). The spaCy tokenizer is loaded lazily on first use and never pickled.

    Parameters
    ----------
    lang : spaCy language code of the tokenizer rules and lemma table.
    remove_stop_words : drop spaCy's stop words (checked on the word and on its lemma).
    min_length : drop tokens shorter than this (after lemmatisation).
    tokenizer_exceptions : build spaCy's tokenizer with its abbreviation special cases (slow start).
    batch_size : texts between checks of the cache size (see ``MAX_CACHED_TOKENS``).
    """

    def __init__(self, lang: str = "nl", remove_stop_words: bool = True, min_length: int = 2,
                 tokenizer_exceptions: bool = False, batch_size: int = 256):
        self.lang = lang
        self.remove_stop_words = remove_stop_words
        self.min_length = min_length
        self.tokenizer_exceptions = tokenizer_exceptions
        self.batch_size = batch_size

    def iter_lemmas(self, texts: Iterable[str]):
        """Yield the list of lemmas of each text, in order (streams)."""
        for lemmas in self._lemma_strings(texts):
            yield lemmas.split()

    def _lemma_strings(self, texts: Iterable[str]):
        """Yield the lemmas of each text joined by single spaces, in order (streams).

        spaCy's tokenizer tokenizes each whitespace-delimited chunk independently (its cache
        works the same way), so the chunks' lemma strings are cached and only new chunks are
        tokenized."""
        chunks, tokens = self._state()[1:3]
        n = 0
        for text in texts:
            words = ("" if text is None else str(text)).split()
            try:
                out = list(map(chunks.__getitem__, words))
            except KeyError:
                self._add_chunks([w for w in dict.fromkeys(words) if w not in chunks])
                out = list(map(chunks.__getitem__, words))
            yield " ".join(filter(None, out))
            n += 1
            if n % self.batch_size == 0 and len(chunks) + len(tokens) > MAX_CACHED_TOKENS:
                self._reset()
                chunks, tokens = self._state()[1:3]

    def token_lists(self, texts: Iterable[str], pieces: list[list[str]] | None = None) -> list[list[str]]:
        """``[s.split() for s in self.transform(texts)]``, without joining and splitting again.

        Works on the pieces of each text between single spaces (``text.split(" ")``; given as
        ``pieces`` when the caller has them already): a text's words are the words of its
        pieces in turn, so each piece's lemmas are cached as a list."""
        texts = _check_texts(texts)
        out = []
        n = 0
        state = self._state()
        chunks, tokens, split = state[1], state[2], state[3]
        for k, text in enumerate(texts):
            words = ("" if text is None else str(text)).split(" ") if pieces is None else pieces[k]
            try:
                parts = list(map(split.__getitem__, words))
            except KeyError:
                missing = [w for w in dict.fromkeys(words) if w not in split]
                new = [c for c in dict.fromkeys(chain.from_iterable(w.split() for w in missing)) if c not in chunks]
                if new:
                    self._add_chunks(new)
                for w in missing:
                    split[w] = [t for c in w.split() for t in chunks[c].split()]
                parts = list(map(split.__getitem__, words))
            out.append(list(chain.from_iterable(parts)))
            n += 1
            if n % self.batch_size == 0 and len(chunks) + len(tokens) + len(split) > MAX_CACHED_TOKENS:
                self._reset()
                state = self._state()
                chunks, tokens, split = state[1], state[2], state[3]
        return out

    def _add_chunks(self, new: list[str]) -> None:
        """Cache the lemma strings of whitespace-free chunks not seen before ("" when all their
        tokens are dropped). They are tokenized in one call, joined by single spaces: a token
        followed by a space ends a chunk (spaCy may split a chunk into several tokens)."""
        tokenizer, chunks, tokens = self._state()[:3]
        i, out = 0, []
        for tok in tokenizer(" ".join(new)):
            word = tok.text
            lemma = tokens.get(word, False)
            if lemma is False:
                lemma = tokens[word] = self._lemma(word)
            if lemma:
                out.append(lemma)
            if tok.whitespace_:
                chunks[new[i]] = " ".join(out)
                i, out = i + 1, []
        chunks[new[i]] = " ".join(out)
        if i != len(new) - 1:  # cannot happen with spaCy's whitespace rule; never cache a misalignment
            raise RuntimeError(f"tokenizer split {len(new)} chunks into {i + 1}")

    def _lemma(self, word: str) -> str | None:
        """The normalised output for one token, or None to drop it."""
        table = lemma_table(self.lang)
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
            # tokenizer, chunk → lemmas, token → lemma, piece → its lemmas split (``token_lists``)
            state = self._runtime = (tokenizer, {}, {}, {})
        return state

    def _reset(self) -> None:
        self._runtime = None

    def __getstate__(self):
        state = self.__dict__.copy()
        state.pop("_runtime", None)  # the spaCy tokenizer and cache are rebuilt after unpickling
        return state


def _check_texts(X) -> list:
    if isinstance(X, str):
        raise ValueError("Iterable over raw text documents expected, string object received.")
    if isinstance(X, np.ndarray) and X.ndim == 2:
        if X.shape[1] != 1:
            raise ValueError(f"one column of texts expected, got an array of shape {X.shape}")
        X = X[:, 0]
    return list(X)
