"""``classify segment``: split letters into question/answer segments (JSONL or CSV)."""

from __future__ import annotations

import argparse
import json
import sys

NAME = "segment"
HELP = "split letters into question/answer segments (JSONL or CSV)"
DESCRIPTION = """\
Read letters (.txt, .html, .htm, .pdf, .docx; directories are walked, globs are expanded), clean
away page furniture and footnotes, detect the layout and print one JSON object per segment:

  doc_id, index, kind, question, answer, question_numbers, party, heading, start, end

start/end are character offsets into the cleaned text of the document.

Layouts: answers to written questions ("Vraag N" ... "Antwoord op vraag N", grouped answers such
as "Antwoord op vragen 5 en 6"), written consultations with party sections ("Vragen en
opmerkingen van de leden van de X-fractie" with an "Antwoord" line after each question, or
numbered "Vraag N:" / "Antwoord:"), and letters without questions (one segment per numbered
measure or section).

--explain prints, per document, how every character of the cleaned text is accounted for: the
segments and the dropped spans (preamble, heading, signature, whitespace, ...) with offsets and
an excerpt, the totals, and what cleaning removed before (furniture, footnotes, navigation).

A file that cannot be read is reported on stderr as "classify: error: FILE: reason"; the other
files are still processed and the exit status is 1 (2 when nothing could be processed).

Examples:
  classify segment annotations/sample/sample_kamervragen.txt
  classify segment letters/ --out segments.jsonl
  classify segment 'letters/**/*.pdf' --out segments.csv
  classify segment letters/brief.pdf --explain
"""

FIELDS = ("doc_id", "index", "kind", "question", "answer", "question_numbers", "party", "heading",
          "start", "end")
EXCERPT = 60


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("paths", nargs="+", metavar="PATH",
                        help="files, directories (walked recursively) or glob patterns")
    parser.add_argument("--out", metavar="FILE",
                        help="write the segments to FILE (replaced atomically) instead of stdout")
    parser.add_argument("--format", choices=("jsonl", "csv"),
                        help="output format (default: from the --out extension, else jsonl)")
    parser.add_argument("--explain", action="store_true",
                        help="print the accounting of every character of each document instead of "
                             "the segments (with --out, the segments are still written)")


def run(args: argparse.Namespace) -> int:
    from classify.errors import ClassifyError
    from classify.pipeline import iter_paths, process

    fmt = _output_format(args)
    paths = []
    failed = 0
    for item in args.paths:
        try:
            found = iter_paths([item])
        except ClassifyError as exc:
            _error(str(exc))
            failed += 1
            continue
        if not found:
            _error(f"{item}: no .txt, .html, .htm, .pdf or .docx files found")
            failed += 1
        paths.extend(found)

    writer = _open_writer(args.out, fmt) if args.out else None
    ok = 0
    try:
        for path in paths:
            try:
                doc, segments = process(path)
            except ClassifyError as exc:
                _error(str(exc))
                failed += 1
                continue
            except Exception as exc:  # noqa: BLE001 - one bad document must not stop the batch
                _error(f"{path}: could not be segmented ({type(exc).__name__}: {exc})")
                failed += 1
                continue
            ok += 1
            rows = [_row(s) for s in segments]
            if writer is not None:
                for row in rows:
                    writer.write(row)
            if args.explain:
                print(explain(doc, segments))
            elif writer is None:
                _print_rows(rows, fmt, header=ok == 1)
    except BaseException:
        if writer is not None:
            writer.abort()
        raise
    if writer is not None:
        writer.commit()
    if failed:
        return 1 if ok else 2
    return 0


def _output_format(args: argparse.Namespace) -> str:
    if args.format:
        return args.format
    if args.out:
        suffix = args.out.rsplit(".", 1)[-1].lower() if "." in args.out else ""
        if suffix in ("jsonl", "csv"):
            return suffix
        from classify.errors import ClassifyError

        raise ClassifyError(f"{args.out}: cannot tell the output format from the extension; "
                            "use a name ending in .jsonl or .csv, or give --format jsonl|csv")
    return "jsonl"


