"""Segmentation: cleaned document text → question/answer segments, with layout detection.

``segment(doc)`` is pure: it reads ``doc.text`` (the cleaned text) and returns ``Segment`` objects
whose ``start``/``end`` offsets point into it. Three layout families are recognised:

``vraag``
    Numbered questions with answer labels: ``Vraag N`` … ``Antwoord op vraag N`` (answers to
    Kamervragen), or ``Vraag N:`` … ``Antwoord:`` (written consultations with numbered party sections
    ``N. Vragen en opmerkingen vanuit de X-fractie``). A question without its own answer whose
    numbers are named by the next answer label (``Antwoord op vragen 5 en 6``, ``Antwoorden vragen op
    2 en 3``) is grouped with the next question into one segment (``question_numbers`` ``[5, 6]``); a
    question block without any answer label is split after its question paragraph(s) (an answer
    without heading); a second, stray ``Antwoord:`` inside an answer stays part of that answer. A
    short unpunctuated paragraph just before a ``Vraag`` label is a topic heading.
``consultation``
    Reports of written consultations: party sections ``Vragen en opmerkingen van de leden van de
    X-fractie``, questions as prose paragraphs, each followed by an ``Antwoord`` line. An answer runs
    until the next paragraph that reads as a question (a ``?``, or "de/deze leden …") or a topic
    heading; the question then runs to the next ``Antwoord`` line and starts after the last topic
    heading before it.
``letter``
    Government letters without questions: one segment (kind ``letter``) per numbered measure
    (``1. …``, the measure as ``question``) and per section under a heading, from the first body
    paragraph to the signature.

``account(doc, segments)`` returns the spans of ``doc.text`` that no segment covers, each with a
reason (preamble, heading, signature, whitespace, …), so that segments plus spans cover the text
exactly. All patterns are precompiled and every pass is linear in the text.
"""

from __future__ import annotations

import bisect
import re
from collections.abc import Sequence
from dataclasses import dataclass

from classify.types import Document, Segment, Span

__all__ = ["segment", "account", "detect_layout", "LAYOUTS"]

LAYOUTS = ("vraag", "consultation", "letter")

_SUPERSCRIPTS = "¹²³⁴⁵⁶⁷⁸⁹⁰"
_NUM_LIST = r"\d{1,3}(?:(?:[ \t]*,[ \t]*|[ \t]+(?:en|t/m|tot en met)[ \t]+|[ \t]*[-–][ \t]*)\d{1,3})*"

# Starts with the literal word, so the regex engine can skip ahead; the context before it (line
# start, or the end of a sentence on the same line) is checked in ``_question_labels``.
_QLABEL = re.compile(
    r"Vraag(?:[ \t]+(?P<a>\d{1,3})[ \t]*[:.]?[ \t]*$|\s+(?P<b>\d{1,3})[ \t]*:[ \t]*$"
    r"|[ \t]+(?P<c>\d{1,3})[ \t]*:[ \t]+(?=\S))",
    re.MULTILINE)
_AFTER_SENTENCE = re.compile(r"[.?!] $")
_ALABEL = re.compile(
    r"^[ \t]*Antwoord(?:en)?"
    rf"(?:[ \t]+(?:op[ \t]+)?(?:(?:vraag|vragen)(?:[ \t]+op)?[ \t]+)?(?P<nums>{_NUM_LIST}))?"
    r"(?:[ \t]*:?[ \t]*$|[ \t]*:[ \t]+(?=\S))",
    re.MULTILINE | re.IGNORECASE)
_PARTY = re.compile(
    r"^[ \t]*(?:[IVX]{1,4}\.?[ \t]+|\d{1,2}\.[ \t]*)?"
    r"(?:Vragen en opmerkingen|Inbreng|Vragen)[ \t]+(?:van|vanuit)[ \t]+(?:de[ \t]+)?"
    r"(?:(?:leden|fractieleden)[ \t]+van[ \t]+(?:de[ \t]+)?)?"
    r"(?:fractie[ \t]+van[ \t]+(?:de[ \t]+)?(?P<p1>[^\n]{1,50}?)|(?P<p2>[^\n]{1,50}?)-?fractie)"
    r"[ \t]*$",
    re.MULTILINE)
