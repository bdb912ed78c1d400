"""Evaluation of topic models: metrics on labelled data, the baselines on the same folds, text
tables and an HTML report with plots. Functions return values; the CLI prints them."""

from __future__ import annotations

import base64
import html
import io
from collections.abc import Mapping, Sequence

import numpy as np

from classify.model import ModelConfig, label_matrix, multilabel_metrics, question_rows
from classify.topics import TOPIC_KEYS


def evaluate(model, df, *, max_errors: int | None = None) -> dict:
    """Score ``model`` (a :class:`classify.artifacts.TopicModel`) on labelled rows ``df``.

    Returns :func:`classify.model.multilabel_metrics` plus ``model_id``, ``scores`` (n × labels),
    ``y_true``/``y_pred`` matrices and ``errors``: the wrongly labelled segments (id, doc, missed
    and extra topics, scores, a text excerpt), worst first.
    """
    items = df.to_dict("records")
    labels = list(model.labels)
    P = model.predict_scores(items)
    thr = np.array([model.thresholds[k] for k in labels])
    Yhat = (P >= thr).astype(int)
    empty = np.array([not str(it.get("text") or "").strip() for it in items], dtype=bool)
    if len(items):
        Yhat[empty] = 0
    Y = label_matrix(list(df["labels"]), labels)
    result = multilabel_metrics(Y, Yhat, labels)
    errors = []
    for i, it in enumerate(items):
        missed = [k for j, k in enumerate(labels) if Y[i, j] and not Yhat[i, j]]
        extra = [k for j, k in enumerate(labels) if Yhat[i, j] and not Y[i, j]]
        if missed or extra:
            margin = max(abs(P[i, j] - thr[j]) for j, k in enumerate(labels) if k in missed + extra)
            text = " ".join(str(it.get("text") or "").split())
            errors.append({"id": str(it.get("id", i)), "doc": str(it.get("doc", "")), "missed": missed,
                           "extra": extra, "labels": [k for j, k in enumerate(labels) if Y[i, j]],
                           "predicted": [k for j, k in enumerate(labels) if Yhat[i, j]],
                           "scores": {k: round(float(P[i, j]), 3) for j, k in enumerate(labels)},
                           "margin": round(float(margin), 3),
                           "excerpt": text[:160] + ("…" if len(text) > 160 else "")})
    errors.sort(key=lambda e: -e["margin"])
    result.update({"model_id": model.id, "labels": labels, "thresholds": dict(model.thresholds),
                   "scores": P, "y_true": Y, "y_pred": Yhat,
                   "errors": errors if max_errors is None else errors[:max_errors]})
    return result


# --- baselines ------------------------------------------------------------------------------------

def lexicon_baseline(df, labels: Sequence[str] = TOPIC_KEYS, texts: Sequence[str] | None = None) -> np.ndarray:
    """The keyword lexicon: a topic is predicted when any of its registry seed terms occurs in the
    text (lower-case substring match, as ``classify/topics.py`` documents). Needs no training."""
    from classify.features import SeedTermCounts

    lex = SeedTermCounts(word_start=False).fit(None)
    counts = lex.counts([str(t or "") for t in (df["text"] if texts is None else texts)])
    order = [lex.topics_.index(k) for k in labels]
    return (counts[:, order] >= 1).astype(int)


