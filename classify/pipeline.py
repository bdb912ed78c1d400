"""read → clean → segment for one document, and the listing of input paths.

``process(path)`` and ``process_text(text)`` return the cleaned ``Document`` (with ``dropped``
filled: every character of the cleaned text not in a segment, with its reason) and its segments.
``iter_paths(inputs)`` expands files, directories (walked recursively, sorted) and glob patterns
into the supported source files.
"""

from __future__ import annotations

import glob
from collections.abc import Iterable
from dataclasses import replace
from pathlib import Path

from classify.clean import clean
from classify.errors import ReadError
from classify.segment import account, segment
from classify.types import Document, Segment

__all__ = ["process", "process_text", "process_document", "iter_paths", "SUPPORTED_SUFFIXES"]

SUPPORTED_SUFFIXES: tuple[str, ...] = (".txt", ".html", ".htm", ".pdf", ".docx")
_GLOB_CHARS = set("*?[")


def process_document(doc: Document) -> tuple[Document, list[Segment]]:
    """Clean and segment a document that has been read; ``dropped`` is filled."""
    cleaned = clean(doc)
    segments = segment(cleaned)
    return replace(cleaned, dropped=tuple(account(cleaned, segments))), segments


def process(path: str | Path) -> tuple[Document, list[Segment]]:
    """Read, clean and segment one file. Raises ``ReadError`` when the file cannot be read."""
    from classify import readers  # the reader pulls in the format libraries lazily

    return process_document(readers.read(path))


def process_text(text: str, doc_id: str = "text.txt") -> tuple[Document, list[Segment]]:
    """Clean and segment text held in memory (as a ``.txt`` file with that name would be)."""
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    doc = Document(doc_id=doc_id, path="", text=text, raw_text=text, format="txt")
    return process_document(doc)


def iter_paths(inputs: Iterable[str | Path]) -> list[Path]:
    """Expand files, directories (recursively, sorted) and glob patterns to source files.

    A directory yields only files with a supported suffix; a file named explicitly is returned
    whatever its suffix (reading it then reports an unsupported type). A pattern or path that
    matches nothing raises ``ReadError``. Duplicates are dropped, first occurrence wins.
    """
    out: list[Path] = []
    seen: set[Path] = set()
    real_dirs: dict[Path, Path] = {}

    def add(p: Path) -> None:
        key = _resolve(p, real_dirs)
        if key not in seen:
            seen.add(key)
            out.append(p)

    for item in inputs:
        item_s = str(item)
        p = Path(item_s)
        if p.is_dir():
            for f in _walk(p):
                add(f)
        elif p.exists() or not (_GLOB_CHARS & set(item_s)):
            add(p)  # a missing plain path is reported when it is read
        else:
            matches = sorted(glob.glob(item_s, recursive=True))
            if not matches:
                raise ReadError(f"{item_s}: no file matches this pattern")
            for m in matches:
                mp = Path(m)
                if mp.is_dir():
                    for f in _walk(mp):
                        add(f)
                elif mp.suffix.lower() in SUPPORTED_SUFFIXES:
                    add(mp)
    return out


def _resolve(p: Path, real_dirs: dict[Path, Path]) -> Path:
    """``p.resolve()``, with the resolved parent directories cached: a path that is not a
    symbolic link itself resolves to its resolved parent joined with its name (resolving
    thousands of files in one folder component by component is the slow part of listing)."""
    if p.name in ("", ".", "..") or p.is_symlink():
        return p.resolve()
    parent = real_dirs.get(p.parent)
    if parent is None:
        parent = real_dirs[p.parent] = p.parent.resolve()
    return parent / p.name


def _walk(root: Path) -> list[Path]:
    return sorted((f for f in root.rglob("*")
                   if f.is_file() and f.suffix.lower() in SUPPORTED_SUFFIXES
                   and not any(part.startswith(".") for part in f.relative_to(root).parts)),
                  key=lambda f: f.as_posix())