_NUMBERED = re.compile(r"^[ \t]*(\d{1,2})\.[ \t]+\S")
_SIGNATURE = re.compile(
    r"^[ \t]*(?:(?:De|Het)[ \t]+(?:[Mm]inister|[Ss]taatssecretaris|[Mm]inister-[Pp]resident)\b"
    r"[^\n]{0,120},[ \t]*$|Hoogachtend,?[ \t]*$|Met vriendelijke groet(?:en)?,?[ \t]*$)",
    re.MULTILINE)
_PARA_SPLIT = re.compile(r"\n[ \t]*\n\s*")
_TERMINAL = re.compile(r"[.?!:;][\"'’”)\]]*(?:\s*[\d" + _SUPERSCRIPTS + r"]{1,3})?\s*$")
_SENTENCE_END = re.compile(r"[.?!][\"'’”)\]]*(?:[\d" + _SUPERSCRIPTS + r"]{1,3})?\s*$")
_SENTENCE_INSIDE = re.compile(r"[.?!;][\"'’”)]*\s+[A-Z]")
_PLACE_DATE = re.compile(r"^[A-Z][\w' -]+,\s*\d{1,2}\s+[a-z]+\s+\d{4}$")
_FUNCTION_WORDS = frozenset(
    "de het een van en in op met voor aan te om dat die of door bij naar uit over tot als zijn is "
    "wordt worden heeft hebben niet ook nog dan via zich er maar want dus zo wel deze dit hun haar "
    "onder tussen na per tegen zonder binnen buiten sinds vanuit welke wat hoe waar wie kan kunnen "
    "zal zullen moet moeten mag mogen omdat indien wanneer waarbij waarin waarop waarmee".split())
_SENTENCE_OPENERS = (_FUNCTION_WORDS - {"de", "het", "een"}) | frozenset(
    "zoals mede voorts daarnaast tevens verder tenslotte ten graag kortom ik wij u zij hij ons "
    "hierbij hiermee daarom echter bovendien allereerst eerst vervolgens".split())
_FIRST_WORD = re.compile(r"^\W*([^\W\d_]+)")
_CLAUSE = re.compile(r",\s+(?:is|zijn|wordt|worden|heeft|hebben|kan|kunnen|zal|zullen|moet|moeten|"
                     r"gaat|gaan|blijkt|lijkt|was|waren|werd|werden)\b")
_LAST_WORD = re.compile(r"([^\W\d_]+)[^\w]*$")
_Q_OPENING = re.compile(
    r"^\W*(?:(?:De|Deze|Ook de|Ook deze|Tot slot de)\s+leden\b"
    r"|Zij\s+(?:vragen|willen|hebben|lezen|constateren)\b"
    r"|(?:[\w’'-]+\s+){1,8}?(?:vragen|vraagt|verzoeken|hebben|lezen|constateren|willen|stellen)"
    r"\s+(?:de|deze|zij)(?:\s+leden)?\b)")


@dataclass(frozen=True)
class _Label:
    start: int
    end: int
    numbers: tuple[int, ...] = ()


@dataclass(frozen=True)
class _Party:
    start: int
    end: int
    name: str


@dataclass
class _Draft:
    """A segment under construction: offsets into the cleaned text."""

    start: int
    end: int
    q: tuple[int, int] | None
    a: tuple[int, int] | None
    numbers: tuple[int, ...] = ()
    kind: str = "qa"
    strip_labels: bool = False


# ------------------------------------------------------------------------------- public API