def plain_tfidf_baseline_cv(df, labels: Sequence[str] = TOPIC_KEYS, random_state: int = 0,
                            class_weight: str | None = None,
                            eval_texts: Sequence[str] | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Leave-one-document-out predictions and probabilities of a plain ``TfidfVectorizer`` +
    one-vs-rest ``LogisticRegression`` (library defaults; optionally ``class_weight="balanced"``)
    on the segment text, threshold 0.5. ``eval_texts`` (one per row) replaces the held-out texts
    that are scored (training always uses ``text``)."""
    import warnings

    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression
    from sklearn.multiclass import OneVsRestClassifier
    from sklearn.pipeline import make_pipeline

    Y = label_matrix(list(df["labels"]), labels)
    groups = np.asarray(df["doc"].astype(str))
    texts = np.asarray([str(t or "") for t in df["text"]], dtype=object)
    scored = texts if eval_texts is None else np.asarray([str(t or "") for t in eval_texts], dtype=object)
    P = np.zeros(Y.shape)
    for g in dict.fromkeys(groups):
        test = groups == g
        pipe = make_pipeline(TfidfVectorizer(),
                             OneVsRestClassifier(LogisticRegression(max_iter=1000, random_state=random_state,
                                                                class_weight=class_weight)))
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)
            pipe.fit(texts[~test], Y[~test])
        P[test] = pipe.predict_proba(scored[test])
    return (P >= 0.5).astype(int), P


def compare_with_baselines(df, config: ModelConfig | None = None) -> dict:
    """Leave-one-document-out metrics of the project's model and both baselines on the same folds."""
    from classify.model import cross_validate

    config = config or ModelConfig()
    labels = list(config.labels)
    Y = label_matrix(list(df["labels"]), labels)
    model_cv = cross_validate(df, config)
    plain_pred, _ = plain_tfidf_baseline_cv(df, labels)
    balanced_pred, _ = plain_tfidf_baseline_cv(df, labels, class_weight="balanced")
    comp = {"labels": labels, "folds": model_cv["folds"], "n": len(df),
            "model": model_cv,
            "lexicon": multilabel_metrics(Y, lexicon_baseline(df, labels), labels),
            "plain_tfidf": multilabel_metrics(Y, plain_pred, labels),
            "tfidf_balanced": multilabel_metrics(Y, balanced_pred, labels)}
    rows = question_rows(df)
    if len(rows) and "questions_only" in model_cv:
        questions = ["" for _ in range(len(df))]
        for i in rows:
            questions[i] = str(df["question"].iloc[i]).strip()
        Yq = Y[rows]
        plain_q, _ = plain_tfidf_baseline_cv(df, labels, eval_texts=questions)
        bal_q, _ = plain_tfidf_baseline_cv(df, labels, class_weight="balanced", eval_texts=questions)
        comp["questions_only"] = {
            "labels": labels, "n": len(rows), "model": model_cv["questions_only"],
            "lexicon": multilabel_metrics(Yq, lexicon_baseline(df, labels, texts=questions)[rows], labels),
            "plain_tfidf": multilabel_metrics(Yq, plain_q[rows], labels),
            "tfidf_balanced": multilabel_metrics(Yq, bal_q[rows], labels)}
    return comp


BASELINES = {"lexicon": "keyword lexicon", "plain_tfidf": "plain TF-IDF + LR",
             "tfidf_balanced": "TF-IDF + LR (balanced)"}


# --- text output ----------------------------------------------------------------------------------

def format_metrics(metrics: Mapping) -> str:
    """Per-topic precision/recall/F1 table with macro and micro F1, as plain text."""
    rows = [f"{'topic':<18} {'precision':>9} {'recall':>7} {'F1':>6} {'support':>8}"]
    for k, v in metrics["per_label"].items():
        rows.append(f"{k:<18} {v['precision']:>9.3f} {v['recall']:>7.3f} {v['f1']:>6.3f} {v['support']:>8d}")
    rows.append(f"{'macro-F1':<18} {'':>9} {'':>7} {metrics['macro_f1']:>6.3f} {metrics['n']:>8d}")
    rows.append(f"{'micro-F1':<18} {'':>9} {'':>7} {metrics['micro_f1']:>6.3f}")
    return "\n".join(rows)


def format_comparison(comp: Mapping, markdown: bool = False) -> str:
    """F1 per topic and macro-F1 of the model and the baselines, side by side."""
    systems = [("classify model", comp["model"])] + [(name, comp[key]) for key, name in BASELINES.items() if key in comp]
    header = ["", *[s for s, _ in systems]]
    body = [["macro-F1", *[f"{m['macro_f1']:.3f}" for _, m in systems]],
            ["micro-F1", *[f"{m['micro_f1']:.3f}" for _, m in systems]]]
    for k in comp["labels"]:
        body.append([f"F1 {k}", *[f"{m['per_label'][k]['f1']:.3f}" for _, m in systems]])
    if markdown:
        lines = ["| " + " | ".join(header) + " |", "|---|" + "---:|" * len(systems)]
        lines += ["| " + " | ".join(r) + " |" for r in body]
        return "\n".join(lines)
    widths = [max(len(r[i]) for r in [header, *body]) for i in range(len(header))]
    fmt = lambda r: "  ".join(c.ljust(widths[0]) if i == 0 else c.rjust(widths[i]) for i, c in enumerate(r))  # noqa: E731
    return "\n".join([fmt(header), *map(fmt, body)])


def format_errors(errors: Sequence[Mapping], limit: int = 20) -> str:
    lines = []
    for e in errors[:limit]:
        parts = []
        if e["missed"]:
            parts.append("missed " + ",".join(e["missed"]))
        if e["extra"]:
            parts.append("extra " + ",".join(e["extra"]))
        lines.append(f"{e['id']}: {'; '.join(parts)} — {e['excerpt'][:100]}")
    if len(errors) > limit:
        lines.append(f"… and {len(errors) - limit} more")
    return "\n".join(lines)


# --- HTML report ----------------------------------------------------------------------------------

def _png(fig) -> str:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=90, bbox_inches="tight")
    return base64.b64encode(buf.getvalue()).decode("ascii")


