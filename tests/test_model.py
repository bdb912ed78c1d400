"""The topic model: features, thresholds, grouped cross-validation, determinism."""

from __future__ import annotations

import re

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.feature_extraction.text import TfidfVectorizer

from classify.errors import ClassifyError
from classify.features import LemmaFeatures, SeedTermCounts, parse_term, split_lemmas, to_matrix
from classify.model import (LinearOneVsRest, ModelConfig, TopicClassifier, cross_val_predict_proba,
                            cross_validate, document_folds, label_matrix, train_model, training_arrays,
                            training_views, tune_thresholds)
from classify.topics import TOPIC_KEYS, TOPICS

from model_data import synthetic_df

FAST = ModelConfig(char_max_features=2000)


@pytest.fixture(scope="module")
def df():
    return synthetic_df()


@pytest.fixture(scope="module")
def trained(df):
    return train_model(df, FAST)


def test_train_learns_the_synthetic_topics(trained, df):
    assert trained.labels == list(TOPIC_KEYS)
    assert set(trained.thresholds) == set(TOPIC_KEYS)
    assert all(0 < t < 1 for t in trained.thresholds.values())
    cv = trained.cv
    assert cv["folds"] == df["doc"].nunique() == 4
    assert cv["oof_scores"].shape == (len(df), len(TOPIC_KEYS))
    # Templates are distinctive: held-out documents are classified well.
    assert cv["macro_f1"] > 0.8, cv["per_label"]
    assert trained.counts == {k: int(df[k].sum()) for k in TOPIC_KEYS}


def test_training_is_deterministic(df, trained):
    again = train_model(df, FAST)
    assert again.thresholds == trained.thresholds
    for k in ("macro_f1", "micro_f1", "per_label", "fold_thresholds"):
        assert again.cv[k] == trained.cv[k]
    X = to_matrix(df)
    np.testing.assert_array_equal(again.estimator.predict_proba(X), trained.estimator.predict_proba(X))


def test_empty_text_scores_zero_and_gets_no_label(trained):
    P = trained.estimator.predict_proba([{"text": ""}, {"text": "   ", "doc_title": "Terugkeer en grensbewaking"},
                                         {"text": "De terugkeer van uitgeprocedeerde vreemdelingen."}])
    assert P.shape == (3, len(TOPIC_KEYS))
    assert not P[:2].any()
    assert P[2, TOPIC_KEYS.index("return_policy")] > 0.3


def test_cross_validation_is_grouped_by_document(df):
    """Out-of-fold scores of a document must not depend on that document's own labels."""
    flipped = df.copy()
    doc = flipped["doc"] == "doc0.txt"
    flipped["labels"] = [[] if d else labels for d, labels in zip(doc, flipped["labels"])]
    cfg = ModelConfig(char_weight=0)
    a = cross_val_predict_proba(df, cfg)
    b = cross_val_predict_proba(flipped, cfg)
    np.testing.assert_allclose(a[doc.to_numpy()], b[doc.to_numpy()])
    assert not np.allclose(a[~doc.to_numpy()], b[~doc.to_numpy()])  # other folds trained on the flip


def test_cross_validate_needs_two_documents(df):
    one = df[df["doc"] == "doc0.txt"]
    with pytest.raises(ClassifyError, match="at least two documents"):
        cross_validate(one, FAST)
    result = train_model(one, FAST)  # still trains, without CV and with default thresholds
    assert result.cv is None and set(result.thresholds.values()) == {FAST.default_threshold}


def test_tune_thresholds_separates_separable_scores():
    Y = np.array([[1], [1], [0], [0], [0]])
    P = np.array([[0.8], [0.7], [0.4], [0.2], [0.1]])
    t = tune_thresholds(Y, P, grid=np.arange(0.05, 0.96, 0.05))[0]
    assert 0.4 < t <= 0.7
    assert tune_thresholds(np.zeros((3, 1), int), P[:3], grid=[0.2, 0.5], default=0.5)[0] == 0.5


def test_label_matrix_uses_given_label_order():
    Y = label_matrix([["terrorism"], [], ["border_control", "return_policy"]], ["terrorism", "return_policy", "border_control"])
    assert Y.tolist() == [[1, 0, 0], [0, 0, 0], [0, 1, 1]]
    with pytest.raises(ValueError, match="unknown label"):
        label_matrix([["asiel"]], TOPIC_KEYS)