def segment(doc: Document) -> list[Segment]:
    """Split the cleaned ``doc.text`` into segments; never raises on odd text."""
    text = doc.text or ""
    drafts, contexts = _analyse(text)
    segments: list[Segment] = []
    for d in drafts:
        question = _slice(text, d.q)
        answer = _slice(text, d.a)
        if d.strip_labels:
            answer = _strip_answer_labels(answer)
        if not question and not answer:
            continue
        party, heading = contexts.at(d.start)
        segments.append(Segment(
            doc_id=doc.doc_id, index=len(segments) + 1, kind=d.kind, question=question,
            answer=answer, question_numbers=tuple(d.numbers), party=party, heading=heading,
            start=d.start, end=d.end))
    return segments


def detect_layout(text: str) -> str:
    """``'vraag'``, ``'consultation'`` or ``'letter'`` for a cleaned text."""
    qlabels = _question_labels(text)
    alabels = _answer_labels(text)
    return _layout(qlabels, alabels)


def account(doc: Document, segments: Sequence[Segment]) -> list[Span]:
    """The spans of ``doc.text`` outside every segment, each with the reason it was dropped.

    Segments and the returned spans together cover ``doc.text`` exactly, without overlap.
    Overlapping or out-of-range segments are clipped rather than trusted.
    """
    text = doc.text or ""
    n = len(text)
    spans: list[Span] = []
    pos = 0
    seen = False
    for s in sorted(segments, key=lambda s: (s.start, s.end)):
        start = min(max(s.start, pos), n)
        end = min(max(s.end, start), n)
        if end <= start:
            continue
        if start > pos:
            spans.extend(_classify_gap(text, pos, start, before_first=not seen))
        seen = True
        pos = end
    if pos < n:
        spans.extend(_classify_gap(text, pos, n, before_first=not seen, after_last=seen))
    return _merge_spans(spans)


# ------------------------------------------------------------------------------- analysis

class _Contexts:
    """Party sections and topic headings in force at each offset."""

    def __init__(self) -> None:
        self._events: list[tuple[int, str, str | None]] = []  # (pos, kind, value)

    def party(self, pos: int, name: str) -> None:
        self._events.append((pos, "party", name))

    def heading(self, pos: int, text: str | None) -> None:
        self._events.append((pos, "heading", text))

    def freeze(self) -> None:
        """Sort the events and index, for each, the last party and heading up to it."""
        self._events.sort(key=lambda e: e[0])
        self._pos = [e[0] for e in self._events]
        self._last: list[tuple[int, int]] = []  # (index of last party, of last heading), -1 = none
        party = heading = -1
        for k, (_, kind, _) in enumerate(self._events):
            if kind == "party":
                party = k
            else:
                heading = k
            self._last.append((party, heading))

    def at(self, pos: int) -> tuple[str | None, str | None]:
        """The party and heading in force at ``pos``; a new party section resets the heading."""
        i = bisect.bisect_right(self._pos, pos) - 1
        if i < 0:
            return None, None
        party_k, heading_k = self._last[i]
        party = self._events[party_k][2] if party_k >= 0 else None
        heading = self._events[heading_k][2] if heading_k > party_k else None
        return party, heading


def _analyse(text: str) -> tuple[list[_Draft], _Contexts]:
    qlabels = _question_labels(text)
    alabels = _answer_labels(text)
    parties = _party_headers(text)
    contexts = _Contexts()
    for p in parties:
        contexts.party(p.start, p.name)
    layout = _layout(qlabels, alabels)
    if layout == "vraag":
        drafts = _vraag(text, qlabels, alabels, parties, contexts)
    elif layout == "consultation":
        drafts = _consultation(text, [a for a in alabels if not a.numbers], parties, contexts)
    else:
        drafts = _letter(text, contexts)
    contexts.freeze()
    drafts = [d for d in drafts if d.end > d.start]
    drafts.sort(key=lambda d: d.start)
    # Never overlap (a defensive guarantee for the accounting).
    fixed: list[_Draft] = []
    for d in drafts:
        if fixed and d.start < fixed[-1].end:
            d.start = fixed[-1].end
            if d.q and d.q[0] < d.start:
                d.q = (d.start, max(d.start, d.q[1]))
            if d.a and d.a[0] < d.start:
                d.a = (d.start, max(d.start, d.a[1]))
            if d.end <= d.start:
                continue
        fixed.append(d)
    return fixed, contexts


