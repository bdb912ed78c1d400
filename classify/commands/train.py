"""``classify train``: fit a topic model on annotation exports and write a model directory."""

from __future__ import annotations

NAME = "train"
HELP = "train a topic model on annotation exports and save it with its model card"
DESCRIPTION = """Train the topic classifier on one or more Label Studio exports (full JSON or JSON_MIN)
or dataset files (.jsonl from `classify dataset`) and write a model directory with model.joblib,
card.json and a README.md model card.

Before the final fit the whole procedure is evaluated by leave-one-document-out
cross-validation (thresholds tuned inside each training fold); the table is printed and stored
in the card. Training is deterministic: the same data and config give the same model and metrics.

A model written directly under the model store (models/, or $CLASSIFY_MODELS_DIR) is registered
in models/registry.json; it becomes the default when there is none yet, or with --promote.

examples:
  classify train --annotations ../shared/annotations/seed-export.json --out models/seed-2026
  classify train --annotations export.json more.jsonl --out /tmp/m --config config.json --no-cv
"""


def add_arguments(parser) -> None:
    parser.add_argument("--annotations", nargs="+", required=True, metavar="EXPORT_OR_DATASET",
                        help="Label Studio export(s) or dataset .jsonl file(s)")
    parser.add_argument("--out", required=True, metavar="DIR", help="model directory to write (replaced atomically)")
    parser.add_argument("--config", metavar="FILE", help="JSON file with training settings (see ModelConfig)")
    parser.add_argument("--no-cv", action="store_true", help="skip the cross-validation estimate")
    parser.add_argument("--promote", action="store_true",
                        help="make this model the default in the registry (models/registry.json)")
    parser.add_argument("--name", help="model name for the id (default: the directory name)")


def load_config(path):
    import json
    from pathlib import Path

    from classify.errors import ClassifyError
    from classify.model import ModelConfig

    if not path:
        return ModelConfig()
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ClassifyError(f"{path}: no such config file") from None
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise ClassifyError(f"{path}: not a JSON config file ({exc})") from None
    if not isinstance(data, dict):
        raise ClassifyError(f"{path}: config must be a JSON object of settings")
    try:
        return ModelConfig.from_dict(data)
    except ClassifyError as exc:
        raise ClassifyError(f"{path}: {exc}") from None


def run(args) -> int:
    import sys
    import time
    from pathlib import Path

    from classify import artifacts
    from classify.dataset import build_dataset, dataset_sha256
    from classify.evaluation import format_metrics
    from classify.model import train_model
    from classify.paths import models_dir

    config = load_config(args.config)
    df = build_dataset(args.annotations)
    t0 = time.perf_counter()
    result = train_model(df, config, cv=not args.no_cv)
    out = Path(args.out)
    model = artifacts.save_model(out, result, name=args.name, data_sha256=dataset_sha256(df),
                                 data_sources=[Path(p).name for p in args.annotations])
    print(f"trained {model.id} on {result.n_rows} segments from {result.n_docs} documents "
          f"in {time.perf_counter() - t0:.1f} s")
    if result.cv:
        print(f"\n{result.cv['scheme']} cross-validation ({result.cv['folds']} folds):")
        print(format_metrics(result.cv))
    else:
        print("(no cross-validation)")
    print("\nthresholds: " + ", ".join(f"{k} {t:.3f}" for k, t in result.thresholds.items()))
    root = models_dir()
    if out.resolve().parent == root.resolve():
        from classify import registry

        entry = registry.register(out, make_default=args.promote, promoted_by="train", root=root)
        if registry.read(root).get("default") == entry["dir"]:
            print(f"{model.id} is the default model ({root / registry.REGISTRY_FILE})")
        else:
            print(f"registered {model.id}; make it the default with `classify models promote {model.id}`")
    elif args.promote:
        print(f"classify: warning: {out} is not directly under the model store {root}; not promoted", file=sys.stderr)
    print(f"wrote {out}")
    return 0