def test_config_validation_names_the_setting():
    with pytest.raises(ClassifyError, match="lexicon_weight"):
        ModelConfig(lexicon_weight=2)
    with pytest.raises(ClassifyError, match="unknown setting.*colour"):
        ModelConfig.from_dict({"colour": "blue"})
    with pytest.raises(ClassifyError, match="labels"):
        ModelConfig(labels=("return_policy", "weather"))
    assert ModelConfig.from_dict(ModelConfig(C=2).to_dict()) == ModelConfig(C=2)


def test_seed_terms_word_start_vs_substring():
    texts = ["Het rechtsextremisme groeit.", "Het terugkeerbeleid en de EU-terugkeerverordening.", "",
             "De crisis in de opvang."]
    ws = SeedTermCounts(word_start=True).fit(texts)
    sub = SeedTermCounts(word_start=False).fit(texts)
    t = TOPIC_KEYS.index("terrorism")
    r = TOPIC_KEYS.index("return_policy")
    assert sub.counts(texts)[0, t] >= 1  # "extremis" inside "rechtsextremisme"
    assert ws.counts(texts)[0, t] == 0
    assert ws.counts(texts)[1, r] == 2
    assert not ws.counts(texts)[2].any()
    assert sub.counts(texts)[3, t] == 0  # "^isis" is anchored: not inside "crisis"


def test_seed_term_anchors_and_exclusions():
    terms = {"a": ("terugkeer", "!terugkeerder"), "b": ("^isis", "wav$", "pool")}
    seeds = SeedTermCounts(terms=terms, word_start=False).fit(None)
    counts, hits = seeds.scan(["terugkeerders en terugkeer", "crisis, isis-strijders", "de wav en wave",
                               "Poolse pool"], terms=True)
    assert counts[:, 0].tolist() == [1, 0, 0, 0]  # the exclusion consumes "terugkeerders"
    assert counts[:, 1].tolist() == [0, 1, 1, 2]
    assert hits[0][0] == {"terugkeer"} and hits[1][1] == {"^isis"} and hits[2][1] == {"wav$"}


@settings(max_examples=60, deadline=None)
@given(st.lists(st.sampled_from(sorted({parse_term(t)[0] for tp in TOPICS for t in tp.terms}) +
                                ["de", "crisis", "het", "naar", "-", "/", "EU-", "werkgevers", "mensen", "samen"]),
                max_size=12), st.sampled_from([" ", "", "-"]))
def test_trie_counts_equal_one_regex_per_topic(words, sep):
    text = sep.join(words)
    for word_start, prefix in ((True, r"(?<!\w)"), (False, "")):
        seeds = SeedTermCounts(word_start=word_start).fit([text])
        assert seeds.counts([text])[0].tolist() == [_naive_count(tp.terms, text, prefix) for tp in TOPICS]


def _naive_count(specs, text, prefix):
    """One regex per topic, terms longest first (exclusions take part but are not counted)."""
    alts = []
    for spec in specs:
        t, excl, start, end = parse_term(spec)
        alts.append((len(t), excl, (r"(?<!\w)" if start else prefix) + re.escape(t) + (r"(?!\w)" if end else "")))
    alts.sort(key=lambda a: -a[0])
    rx = re.compile("|".join(f"(?P<{'x' if excl else 'p'}{i}>{body})" for i, (_, excl, body) in enumerate(alts)))
    return sum(1 for m in rx.finditer(text.lower()) if m.lastgroup.startswith("p"))


def test_lemma_features_equal_tfidf_vectorizers():
    """One counting pass gives the same blocks as sklearn's word and char_wb vectorisers."""
    docs = ["terugkeer terugkeerverordening vertrek", "arbeidsmigratie terugkeer vertrek",
            "solidariteitspool pool terugkeer", ""]
    ours = LemmaFeatures(word_min_df=2, char_weight=1.0, char_ngram_range=(3, 4), char_min_df=1,
                         char_max_features=None).fit(docs)
    new = ["terugkeer vertrek onbekendwoord", "", "pool pool"]
    X = ours.transform(new).toarray()
    words = TfidfVectorizer(analyzer=split_lemmas, lowercase=False, min_df=2, sublinear_tf=True).fit(docs)
    chars = TfidfVectorizer(analyzer="char_wb", ngram_range=(3, 4), lowercase=False, sublinear_tf=True).fit(docs)
    n_words = len(words.vocabulary_)
    assert list(ours.words_) == list(words.get_feature_names_out())
    np.testing.assert_allclose(X[:, :n_words], words.transform(new).toarray())
    order = [chars.vocabulary_[n] for n in ours.chars_.get_feature_names_out()]
    assert sorted(order) == list(range(len(chars.vocabulary_)))
    np.testing.assert_allclose(X[:, n_words:], chars.transform(new).toarray()[:, order])
    assert ours.transform(["", ""]).shape == (2, X.shape[1])