def _layout(qlabels: list[_Label], alabels: list[_Label]) -> str:
    if qlabels and (alabels or len(qlabels) >= 2):
        return "vraag"
    if any(not a.numbers for a in alabels):
        return "consultation"
    return "letter"


def _question_labels(text: str) -> list[_Label]:
    labels: list[_Label] = []
    last = 0
    for m in _QLABEL.finditer(text):
        line_start = text.rfind("\n", 0, m.start()) + 1
        before = text[line_start:m.start()]
        if m.group("c") is not None and before.strip():
            continue  # "Vraag 3: Hoe …" only counts at the start of a line
        if m.group("a") is not None and before.strip():
            if not (m.group(0).rstrip().endswith(":") and _AFTER_SENTENCE.search(before)):
                continue
        elif m.group("b") is not None and before.strip() and not _AFTER_SENTENCE.search(before):
            continue
        num = int(m.group("a") or m.group("b") or m.group("c"))
        if num <= last and num != 1:  # a repeated label; numbering may restart at 1 (new part)
            continue
        last = num
        labels.append(_Label(m.start(), m.end(), (num,)))
    return labels


def _line_matches(rx: re.Pattern, text: str, words: tuple[str, ...], low: str | None = None):
    """``rx.finditer(text)`` for a ``^``-anchored MULTILINE pattern whose matches stay on one
    line and contain one of ``words`` (searched in ``low``, the lower-cased text, when given):
    only the lines where such a word occurs are tried, instead of every position of the text."""
    hay = text if low is None else low
    if len(hay) != len(text):  # lower-casing changed offsets: search the plain way
        return list(rx.finditer(text))
    starts = set()
    for word in words:
        i = hay.find(word)
        while i >= 0:
            starts.add(text.rfind("\n", 0, i) + 1)
            i = hay.find(word, i + 1)
    out = []
    end = 0
    for ls in sorted(starts):
        if ls < end:
            continue
        m = rx.match(text, ls)
        if m:
            out.append(m)
            end = m.end()
    return out


def _answer_labels(text: str) -> list[_Label]:
    labels = []
    # Every label contains "antwoord" in some case (the pattern ignores case) on its own line.
    for m in _line_matches(_ALABEL, text, ("antwoord",), text.lower()):
        nums = _parse_numbers(m.group("nums")) if m.group("nums") else ()
        labels.append(_Label(m.start() + (len(m.group(0)) - len(m.group(0).lstrip())), m.end(), nums))
    return labels


def _parse_numbers(s: str) -> tuple[int, ...]:
    out: list[int] = []
    for part in re.split(r"\s*,\s*|\s+en\s+", s.strip()):
        rng = re.split(r"\s*(?:-|–|t/m|tot en met)\s*", part)
        if len(rng) == 2 and rng[0].isdigit() and rng[1].isdigit():
            lo, hi = int(rng[0]), int(rng[1])
            if 0 < hi - lo <= 50:
                out.extend(range(lo, hi + 1))
                continue
        out.extend(int(x) for x in rng if x.isdigit())
    return tuple(out)


def _party_headers(text: str) -> list[_Party]:
    out = []
    # Every party header contains "Vragen" or "Inbreng" on its own line.
    for m in _line_matches(_PARTY, text, ("Vragen", "Inbreng")):
        name = (m.group("p1") or m.group("p2") or "").strip().rstrip("-").strip()
        if not name or name.lower() in ("fracties", "de fracties") or len(name) > 40:
            continue
        lead = len(m.group(0)) - len(m.group(0).lstrip())
        out.append(_Party(m.start() + lead, m.end(), name))
    return out


