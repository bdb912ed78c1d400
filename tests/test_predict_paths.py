"""The fast prediction paths give exactly what the plain ones give (bit for bit): the seed-term
scan by cached pieces of text, lemmas as word lists, the linear scores accumulated block by
block, and the part files of ``classify tag`` (one per chunk)."""

from __future__ import annotations

import pickle
import random
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from classify.features import LemmaFeatures, SeedTermCounts, parse_term, to_matrix
from classify.model import ModelConfig, TopicClassifier, training_arrays
from classify.preprocess import DutchLemmatizer
from classify.scoring import NgramRows, Scorer, tfidf_l2
from classify.tagging import PartStore, write_parts
from classify.topics import TOPICS

from model_data import synthetic_df

TERMS = sorted({parse_term(t)[0] for tp in TOPICS for t in tp.terms})
WORDS = TERMS + ["de", "van", "landen", "herkomst", "grens", "aan", "te", "keren", "Terugkeer", "GRENS",
                 "İstanbul", "ΟΔΟΣ", "EU-", "x_", "2021", "(zie", "crisis", ""]
REPO = Path(__file__).resolve().parents[1]
SEPARATORS = [" ", "  ", "\n", " \n ", "", "-", "\t", ". ", ", ", "\u00a0"]


def _texts(n: int, seed: int = 0) -> list[str]:
    rng = random.Random(seed)
    out = []
    for _ in range(n):
        parts = []
        for _ in range(rng.randint(0, 20)):
            w = rng.choice(WORDS)
            w = w.upper() if rng.random() < 0.15 else w
            parts += [w, rng.choice(SEPARATORS)]
        out.append("".join(parts))
    return out


@pytest.mark.parametrize("word_start", [False, True])
def test_scan_by_pieces_equals_whole_text_scan(word_start):
    texts = _texts(3000) + ["Landen van herkomst en de grens met Duitsland", "terug  te keren", ""]
    fast = SeedTermCounts(word_start=word_start).fit(None)
    slow = SeedTermCounts(word_start=word_start).fit(None)
    compiled = slow._patterns()
    slow._compiled = compiled[:3] + (None,) + compiled[4:]  # no pieces: every text searched whole
    for batch in (texts, texts[::-1]):  # the second pass runs on a warm piece cache
        counts_f, hits_f = fast.scan(batch, terms=True)
        counts_s, hits_s = slow.scan(batch, terms=True)
        assert np.array_equal(counts_f, counts_s)
        # the same sets, built in the same order
        assert [[list(s) for s in row] for row in hits_f] == [[list(s) for s in row] for row in hits_s]
    assert fast.scan(["de landen van herkomst"])[0].sum() == 1
    assert "_compiled" not in vars(pickle.loads(pickle.dumps(fast)))  # the piece cache is not saved


def test_token_lists_are_the_split_lemma_strings():
    texts = _texts(500, seed=1) + ["Kent u het bericht 'Huizen gesloten'? Ja.", None, ""]
    a, b = DutchLemmatizer().fit(texts), DutchLemmatizer().fit(texts)
    assert b.token_lists(texts) == [s.split() for s in a.transform(texts)]
    assert b.token_lists(texts[::-1]) == [s.split() for s in a.transform(texts[::-1])]
    docs = [" ".join(t) for t in b.token_lists(texts)]
    got, want = LemmaFeatures._doc_word_splits(b.token_lists(texts)), LemmaFeatures._doc_word(docs)
    assert list(got[1]) == list(want[1])
    for attr in ("indptr", "indices", "data"):
        assert np.array_equal(getattr(got[0], attr), getattr(want[0], attr))


def test_block_scores_equal_the_stacked_design():
    df = synthetic_df()
    config = ModelConfig(char_max_features=2000)
    X, Y, _, _, weight = training_arrays(df, config)
    est = TopicClassifier(config).fit(X, Y, sample_weight=weight)
    items = to_matrix([{"text": t, "doc_title": "Brief over migratie", "heading": ""} for t in _texts(300, seed=2)])
    scorer = Scorer.of(est)
    assert scorer is not None  # the fast path is the one tested
    for rows in (X, items, items[:1]):
        scan = est._scan(rows)
        assert np.array_equal(scorer.model_proba(rows, scan), est.clf_.predict_proba(est._design(rows, scan)))


