"""Path -> ``Document``: the only code that opens source documents.

Formats: ``.txt`` (UTF-8, UTF-8/UTF-16/UTF-32 with BOM, Windows-1252 fallback), ``.html``/``.htm``
(navigation stripped, block structure kept), ``.pdf`` (text layer; the letterhead column in the right
margin and page numbers are cut away by position and kept in ``Document.removed``), ``.docx``.

The reader only extracts: ``text == raw_text``; cleaning is ``classify.clean``'s job. Every failure is
a ``ReadError`` whose one-line message names the file and the reason. The format libraries
(pdfplumber, python-docx, BeautifulSoup) are imported inside the functions that need them.
"""

from __future__ import annotations

import re
import statistics
import unicodedata
from pathlib import Path

from classify.errors import ReadError
from classify.types import Document

SUPPORTED_SUFFIXES: tuple[str, ...] = (".txt", ".html", ".htm", ".pdf", ".docx")

_FORMATS = {".txt": "txt", ".html": "html", ".htm": "html", ".pdf": "pdf", ".docx": "docx"}


def read(path: str | Path, data: bytes | None = None) -> Document:
    """Read one source file into a ``Document`` with ``text == raw_text``.

    Raises ``ReadError`` (message: ``<path>: <reason>``) for a missing file, a directory, an
    unsupported suffix, an empty, binary, corrupt, encrypted or text-less file. ``data``: the
    file's bytes, when the caller has read them already (``classify tag`` hashes them).
    """
    path = Path(path)
    if data is None:
        if path.is_dir():
            raise ReadError(f"{path}: is a directory, not a file (give the files in it, "
                            "or use a CLI command, which walks directories)")
        if not path.exists():
            raise ReadError(f"{path}: no such file")
    suffix = path.suffix.lower()
    if suffix not in _FORMATS:
        raise ReadError(f"{path}: unsupported file type {suffix or '(no suffix)'!r} "
                        f"(supported: {', '.join(SUPPORTED_SUFFIXES)})")
    if data is None:
        data = _read_bytes(path)
    elif not data:
        raise ReadError(f"{path}: empty file (0 bytes)")
    fmt = _FORMATS[suffix]
    removed: list[tuple[str, str]] = []
    if fmt == "txt":
        text = _decode_text(data, path)
    elif fmt == "html":
        text = _html_text(data, path)
    elif fmt == "pdf":
        text = _pdf_text(data, path, removed)
    else:
        text = _docx_text(data, path)
    text = _normalise(text)
    if not text.strip():
        raise ReadError(f"{path}: no text found in the {fmt} file")
    return Document(doc_id=path.name, path=str(path), text=text, raw_text=text, format=fmt,
                    removed=tuple(removed))


# --------------------------------------------------------------------------------------- common

def _read_bytes(path: Path) -> bytes:
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise ReadError(f"{path}: no such file") from None
    except IsADirectoryError:
        raise ReadError(f"{path}: is a directory, not a file (give the files in it, "
                        "or use a CLI command, which walks directories)") from None
    except PermissionError:
        raise ReadError(f"{path}: permission denied") from None
    except OSError as exc:
        raise ReadError(f"{path}: cannot be read ({exc.strerror or exc})") from None
    if not data:
        raise ReadError(f"{path}: empty file (0 bytes)")
    return data


def _one_line(exc: BaseException) -> str:
    return " ".join(str(exc).split())[:120]


_LIGATURES = str.maketrans({"\ufb00": "ff", "\ufb01": "fi", "\ufb02": "fl", "\ufb03": "ffi",
                            "\ufb04": "ffl", "\ufb05": "st", "\ufb06": "st"})


def _normalise(text: str) -> str:
    """Newlines to ``\\n``, no BOM, NFC (so ``e`` + combining diaeresis compares equal to ``ë``)."""
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    text = text.lstrip("\ufeff")
    return unicodedata.normalize("NFC", text)


# Control characters other than tab, newline, vertical tab, form feed and carriage return.
_CONTROL = re.compile(r"[\x00-\x08\x0e-\x1f\x7f]")