# ------------------------------------------------------------------------------- text helpers

def _slice(text: str, rng: tuple[int, int] | None) -> str:
    if not rng:
        return ""
    return text[rng[0]:rng[1]].strip()


def _trim(text: str, a: int, b: int) -> tuple[int, int]:
    """Shrink ``[a, b)`` to exclude surrounding whitespace."""
    while a < b and text[a].isspace():
        a += 1
    while b > a and text[b - 1].isspace():
        b -= 1
    return a, b


def _paragraphs(text: str, a: int, b: int) -> list[tuple[int, int]]:
    """Blank-line separated paragraphs within ``[a, b)``, trimmed."""
    out = []
    pos = a
    for m in _PARA_SPLIT.finditer(text, a, b):
        pa, pb = _trim(text, pos, m.start())
        if pb > pa:
            out.append((pa, pb))
        pos = m.end()
    pa, pb = _trim(text, pos, b)
    if pb > pa:
        out.append((pa, pb))
    return out


def _lines(text: str, a: int, b: int) -> list[tuple[int, int]]:
    out = []
    pos = a
    while pos < b:
        nl = text.find("\n", pos, b)
        end = b if nl < 0 else nl
        out.append((pos, end))
        pos = end + 1
    return out


def _is_heading(s: str) -> bool:
    """A topic heading: a short noun phrase of at most three lines without sentence punctuation.

    Sentence-like openings (``Zoals …``, ``Voorts vragen de leden …``) and clause patterns
    (``…, is …``) are rejected, so that the first line of a wrapped paragraph is not taken for one.
    """
    s = s.strip()
    if not s or len(s) > 200 or s.count("\n") > 2:
        return False
    numbered = _NUMBERED.match(s)
    if numbered:
        s = s[numbered.end() - 1:]
    if not s[0].isupper():
        return False
    if _TERMINAL.search(s) or "?" in s or "!" in s or _SENTENCE_INSIDE.search(s):
        return False
    first = _FIRST_WORD.match(s)
    if first and first.group(1).lower() in _SENTENCE_OPENERS and len(s.split()) > 3:
        return False  # "Tot slot" is a heading, "Tot slot vragen de leden …" is not
    if _Q_OPENING.match(s) or _CLAUSE.search(s):
        return False
    lines = s.split("\n")
    if any(line.rstrip().endswith(",") for line in lines):
        return False
    m = _LAST_WORD.search(s)
    if m and m.group(1).lower() in _FUNCTION_WORDS:
        return False
    if (_QLABEL.search(s) or _ALABEL.match(s) or _PARTY.match(s) or _PLACE_DATE.match(s)
            or _SIGNATURE.match(s)):
        return False
    return True


def _leading_heading(text: str, a: int, b: int) -> int | None:
    """If the unit ``[a, b)`` starts with 1–3 heading lines followed by text, the heading's end."""
    lines = _lines(text, a, b)
    for k in range(1, min(3, len(lines)) + 1):
        la, lb = lines[k - 1]
        line = text[la:lb]
        if k == 1:
            numbered = _NUMBERED.match(line)
            if numbered:
                line = line[numbered.end() - 1:]
        if "?" in line or "!" in line or _SENTENCE_INSIDE.search(line) or line.rstrip().endswith(
                (".", ",", ";")):
            return None
        if k == len(lines):
            return lb if _is_heading(text[a:lb]) else None
        nxt = text[lines[k][0]:lines[k][1]].lstrip()
        if nxt[:1].isupper() and not _TERMINAL.search(line) and _is_heading(text[a:lb]):
            return lb
    return None


