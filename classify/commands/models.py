"""classify models list | promote ID | rollback — the model registry."""

from __future__ import annotations

NAME = "models"
HELP = "list the trained models, promote one to default, or roll back to the previous default"
DESCRIPTION = """\
The model store (models/, or $CLASSIFY_MODELS_DIR) keeps every trained model in its own
directory; models/registry.json names the default model and the history.

examples:
  classify models list
  classify models promote seed-3f2a9c1d        # id or directory name (unique prefix works)
  classify models rollback                     # back to the default before the last promotion
"""


def add_arguments(parser) -> None:
    sub = parser.add_subparsers(dest="models_action", metavar="ACTION", required=True)
    ls = sub.add_parser("list", help="show the registered models (* marks the default)")
    ls.add_argument("--json", action="store_true", help="print the history as JSON")
    pr = sub.add_parser("promote", help="make a registered model the default")
    pr.add_argument("model", metavar="ID", help="model id or directory name")
    sub.add_parser("rollback", help="make the previous default the default again")


def _fmt(x) -> str:
    return f"{x:.3f}" if isinstance(x, (int, float)) else "-"


def format_table(entries: list[dict]) -> str:
    header = ["", "id", "created", "data", "macro-F1", "promoted by", "promoted at"]
    rows = [["*" if e["default"] else "", e["id"], (e.get("created") or "-")[:19],
             (e.get("data_sha256") or "-")[:12], _fmt((e.get("metrics") or {}).get("macro_f1")),
             e.get("promoted_by") or "-", (e.get("promoted_at") or "-")[:19]] for e in entries]
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]
    return "\n".join("  ".join(c.ljust(w) for c, w in zip(r, widths)).rstrip() for r in [header, *rows])


def run(args) -> int:
    import json

    from classify import registry
    from classify.paths import models_dir

    if args.models_action == "list":
        entries = registry.entries()
        if args.json:
            print(json.dumps(entries, indent=2, ensure_ascii=False))
        elif not entries:
            print(f"no models registered in {models_dir()}")
        else:
            print(format_table(entries))
            print("macro-F1 as recorded at registration: leave-one-document-out on the model's training "
                  "data, or the fixed evaluation export when 'classify retrain' was given one")
        return 0
    if args.models_action == "promote":
        e = registry.promote(args.model)
        print(f"default model is now {e['id']} ({models_dir() / e['dir']})")
        return 0
    e = registry.rollback()
    print(f"rolled back: default model is now {e['id']} ({models_dir() / e['dir']})")
    return 0