def test_tfidf_and_ngram_rows_equal_scikit_learn():
    """The scorer's TF-IDF weighting and character n-gram rows are scikit-learn's, bit for bit."""
    texts = [" ".join(t) for t in DutchLemmatizer().token_lists(_texts(400, seed=3))]
    feats = LemmaFeatures(char_max_features=3000).fit(texts)
    C, vocab = LemmaFeatures._doc_word(texts)
    words = vocab.tolist() + ["a", "ab", "terugkeerverordening", "x_y"]
    got, want = NgramRows(feats.chars_.vocabulary_, feats.char_ngram_range).matrix(words), feats.chars_.transform(words)
    for attr in ("indptr", "indices", "data"):
        assert np.array_equal(getattr(got, attr), getattr(want, attr))
    counts = C @ feats.chars_.transform(vocab.tolist())
    got, want = tfidf_l2(counts.copy(), feats.char_tfidf_.idf_, True), feats.char_tfidf_.transform(counts)
    assert got.nnz > 0
    for attr in ("indptr", "indices", "data"):
        assert np.array_equal(getattr(got, attr), getattr(want, attr))


def test_exported_scorer_scores_like_the_model_without_scikit_learn(tmp_path):
    """``classify tag`` scores with the exported scorer: a process that unpickles it never
    imports scikit-learn and gets the classifier's scores exactly."""
    df = synthetic_df()
    config = ModelConfig(char_max_features=2000)
    X, Y, _, _, weight = training_arrays(df, config)
    est = TopicClassifier(config).fit(X, Y, sample_weight=weight)
    est.short_thresholds_ = np.full(len(est.classes_), 0.3)  # the short-text map is exercised too
    rows = to_matrix([{"text": t, "doc_title": "Brief over migratie", "heading": ""} for t in _texts(300, seed=4)])
    (tmp_path / "scorer.pkl").write_bytes(pickle.dumps(Scorer.export(est)))
    np.save(tmp_path / "rows.npy", rows, allow_pickle=True)
    code = (
        "import pickle, sys, numpy as np\n"
        f"s = pickle.loads(open({str(tmp_path / 'scorer.pkl')!r}, 'rb').read())\n"
        f"p = s.predict_proba(np.load({str(tmp_path / 'rows.npy')!r}, allow_pickle=True))\n"
        "assert not [m for m in sys.modules if m.split('.')[0] == 'sklearn'], 'scikit-learn imported'\n"
        f"np.save({str(tmp_path / 'p.npy')!r}, p)\n")
    subprocess.run([sys.executable, "-c", code], check=True, cwd=REPO)
    # (bit for bit although the other process hashes strings differently: sets of terms are
    # multiplied out in sorted order)
    assert np.array_equal(np.load(tmp_path / "p.npy"), est.predict_proba(rows))


def test_part_files_hold_a_chunk_and_resume_reads_them(tmp_path):
    root = tmp_path / "o.csv.parts"
    store = PartStore(root, "m", resume=False)
    docs = [{"sha": f"{i:02d}" * 32, "path": f"{i}.txt", "n_rows": 1, "rows": [{"index": 1}]} for i in range(3)]
    f = write_parts(root, docs)
    assert f.read_text(encoding="utf-8").count("\n") == 3 and len(list(root.glob("*.jsonl"))) == 1
    # a torn last line (power loss): that document is not done, the others are
    f.write_bytes(f.read_bytes()[:-20])
    again = PartStore(root, "m", resume=True)
    assert [again.has(d["sha"], d["path"]) for d in docs] == [True, True, False]
    assert again.load(docs[1]["sha"], "1.txt")["rows"] == [{"index": 1}] and again.load(docs[2]["sha"], "2.txt") is None


def test_clean_drops_bare_url_blocks_only():
    """The cheap first-character filter in front of the bare-URL block check: a block of link
    lines (indented, in angle brackets) is furniture; a block that starts with text, or has a
    text line after its links, is kept."""
    from classify.clean import clean_text

    text = ("Vraag 1\nHoeveel aanvragen zijn er?\n\n"
            " https://www.example.org/a\n<www.example.org/b>\n\n"
            "Zie https://www.example.org/c\n\n"
            "https://www.example.org/d\nmet een toelichting\n\n"
            "Antwoord op vraag 1\nDat zijn er tien.\n")
    result = clean_text(text)
    assert "example.org/a" not in result.text and "example.org/b" not in result.text
    assert "Zie https://www.example.org/c" in result.text
    assert "https://www.example.org/d\nmet een toelichting" in result.text
    assert ("furniture", "https://www.example.org/a") in result.removed or \
        any("example.org/a" in piece for _, piece in result.removed)