def _units(text: str, a: int, b: int) -> list[tuple[int, int]]:
    """Runs of lines that end a sentence at a line end: paragraphs, finer where lines allow."""
    units: list[tuple[int, int]] = []
    for pa, pb in _paragraphs(text, a, b):
        start = pa
        lines = _lines(text, pa, pb)
        for i, (la, lb) in enumerate(lines[:-1]):
            nxt = text[lines[i + 1][0]:lines[i + 1][1]].lstrip()
            if _SENTENCE_END.search(text[la:lb]) and nxt[:1].isupper():
                units.append((start, lb))
                start = lines[i + 1][0]
        units.append((start, pb))
    return [_trim(text, ua, ub) for ua, ub in units]


def _is_question_like(s: str) -> bool:
    return "?" in s or bool(_Q_OPENING.match(s[:200]))


def _strip_answer_labels(s: str) -> str:
    """Remove stray ``Antwoord:`` lines inside an answer (a second label from a page break)."""
    if "ntwoord" not in s:
        return s
    out = _ALABEL.sub("", s)
    return re.sub(r"\n[ \t]*\n(?:[ \t]*\n)+", "\n\n", out).strip()


def _signature_start(text: str, a: int, b: int) -> int | None:
    m = _SIGNATURE.search(text, a, b)
    return m.start() if m else None


# ------------------------------------------------------------------------------- layouts

def _vraag(text: str, qlabels: list[_Label], alabels: list[_Label], parties: list[_Party],
           contexts: _Contexts) -> list[_Draft]:
    n = len(text)
    a_starts = [a.start for a in alabels]
    p_starts = [p.start for p in parties]
    # A heading just before the first question (after the letter's preamble).
    _tail_heading(text, 0, qlabels[0].start, contexts, parties)

    blocks = []  # (label, block_end, first answer label or None, answer labels in block)
    for i, q in enumerate(qlabels):
        bend = qlabels[i + 1].start if i + 1 < len(qlabels) else n
        lo = bisect.bisect_left(a_starts, q.end)
        hi = bisect.bisect_left(a_starts, bend)
        blocks.append((q, bend, alabels[lo:hi]))

    drafts: list[_Draft] = []
    pending: list[tuple[_Label, int]] = []  # question blocks still waiting for their answer
    for bi, (q, bend, als) in enumerate(blocks):
        last_block = bi == len(blocks) - 1
        if not als:
            pending.append((q, bend))
            continue
        first = als[0]
        grouped = [p for p in pending if first.numbers and p[0].numbers[0] in first.numbers]
        if grouped and grouped[-1] is pending[-1]:
            # "Antwoord op vragen 5 en 6": the waiting questions and this one share the answer.
            lead = pending.index(grouped[0])
            for pq, pend in pending[:lead]:
                drafts.append(_split_block(text, pq, pend, parties, p_starts, contexts))
            qstart = grouped[0][0]
            numbers = tuple(sorted({p[0].numbers[0] for p in grouped} | {q.numbers[0]}))
        else:
            for pq, pend in pending:
                drafts.append(_split_block(text, pq, pend, parties, p_starts, contexts))
            qstart = q
            numbers = q.numbers
        pending = []
        ans_end = _answer_end(text, first.end, bend, parties, p_starts, contexts, last_block)
        qa, qb = _trim(text, qstart.end, first.start)
        aa, ab = _trim(text, first.end, ans_end)
        end = max(ab, first.end)
        drafts.append(_Draft(start=qstart.start, end=end, q=(qa, qb), a=(aa, ab), numbers=numbers,
                             strip_labels=len(als) > 1))
    for pq, pend in pending:
        drafts.append(_split_block(text, pq, pend, parties, p_starts, contexts))
    return drafts


