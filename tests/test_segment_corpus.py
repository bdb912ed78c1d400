"""Acceptance: on the shared sample corpus the segmenter reproduces the seed annotation export.

The export (``../shared/annotations/seed-export.json``) holds the 152 segments of the five corpus
documents as they were annotated. Texts are compared after removing all whitespace and hyphens
(the export keeps line-break hyphens such as ``non- refoulement`` and footnote markers glued to
words). Skips with a reason when ``../shared`` is absent.
"""

from __future__ import annotations

import difflib
import json
import re
from collections import defaultdict

import pytest

from classify.pipeline import process

pytestmark = pytest.mark.corpus

_STRIP = re.compile(r"[\s\-\u2010\u2011\u2013]+")

# Segments below 0.98, with the reason. Everything else must reach 0.98 for question and answer.
KNOWN_BELOW = {
    # The label "Vraag 30:" is split over a line break ("… bij vraag 4. Vraag" / "30:"). The
    # segmenter reads "Vraag" + "30:" as the next question's label; the export left the dangling
    # word "Vraag" at the end of this answer.
    ("003_21c49966e5aeeb42.txt", 29): "answer",
}


def _norm(s: str | None) -> str:
    return _STRIP.sub("", s or "")


def _ratio(a: str, b: str) -> float:
    a, b = _norm(a), _norm(b)
    if a == b:
        return 1.0
    sm = difflib.SequenceMatcher(None, a, b, autojunk=False)
    # Upper bounds first: when even these are below the bar, the exact ratio is not needed.
    if sm.real_quick_ratio() < 0.9 or sm.quick_ratio() < 0.9:
        return sm.quick_ratio()
    return sm.ratio()


@pytest.fixture(scope="module")
def comparison(corpus_dir, seed_export):
    tasks = json.loads(seed_export.read_text(encoding="utf-8"))
    expected = defaultdict(list)
    for t in tasks:
        expected[t["data"]["doc"]].append(t["data"])
    rows = []
    for doc_id in sorted(expected):
        doc, segments = process(corpus_dir / doc_id)
        exp = sorted(expected[doc_id], key=lambda d: d["seg"])
        rows.append((doc_id, doc, segments, exp))
    return rows


def test_same_number_of_segments_per_document(comparison):
    assert len(comparison) == 5
    counts = {doc_id: (len(segs), len(exp)) for doc_id, _, segs, exp in comparison}
    assert all(mine == theirs for mine, theirs in counts.values()), counts
    assert sum(theirs for _, theirs in counts.values()) == 152


def test_question_answer_texts_match_the_export(comparison):
    below, scores = {}, []
    for doc_id, _, segments, exp in comparison:
        for seg, e in zip(segments, exp):
            rq, ra = _ratio(seg.question, e["question"]), _ratio(seg.answer, e["answer"])
            scores.append(min(rq, ra))
            assert min(rq, ra) >= 0.9, (doc_id, e["seg"], rq, ra)
            if min(rq, ra) < 0.98:
                below[(doc_id, e["seg"])] = "question" if rq < 0.98 else "answer"
    assert sum(s >= 0.98 for s in scores) >= 145
    assert below == KNOWN_BELOW


def test_segment_fields_match_the_export(comparison):
    for doc_id, _, segments, exp in comparison:
        for seg, e in zip(segments, exp):
            got = (seg.index, seg.kind, list(seg.question_numbers), seg.party, seg.heading)
            want = (e["seg"], e["kind"], e["question_numbers"], e["party"], e["heading"])
            assert got == want, doc_id


def test_offsets_cover_the_segments_and_nothing_is_lost(comparison):
    for doc_id, doc, segments, _ in comparison:
        for seg in segments:
            inside = _norm(doc.text[seg.start:seg.end])
            assert _norm(seg.question) in inside and _norm(seg.answer) in inside \
                or seg.answer and "Antwoord" in doc.text[seg.start:seg.end], doc_id
        pieces = sorted([(s.start, s.end) for s in segments] +
                        [(d.start, d.end) for d in doc.dropped])
        pos = 0
        for a, b in pieces:
            assert a == pos, (doc_id, a, pos)
            pos = b
        assert pos == len(doc.text)


def test_document_metadata(comparison):
    meta = {doc_id: (doc.title, doc.date, doc.reference) for doc_id, doc, _, _ in comparison}
    assert all(title for title, _, _ in meta.values())
    dated = [date for _, date, _ in meta.values() if date]
    assert len(dated) >= 4 and all(re.fullmatch(r"\d{4}-\d{2}-\d{2}", d) for d in dated)
    assert sum(ref is not None for _, _, ref in meta.values()) >= 4