_BOMS = (  # longest first: the UTF-32-LE BOM starts with the UTF-16-LE one
    (b"\xff\xfe\x00\x00", "utf-32"),
    (b"\x00\x00\xfe\xff", "utf-32"),
    (b"\xef\xbb\xbf", "utf-8-sig"),
    (b"\xff\xfe", "utf-16"),
    (b"\xfe\xff", "utf-16"),
)


def _decode_text(data: bytes, path: Path) -> str:
    """Decode a text file: BOM if present, else UTF-8, else Windows-1252; refuse binary data."""
    for bom, codec in _BOMS:
        if data.startswith(bom):
            try:
                text = data.decode(codec)
            except UnicodeDecodeError as exc:
                raise ReadError(f"{path}: starts with a {codec.upper()} byte-order mark but is not "
                                f"valid {codec.upper()} (byte {exc.start})") from None
            break
    else:
        if b"\x00" in data:
            raise ReadError(f"{path}: binary data (NUL bytes), not a text file "
                            "(UTF-16 text needs a byte-order mark)")
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError:
            try:
                text = data.decode("cp1252")
            except UnicodeDecodeError:
                raise ReadError(f"{path}: not text: neither UTF-8 nor Windows-1252 "
                                "(save it as UTF-8)") from None
    controls = len(_CONTROL.findall(text))
    if controls and controls > max(2, len(text) // 1000):
        raise ReadError(f"{path}: binary data ({controls} control characters), not a text file")
    return text


# ----------------------------------------------------------------------------------------- HTML

_DROP_TAGS = ("script", "style", "noscript", "template", "nav", "aside", "form", "menu", "iframe",
              "svg", "button", "select", "input", "textarea", "head")
# <header>/<footer> and these roles are page chrome, unless they sit inside the content
# (an <article>'s own <header> holds its title).
_PAGE_CHROME_TAGS = ("header", "footer")
_DROP_ROLES = {"navigation", "banner", "contentinfo", "search", "menu", "menubar", "complementary",
               "dialog", "alertdialog"}
_CONTENT_TAGS = {"html", "body", "main", "article"}
_DROP_WORDS = {"nav", "navbar", "navigation", "navigatie", "menu", "menubar", "submenu",
               "breadcrumb", "breadcrumbs", "broodkruimel", "broodkruimels", "kruimelpad",
               "cookie", "cookies", "cookiebanner", "cookiemelding", "consent", "skiplink",
               "skiplinks", "skip", "share", "sharing", "social", "toolbar",
               "pagination", "paginering", "sidebar"}
_BLOCK_TAGS = {"p", "div", "section", "article", "main", "body", "blockquote", "pre", "address",
               "h1", "h2", "h3", "h4", "h5", "h6", "li", "ul", "ol", "dl", "dt", "dd", "table",
               "thead", "tbody", "tfoot", "tr", "caption", "figure", "figcaption", "hr", "center",
               "fieldset", "details", "summary", "html"}
_CELL_TAGS = {"td", "th"}
_SPACE = re.compile(r"[ \t\n\r\f\v\u00a0]+")


def _is_content(tag) -> bool:
    return tag.name in ("main", "article") or tag.get("role") == "main"


def _marks_navigation(tag) -> bool:
    if tag.name in _CONTENT_TAGS:
        return False
    if tag.get("role", "").strip().lower() in _DROP_ROLES:
        return True
    if tag.has_attr("hidden") or tag.get("aria-hidden", "").lower() == "true":
        return True
    words: list[str] = []
    for value in [tag.get("id", "")] + list(tag.get("class", []) or []):
        words.extend(w for w in re.split(r"[^a-z0-9]+", str(value).lower()) if w)
    return any(w in _DROP_WORDS for w in words)


def _is_chrome(tag) -> bool:
    """A navigation-marked element that is really chrome, not a wrapper around the content.

    Class names like ``page nav-open`` also end up on wrappers: keep an element that holds the
    main content or much text that is not link text.
    """
    if tag.find(_is_content):
        return False
    text = len(tag.get_text(" ", strip=True))
    if text < 1000:
        return True
    links = sum(len(a.get_text(" ", strip=True)) for a in tag.find_all("a"))
    return links >= 0.5 * text


def _html_text(data: bytes, path: Path) -> str:
    """Visible text of the page's content, one paragraph (heading, p, li, table row) per block."""
    from bs4 import BeautifulSoup, Comment, Doctype, ProcessingInstruction, Tag

    if b"\x00" in data and not data.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise ReadError(f"{path}: binary data (NUL bytes), not an HTML page")
    try:
        soup = BeautifulSoup(data, "lxml")
    except Exception as exc:  # lxml raises several types on garbage
        raise ReadError(f"{path}: not a readable HTML page ({exc})") from None

    for tag in soup.find_all(_DROP_TAGS):
        tag.decompose()
    for tag in soup.find_all(_PAGE_CHROME_TAGS):
        if not tag.decomposed and not tag.find_parent(_is_content):
            tag.decompose()
    for tag in soup.find_all(_marks_navigation):
        if not tag.decomposed and _is_chrome(tag):
            tag.decompose()
    # A page's <main> (if there is exactly one, holding text) is its content; the rest is chrome.
    mains = soup.find_all(lambda t: t.name == "main" or t.get("role") == "main")
    root = mains[0] if len(mains) == 1 and mains[0].get_text(strip=True) else (soup.body or soup)

    blocks: list[str] = []
    current: list[str] = []

    def flush() -> None:
        line = "".join(current)
        current.clear()
        # keep <br> line breaks, collapse all other whitespace
        parts = [_SPACE.sub(" ", p).strip() for p in line.split("\n")]
        text = "\n".join(p for p in parts if p)
        if text:
            blocks.append(text)

    def walk(node, pre: bool = False) -> None:
        for child in node.children:
            if isinstance(child, (Comment, Doctype, ProcessingInstruction)):
                continue
            if not isinstance(child, Tag):
                s = str(child)
                current.append(s if pre else s.replace("\n", " "))  # <pre> keeps its lines
                continue
            name = child.name
            if name == "br":
                current.append("\n")
            elif name in _CELL_TAGS:
                current.append(" ")
                walk(child, pre)
                current.append(" ")
            elif name in _BLOCK_TAGS:
                flush()
                walk(child, pre or name == "pre")
                flush()
            else:
                walk(child, pre)

    walk(root)
    flush()
    return "\n\n".join(blocks)


# ------------------------------------------------------------------------------------------ PDF

_PAGE_NUMBER = re.compile(
    r"^(?:(?:pagina|page|blz\.?|p\.)\s*)?[-–—]?\s*\d{1,4}\s*[-–—]?"
    r"(?:\s*(?:van|of|/)\s*\d{1,4})?$", re.IGNORECASE)
_BAND = 0.065          # header/footer band: this fraction of the page height at top and bottom
_MIN_GUTTER = 12.0     # pt; wider than any word space, narrower than a letterhead gutter
_COLUMN_MIN_X = 0.6    # the letterhead column starts right of this fraction of the page width


def _pdf_text(data: bytes, path: Path, removed: list[tuple[str, str]]) -> str:
    """Text layer of a PDF, right-margin letterhead column and page numbers cut away by position."""
    import io

    import pdfplumber
    from pdfminer.pdfdocument import PDFPasswordIncorrect
    from pdfplumber.utils.exceptions import PdfminerException

    head = data[:1024]
    if b"%PDF-" not in head:
        raise ReadError(f"{path}: not a PDF file (no %PDF header)")
    if b"%%EOF" not in data[-4096:]:
        raise ReadError(f"{path}: truncated or corrupt PDF (no end-of-file marker)")

    def reason(exc: BaseException) -> str:
        inner = exc.args[0] if isinstance(exc, PdfminerException) and exc.args else exc
        if isinstance(inner, PDFPasswordIncorrect) or "password" in str(inner).lower():
            return "password-protected PDF (remove the password and try again)"
        return f"truncated or corrupt PDF ({type(inner).__name__}: {_one_line(inner)})"

    try:
        with pdfplumber.open(io.BytesIO(data)) as pdf:
            pages = [_page_words(page) for page in pdf.pages]
    except Exception as exc:  # pdfminer raises a zoo of types on broken files
        raise ReadError(f"{path}: {reason(exc)}") from None
    if not pages:
        raise ReadError(f"{path}: PDF has no pages")
    if not any(words for _, _, words in pages):
        raise ReadError(f"{path}: no text layer (scanned PDF?); run OCR first")
    return _layout_pages(pages, removed)


def _page_words(page) -> tuple[float, float, list[dict]]:
    words = page.extract_words(keep_blank_chars=False, use_text_flow=False,
                               extra_attrs=["size", "upright"])
    page.close()  # drop the page's cached layout objects: long PDFs stay small in memory
    return float(page.width), float(page.height), [w for w in words if w["text"].strip()]


def _find_gutter(words: list[dict], width: float, height: float) -> tuple[float, float] | None:
    """The empty vertical strip between the body text and a right-hand column, if the page has one.

    Words in the header/footer bands are ignored (a full-width footer does not hide the gutter).
    """
    inner = [w for w in words if w["upright"]
             and w["top"] > _BAND * height and w["bottom"] < (1 - _BAND) * height]
    if not inner:
        return None
    spans = sorted((w["x0"], w["x1"]) for w in inner)
    gaps: list[tuple[float, float]] = []
    right_edge = spans[0][1]
    for x0, x1 in spans[1:]:
        if x0 - right_edge >= _MIN_GUTTER:
            gaps.append((right_edge, x0))
        right_edge = max(right_edge, x1)
    gaps = [g for g in gaps if g[1] >= _COLUMN_MIN_X * width]
    if not gaps:
        return None
    gap = max(gaps, key=lambda g: g[1] - g[0])
    right = [w for w in inner if w["x0"] >= gap[1]]
    right_lines = {round(w["top"]) for w in right}
    # One line of words after a modest gap is more likely a wide word space than a column.
    if len(right_lines) < 2 and gap[1] - gap[0] < 2 * _MIN_GUTTER:
        return None
    return gap


def _crosses(words: list[dict], gap: tuple[float, float], height: float) -> bool:
    return any(w["x0"] < gap[1] and w["x1"] > gap[0] for w in words
               if w["top"] > _BAND * height and w["bottom"] < (1 - _BAND) * height)


def _lines(words: list[dict]) -> list[dict]:
    """Group words into lines by vertical overlap (so superscript footnote markers stay inline)."""
    lines: list[dict] = []
    for w in sorted(words, key=lambda w: (w["top"], w["x0"])):
        line = lines[-1] if lines else None
        if line is not None:
            overlap = min(line["bottom"], w["bottom"]) - max(line["top"], w["top"])
            if overlap > 0.3 * min(line["bottom"] - line["top"], w["bottom"] - w["top"]):
                line["words"].append(w)
                line["top"] = min(line["top"], w["top"])
                line["bottom"] = max(line["bottom"], w["bottom"])
                continue
        lines.append({"top": w["top"], "bottom": w["bottom"], "words": [w]})
    for line in lines:
        line["words"].sort(key=lambda w: w["x0"])
        parts = [line["words"][0]["text"]]
        for a, b in zip(line["words"], line["words"][1:]):
            # touching words were split only by a baseline shift (a superscript marker): glue them
            parts.append("" if b["x0"] - a["x1"] < 0.1 * min(a["size"], b["size"]) else " ")
            parts.append(b["text"])
        line["text"] = "".join(parts).translate(_LIGATURES)
        line["size"] = max(w["size"] for w in line["words"])
    return lines


def _paragraphs(lines: list[dict]) -> str:
    """Lines joined with ``\\n``; a blank line where the vertical gap is clearly wider than leading."""
    if not lines:
        return ""
    gaps = [b["top"] - a["bottom"] for a, b in zip(lines, lines[1:])]
    heights = [ln["bottom"] - ln["top"] for ln in lines]
    if gaps:
        leading = sorted(gaps)[len(gaps) // 4]
        threshold = leading + 0.6 * statistics.median(heights)
    out = [lines[0]["text"]]
    for gap, line in zip(gaps, lines[1:]):
        out.append("\n\n" if gap > threshold else "\n")
        out.append(line["text"])
    return "".join(out)


def _layout_pages(pages: list[tuple[float, float, list[dict]]],
                  removed: list[tuple[str, str]]) -> str:
    gutters = [_find_gutter(words, w, h) for w, h, words in pages]
    found = [g for g in gutters if g]
    # A page whose own column detection failed (e.g. a page holding little besides the letterhead)
    # uses the document's usual gutter when no text on it crosses that strip.
    fallback = (statistics.median(g[0] for g in found), statistics.median(g[1] for g in found)) \
        if found else None

    body_lines: list[list[dict]] = []
    for (width, height, words), gutter in zip(pages, gutters):
        if gutter is None and fallback is not None and words and not _crosses(words, fallback, height):
            gutter = fallback
        body, column = [], []
        for w in words:
            if not w["upright"]:
                column.append(w)  # rotated margin text
            elif gutter is not None and (w["x0"] + w["x1"]) / 2 >= (gutter[0] + gutter[1]) / 2:
                column.append(w)
            else:
                body.append(w)
        column_text = _paragraphs(_lines(column))
        if column_text:
            removed.append(("furniture", column_text))
        body_lines.append(_lines(body))

    sizes = [ln["size"] for lines in body_lines for ln in lines]
    body_size = statistics.median(sizes) if sizes else 0.0
    band_keys: dict[tuple[str, int], int] = {}
    for (_, height, _), lines in zip(pages, body_lines):
        for key in {k for ln in lines if (k := _band_key(ln, height))}:
            band_keys[key] = band_keys.get(key, 0) + 1

    texts = []
    for (_, height, _), lines in zip(pages, body_lines):
        kept = []
        for ln in lines:
            key = _band_key(ln, height)
            page_number = key is not None and _PAGE_NUMBER.match(ln["text"].strip())
            # a running header/footer: same text (digits aside) at the same place on several pages,
            # set smaller than the body text
            running = (key is not None and band_keys.get(key, 0) >= 2
                       and ln["size"] < body_size - 0.25)
            if page_number or running:
                removed.append(("furniture", ln["text"]))
            else:
                kept.append(ln)
        texts.append(_paragraphs(kept))
    return "\n\n".join(t for t in texts if t)


def _band_key(line: dict, height: float) -> tuple[str, int] | None:
    if line["bottom"] < _BAND * height or line["top"] > (1 - _BAND) * height:
        return re.sub(r"\d+", "#", line["text"].strip()), round(line["top"] / 3)
    return None


# ----------------------------------------------------------------------------------------- DOCX

def _docx_text(data: bytes, path: Path) -> str:
    """Body paragraphs and table cells in document order; headers and footers are left out."""
    import io
    import zipfile

    import docx
    from docx.table import Table

    if not zipfile.is_zipfile(io.BytesIO(data)):
        raise ReadError(f"{path}: truncated or corrupt DOCX (not a ZIP archive)")
    try:
        document = docx.Document(io.BytesIO(data))
    except Exception as exc:  # python-docx/zipfile/lxml raise several types on broken packages
        raise ReadError(f"{path}: truncated or corrupt DOCX ({type(exc).__name__}: "
                        f"{_one_line(exc)})") from None

    from docx.oxml.ns import qn

    paragraphs: list[str] = []
    p_tag, tbl_tag, sdt_tag, sdt_content = qn("w:p"), qn("w:tbl"), qn("w:sdt"), qn("w:sdtContent")

    def paragraph_text(p) -> str:
        # CT_P.text skips runs wrapped in tracked insertions, content controls and smart tags;
        # take every run of this paragraph (not of a nested text box) except deleted ones.
        runs = p.xpath(".//w:r[not(ancestor::w:del) and not(ancestor::w:moveFrom)]")
        return "".join(r.text for r in runs if r.xpath("ancestor::w:p[1]")[0] is p)

    def visit(element, parent) -> None:
        for child in element.iterchildren():
            if child.tag == p_tag:
                text = paragraph_text(child).strip()
                if text:
                    paragraphs.append(text)
            elif child.tag == tbl_tag:
                seen = set()
                for row in Table(child, parent).rows:
                    for cell in row.cells:
                        if cell._tc in seen:  # a merged cell is repeated in row.cells
                            continue
                        seen.add(cell._tc)
                        visit(cell._tc, cell)
            elif child.tag == sdt_tag:  # block-level content control
                content = child.find(sdt_content)
                if content is not None:
                    visit(content, parent)

    try:
        visit(document.element.body, document._body)
    except Exception as exc:
        raise ReadError(f"{path}: corrupt DOCX ({type(exc).__name__}: {_one_line(exc)})") from None
    return "\n\n".join(paragraphs)
