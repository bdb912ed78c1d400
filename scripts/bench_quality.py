"""Quality benchmark: leave-one-document-out macro-F1 and per-topic F1 of the project's model, the
keyword lexicon and a plain TF-IDF + logistic regression (library defaults, and with balanced
class weights), on the same folds; plus robustness checks on other kinds of text.

    python scripts/bench_quality.py [EXPORT_OR_DATASET ...] [--config FILE] [--challenge FILE] [--markdown]

Default data: the seed export in ../shared (or $CLASSIFY_SHARED_DIR). The model's thresholds are
tuned inside each training fold (nested), never on the held-out document.

Robustness (the same fold models and thresholds, scoring other texts of the held-out documents,
labelled with the labels of their segment):
- questions without their answers;
- the first two sentences of each question (a short "Kent u het bericht …?"-like text);
- answers without their questions, only answers of at least ``MIN_ANSWER_CHARS`` characters
  (a short "Ja." carries no topic).

Out-of-domain: the hand-written challenge set ``annotations/challenge/challenge.jsonl`` (questions
without answers, "Kent u het bericht …? Ja." pairs, motions, debate turns, letter paragraphs,
hard negatives), scored by a model trained on the whole export; nothing is tuned on it.

Two keyword lexicons: the current registry seed terms, and the seed terms as they were before the
lexicon was enriched (``ORIGINAL_TERMS``), so an enriched registry cannot make the baseline weaker
unnoticed. Both match terms as lower-case substrings, as ``classify/topics.py`` documents.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from classify.commands.train import load_config  # noqa: E402
from classify.dataset import build_dataset  # noqa: E402
from classify.evaluation import plain_tfidf_baseline_cv  # noqa: E402
from classify.features import SeedTermCounts  # noqa: E402
from classify.model import cross_validate, label_matrix, multilabel_metrics, train_model  # noqa: E402
from classify.paths import shared_dir  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
CHALLENGE = ROOT / "annotations" / "challenge" / "challenge.jsonl"
MIN_ANSWER_CHARS = 200

# The registry's seed terms before they were enriched (commit 85878f4), kept as a second baseline.
ORIGINAL_TERMS = {'border_control': ('buitengrens', 'grensbewaking', 'grensbeheer', 'grenscontrole', 'frontex',
                    'grensprocedure', 'pushback', 'push-back', 'grenspassage', 'grensoverschrijding',
                    'binnengrens', 'schengen', 'instrumentalis', 'smokkel', 'kustwacht', 'grensbewakings',
                    'eurodac', 'etias', 'entry/exit', 'visumvrij', 'visumliberalisatie', 'screening',
                    'irreguliere migratie', 'grens', 'marechaussee', 'grensbewaker', 'grenstoezicht',
                    'grensbeveiliging', 'paspoortcontrole', 'toegangsweigering', 'grenshek', 'grensmuur'),
 'labour_migration': ('arbeidsmigra', 'kennismigra', 'tewerkstellingsvergunning', 'werkvergunning',
                      'arbeidsmarkt', 'werkgever', 'arbeid', 'uitbuiting', 'illegale tewerkstelling',
                      'talentpool', 'talent pool', 'blauwe kaart', 'blue card', 'seizoenswerk',
                      'gecombineerde vergunning', 'single permit', 'wet arbeid vreemdelingen', 'wav',
                      'uitzendbureau', 'legale migratie', 'arbeidsuitbuiting', 'werken', 'arbeidskracht',
                      'seizoensarbeid', 'arbeidsvergunning', 'tewerkstelling', 'arbeidsinspectie'),
 'return_policy': ('terugkeer', 'terug te keren', 'terugkeren', 'vertrekplicht', 'uitzet', 'uitgezet',
                   'gedwongen vertrek', 'zelfstandig vertrek', 'vrijwillig vertrek', 'dienst terugkeer',
                   'vreemdelingenbewaring', 'bewaring', 'terugname', 'overname', 'return hub', 'terugkeerhub',
                   'terugkeerbesluit', 'inreisverbod', 'uitgeprocedeerd', 'laissez-passer', 'vertrek',
                   'herkomstland', 'visumhefboom', 'terugkeersamenwerking', 'ongewenstverklaring',
                   'veilig land van herkomst', 'veilige derde land', 'return', 'vertrekcentrum',
                   'vertrekbeleid'),
 'solidarity_pool': ('solidariteit', 'solidair', 'herplaats', 'relocati', 'fair share', 'eerlijk aandeel',
                     'financiële bijdrage', 'financiele bijdrage', 'verantwoordelijkheidsdeling',
                     'verantwoordelijkheidsverschuiving', 'verrekening', 'offset', 'migratiedruk',
                     'jaarlijkse solidariteit', 'alternatieve solidariteit', 'pool', 'verdeelsleutel',
                     'ontscheep', 'high-level eu solidarity', 'solidarity', 'lastenverdeling',
                     'dublinverrekening'),
 'terrorism': ('terroris', 'jihad', 'extremis', 'radicalis', 'nctv', 'aivd', 'uitreiziger', 'foreign fighter',
               'strijders', 'aanslag', 'dreiging', 'nationale veiligheid', 'contraterrorisme', 'cter',
               'islamitische staat', 'isis', 'hamas', 'hezbollah', 'inlichtingen', 'veiligheidsdienst', '1f',
               'screening', 'terreur', 'strijder', 'gewelddadig extremisme', 'dreigingsniveau')}

BASELINES = {"lexicon": "keyword lexicon", "lexicon_orig": "lexicon (original terms)",
             "plain_tfidf": "plain TF-IDF + LR", "tfidf_balanced": "TF-IDF + LR (balanced)"}


def lexicon(texts, labels, terms=None) -> np.ndarray:
    lex = SeedTermCounts(terms=terms, word_start=False).fit(None)
    counts = lex.counts([str(t or "") for t in texts])
    return (counts[:, [lex.topics_.index(k) for k in labels]] >= 1).astype(int)


def first_sentences(text: str, n: int = 2) -> str:
    parts = re.split(r"(?<=[.?!])\s+(?=[A-Z\"'‘“(])", " ".join(str(text or "").split()))
    return " ".join(parts[:n])


def views_of(df) -> dict[str, list[str]]:
    qa = [bool(str(q or "").strip()) and bool(str(a or "").strip()) for q, a in zip(df["question"], df["answer"])]
    return {
        "questions": [str(q).strip() if ok else "" for q, ok in zip(df["question"], qa)],
        "question_2_sentences": [first_sentences(q) if ok else "" for q, ok in zip(df["question"], qa)],
        "answers": [str(a).strip() if ok and len(str(a).strip()) >= MIN_ANSWER_CHARS else ""
                    for a, ok in zip(df["answer"], qa)],
    }


def baselines(df, labels, texts, rows) -> dict:
    """The baselines on the same folds, scoring ``texts`` (one per row) of ``rows``."""
    Y = label_matrix(list(df["labels"]), labels)[rows]
    plain, _ = plain_tfidf_baseline_cv(df, labels, eval_texts=texts)
    bal, _ = plain_tfidf_baseline_cv(df, labels, class_weight="balanced", eval_texts=texts)
    return {"lexicon": multilabel_metrics(Y, lexicon(texts, labels)[rows], labels),
            "lexicon_orig": multilabel_metrics(Y, lexicon(texts, labels, ORIGINAL_TERMS)[rows], labels),
            "plain_tfidf": multilabel_metrics(Y, plain[rows], labels),
            "tfidf_balanced": multilabel_metrics(Y, bal[rows], labels)}


def challenge(df, config, path: Path) -> dict:
    """Train on all of ``df``, score the challenge set; baselines trained on all of ``df`` too."""
    import warnings

    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression
    from sklearn.multiclass import OneVsRestClassifier
    from sklearn.pipeline import make_pipeline

    items = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    labels = list(config.labels)
    Y = label_matrix([it["labels"] for it in items], labels)
    texts = [it["text"] for it in items]
    result = train_model(df, config, cv=False)
    est = result.estimator
    P = est.predict_proba([{"text": t} for t in texts])
    preds = {"model": (P >= est.thresholds_).astype(int),
             "lexicon": lexicon(texts, labels), "lexicon_orig": lexicon(texts, labels, ORIGINAL_TERMS)}
    Ytrain = label_matrix(list(df["labels"]), labels)
    for key, cw in (("plain_tfidf", None), ("tfidf_balanced", "balanced")):
        pipe = make_pipeline(TfidfVectorizer(), OneVsRestClassifier(
            LogisticRegression(max_iter=1000, random_state=0, class_weight=cw)))
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)
            pipe.fit([str(t) for t in df["text"]], Ytrain)
        preds[key] = (pipe.predict_proba(texts) >= 0.5).astype(int)
    comp = {"labels": labels, "n": len(items)}
    neg = Y.sum(axis=1) == 0
    extra = {}
    for key, Yhat in preds.items():
        comp[key] = multilabel_metrics(Y, Yhat, labels)
        extra[key] = {"negatives_with_a_label": int((Yhat[neg].sum(axis=1) > 0).sum()),
                      "exact_match": round(float((Yhat == Y).all(axis=1).mean()), 3)}
    comp["extra"] = extra
    comp["negatives"] = int(neg.sum())
    comp["errors"] = [{"id": it["id"], "kind": it["kind"], "labels": it["labels"],
                       "predicted": [k for j, k in enumerate(labels) if preds["model"][i, j]],
                       "scores": {k: round(float(P[i, j]), 2) for j, k in enumerate(labels)}}
                      for i, it in enumerate(items) if (preds["model"][i] != Y[i]).any()]
    return comp


def table(comp, markdown: bool) -> str:
    """F1 per topic and macro/micro-F1 of the model and every baseline, side by side."""
    systems = [("classify model", comp["model"])] + [(name, comp[key]) for key, name in BASELINES.items() if key in comp]
    header = ["", *[s for s, _ in systems]]
    body = [["macro-F1", *[f"{m['macro_f1']:.3f}" for _, m in systems]],
            ["micro-F1", *[f"{m['micro_f1']:.3f}" for _, m in systems]]]
    body += [[f"F1 {k}", *[f"{m['per_label'][k]['f1']:.3f}" for _, m in systems]] for k in comp["labels"]]
    if markdown:
        return "\n".join(["| " + " | ".join(header) + " |", "|---|" + "---:|" * len(systems)]
                         + ["| " + " | ".join(r) + " |" for r in body])
    widths = [max(len(r[i]) for r in [header, *body]) for i in range(len(header))]
    return "\n".join("  ".join(c.ljust(widths[0]) if i == 0 else c.rjust(widths[i]) for i, c in enumerate(r))
                     for r in [header, *body])


def check(comp, against=BASELINES) -> list[str]:
    model, failures = comp["model"], []
    for base in against:
        if base not in comp:
            continue
        if model["macro_f1"] <= comp[base]["macro_f1"]:
            failures.append(f"macro-F1 not above {base}")
        for k in comp["labels"]:
            b = comp[base]["per_label"][k]["f1"]
            if b > 0.5 and model["per_label"][k]["f1"] <= b:
                failures.append(f"{k}: F1 not above {base} ({model['per_label'][k]['f1']:.3f} <= {b:.3f})")
    return failures


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("annotations", nargs="*", help="exports or dataset files (default: the shared seed export)")
    p.add_argument("--config", help="JSON model config (default: ModelConfig defaults)")
    p.add_argument("--challenge", default=str(CHALLENGE), help="challenge set JSONL ('' to skip)")
    p.add_argument("--errors", action="store_true", help="list the challenge items the model gets wrong")
    p.add_argument("--markdown", action="store_true", help="print the tables as Markdown")
    args = p.parse_args(argv)
    paths = args.annotations or [shared_dir() / "annotations" / "seed-export.json"]
    missing = [str(x) for x in paths if not Path(x).is_file()]
    if missing:
        print(f"bench_quality: no such file: {', '.join(missing)} (pass an export path)", file=sys.stderr)
        return 2
    df = build_dataset(paths)
    config = load_config(args.config)
    labels = list(config.labels)
    views = views_of(df)
    t0 = time.perf_counter()
    cv = cross_validate(df, config, views=views)
    dt = time.perf_counter() - t0
    texts = [str(t or "") for t in df["text"]]
    full = {"labels": labels, "n": len(df), "model": cv, **baselines(df, labels, texts, np.arange(len(df)))}
    print(f"{len(df)} segments, {df['doc'].nunique()} documents; leave-one-document-out, "
          f"{cv['folds']} folds ({dt:.0f} s)\n")
    print(table(full, args.markdown))
    titles = {"questions": "questions WITHOUT their answers",
              "question_2_sentences": "first two sentences of each question",
              "answers": f"answers WITHOUT their questions (answers >= {MIN_ANSWER_CHARS} characters)"}
    summary = {}
    for name, vtexts in views.items():
        rows = np.array([i for i, t in enumerate(vtexts) if t.strip()], dtype=int)
        comp = {"labels": labels, "n": len(rows), "model": cv["views"][name], **baselines(df, labels, vtexts, rows)}
        summary[name] = comp
        print(f"\nHeld-out {titles[name]} ({len(rows)} texts; same folds, fold models and thresholds; "
              "labels of the segment):\n")
        print(table(comp, args.markdown))
    if args.challenge:
        ch = challenge(df, config, Path(args.challenge))
        summary["challenge"] = ch
        print(f"\nChallenge set ({ch['n']} hand-written items of other kinds, {ch['negatives']} without a topic; "
              "trained on the whole export):\n")
        print(table(ch, args.markdown))
        print("\n" + "  ".join(f"{k}: {v['negatives_with_a_label']}/{ch['negatives']} negatives labelled, "
                                 f"exact match {v['exact_match']:.3f}" for k, v in ch["extra"].items()))
        if args.errors:
            for e in ch["errors"]:
                print(f"  {e['id']:<8} {e['kind']:<9} gold {','.join(e['labels']) or '-'}; "
                      f"model {','.join(e['predicted']) or '-'}; {e['scores']}")
    failures = check(full)
    print("\nfull segments: " + ("model beats every baseline on macro-F1 and on every topic where a baseline is "
                                 "above 0.5" if not failures else "NOT MET: " + "; ".join(failures)))
    for name, comp in summary.items():
        lex = [b for b in ("lexicon", "lexicon_orig") if comp["model"]["macro_f1"] < comp[b]["macro_f1"]]
        print(f"{name}: macro-F1 model {comp['model']['macro_f1']:.3f} vs lexicon {comp['lexicon']['macro_f1']:.3f} / "
              f"original lexicon {comp['lexicon_orig']['macro_f1']:.3f}" + (f"  (BELOW {', '.join(lex)})" if lex else ""))
    return 0


if __name__ == "__main__":
    sys.exit(main())