def html_report(result: Mapping, title: str = "classify evaluation") -> str:
    """An HTML page with the metrics table, per-topic precision–recall curves, confusion counts
    and the wrong segments; plots are embedded as base64 PNG (one self-contained file)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from sklearn.metrics import precision_recall_curve

    labels = result["labels"]
    Y, P, Yhat = result["y_true"], result["scores"], result["y_pred"]
    n = len(labels)
    fig, axes = plt.subplots(1, n, figsize=(3.2 * n, 3.2), squeeze=False)
    for j, k in enumerate(labels):
        ax = axes[0, j]
        if Y[:, j].sum() and len(Y):
            prec, rec, _ = precision_recall_curve(Y[:, j], P[:, j])
            ax.plot(rec, prec, drawstyle="steps-post")
            pr = result["per_label"][k]
            ax.plot([pr["recall"]], [pr["precision"]], "o", color="C3", label=f"threshold {result['thresholds'][k]:.2f}")
            ax.legend(loc="lower left", fontsize=7)
        else:
            ax.text(0.5, 0.5, "no positive\nexamples", ha="center", va="center")
        ax.set(title=k, xlabel="recall", ylabel="precision" if j == 0 else "", xlim=(0, 1.02), ylim=(0, 1.02))
    pr_png = _png(fig)
    plt.close(fig)

    fig, ax = plt.subplots(figsize=(1.3 * n + 2, 3.2))
    x = np.arange(n)
    tp = [result["per_label"][k]["tp"] for k in labels]
    fp = [result["per_label"][k]["fp"] for k in labels]
    fn = [result["per_label"][k]["fn"] for k in labels]
    tn = [int(len(Y) - a - b - c) for a, b, c in zip(tp, fp, fn)]
    for off, vals, name in ((-0.3, tp, "true positive"), (-0.1, fp, "false positive"),
                            (0.1, fn, "false negative"), (0.3, tn, "true negative")):
        ax.bar(x + off, vals, width=0.2, label=name)
    ax.set_xticks(x, labels, rotation=20, fontsize=8)
    ax.set_ylabel("segments")
    ax.legend(fontsize=7)
    conf_png = _png(fig)
    plt.close(fig)

    esc = html.escape
    rows = "".join(f"<tr><td>{esc(k)}</td><td>{v['precision']:.3f}</td><td>{v['recall']:.3f}</td><td>{v['f1']:.3f}</td>"
                   f"<td>{v['support']}</td><td>{result['thresholds'][k]:.3f}</td></tr>"
                   for k, v in result["per_label"].items())
    err_rows = "".join(f"<tr><td>{esc(e['id'])}</td><td>{esc(', '.join(e['labels']))}</td>"
                       f"<td>{esc(', '.join(e['predicted']))}</td><td>{esc(e['excerpt'])}</td></tr>"
                       for e in result["errors"])
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{esc(title)}</title>
<style>body{{font-family:sans-serif;max-width:1200px;margin:2em auto}}table{{border-collapse:collapse}}
td,th{{border:1px solid #ccc;padding:3px 8px;text-align:left;font-size:90%}}</style></head><body>
<h1>{esc(title)}</h1>
<p>Model <code>{esc(result.get('model_id', ''))}</code>, {result['n']} segments.
Macro-F1 <b>{result['macro_f1']:.3f}</b>, micro-F1 <b>{result['micro_f1']:.3f}</b>.</p>
<table><tr><th>topic</th><th>precision</th><th>recall</th><th>F1</th><th>support</th><th>threshold</th></tr>{rows}</table>
<h2>Precision–recall per topic</h2><img alt="precision-recall curves" src="data:image/png;base64,{pr_png}">
<h2>Confusion counts</h2><img alt="confusion counts" src="data:image/png;base64,{conf_png}">
<h2>Wrong segments ({len(result['errors'])})</h2>
<table><tr><th>id</th><th>annotated</th><th>predicted</th><th>text</th></tr>{err_rows}</table>
</body></html>
"""
