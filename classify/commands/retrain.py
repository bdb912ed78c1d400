"""classify retrain — pull the latest annotations, train a candidate, compare, promote if not worse."""

from __future__ import annotations

import argparse

NAME = "retrain"
HELP = "train a candidate on the latest annotations and promote it if it is not worse than the default"
DESCRIPTION = """\
Pulls the latest annotations from Label Studio (--project, using LABEL_STUDIO_URL and
LABEL_STUDIO_API_KEY) or takes export/dataset files (--annotations), builds the dataset, trains a
candidate model and compares it with the current default model on the same held-out data:

  * leave-one-document-out on the new dataset: the candidate's and the default's training
    procedure (the config in the default's card) refit per fold, thresholds tuned inside each fold;
  * with --eval-annotations: both fitted models on a fixed evaluation export (its segments are
    removed from the training data). When given, this comparison decides.

The candidate becomes the default only when its macro-F1 is not lower (or with --force). It is
always kept in the model store, so 'classify models promote ID' can still choose it, and the old
default stays for 'classify models rollback'. Any failure leaves the current default untouched.

examples:
  classify retrain --project "Migratie onderwerpen"
  classify retrain --annotations annotations/exports/2026-03.json --eval-annotations gold.json
  classify retrain --annotations export.json --name spring-2026 --force
"""


def add_arguments(parser) -> None:
    src = parser.add_mutually_exclusive_group(required=True)
    src.add_argument("--project", metavar="TITLE", help="Label Studio project to pull annotations from")
    src.add_argument("--annotations", nargs="+", metavar="EXPORT", help="Label Studio export(s) or dataset .jsonl file(s)")
    parser.add_argument("--eval-annotations", nargs="+", metavar="FIXED_EXPORT",
                        help="a fixed evaluation export (gold segments) scored by both models")
    parser.add_argument("--name", help="name of the candidate (its id adds a hash; default: retrain-DATE-TIME)")
    parser.add_argument("--config", metavar="FILE", help="JSON training settings for the candidate "
                        "(default: the config of the current default model)")
    parser.add_argument("--force", action="store_true", help="promote the candidate even if it is worse")
    parser.add_argument("--promoted-by", default="retrain", help=argparse.SUPPRESS)
    g = parser.add_argument_group("Label Studio connection")
    g.add_argument("--url", help="Label Studio URL (default: $LABEL_STUDIO_URL)")
    g.add_argument("--api-key-file", metavar="FILE", help="read the API key from FILE (default: "
                   "$LABEL_STUDIO_API_KEY)")


def _pull(title: str, url: str | None, key_file: str | None):
    """The project's full export in a temporary file (removed by the caller)."""
    import tempfile

    from classify import labelstudio

    conn = labelstudio.connect(url, labelstudio.read_api_key_file(key_file) if key_file else None)
    data = labelstudio.export_tasks(conn, title)
    fd, tmp = tempfile.mkstemp(prefix="classify-retrain-", suffix=".json")
    with open(fd, "wb") as fh:
        fh.write(data)
    return tmp


def run(args) -> int:
    import os
    import sys
    from pathlib import Path

    from classify.commands.train import load_config
    from classify.dataset import build_dataset
    from classify.retrain import format_comparison, retrain

    def progress(msg: str) -> None:
        print(f"retrain: {msg}", file=sys.stderr, flush=True)

    config = load_config(args.config) if args.config else None
    tmp = None
    try:
        if args.project:
            progress(f"pulling the annotations of project {args.project!r}")
            tmp = _pull(args.project, args.url, args.api_key_file)
            df = build_dataset([tmp])
            sources = [f"label-studio:{args.project}"]
        else:
            df = build_dataset(args.annotations)
            sources = [Path(p).name for p in args.annotations]
    finally:
        if tmp:
            os.unlink(tmp)
    eval_df = build_dataset(args.eval_annotations) if args.eval_annotations else None
    res = retrain(df, eval_df=eval_df, name=args.name, config=config, force=args.force,
                  promoted_by=args.promoted_by, sources=sources, progress=progress)
    for w in res.warnings:
        print(f"classify: warning: {w}", file=sys.stderr)
    print(f"candidate {res.candidate_id}: {res.rows} segments from {res.documents} documents"
          + (f" ({res.excluded_eval_rows} evaluation segments left out)" if res.excluded_eval_rows else ""))
    for c in res.comparisons:
        print()
        print(format_comparison(c, res.candidate_id, res.default_id))
    print()
    if res.promoted:
        print(f"promoted: {res.candidate_id} is now the default ({res.reason})")
        if res.default_id:
            print(f"previous default {res.default_id} is kept; undo with 'classify models rollback'")
    else:
        print(f"not promoted: {res.reason}")
        print(f"the default stays {res.default_id}; the candidate is kept in {res.candidate_dir} "
              f"('classify models promote {res.candidate_id}' to use it anyway)")
    return 0