def _answer_end(text: str, a: int, b: int, parties: list[_Party], p_starts: list[int],
                contexts: _Contexts, last_block: bool) -> int:
    """Where the answer in ``[a, b)`` ends: before a party section, trailing heading or signature."""
    end = b
    i = bisect.bisect_left(p_starts, a)
    j = bisect.bisect_left(p_starts, b)
    if i < j:
        end = parties[i].start
        # After the party header: its introduction, maybe a heading before the next question.
        _tail_heading(text, parties[j - 1].end, b, contexts, parties)
    else:
        end = _tail_heading(text, a, b, contexts, parties, keep_one=True)
    if last_block:
        sig = _signature_start(text, a, end)
        if sig is not None:
            end = sig
    return _trim(text, a, end)[1] if end > a else a


def _tail_heading(text: str, a: int, b: int, contexts: _Contexts, parties: list[_Party],
                  keep_one: bool = False) -> int:
    """If the last paragraph of ``[a, b)`` is a topic heading, record it; return the content end."""
    paras = _paragraphs(text, a, b)
    if not paras or (keep_one and len(paras) < 2):
        return b
    pa, pb = paras[-1]
    if _is_heading(text[pa:pb]) and not any(pa <= p.start < pb for p in parties):
        contexts.heading(pa, " ".join(text[pa:pb].split()))
        return pa
    return b


def _split_block(text: str, q: _Label, bend: int, parties: list[_Party], p_starts: list[int],
                 contexts: _Contexts) -> _Draft:
    """A question block without an answer label: question paragraph(s) first, then the answer."""
    end = _answer_end(text, q.end, bend, parties, p_starts, contexts, last_block=bend == len(text))
    paras = _paragraphs(text, q.end, end)
    if not paras:
        return _Draft(start=q.start, end=q.end, q=None, a=None, numbers=q.numbers)
    k = 1
    while k < len(paras) - 1 and "?" in text[paras[k][0]:paras[k][1]]:
        k += 1
    qa, qb = paras[0][0], paras[k - 1][1]
    if k < len(paras):
        aa, ab = paras[k][0], paras[-1][1]
        return _Draft(start=q.start, end=ab, q=(qa, qb), a=(aa, ab), numbers=q.numbers)
    return _Draft(start=q.start, end=qb, q=(qa, qb), a=None, numbers=q.numbers)


def _consultation(text: str, alabels: list[_Label], parties: list[_Party],
                  contexts: _Contexts) -> list[_Draft]:
    drafts: list[_Draft] = []
    p_starts = [p.start for p in parties]
    n = len(text)
    for k, al in enumerate(alabels):
        region_start = alabels[k - 1].end if k else 0
        lo = bisect.bisect_left(p_starts, region_start)
        hi = bisect.bisect_left(p_starts, al.start)
        in_region = parties[lo:hi]
        if k:
            prev = drafts[-1] if drafts else None
            if in_region:
                ans_end = in_region[0].start
                zone = in_region[-1].end
            else:
                units = _units(text, region_start, al.start)
                j = None
                for ui in range(1, len(units)):
                    ua, ub = units[ui]
                    if _leading_heading(text, ua, ub) is not None or _is_heading(text[ua:ub]) \
                            or _is_question_like(text[ua:ub]):
                        j = ui
                        break
                if j is None:
                    paras = _paragraphs(text, region_start, al.start)
                    zone = paras[-1][0] if len(paras) > 1 else (units[-1][0] if len(units) > 1
                                                                else al.start)
                else:
                    zone = units[j][0]
                before = [u for u in units if u[1] <= zone]
                ans_end = before[-1][1] if before else region_start
            if prev is not None:
                aa, ab = _trim(text, prev.a[0], ans_end)
                prev.a = (aa, max(aa, ab))
                prev.end = max(prev.a[1], alabels[k - 1].end)
        else:
            if in_region:
                zone = in_region[-1].end
            else:
                paras = _paragraphs(text, 0, al.start)
                zone = paras[-1][0] if paras else 0
        # The question: after the last topic heading in its zone.
        qstart = zone
        for ua, ub in _units(text, zone, al.start):
            h = _leading_heading(text, ua, ub)
            if h is None and _is_heading(text[ua:ub]):
                h = ub
            if h is not None:
                contexts.heading(ua, " ".join(text[ua:h].split()))
                qstart = h
        qa, qb = _trim(text, qstart, al.start)
        aa, ab = _trim(text, al.end, n)
        drafts.append(_Draft(start=qa if qb > qa else al.start, end=ab, q=(qa, qb), a=(aa, ab)))
    if drafts:
        last = drafts[-1]
        end = last.a[1]
        sig = _signature_start(text, last.a[0], end)
        hi = bisect.bisect_left(p_starts, last.a[0])
        if hi < len(parties):
            end = min(end, parties[hi].start)
        if sig is not None:
            end = min(end, sig)
        aa, ab = _trim(text, last.a[0], end)
        last.a = (aa, max(aa, ab))
        last.end = max(last.a[1], last.q[1] if last.q else last.start)
    return drafts


