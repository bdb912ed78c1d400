"""Cleaning: take page furniture, footnotes and web chrome out of extracted text; rejoin sentences.

``clean(doc)`` returns a new ``Document`` whose ``text`` is the cleaned text (the text segment
offsets point into), with ``removed`` extended by every piece taken out — as ``(reason, text)`` —
and ``title``/``date``/``reference`` filled from the letterhead or page metadata.

What counts as furniture is decided by the *shape* of the text, never by a particular document:

- letterhead blocks repeated on every page of a government letter (``Directoraat-Generaal …``,
  ``Directie …`` and the short lines under it, markdown-bold page headers, ``Datum`` + date,
  ``Onze referentie`` + number, ``Retouradres …``, addressee and address lines, ``Pagina N van M``),
  bare page numbers, lines of link annotations, and any short block repeated on three or more pages;
- footnotes: lines that start with a superscript number, with ``N)``, or with the *next* number of
  the document's plain footnote sequence (``7 Artikel 56 …``), plus their continuation lines, and
  ``↩``-style web footnotes;
- web navigation (``[overzicht] [activiteiten] …``) and metadata lines of parliamentary-document
  websites (``Nummer: …, datum: …``, ``Directe link naar document …``).

After removal, a sentence that furniture or a footnote interrupted is joined again (a paragraph
that ends without a full stop and a next one that goes on in lower case become one paragraph), and
line-end hyphens are resolved: ``Wit-`` + ``Rusland`` → ``Wit-Rusland``, ``asiel-`` + ``en`` →
``asiel- en``, ``terugkeer-`` + ``beleid`` → ``terugkeerbeleid`` (unless the document itself writes the
hyphenated form elsewhere).

Everything is a single pass over the lines with precompiled patterns, so cleaning is linear in the
length of the text.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import replace

from classify.types import Document

__all__ = ["clean", "clean_text", "CleanResult", "parse_dutch_date"]

_MONTHS = {"januari": 1, "februari": 2, "maart": 3, "april": 4, "mei": 5, "juni": 6, "juli": 7,
           "augustus": 8, "september": 9, "oktober": 10, "november": 11, "december": 12}
_MONTH_RE = "|".join(_MONTHS)
_SUPERSCRIPTS = "¹²³⁴⁵⁶⁷⁸⁹⁰"

# ----------------------------------------------------------------------------------- patterns

_NAV = re.compile(r"^\s*(?:\[[^\]\n]{1,60}\]\s*){2,}$")
_WEB_META = re.compile(
    r"^\s*(?:Nummer:\s*\S+,\s*datum:|Directe link naar document|Gerelateerde personen:"
    r"|Onderdeel van (?:kamerstukdossier|zaak|activiteiten)\b|Preview document\b|Bijlagen:\s*$)",
    re.IGNORECASE)
_WEB_HEADS = frozenset("[NnDdGgOoPpBb")
_RETOUR = re.compile(r"^\s*>?\s*Retouradres\b", re.IGNORECASE)
_ADDRESSEE = re.compile(r"^\s*Aan de [Vv]oorzitter\b")
_ORG_ANCHOR = re.compile(r"^\s*\**\s*(?:Directoraat-[Gg]eneraal|Directie|Ministerie van|Dienst|"
                         r"Programmadirectie)\b[^.?!]{0,80}$")
_BOLD_START = re.compile(r"^\s*\*\*(?!\s)")
_BOLD_END = re.compile(r"\*\*\s*$")
_DATUM = re.compile(r"^\s*Datum\b[ \t]*(?P<val>.{0,40})$")
_REF = re.compile(r"^\s*(?P<which>Onze|Uw|Ons|Uw)\s+(?:referentie|kenmerk)\b[ \t]*(?P<val>.{0,60})$",
                  re.IGNORECASE)
_BETREFT = re.compile(r"^\s*Betreft\b[ \t]*(?P<val>.*)$")
_PAGINA = re.compile(r"^\s*Pagina\s+\d+\s+(?:van|/)\s+\d+\s*$", re.IGNORECASE)
_PAGENUM = re.compile(r"^\s*[-–]?\s*\d{1,3}\s*[-–]?\s*$")
_DATE_LINE = re.compile(rf"^\s*\d{{1,2}}\s+(?:{_MONTH_RE})\s+\d{{4}}\s*$", re.IGNORECASE)
_REFNUM_LINE = re.compile(r"^\s*[A-Za-z]{0,4}[-\s]?\d[\w./ ,-]{0,30}\s*$")
_ADDRESS = re.compile(
    r"^\s*(?:Postbus\s+\d+.*|\d{4}\s?[A-Z]{2}(?:\s.*)?|[A-Z]{2}\s+[A-Z][\w' -]+|www\.\S+|"
    r"https?://\S+|[A-Z][a-zà-ÿ]+(?:straat|markt|plein|weg|laan|gracht|kade|hof|park|singel)"
    r"\s+\d+[a-z]?(?:\s+\d{4})?|(?:T|F|E)\s+\S+@?\S*|Contactpersoon\b.*)\s*$")
_URL_ONLY = re.compile(r"^\s*(?:<)?(?:https?://|www\.)\S+\s*$")
_URL_HEADS = frozenset("<hw")  # the first non-space character of a _URL_ONLY line
_SUP_FOOTNOTE = re.compile(rf"^\s*[{_SUPERSCRIPTS}]+\s+\S")
_PAREN_FOOTNOTE = re.compile(r"^\s*(\d{1,3})\)\s+\S")
_PLAIN_FOOTNOTE = re.compile(r"^(\d{1,3})\s+(?=\S)(?!(?:%|procent|euro|jaar|maanden|dagen)\b)")
_ARROW_FOOTNOTE = re.compile(r"^\s*\d{1,3}\.\s.*↩")
_CITATION = re.compile(r"https?://|www\.|\b(?:19|20)\d\d\b|Kamerstuk|nr\.|\bp\.\s*\d|\]\(",
                       re.IGNORECASE)
_LABEL_LIKE = re.compile(r"^\s*(?:Vraag\s+\d|Antwoord|Vragen en opmerkingen)", re.IGNORECASE)
_TERMINAL = re.compile(r"[.?!:;][\"'’”)\]]*(?:\s*[\d" + _SUPERSCRIPTS + r"]{1,3})?\s*$")
_STOPS = frozenset(".?!:;")
_ENDS_PUNCT = re.compile(r"[.?!:;][\"'’”)\]]*\s*$")
_CONJUNCTIONS = frozenset({"en", "of", "tot", "noch", "dan", "en/of", "respectievelijk", "c.q."})
_FUNCTION_WORDS = frozenset(
    "de het een van en in op met voor aan te om dat die of door bij naar uit over tot als zijn is "
    "wordt worden heeft hebben niet ook nog dan via zich er maar want dus zo wel deze dit hun haar "
    "onder tussen na per tegen zonder binnen buiten sinds vanuit welke wat hoe waar wie kan kunnen "
    "zal zullen moet moeten mag mogen omdat indien wanneer waarbij waarin waarop waarmee".split())
_WORD_END = re.compile(r"([A-Za-zÀ-ÿĳ]+)\W*$")
_HYPHEN_WORD = re.compile(r"(\S*?)([A-Za-zÀ-ÿĳ0-9)]+)-$")
_FIRST_WORD = re.compile(r"^\s*([^\s]+)")
_WEB_KST = re.compile(r"\bkst-(\d+-\d+)\b")
_WEB_DOSSIER = re.compile(r"kamerstukdossier\s+(\d{4,6})\s*-\s*(\d+)", re.IGNORECASE)
_WEB_DATE = re.compile(r"datum:\s*(\d{4}-\d{2}-\d{2})")
_DUTCH_DATE = re.compile(rf"(\d{{1,2}})\s+({_MONTH_RE})\s+(\d{{4}})", re.IGNORECASE)


def parse_dutch_date(text: str) -> str | None:
    """``'22 april 2026'`` → ``'2026-04-22'``; ``None`` when no Dutch date is found."""
    m = _DUTCH_DATE.search(text or "")
    if not m:
        return None
    day, month, year = int(m.group(1)), _MONTHS[m.group(2).lower()], int(m.group(3))
    if not 1 <= day <= 31:
        return None
    return f"{year:04d}-{month:02d}-{day:02d}"


class CleanResult:
    """What :func:`clean_text` found: the cleaned text, the removed pieces and the metadata."""

    __slots__ = ("text", "removed", "title", "date", "reference")

    def __init__(self, text: str, removed: list[tuple[str, str]], title: str | None,
                 date: str | None, reference: str | None):
        self.text = text
        self.removed = removed
        self.title = title
        self.date = date
        self.reference = reference


def clean(doc: Document) -> Document:
    """Return ``doc`` with cleaned ``text``, ``removed`` extended, and the metadata filled in.

    Metadata already on the document (e.g. from a reader) is kept; cleaning fills what is missing.
    """
    result = clean_text(doc.text)
    return replace(
        doc,
        text=result.text,
        removed=tuple(doc.removed) + tuple(result.removed),
        title=doc.title or result.title,
        date=doc.date or result.date,
        reference=doc.reference or result.reference,
    )


# ------------------------------------------------------------------------------- the cleaning

def clean_text(text: str) -> CleanResult:
    """Clean raw extracted text; see the module docstring for what is removed and why."""
    text = text.replace("\r\n", "\n").replace("\r", "\n").replace("\f", "\n\n")
    text = text.replace("\u00ad", "")  # soft hyphens are invisible hyphenation points
    lines = text.split("\n")
    drop: list[str | None] = [None] * len(lines)  # reason per line, None = kept
    meta: dict[str, str] = {}

    blocks = _blocks(lines)
    _mark_web_chrome(lines, drop, meta)
    _mark_letterhead(lines, blocks, drop, meta)
    _mark_repeated_blocks(lines, blocks, drop)
    _mark_footnotes(lines, drop)

    removed = _collect_removed(lines, drop)
    out, hyphen_removed = _rebuild(lines, drop)
    removed.extend(hyphen_removed)
    title = meta.get("title") or _fallback_title(lines, drop)
    return CleanResult(out, removed, title, meta.get("date"), meta.get("reference"))


def _blocks(lines: list[str]) -> list[tuple[int, int]]:
    """Runs of non-blank lines as ``(first, last + 1)`` line indices."""
    blocks = []
    start = None
    for i, line in enumerate(lines):
        if line.strip():
            if start is None:
                start = i
        elif start is not None:
            blocks.append((start, i))
            start = None
    if start is not None:
        blocks.append((start, len(lines)))
    return blocks


def _mark_web_chrome(lines: list[str], drop: list[str | None], meta: dict[str, str]) -> None:
    last_nav = -1
    for i, line in enumerate(lines):
        head = line[:1] if line[:1] != " " else line.lstrip()[:1]
        if head not in _WEB_HEADS:
            continue  # cheap filter: chrome lines start with "[" or one of a few capitals
        if _NAV.match(line):
            drop[i] = "navigation"
            last_nav = i
        elif _WEB_META.match(line):
            drop[i] = "metadata"
            m = _WEB_DATE.search(line)
            if m and "date" not in meta:
                meta["date"] = m.group(1)
            m = _WEB_KST.search(line) or _WEB_DOSSIER.search(line)
            if m and "reference" not in meta:
                meta["reference"] = m.group(1) if m.lastindex == 1 else f"{m.group(1)}-{m.group(2)}"
    if last_nav >= 0:
        # A web page: its title is the first line after the navigation.
        for j in range(last_nav + 1, min(len(lines), last_nav + 12)):
            s = lines[j].strip()
            if s and drop[j] is None:
                if len(s) <= 200 and not _TERMINAL.search(s):
                    meta.setdefault("title", s)
                break


def _is_letterhead_line(s: str) -> bool:
    return bool(_ORG_ANCHOR.match(s) or _DATUM.match(s) or _REF.match(s) or _RETOUR.match(s)
                or _PAGINA.match(s) or _ADDRESS.match(s) or _DATE_LINE.match(s))


def _mark_letterhead(lines: list[str], blocks: list[tuple[int, int]], drop: list[str | None],
                     meta: dict[str, str]) -> None:
    """Letterhead, addressee, date/reference/subject blocks and page numbers, block by block."""
    expect_value: str | None = None  # "date" or "ref" when a label's value is in the next block
    for b, (a, z) in enumerate(blocks):
        first = lines[a].strip()
        # A label whose value was in this block ("Datum\n\n22 april 2026").
        if expect_value and z - a == 1 and drop[a] is None:
            if (expect_value == "date" and _DATE_LINE.match(first)) or \
                    (expect_value == "ref" and _REFNUM_LINE.match(first) and len(first) <= 30):
                drop[a] = "metadata"
                _note_value(meta, expect_value, first)
                expect_value = None
                continue
        expect_value = None
        if z - a == 1 and (_PAGENUM.match(first) or _PAGINA.match(first)):
            drop[a] = "furniture"
            continue
        if _ADDRESSEE.match(first):
            for i in range(a, z):
                if len(lines[i].strip()) <= 60:
                    drop[i] = "furniture"
                else:
                    break
            continue
        i = a
        org_seen = False
        in_bold = False
        while i < z:
            s = lines[i].strip()
            if drop[i] is not None:
                i += 1
                continue
            if in_bold:
                drop[i] = "furniture"
                in_bold = not _BOLD_END.search(s)
                i += 1
                continue
            if _BOLD_START.match(s) and (_ORG_ANCHOR.match(s.strip("*")) or org_seen or
                                         _is_letterhead_line(s.strip("*"))):
                drop[i] = "furniture"
                org_seen = True
                in_bold = not _BOLD_END.search(s[2:])
                i += 1
                continue
            m = _BETREFT.match(s)
            if m and i < z:
                # Subject: this line and the rest of the block (until another letterhead line).
                parts = [m.group("val").strip()]
                drop[i] = "metadata"
                j = i + 1
                while j < z and not _is_letterhead_line(lines[j].strip()):
                    parts.append(lines[j].strip())
                    drop[j] = "metadata"
                    j += 1
                meta.setdefault("title", " ".join(p for p in parts if p))
                i = j
                continue
            m = _DATUM.match(s)
            if m:
                val = m.group("val").strip()
                if not val or _DUTCH_DATE.search(val):
                    drop[i] = "metadata"
                    if val:
                        _note_value(meta, "date", val)
                    elif i + 1 < z and _DATE_LINE.match(lines[i + 1]):
                        drop[i + 1] = "metadata"
                        _note_value(meta, "date", lines[i + 1].strip())
                        i += 1
                    else:
                        expect_value = "date" if i + 1 == z else None
                    i += 1
                    continue
                break
            m = _REF.match(s)
            if m:
                val = m.group("val").strip()
                drop[i] = "metadata"
                key = "ref" if m.group("which").lower() in ("onze", "ons") else "their-ref"
                if val:
                    _note_value(meta, key, val)
                elif i + 1 < z and _REFNUM_LINE.match(lines[i + 1]):
                    drop[i + 1] = "metadata"
                    _note_value(meta, key, lines[i + 1].strip())
                    i += 1
                elif i + 1 == z:
                    expect_value = "ref" if key == "ref" else "their-ref-skip"
                i += 1
                continue
            if _RETOUR.match(s) or _PAGINA.match(s):
                drop[i] = "furniture"
                i += 1
                continue
            if _ORG_ANCHOR.match(s):
                drop[i] = "furniture"
                org_seen = True
                i += 1
                continue
            if _ADDRESS.match(s) and (org_seen or i > a or z - a == 1 or
                                      all(_is_letterhead_line(lines[k].strip()) for k in range(a, z))):
                drop[i] = "furniture"
                i += 1
                continue
            if org_seen and len(s) <= 50 and not _TERMINAL.search(s) and not _LABEL_LIKE.match(s):
                # The short lines under a Directoraat/Directie line (its sub-units).
                drop[i] = "furniture"
                i += 1
                continue
            break
        if expect_value == "their-ref-skip":
            expect_value = "ref"


def _note_value(meta: dict[str, str], key: str, value: str) -> None:
    if key == "date":
        meta.setdefault("date", parse_dutch_date(value) or value)
    elif key == "ref":
        meta.setdefault("reference", value)


def _mark_repeated_blocks(lines: list[str], blocks: list[tuple[int, int]],
                          drop: list[str | None]) -> None:
    """Short blocks seen on three or more pages (running headers/footers) are furniture."""
    keys = []
    for a, z in blocks:
        if not 0 < drop[a:z].count(None) <= 4:  # nothing kept, or too long for a header/footer
            keys.append(None)
            continue
        kept = [lines[i].strip() for i in range(a, z) if drop[i] is None]
        joined = "\n".join(kept)
        if (len(joined) > 200 or _ENDS_PUNCT.search(kept[-1]) or _LABEL_LIKE.match(kept[0])
                or not (len(kept) >= 2 or any(c.isdigit() for c in joined))):
            keys.append(None)
            continue
        keys.append(joined)
    counts = Counter(k for k in keys if k)
    for (a, z), key in zip(blocks, keys):
        if key and counts[key] >= 3:
            for i in range(a, z):
                if drop[i] is None:
                    drop[i] = "furniture"
    # Blocks made only of link annotations (bare URLs) are furniture too.
    for a, z in blocks:
        if drop[a] is None and lines[a].lstrip()[:1] not in _URL_HEADS:
            continue  # its first line is kept and is not a bare URL (cheap filter)
        if all(drop[i] is not None or _URL_ONLY.match(lines[i]) for i in range(a, z)) and \
                any(drop[i] is None for i in range(a, z)):
            for i in range(a, z):
                if drop[i] is None:
                    drop[i] = "furniture"


def _mark_footnotes(lines: list[str], drop: list[str | None]) -> None:
    expected_plain = 1
    expected_paren = 1
    n = len(lines)
    i = 0
    while i < n:
        line = lines[i]
        if drop[i] is not None or not line.strip():
            i += 1
            continue
        head = line.lstrip()[:1]
        if not (head.isdecimal() or head in _SUPERSCRIPTS):
            i += 1  # every footnote pattern starts with a digit (\d) or a superscript digit
            continue
        start = False
        if _SUP_FOOTNOTE.match(line) or _ARROW_FOOTNOTE.match(line):
            start = True
        else:
            m = _PAREN_FOOTNOTE.match(line)
            if m and int(m.group(1)) == expected_paren and _CITATION.search(line):
                expected_paren += 1
                start = True
            else:
                m = _PLAIN_FOOTNOTE.match(line)
                if m and int(m.group(1)) == expected_plain and not _LABEL_LIKE.match(line[m.end():]):
                    expected_plain += 1
                    start = True
        if not start:
            i += 1
            continue
        drop[i] = "footnote"
        # Continuation lines: until a blank line, an indented line (a new page's first line),
        # the next footnote, or a structural label.
        j = i + 1
        cont = 0
        while j < n and cont < 8:
            nxt = lines[j]
            if not nxt.strip() or nxt[:1].isspace() or drop[j] is not None:
                break
            m = _PLAIN_FOOTNOTE.match(nxt)
            if (_SUP_FOOTNOTE.match(nxt) or _ARROW_FOOTNOTE.match(nxt)
                    or (m and int(m.group(1)) == expected_plain) or _LABEL_LIKE.match(nxt)):
                break
            if _PAREN_FOOTNOTE.match(line) or _SUP_FOOTNOTE.match(line) or _ARROW_FOOTNOTE.match(line):
                # Markdown-style footnotes are one line each; only join obvious wraps.
                if not line.rstrip().endswith(("-", "/", ",")):
                    break
            drop[j] = "footnote"
            line = nxt
            cont += 1
            j += 1
        i = j


def _collect_removed(lines: list[str], drop: list[str | None]) -> list[tuple[str, str]]:
    removed: list[tuple[str, str]] = []
    cur_reason = None
    buf: list[str] = []
    for line, reason in zip(lines, drop):
        if reason is None:
            if line.strip() and buf:
                removed.append((cur_reason, "\n".join(buf)))
                buf, cur_reason = [], None
            continue
        if reason != cur_reason and buf:
            removed.append((cur_reason, "\n".join(buf)))
            buf = []
        cur_reason = reason
        buf.append(line.strip())
    if buf:
        removed.append((cur_reason, "\n".join(buf)))
    return removed


def _unfinished(line: str) -> bool:
    if line[-1:] in _STOPS:
        return False  # _TERMINAL matches (a stop at the very end); the common case, no regex
    return not _TERMINAL.search(line)


def _ends_mid_sentence(line: str) -> bool:
    s = line.rstrip()
    if s.endswith(","):
        return True
    m = _WORD_END.search(s)
    return bool(m and s.endswith(m.group(1)) and m.group(1).lower() in _FUNCTION_WORDS)


def _rebuild(lines: list[str], drop: list[str | None]) -> tuple[str, list[tuple[str, str]]]:
    kept: list[str] = []  # the kept non-blank lines, stripped
    # Where paragraph breaks were (blank lines or removed lines between two kept lines).
    gap_before: list[bool] = []
    had_gap = False
    for line, reason in zip(lines, drop):
        if reason is None:
            line = line.strip()
            if line:
                kept.append(line)
                gap_before.append(had_gap)
                had_gap = False
                continue
        had_gap = True
    lexicon = None
    out: list[str] = []
    removed: list[tuple[str, str]] = []
    prev = None
    for line, gap in zip(kept, gap_before):
        if not line:
            continue
        if prev is None:
            out.append(line)
            prev = line
            continue
        if prev.endswith("-") and len(prev) > 1 and (line[0].isalnum() or line[0] in ")("):
            word = _HYPHEN_WORD.search(prev)
            first = _FIRST_WORD.match(line).group(1)
            stem = word.group(2) if word else ""
            if first.rstrip(",.;:").lower() in _CONJUNCTIONS:
                out.append(" ")  # "asiel- en migratiebeleid"
            elif word and ("/" in word.group(1) or "www" in word.group(1) or "@" in word.group(1)):
                pass  # inside a URL: join as is
            elif stem[-1:].islower() and first[:1].islower():
                if lexicon is None:
                    lexicon = _hyphen_lexicon(kept)
                cont = re.match(r"[A-Za-zÀ-ÿĳ]+", first)
                cont = cont.group(0) if cont else first
                if (stem + "-" + cont).lower() not in lexicon:
                    out[-1] = out[-1][:-1]  # a word split by hyphenation: drop the hyphen
                    removed.append(("hyphenation", f"{stem}-\n{cont}"))
            out.append(line)
            prev = line
            continue
        if not gap:
            out.append("\n")
        elif _unfinished(prev) and (line[:1].islower() or _ends_mid_sentence(prev)):
            out.append("\n")  # a sentence interrupted by a page break, furniture or a footnote
        else:
            out.append("\n\n")
        out.append(line)
        prev = line
    return "".join(out), removed


def _hyphen_lexicon(kept: list[str]) -> set[str]:
    """Hyphenated words the document writes on one line (``non-refoulement``), lower-cased."""
    found = set()
    for line in kept:
        if "-" in line:
            found.update(m.group(0).lower() for m in re.finditer(r"[A-Za-zÀ-ÿĳ]+-[A-Za-zÀ-ÿĳ]+", line))
    return found


def _fallback_title(lines: list[str], drop: list[str | None]) -> str | None:
    for line, reason in zip(lines, drop):
        s = line.strip()
        if s and reason is None:
            return s if len(s) <= 200 else s[:200]
    return None