def _open_writer(out: str, fmt: str):
    from classify.writers import INT, INT_LIST, STR, CsvWriter, JsonlWriter

    kinds = {"index": INT, "start": INT, "end": INT, "question_numbers": INT_LIST}
    columns = [(f, kinds.get(f, STR)) for f in FIELDS]
    return (CsvWriter if fmt == "csv" else JsonlWriter)(out, columns)


def _row(segment) -> dict:
    d = segment.to_dict()
    return {f: d[f] for f in FIELDS}


def _print_rows(rows: list[dict], fmt: str, header: bool) -> None:
    if fmt == "jsonl":
        for row in rows:
            sys.stdout.write(json.dumps(row, ensure_ascii=False) + "\n")
        return
    import csv

    from classify.writers import LIST_SEP

    w = csv.writer(sys.stdout)
    if header:
        w.writerow(FIELDS)
    for row in rows:
        w.writerow(["" if row[f] is None else LIST_SEP.join(map(str, row[f]))
                    if f == "question_numbers" else row[f] for f in FIELDS])


def _error(message: str) -> None:
    print(f"classify: error: {message}", file=sys.stderr)


def _excerpt(text: str, n: int = EXCERPT) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= n else flat[: n - 1] + "…"


def explain(doc, segments) -> str:
    """The nothing-lost report for one document: segments, dropped spans, totals, removals."""
    text = doc.text
    items = [(s.start, s.end, f"segment {s.index}", s) for s in segments]
    items += [(sp.start, sp.end, sp.reason, None) for sp in doc.dropped]
    items.sort(key=lambda x: (x[0], x[1]))
    lines = [f"== {doc.doc_id}  ({len(text)} characters of cleaned text, "
             f"{len(doc.raw_text)} extracted)"]
    if doc.title or doc.date or doc.reference:
        lines.append(f"   title: {doc.title or '-'} | date: {doc.date or '-'} | "
                     f"reference: {doc.reference or '-'}")
    totals: dict[str, int] = {}
    pos = 0
    gaps = overlaps = 0
    for start, end, what, seg in items:
        if start > pos:
            gaps += start - pos
        elif start < pos:
            overlaps += pos - start
        pos = max(pos, end)
        key = "segments" if seg is not None else what
        totals[key] = totals.get(key, 0) + (end - start)
        if seg is not None:
            extra = f" [{seg.kind}"
            if seg.question_numbers:
                extra += " q" + ",".join(map(str, seg.question_numbers))
            if seg.party:
                extra += f" {seg.party}"
            extra += "]"
            lines.append(f"  {start:>7}-{end:<7} {what:<12}{extra} {_excerpt(text[start:end])}")
        elif what == "whitespace":
            continue
        else:
            lines.append(f"  {start:>7}-{end:<7} {what:<12} {_excerpt(text[start:end])}")
    if pos < len(text):
        gaps += len(text) - pos
    covered = sum(totals.values())
    lines.append("  totals: " + ", ".join(f"{k} {v}" for k, v in sorted(totals.items()))
                 + f"; covered {covered} of {len(text)}"
                 + ("" if not gaps and not overlaps else f" (UNACCOUNTED {gaps}, OVERLAP {overlaps})"))
    removed: dict[str, list[int]] = {}
    for reason, piece in doc.removed:
        r = removed.setdefault(reason, [0, 0])
        r[0] += 1
        r[1] += len(piece)
    if removed:
        lines.append("  removed by cleaning: " + ", ".join(
            f"{reason} {n}x ({chars} chars)" for reason, (n, chars) in sorted(removed.items())))
        for reason, piece in doc.removed:
            lines.append(f"    - {reason:<11} {_excerpt(piece)}")
    return "\n".join(lines)