def test_lemma_features_caches_are_exact_and_not_pickled():
    """The counting pass equals sklearn's CountVectorizer entry for entry (later float sums follow
    that order); the per-process n-gram cache gives the same matrix as a cold transform and is not
    saved with the model."""
    import pickle

    from sklearn.feature_extraction.text import CountVectorizer

    docs = ["vertrek terugkeer vertrek", "", "pool arbeid pool pool terugkeer", "zee"]
    cv = CountVectorizer(analyzer=split_lemmas, lowercase=False, dtype=np.float64)
    want = cv.fit_transform(docs)
    got, vocab = LemmaFeatures._doc_word(docs)
    assert list(vocab) == list(cv.get_feature_names_out())
    for a in ("indptr", "indices", "data"):
        assert np.array_equal(getattr(got, a), getattr(want, a)), a
    assert LemmaFeatures._doc_word(["", " "])[0].shape == (2, 0)

    fitted = LemmaFeatures(word_min_df=1, char_min_df=1, char_ngram_range=(3, 4)).fit(docs)
    cold = pickle.loads(pickle.dumps(fitted)).transform(docs[::-1])
    fitted.transform(docs + ["onbekend vertrek"])  # fills the cache
    assert "_ngram_rows" in vars(fitted)
    warm = fitted.transform(docs[::-1])
    assert all(np.array_equal(getattr(warm, a), getattr(cold, a)) for a in ("indptr", "indices", "data"))
    assert "_ngram_rows" not in vars(pickle.loads(pickle.dumps(fitted)))


def test_classifier_reports_string_classes(df):
    est = TopicClassifier(FAST).fit(df.to_dict("records"), list(df["labels"]))
    assert list(est.classes_) == list(TOPIC_KEYS)
    assert est.predict(df.head(3).to_dict("records")).shape == (3, len(TOPIC_KEYS))


def test_short_text_scores_are_mapped_monotonically_onto_the_general_thresholds(trained):
    est = trained.estimator
    est_short = getattr(est, "short_thresholds_", None)
    try:
        est.short_thresholds_ = np.full(len(TOPIC_KEYS), 0.2)
        thr = est.thresholds_.copy()
        X = to_matrix([{"text": "kort"}] * 5)
        p = np.tile(np.array([[0.0], [0.1], [0.2], [0.6], [1.0]]), (1, len(TOPIC_KEYS)))
        q = est._rescale_short(X, p)
        assert np.all(np.diff(q, axis=0) >= 0)  # order kept
        np.testing.assert_allclose(q[2], thr)  # the short threshold lands on the general one
        np.testing.assert_allclose(q[[0, 4]], p[[0, 4]])
        long_text = to_matrix([{"text": "lang " * 200}])
        np.testing.assert_allclose(est._rescale_short(long_text, p[:1] + 0.3), p[:1] + 0.3)
    finally:
        if est_short is None:
            del est.short_thresholds_
        else:
            est.short_thresholds_ = est_short


def test_cross_validate_reports_questions_without_answers(df):
    qa = df.copy()
    qa["question"] = [t.split("\n\n")[0] for t in qa["text"]]
    qa["answer"] = [t.split("\n\n")[1] for t in qa["text"]]
    r = cross_validate(qa, ModelConfig(char_weight=0))
    assert r["questions_only"]["n"] == len(qa)
    assert set(r["questions_only"]["per_label"]) == set(TOPIC_KEYS)


def test_document_folds_never_split_a_document():
    groups = np.array([f"d{i % 13}" for i in range(60)])
    folds = document_folds(groups, max_folds=4)
    assert len(set(folds)) == 4
    for g in set(groups):
        assert len(set(folds[groups == g])) == 1
    np.testing.assert_array_equal(document_folds(groups, max_folds=20), groups)  # leave-one-document-out


def _qa(df):
    qa = df.copy()
    qa["question"] = [t.split("\n\n")[0] for t in qa["text"]]
    qa["answer"] = [t.split("\n\n")[1] for t in qa["text"]]
    return qa


