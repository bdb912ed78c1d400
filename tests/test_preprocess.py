"""Dutch preprocessing: lemmas, stop words, numbers, pickling without the spaCy objects."""

from __future__ import annotations

import pickle

import numpy as np
import pytest

from classify import lemmas, preprocess
from classify.preprocess import NUMBER_TOKEN, DutchLemmatizer

TEXTS = [
    "De asielzoekers werden in 2024 uitgezet naar hun herkomstland.",
    "Kent u het bericht over de terugkeerverordening? Ja.",
    "",
    "Het kabinet heeft 1.250 aanvragen besproken met de betrokken ministers.",
]


def test_lemmas_lowercase_without_stop_words_and_punctuation():
    out = DutchLemmatizer().fit_transform(TEXTS)
    assert len(out) == len(TEXTS)
    first = out[0].split()
    assert "uitzetten" in first  # lookup lemma of "uitgezet"
    assert "herkomstland" in first
    assert NUMBER_TOKEN in first and "2024" not in first
    assert not {"de", "in", "naar", "hun", "werden", "."} & set(first)
    assert all(w == w.lower() for w in " ".join(out).split())
    assert out[2] == ""
    assert "terugkeerverordening" in out[1].split() and "?" not in out[1]
    assert out[3].split().count(NUMBER_TOKEN) == 1 and "bespreken" in out[3].split()


def test_stop_words_can_be_kept():
    out = DutchLemmatizer(remove_stop_words=False).fit_transform(TEXTS[:1])[0].split()
    assert "de" in out and "in" in out


def test_lemmas_agree_with_spacy_lookup_lemmatizer():
    """The fast path uses the same table as spaCy's lookup lemmatizer component."""
    spacy = pytest.importorskip("spacy")
    nlp = spacy.blank("nl")
    nlp.add_pipe("lemmatizer", config={"mode": "lookup"})
    nlp.initialize()
    text = "Vreemdelingen werden uitgezet nadat de rechters hun beroepen hadden afgewezen en besproken."
    expected = [t.lemma_.lower() for t in nlp(text)
                if t.is_alpha and not t.is_stop and t.lemma_.lower() not in nlp.Defaults.stop_words]
    assert DutchLemmatizer().fit_transform([text])[0].split() == expected


def test_pickles_without_spacy_objects_and_gives_same_output():
    lem = DutchLemmatizer(batch_size=2)
    before = lem.fit_transform(TEXTS)
    assert getattr(lem, "_runtime", None) is not None  # tokenizer loaded lazily by transform
    data = pickle.dumps(lem)
    assert b"spacy" not in data and len(data) < 1000
    clone = pickle.loads(data)
    assert getattr(clone, "_runtime", None) is None
    assert clone.transform(TEXTS) == before


def test_streams_in_order_across_batches_and_cache_resets(monkeypatch):
    texts = [f"Bericht nummer {i} over uitzetting van vreemdelingen en terugkeer." for i in range(7)] + TEXTS
    expected = DutchLemmatizer(batch_size=64).fit_transform(texts)
    monkeypatch.setattr(lemmas, "MAX_CACHED_TOKENS", 5)  # force tokenizer/cache rebuilds
    assert DutchLemmatizer(batch_size=2).fit_transform(texts) == expected


def test_accepts_column_array_and_rejects_a_bare_string():
    lem = DutchLemmatizer()
    col = np.array([[t] for t in TEXTS[:2]], dtype=object)
    assert lem.fit_transform(col) == lem.transform(TEXTS[:2])
    with pytest.raises(ValueError, match="string object received"):
        lem.transform("een losse tekst")


def test_lemma_table_cache_matches_the_packaged_table(tmp_path, monkeypatch):
    monkeypatch.setenv("CLASSIFY_CACHE_DIR", str(tmp_path / "cache"))
    table = preprocess.load_lemma_table("nl")
    words = sorted(table)[::5000] + ["uitgezet", "Uitgezet", "geen-woord-xyz"]
    cached = preprocess.LemmaTable("nl")
    assert [cached.get(w) for w in words] == [table.get(w) for w in words]
    (db,) = (tmp_path / "cache").glob("nl_lemma_lookup-*.sqlite")
    db.write_bytes(b"not a database")  # a damaged cache file is rebuilt, not trusted
    assert preprocess.LemmaTable("nl").get("uitgezet") == table["uitgezet"]
    assert db.stat().st_size > 1000


def test_lemma_table_without_a_writable_cache_dir_is_kept_in_memory(tmp_path, monkeypatch):
    blocker = tmp_path / "a-file"
    blocker.write_text("x")
    monkeypatch.setenv("CLASSIFY_CACHE_DIR", str(blocker / "cache"))  # cannot be created
    lemmas = preprocess.LemmaTable("nl")
    assert lemmas.get("uitgezet") == preprocess.load_lemma_table("nl")["uitgezet"]
    assert not (blocker.parent / "cache").exists()
