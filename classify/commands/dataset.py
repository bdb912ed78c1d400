"""`classify dataset`: Label Studio exports → the training set."""

from __future__ import annotations

import argparse

NAME = "dataset"
HELP = "turn Label Studio exports into the training set (one row per task) and summarise it"
DESCRIPTION = """\
Turn one or more Label Studio exports (full JSON or JSON_MIN) into the training set: one row per
annotated task with its text fields, topic keys and provenance. Cancelled annotations are ignored;
several annotators are resolved per topic by majority, a tie going to the earliest annotation and
marked in `tied`; an annotation marked ground truth wins. With the same task in several files the
later file wins.

examples:
  classify dataset annotations/exports/2026-01-15.json
  classify dataset ../shared/annotations/seed-export.json annotations/exports/*.json --out dataset.jsonl
"""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("exports", nargs="+", metavar="EXPORT", help="Label Studio export (.json) or dataset (.jsonl)")
    parser.add_argument("--out", metavar="FILE", help="write the rows as JSON Lines (atomically); "
                                                      "without it only the summary is printed")


def run(args) -> int:
    from classify.dataset import build_dataset, dataset_sha256, write_dataset
    from classify.topics import TOPICS

    df = build_dataset(args.exports)
    n = len(df)
    print(f"{n} rows from {len(args.exports)} file(s)")
    if n:
        width = max(len(t.key) for t in TOPICS)
        for t in TOPICS:
            print(f"  {t.key:<{width}}  {int(df[t.key].sum()):>5}")
        print(f"  {'(none)':<{width}}  {int((df['labels'].map(len) == 0).sum()):>5}")
        multi = int((df["n_annotations"] > 1).sum())
        tied = int((df["tied"].map(len) > 0).sum())
        print(f"{multi} rows with several annotations, {tied} with tied topics (resolved by the earliest annotation)")
        print(f"data sha256 {dataset_sha256(df)}")
    if args.out:
        write_dataset(df, args.out)
        print(f"wrote {args.out}")
    return 0
