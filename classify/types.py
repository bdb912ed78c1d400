"""Small frozen data types passed between the pipeline stages; nothing else lives here."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field


@dataclass(frozen=True)
class Span:
    """A stretch ``text[start:end]`` of a document's text that no segment holds, and why.

    ``reason`` is one of: ``furniture``, ``footnote``, ``preamble``, ``signature``, ``heading``,
    ``navigation``, ``metadata``, ``whitespace``, ``other``.
    """

    start: int
    end: int
    reason: str


@dataclass(frozen=True)
class Document:
    """A document read from disk and cleaned.

    ``text`` is the cleaned text that segment offsets point into; ``raw_text`` what the reader
    extracted. ``removed`` lists what cleaning took out of the raw text (reason + the text),
    ``dropped`` the spans of the cleaned text that are in no segment.
    """

    doc_id: str
    path: str
    text: str
    raw_text: str = ""
    format: str = "txt"
    title: str | None = None
    date: str | None = None
    reference: str | None = None
    removed: tuple[tuple[str, str], ...] = ()
    dropped: tuple[Span, ...] = ()

    def meta(self) -> dict:
        return {"doc_id": self.doc_id, "path": self.path, "title": self.title,
                "date": self.date, "reference": self.reference}


@dataclass(frozen=True)
class Segment:
    """One question with its answer, or one section of a letter."""

    doc_id: str
    index: int
    kind: str  # "qa" or "letter"
    question: str
    answer: str
    question_numbers: tuple[int, ...] = ()
    party: str | None = None
    heading: str | None = None
    start: int = 0
    end: int = 0

    @property
    def text(self) -> str:
        """Question and answer as one text, the way annotation tasks show them."""
        if self.question and self.answer:
            return f"{self.question}\n\n{self.answer}"
        return self.question or self.answer

    def to_dict(self) -> dict:
        d = asdict(self)
        d["question_numbers"] = list(self.question_numbers)
        return d


@dataclass(frozen=True)
class Prediction:
    """Topic scores for one text; ``labels`` are the topic keys at or above their threshold."""

    labels: tuple[str, ...]
    scores: dict[str, float] = field(default_factory=dict)
    model_version: str = ""
