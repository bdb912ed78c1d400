"""classify audit — likely labelling mistakes: where the cross-validated model confidently disagrees."""

from __future__ import annotations

NAME = "audit"
HELP = "find likely labelling mistakes (cross-validated predictions that disagree with the annotation)"
DESCRIPTION = """\
Scores every annotated segment with a model that never saw its document (leave-one-document-out),
and lists the segments whose annotation the model most confidently disputes, worst first: per
segment the lowest self-confidence over the topics (the model's probability for the label the
annotators chose; 0 = the model is sure the label is wrong), with the disagreeing topics.
Send them back for review with --to-label-studio (a review batch in a Label Studio project, with
the annotation and the model's choice as predictions).

The training config is the default model's (from its card), or --config FILE.

examples:
  classify audit ../shared/annotations/seed-export.json --top 15
  classify audit dataset.jsonl --json > issues.json
  classify audit export.json --top 20 --to-label-studio --project "Onderwerpen (review)"
"""


def add_arguments(parser) -> None:
    parser.add_argument("annotations", nargs="+", metavar="EXPORT_OR_DATASET",
                        help="Label Studio export(s) or dataset .jsonl file(s)")
    parser.add_argument("--top", type=int, default=20, metavar="N",
                        help="list the N most doubtful segments (default: %(default)s)")
    parser.add_argument("--config", metavar="FILE", help="JSON training settings (default: the default model's)")
    parser.add_argument("--json", action="store_true", help="print the issues as JSON")
    parser.add_argument("--to-label-studio", action="store_true",
                        help="push the listed segments to a Label Studio project for review")
    parser.add_argument("--project", metavar="TITLE", help="Label Studio project for --to-label-studio")
    g = parser.add_argument_group("Label Studio connection")
    g.add_argument("--url", help="Label Studio URL (default: $LABEL_STUDIO_URL)")
    g.add_argument("--api-key-file", metavar="FILE", help="read the API key from FILE (default: "
                   "$LABEL_STUDIO_API_KEY)")


def _config():
    """The default model's training config, else the built-in one; and where it came from."""
    from classify import registry
    from classify.errors import ClassifyError
    from classify.model import ModelConfig

    d = registry.default_model_dir()
    if d is not None:
        try:
            import json

            cfg = json.loads((d / "card.json").read_text(encoding="utf-8")).get("config")
            if isinstance(cfg, dict):
                return ModelConfig.from_dict(cfg), f"config of the default model ({d.name})"
        except (OSError, ValueError, ClassifyError):
            pass
    return ModelConfig(), "built-in defaults (no usable default model)"


def _one_line(text: str, n: int = 110) -> str:
    t = " ".join(str(text or "").split())
    return t if len(t) <= n else t[: n - 1] + "…"


def format_issues(res) -> str:
    lines = [f"{res.n_disagreeing} of {res.n_segments} segments ({res.n_documents} documents) have a topic "
             f"the cross-validated model decides differently; the {len(res.issues)} most doubtful:",
             f"(training config: {res.config_source})", ""]
    for rank, issue in enumerate(res.issues, 1):
        r = res.rows[issue.row]
        lines.append(f"{rank:>3}. {issue.id}  quality {issue.quality:.3f}")
        lines.append(f"     annotated: {', '.join(issue.labels) or 'none of the five'}"
                     f"  →  model: {', '.join(issue.suggested) or 'none of the five'}")
        lines.append("     " + "; ".join(
            f"{d.topic} ({'annotated' if d.annotated else 'not annotated'}, model p={d.probability:.2f})"
            for d in issue.disagreements))
        lines.append(f"     {_one_line(r.get('text'))}")
    return "\n".join(lines)


def run(args) -> int:
    import json
    import sys
    from dataclasses import asdict

    from classify.audit import audit, review_tasks
    from classify.commands.train import load_config
    from classify.dataset import build_dataset
    from classify.errors import ClassifyError

    if args.to_label_studio and not args.project:
        raise ClassifyError("--to-label-studio needs --project TITLE (the project for the review batch)")
    if args.project and not args.to_label_studio:
        raise ClassifyError("--project is only used with --to-label-studio")
    if args.config:
        config, source = load_config(args.config), args.config
    else:
        config, source = _config()
    df = build_dataset(args.annotations)
    print(f"audit: cross-validating {len(df)} segments (leave-one-document-out)…", file=sys.stderr, flush=True)
    res = audit(df, config=config, config_source=source, top=args.top)
    if args.json:
        print(json.dumps([{**asdict(i), "text": res.rows[i.row].get("text")} for i in res.issues],
                         ensure_ascii=False, indent=2))
    else:
        print(format_issues(res))
    if args.to_label_studio and res.issues:
        from classify import labelstudio

        key = labelstudio.read_api_key_file(args.api_key_file) if args.api_key_file else None
        conn = labelstudio.connect(args.url, key)
        pid, created = labelstudio.ensure_project(conn, args.project)
        tasks = review_tasks(res)
        existing = set() if created else labelstudio.existing_seg_ids(conn, pid)
        new = [t for t in tasks if t["data"]["seg_id"] not in existing]
        n = labelstudio.import_tasks(conn, pid, new) if new else 0
        print(f"pushed {n} segment(s) for review to project {args.project!r} (id {pid})"
              + (f"; {len(tasks) - len(new)} were already there" if len(new) < len(tasks) else ""),
              file=sys.stderr)
    return 0
