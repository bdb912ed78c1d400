"""``classify tag``: segment and tag a folder of letters with the topic model."""

from __future__ import annotations

import argparse
import sys

NAME = "tag"
HELP = "segment and tag letters in bulk (CSV/JSONL/Parquet, Label Studio tasks)"
DESCRIPTION = """\
Segment every letter (PDF, DOCX, HTML, TXT) under INPUT and tag each segment with the five topics.

Output (format from the extension: .csv, .jsonl, .parquet):
  --out FILE          one row per segment: doc_id, path, index, kind, question_numbers, party,
                      heading, excerpt, score_<topic> per topic, labels
                      (in CSV, list cells are joined with ';')
  --docs-out FILE     one row per document: doc_id, path, title, date, reference, n_segments,
                      n_<topic> (segments tagged) and max_<topic> (highest score) per topic
  --label-studio-tasks FILE.json
                      the segments as Label Studio tasks with the predictions attached
  errors.jsonl        beside --out, always written: one line per document that could not be
                      tagged (path, stage = read/clean/segment/predict/write, reason)

Files are replaced only when the run has finished. Work in progress is kept in OUT.parts/;
after an interrupted run (Ctrl-C, kill) --resume reuses it and gives exactly the rows of an
uninterrupted run.

Exit status: 0 all documents tagged; 1 some documents failed (see errors.jsonl, the others are
in the output); 2 nothing done (bad usage, no input found, model or output problem);
130 interrupted.

Examples:
  classify tag inbox/ --out tagged.csv --docs-out letters.csv
  classify tag 'inbox/**/*.pdf' --out tagged.parquet --jobs 2
  classify tag inbox/ --out tagged.jsonl --resume
  classify tag inbox/ --out tagged.jsonl --label-studio-tasks review.json
  classify tag inbox/ --out tagged.parquet --backend dask --scheduler tcp://10.0.0.5:8786
"""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("inputs", nargs="+", metavar="INPUT", help="files, directories (walked) or globs")
    parser.add_argument("--out", required=True, metavar="SEGMENTS_FILE",
                        help="segment table (.csv, .jsonl or .parquet)")
    parser.add_argument("--docs-out", metavar="DOCS_FILE", help="document table (.csv, .jsonl or .parquet)")
    parser.add_argument("--model", metavar="DIR", help="model directory (default: the registry's default model)")
    parser.add_argument("--jobs", type=int, default=1, metavar="N", help="worker processes (default 1)")
    parser.add_argument("--backend", choices=("local", "dask"), default="local",
                        help="local: this machine (joblib); dask: a Dask distributed cluster")
    parser.add_argument("--scheduler", metavar="ADDRESS",
                        help="Dask scheduler, e.g. tcp://host:8786 (default with --backend dask: a "
                             "local cluster of --jobs workers); workers must see the input paths")
    parser.add_argument("--resume", action="store_true",
                        help="reuse the finished documents of an interrupted run with the same --out")
    parser.add_argument("--label-studio-tasks", metavar="FILE", help="also write Label Studio tasks (.json)")
    parser.add_argument("--max-mb", type=float, default=10.0, metavar="MB",
                        help="files larger than this are not tagged but get an error record (default 10)")


def _terminate(signum, frame):
    raise KeyboardInterrupt  # `kill PID` then cleans up like Ctrl-C (temp files, worker processes)


def run(args: argparse.Namespace) -> int:
    import signal

    from classify.tagging import DocumentDone, Finished, Started, TagOptions, tag

    options = TagOptions(out=args.out, docs_out=args.docs_out, ls_tasks=args.label_studio_tasks,
                         model=args.model, jobs=args.jobs, backend=args.backend,
                         scheduler=args.scheduler, resume=args.resume, max_mb=args.max_mb)
    bar = None
    finished = None
    try:
        previous = signal.signal(signal.SIGTERM, _terminate)
    except ValueError:  # not the main thread (an embedding application): leave signals alone
        previous = None
    try:
        for event in tag(args.inputs, options):
            if isinstance(event, Started):
                if sys.stderr.isatty():
                    from tqdm import tqdm

                    bar = tqdm(total=event.total, unit="doc", file=sys.stderr, dynamic_ncols=True,
                               desc="tagging")
                if event.resumed:
                    print(f"classify tag: resuming: {event.resumed} of {event.total} documents "
                          "already done", file=sys.stderr)
            elif isinstance(event, DocumentDone):
                if bar is not None:
                    bar.update(1)
            elif isinstance(event, Finished):
                finished = event
    except KeyboardInterrupt:
        if bar is not None:
            bar.close()
            bar = None
        if options.parts_dir.is_dir():
            print(f"classify tag: stopped; finished documents are kept in {options.parts_dir}: "
                  "run the same command with --resume to continue", file=sys.stderr)
        raise
    finally:
        if bar is not None:
            bar.close()
        if previous is not None:
            signal.signal(signal.SIGTERM, previous)
    f = finished
    print(f"classify tag: {f.documents} documents, {f.tagged} tagged, {f.segments} segments, "
          f"{f.failed} failed, {f.seconds:.1f} s -> {', '.join(map(str, f.outputs))}", file=sys.stderr)
    if f.failed:
        print(f"classify tag: {f.failed} documents could not be tagged; reasons in {f.errors_path}",
              file=sys.stderr)
        return 1
    return 0