def test_augmented_views_stay_in_their_document_and_weigh_less(df):
    qa = _qa(df)
    qa.loc[qa.index[0], "answer"] = "Ja."
    cfg = ModelConfig(augment_questions=True, augment_answers=True, augment_min_answer_chars=20,
                      augment_weight=0.4)
    views = training_views(qa, cfg)
    assert (0, qa["question"].iloc[0]) in views and (0, "Ja.") not in views  # "Ja." carries no topic
    X, Y, groups, source, weight = training_arrays(qa, cfg)
    n = len(qa)
    assert len(X) == n + len(views)
    assert (groups[n:] == np.asarray(qa["doc"])[source[n:]]).all()  # same fold as their segment
    assert (Y[n:] == Y[source[n:]]).all()
    assert weight[:n].tolist() == [1.0] * n and set(weight[n:].tolist()) == {0.4}
    off = training_arrays(qa, ModelConfig(augment_questions=False, augment_answers=False))
    assert len(off[0]) == n


def test_cross_validate_scores_views_with_the_fold_models(df):
    qa = _qa(df)
    views = {"answers": list(qa["answer"]), "some": [q if i % 2 else "" for i, q in enumerate(qa["question"])]}
    r = cross_validate(qa, ModelConfig(char_weight=0), views=views)
    assert r["views"]["answers"]["n"] == len(qa)
    assert r["views"]["some"]["n"] == len(qa) // 2
    with pytest.raises(ValueError, match="view 'bad'"):
        cross_validate(qa, ModelConfig(char_weight=0), views={"bad": ["x"]})


def test_linear_one_vs_rest_matches_logistic_regression_and_uses_weights():
    from sklearn.linear_model import LogisticRegression

    rng = np.random.default_rng(0)
    F = rng.normal(size=(60, 4))
    Y = np.column_stack([(F[:, 0] > 0), (F[:, 1] > 0.5), np.zeros(60)]).astype(int)
    ovr = LinearOneVsRest(C=1.0).fit(F, Y)
    lr = LogisticRegression(C=1.0, class_weight="balanced", solver="liblinear", random_state=0).fit(F, Y[:, 0])
    assert np.allclose(ovr.predict_proba(F)[:, 0], lr.predict_proba(F)[:, 1])
    assert np.allclose(ovr.predict_proba(F)[:, 2], 0.0)  # no positives: constant 0
    w = np.where(F[:, 2] > 0, 1.0, 0.1)
    assert not np.allclose(LinearOneVsRest().fit(F, Y, sample_weight=w).coef_, ovr.coef_)


def test_blend_weights_are_chosen_from_the_grid(df):
    cfg = ModelConfig(char_max_features=2000, blend_grid=(0.2, 0.8))
    est = train_model(df, cfg, cv=False).estimator
    default = TopicClassifier(cfg).fit(df.to_dict("records"), list(df["labels"])).blend_weights_
    for w, d in zip(est.blend_weights_, default):
        assert w in (0.2, 0.8, d)


def test_topic_examples_are_weak_labels_in_every_fit(df):
    """Registry examples give a topic without annotated positives something to learn from, without
    touching the term precisions (they come from the annotated rows only)."""
    from dataclasses import replace

    from classify.topics import example_rows

    rows = df[df["solidarity_pool"] == 0]
    X, y = to_matrix(rows), list(rows["labels"])
    off = TopicClassifier(replace(FAST, examples_weight=0)).fit(X, y)
    on = TopicClassifier(FAST).fit(X, y)
    j = TOPIC_KEYS.index("solidarity_pool")
    assert off.n_examples_ == 0 and on.n_examples_ == len(example_rows()[0]) > 0
    assert off.blend_weights_[j] == 1.0  # no positives at all: the lexicon alone
    assert on.blend_weights_[j] < 1.0
    assert on.term_precision_ == off.term_precision_
    # A solidarity text without a single seed term: only the examples' vocabulary can score it.
    text = [{"text": "Italië vraagt de andere lidstaten om een deel van de asielaanvragen over te nemen."}]
    assert not on.lexicon_scores(text)[0, j]
    assert on.model_scores(text)[0, j] > off.model_scores(text)[0, j] + 0.1
    with pytest.raises(ClassifyError, match="examples_weight"):
        ModelConfig(examples_weight=1.5)
