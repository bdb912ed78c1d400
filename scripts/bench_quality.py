"""Quality benchmark: leave-one-document-out macro-F1 and per-topic F1 of the project's model, the
keyword lexicon and a plain TF-IDF + logistic regression (library defaults, and with balanced
class weights), on the same folds.

    python scripts/bench_quality.py [EXPORT_OR_DATASET ...] [--config FILE] [--markdown]

Default data: the seed export in ../shared (or $CLASSIFY_SHARED_DIR). The model's thresholds are
tuned inside each training fold (nested), never on the held-out document.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from classify.commands.train import load_config  # noqa: E402
from classify.dataset import build_dataset  # noqa: E402
from classify.evaluation import BASELINES, compare_with_baselines, format_comparison  # noqa: E402
from classify.paths import shared_dir  # noqa: E402


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("annotations", nargs="*", help="exports or dataset files (default: the shared seed export)")
    p.add_argument("--config", help="JSON model config (default: ModelConfig defaults)")
    p.add_argument("--markdown", action="store_true", help="print the table as Markdown")
    args = p.parse_args(argv)
    paths = args.annotations or [shared_dir() / "annotations" / "seed-export.json"]
    missing = [str(x) for x in paths if not Path(x).is_file()]
    if missing:
        print(f"bench_quality: no such file: {', '.join(missing)} (pass an export path)", file=sys.stderr)
        return 2
    df = build_dataset(paths)
    t0 = time.perf_counter()
    comp = compare_with_baselines(df, load_config(args.config))
    dt = time.perf_counter() - t0
    print(f"{len(df)} segments, {df['doc'].nunique()} documents; leave-one-document-out, "
          f"{comp['folds']} folds ({dt:.0f} s)\n")
    print(format_comparison(comp, markdown=args.markdown))
    if "questions_only" in comp:
        q = comp["questions_only"]
        print(f"\nHeld-out questions scored WITHOUT their answers ({q['n']} questions; same folds and fold "
              "models; labels of the question-answer pair):\n")
        print(format_comparison(q, markdown=args.markdown))
    model = comp["model"]
    failures = []
    for base in BASELINES:
        if model["macro_f1"] <= comp[base]["macro_f1"]:
            failures.append(f"macro-F1 not above {base}")
        for k in comp["labels"]:
            b = comp[base]["per_label"][k]["f1"]
            if b > 0.5 and model["per_label"][k]["f1"] <= b:
                failures.append(f"{k}: F1 not above {base} ({model['per_label'][k]['f1']:.3f} <= {b:.3f})")
    print("\nfull segments: " + ("model beats every baseline on macro-F1 and on every topic where a baseline is above 0.5"
                  if not failures else "NOT MET: " + "; ".join(failures)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
