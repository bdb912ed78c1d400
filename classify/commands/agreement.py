"""`classify agreement`: inter-annotator agreement per topic on a Label Studio export."""

from __future__ import annotations

import argparse

NAME = "agreement"
HELP = "inter-annotator agreement per topic (kappa, alpha) and the tasks annotators disagree on"
DESCRIPTION = """\
Per topic, over the tasks labelled by two or more annotators: the number of co-annotated tasks,
observed agreement, Cohen's kappa (exactly two annotators) and Krippendorff's alpha (nominal, any
number of annotators); then every task where annotators disagree, with the topics in dispute and
each annotator's topics. "n/a" = undefined (no variation in the decisions).

example:
  classify agreement annotations/exports/2026-01-15.json
"""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("export", metavar="EXPORT", help="Label Studio export (full JSON or JSON_MIN)")
    parser.add_argument("--json", action="store_true", help="print the report as JSON")


def _fmt(x) -> str:
    return "n/a" if x is None else f"{x:.3f}"


def run(args) -> int:
    import json

    from classify.agreement import agreement

    r = agreement(args.export)
    if args.json:
        print(json.dumps(r.to_dict(), ensure_ascii=False, indent=2, default=str))
        return 0
    print(f"{r.n_tasks} annotated tasks, {r.n_coannotated} labelled by two or more annotators "
          f"(annotators: {', '.join(r.annotators) or '-'})")
    if not r.n_coannotated:
        print("no co-annotated tasks: agreement needs tasks labelled by two or more annotators")
        return 0
    width = max(len(t.topic) for t in r.topics)
    print(f"{'topic':<{width}}  {'tasks':>5}  {'observed':>8}  {'kappa':>6}  {'alpha':>6}")
    for t in r.topics:
        print(f"{t.topic:<{width}}  {t.n:>5}  {_fmt(t.observed):>8}  {_fmt(t.kappa):>6}  {_fmt(t.alpha):>6}")
    print(f"\n{len(r.disagreements)} tasks with disagreement:")
    for d in r.disagreements:
        by = "; ".join(f"{a}: {', '.join(ls) or 'none'}" for a, ls in d.labels.items())
        print(f"  task {d.task_id}  {d.id}  disputed: {', '.join(d.topics)}  [{by}]")
    return 0
