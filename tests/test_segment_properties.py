"""Property tests: cleaning and segmenting never raise, and the nothing-lost accounting adds up."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from classify.pipeline import process_text
from classify.segment import account, segment
from classify.types import Document

# Building blocks of real letters, so that generated texts hit the layouts' code paths.
FRAGMENTS = [
    "Vraag 1", "Vraag 2:", "Vraag 3", "Antwoord op vraag 1", "Antwoord:", "Antwoord", "Antwoord  ",
    "Antwoord op vragen 2 en 3", "Antwoorden vragen op 2 en 3", "Antwoord op vraag 4 en 5",
    "Vragen en opmerkingen van de leden van de VVD-fractie",
    "2. Vragen en opmerkingen vanuit de CDA-fractie", "Directoraat-Generaal Migratie",
    "Directie Migratiebeleid", "Datum", "3 maart 2026", "Onze referentie", "1234567",
    "Betreft Antwoorden Kamervragen", "¹ Kamerstukken II 2025-2026, 123, nr. 4.",
    "1 Richtlijn 2008/115/EG", "2 Kamerstukken", "1) NOS, 2026", "Terugkeerbeleid",
    "1. Het versterken van de screening.", "De Minister van Asiel en Migratie,",
    "De leden van de D66-fractie vragen hoe het zit met terugkeer?",
    "Het kabinet zet in op terugkeer. Dat gebeurt met", "landen van herkomst.", "non-", "terugkeer-",
    "beleid", "[overzicht] [activiteiten]", "Nummer: 2024D1, datum: 2024-06-18", "**Directie**",
    "Zie de beantwoording bij vraag 1. Vraag", "4:", "  ", "", "\t", "-", "?", ".",
]

texts = st.one_of(
    st.text(max_size=400),
    st.lists(st.one_of(st.sampled_from(FRAGMENTS), st.text(max_size=40)), max_size=40).map(
        lambda parts: "\n".join(parts)),
    st.lists(st.sampled_from(FRAGMENTS), max_size=60).flatmap(
        lambda parts: st.sampled_from(["\n", "\n\n", " ", "\r\n"]).map(lambda sep: sep.join(parts))),
)

SETTINGS = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _assert_covers(doc, segments):
    pieces = sorted([(s.start, s.end) for s in segments] + [(d.start, d.end) for d in doc.dropped])
    pos = 0
    for a, b in pieces:
        assert a == pos and b > a, (a, b, pos)
        pos = b
    assert pos == len(doc.text)


@SETTINGS
@given(texts)
def test_process_text_never_raises_and_accounts_for_every_character(text):
    doc, segments = process_text(text, "x.txt")
    _assert_covers(doc, segments)
    for i, s in enumerate(segments, 1):
        assert s.index == i and s.kind in ("qa", "letter")
        assert 0 <= s.start < s.end <= len(doc.text)
        assert s.question or s.answer


@SETTINGS
@given(texts)
def test_segment_on_uncleaned_text_never_raises_and_accounting_adds_up(text):
    doc = Document(doc_id="x.txt", path="", text=text)
    segments = segment(doc)
    spans = account(doc, segments)
    _assert_covers(doc.__class__(doc_id="x", path="", text=text, dropped=tuple(spans)), segments)