def _letter(text: str, contexts: _Contexts) -> list[_Draft]:
    paras = _paragraphs(text, 0, len(text))
    # The body starts at the first prose paragraph: long, ending like a sentence.
    body = None
    for i, (pa, pb) in enumerate(paras):
        s = text[pa:pb]
        if len(s) >= 80 and _SENTENCE_END.search(s) and not _SIGNATURE.match(s):
            body = i
            break
    if body is None:
        return []
    end = len(paras)
    for i in range(body, len(paras)):
        if _SIGNATURE.match(text[paras[i][0]:paras[i][1]]):
            end = i
            break
    if body > 0 and _is_heading(text[paras[body - 1][0]:paras[body - 1][1]]):
        body -= 1
    drafts: list[_Draft] = []
    expected = 1
    cur: _Draft | None = None
    for pa, pb in paras[body:end]:
        s = text[pa:pb]
        m = _NUMBERED.match(s)
        if m and int(m.group(1)) == expected:
            expected += 1
            cur = _Draft(start=pa, end=pb, q=(pa, pb), a=None, numbers=(int(m.group(1)),),
                         kind="letter")
            drafts.append(cur)
            continue
        if _is_heading(s):
            contexts.heading(pa, " ".join(s.split()))
            cur = None
            continue
        if cur is None:
            cur = _Draft(start=pa, end=pb, q=None, a=(pa, pb), kind="letter")
            drafts.append(cur)
        else:
            cur.a = (cur.a[0] if cur.a else pa, pb)
            cur.end = pb
    return drafts


# ------------------------------------------------------------------------------- accounting

def _classify_gap(text: str, a: int, b: int, before_first: bool = False,
                  after_last: bool = False) -> list[Span]:
    """Reasons for the paragraphs of a stretch of text that lies outside every segment."""
    spans: list[Span] = []
    pos = a
    paras = _paragraphs(text, a, b)
    after_signature = False
    for i, (pa, pb) in enumerate(paras):
        if pa > pos:
            spans.append(Span(pos, pa, "whitespace"))
        s = text[pa:pb]
        if _SIGNATURE.match(s):
            reason = "signature"
            after_signature = True
        elif after_signature and (after_last or (len(s) <= 80 and s.count("\n") <= 1)):
            reason = "signature"  # the name under the signature line, or all that follows it
        else:
            after_signature = False
            if _PARTY.match(s):
                reason = "heading"
            elif before_first:
                reason = "heading" if i == len(paras) - 1 and _is_heading(s) else "preamble"
            elif _is_heading(s):
                reason = "heading"
            else:
                reason = "other" if after_last else "preamble"
        spans.append(Span(pa, pb, reason))
        pos = pb
    if b > pos:
        spans.append(Span(pos, b, "whitespace"))
    return spans


def _merge_spans(spans: list[Span]) -> list[Span]:
    out: list[Span] = []
    for s in spans:
        if s.end <= s.start:
            continue
        if out and out[-1].end == s.start and out[-1].reason == s.reason:
            out[-1] = Span(out[-1].start, s.end, s.reason)
        else:
            out.append(s)
    return out
