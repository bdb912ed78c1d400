"""``classify evaluate``: score a model on labelled annotations."""

from __future__ import annotations

NAME = "evaluate"
HELP = "evaluate a model on annotation exports: per-topic P/R/F1 and the segments it gets wrong"
DESCRIPTION = """Evaluate a model directory on labelled data (Label Studio exports or dataset .jsonl):
per-topic precision, recall and F1, macro and micro F1, and the wrongly labelled segments.
--html writes a self-contained report with precision-recall curves and confusion counts.

Evaluating on the model's own training data measures fit, not generalisation; use the
cross-validation table of `classify train` (also in the model card) for that.

examples:
  classify evaluate --model models/seed-2026 --annotations new-export.json
  classify evaluate --annotations new-export.json --html report.html
"""


def add_arguments(parser) -> None:
    parser.add_argument("--model", metavar="DIR", help="model directory (default: the registry's default)")
    parser.add_argument("--annotations", nargs="+", required=True, metavar="EXPORT_OR_DATASET")
    parser.add_argument("--html", metavar="REPORT.html", help="also write an HTML report with plots")
    parser.add_argument("--errors", type=int, default=20, metavar="N", help="wrong segments to list (default 20)")


def run(args) -> int:
    from classify.artifacts import load_model
    from classify.dataset import build_dataset, dataset_sha256
    from classify.errors import ClassifyError
    from classify.evaluation import evaluate, format_errors, format_metrics, html_report
    from classify.writers import atomic_write_text

    model = load_model(args.model)
    df = build_dataset(args.annotations)
    if len(df) == 0:
        raise ClassifyError(f"{', '.join(args.annotations)}: no annotated segments to evaluate on")
    result = evaluate(model, df)
    print(f"model {model.id} on {len(df)} segments")
    if dataset_sha256(df) == (model.card.get("data") or {}).get("sha256"):
        print("note: this is the model's training data; see the card's cross-validation for generalisation")
    print(format_metrics(result))
    print(f"\nwrong segments: {len(result['errors'])}")
    if result["errors"]:
        print(format_errors(result["errors"], limit=args.errors))
    if args.html:
        atomic_write_text(args.html, html_report(result, title=f"Evaluation of {model.id}"))
        print(f"wrote {args.html}")
    return 0
