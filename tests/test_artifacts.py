"""Model directories: save/load round trip, integrity and compatibility checks, TopicModel API."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from classify import artifacts
from classify.artifacts import load_model, save_model
from classify.errors import ModelError
from classify.model import ModelConfig, train_model
from classify.topics import TOPIC_KEYS
from classify.types import Prediction

from model_data import synthetic_df

CONFIG = ModelConfig(char_max_features=2000)
ITEMS = [
    {"id": "a", "text": "De terugkeer van uitgeprocedeerde asielzoekers naar hun herkomstland verloopt traag."},
    {"id": "b", "text": ""},
    {"id": "c", "text": "Frontex bewaakt samen met de lidstaten de buitengrenzen.", "doc_title": "Brief over grensbewaking"},
    {"id": "d", "text": "De NCTV meldt dat de terroristische dreiging substantieel blijft.", "heading": "Dreiging"},
]


@pytest.fixture(scope="module")
def result():
    return train_model(synthetic_df(), CONFIG)


@pytest.fixture()
def saved(result, tmp_path):
    return save_model(tmp_path / "m1", result, data_sha256="abc123", data_sources=["synthetic.jsonl"])


def test_save_writes_model_card_and_readme(saved, result):
    d = saved.path
    assert sorted(p.name for p in d.iterdir()) == ["README.md", "card.json", "model.joblib"]
    card = json.loads((d / "card.json").read_text())
    assert card["id"].startswith("m1-") and card["id"] == saved.id
    assert card["labels"] == list(TOPIC_KEYS)
    assert card["thresholds"] == result.thresholds
    assert card["model_sha256"] == artifacts.sha256_file(d / "model.joblib")
    assert card["data"]["sha256"] == "abc123" and card["data"]["counts"] == result.counts
    from classify.topics import TOPICS, examples_sha256
    assert card["data"]["topic_examples"] == {"count": sum(len(t.examples) for t in TOPICS),
                                              "weight": CONFIG.examples_weight,
                                              "sha256": examples_sha256(TOPIC_KEYS)}
    assert set(card["versions"]) >= {"python", "scikit-learn", "spacy", "numpy", "joblib", "classify"}
    assert card["metrics"]["macro_f1"] == result.cv["macro_f1"]
    assert set(card["metrics"]["per_label"]) == set(TOPIC_KEYS)
    assert card["config"] == CONFIG.to_dict()
    readme = (d / "README.md").read_text()
    for section in ("## Intended use", "## Training data", "## Metrics", "## Limits"):
        assert section in readme
    assert not [p for p in d.parent.iterdir() if p.name.startswith(".")]  # no temp dirs left


def test_load_gives_identical_scores(saved, result):
    model = load_model(saved.path)
    assert model.id == saved.id and model.labels == list(TOPIC_KEYS) and model.path == saved.path
    np.testing.assert_array_equal(model.predict_scores(ITEMS), result.estimator.predict_proba(ITEMS))
    assert model.thresholds == result.thresholds


def test_scorer_is_exported_once_and_scores_like_the_model(saved, tmp_path, monkeypatch):
    """``classify tag`` loads models with ``load_scorer``: the scorer is exported into the cache
    on first use; later loads unpickle it without scikit-learn; both score exactly as the model."""
    import subprocess
    import sys

    from classify.scoring import Scorer

    monkeypatch.setenv("CLASSIFY_CACHE_DIR", str(tmp_path / "cache"))
    want = load_model(saved.path).predict_scores(ITEMS)
    first = artifacts.load_scorer(saved.path)
    assert isinstance(first.estimator, Scorer) and first.id == saved.id and first.thresholds == saved.thresholds
    np.testing.assert_array_equal(first.predict_scores(ITEMS), want)
    [cached] = (tmp_path / "cache" / "scorers").iterdir()
    code = ("import json, sys\n"
            "from classify.artifacts import load_scorer\n"
            f"m = load_scorer({str(saved.path)!r})\n"
            f"print(json.dumps([type(m.estimator).__name__, m.predict_scores({ITEMS!r}).tolist(),\n"
            "                  [k for k in sys.modules if k.split('.')[0] == 'sklearn']]))\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                         cwd=Path(__file__).resolve().parents[1]).stdout
    kind, scores, sklearn_modules = json.loads(out)
    assert kind == "Scorer" and sklearn_modules == []
    np.testing.assert_array_equal(np.array(scores), want)
    # a damaged cache file is exported again; a model file that no longer matches its card is refused
    cached.write_bytes(b"not a pickle")
    np.testing.assert_array_equal(artifacts.load_scorer(saved.path).predict_scores(ITEMS), want)
    assert cached.read_bytes() != b"not a pickle"
    (saved.path / "model.joblib").write_bytes((saved.path / "model.joblib").read_bytes() + b"x")
    with pytest.raises(ModelError, match="sha256 does not match"):
        artifacts.load_scorer(saved.path)


def test_scorer_without_a_writable_cache_still_scores(saved, tmp_path, monkeypatch):
    blocker = tmp_path / "file"
    blocker.write_text("a file where the cache directory should be")
    monkeypatch.setenv("CLASSIFY_CACHE_DIR", str(blocker))
    model = artifacts.load_scorer(saved.path)
    np.testing.assert_array_equal(model.predict_scores(ITEMS), load_model(saved.path).predict_scores(ITEMS))


def test_predict_keeps_order_and_empty_text_gets_no_labels(saved):
    model = load_model(saved.path)
    preds = model.predict(ITEMS)
    assert len(preds) == len(ITEMS) and all(isinstance(p, Prediction) for p in preds)
    assert preds[1].labels == () and all(v == 0 for v in preds[1].scores.values())
    assert "return_policy" in preds[0].labels
    assert "border_control" in preds[2].labels
    assert "terrorism" in preds[3].labels
    assert all(list(p.scores) == list(TOPIC_KEYS) and p.model_version == model.id for p in preds)
    # Same item alone or in another batch order: same scores (no batch effects).
    rev = model.predict(ITEMS[::-1])
    assert [p.scores for p in rev[::-1]] == [p.scores for p in preds]
    assert model.predict([]) == [] and model.predict_scores([]).shape == (0, len(TOPIC_KEYS))


def test_tampered_model_is_refused(saved):
    path = saved.path / "model.joblib"
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0xFF
    path.write_bytes(bytes(data))
    with pytest.raises(ModelError, match="sha256 does not match"):
        load_model(saved.path)


def _edit_card(path: Path, **changes):
    card = json.loads((path / "card.json").read_text())
    for k, v in changes.items():
        card[k] = v
    (path / "card.json").write_text(json.dumps(card))


def test_label_set_mismatch_is_refused_naming_both_sets(saved):
    _edit_card(saved.path, labels=["return_policy", "terrorism", "weather"])
    with pytest.raises(ModelError) as exc:
        load_model(saved.path)
    msg = str(exc.value)
    assert "weather" in msg and "solidarity_pool" in msg and "registry" in msg


def test_other_sklearn_minor_version_is_refused_patch_tolerated(saved):
    import sklearn

    major, minor = sklearn.__version__.split(".")[:2]
    card = json.loads((saved.path / "card.json").read_text())
    card["versions"]["scikit-learn"] = f"{major}.{int(minor) + 1}.0"
    (saved.path / "card.json").write_text(json.dumps(card))
    with pytest.raises(ModelError, match="classify train"):
        load_model(saved.path)
    card["versions"]["scikit-learn"] = f"{major}.{minor}.99"
    (saved.path / "card.json").write_text(json.dumps(card))
    assert load_model(saved.path).id == saved.id


def test_missing_or_broken_directories_are_clear_errors(tmp_path, saved):
    with pytest.raises(ModelError, match="not a model directory"):
        load_model(tmp_path / "nope")
    (saved.path / "model.joblib").unlink()
    with pytest.raises(ModelError, match="missing"):
        load_model(saved.path)
    (saved.path / "card.json").write_text("{not json")
    with pytest.raises(ModelError, match="unreadable model card"):
        load_model(saved.path)


def test_default_model_from_registry(result, tmp_path, monkeypatch):
    store = tmp_path / "store"
    monkeypatch.setenv("CLASSIFY_MODELS_DIR", str(store))
    with pytest.raises(ModelError, match="no default model"):
        artifacts.default_model_dir()
    model = save_model(store / "first", result)
    (store / "registry.json").write_text(json.dumps({"default": "first", "history": []}))
    assert artifacts.default_model_dir() == store / "first"
    assert load_model().id == model.id
    (store / "registry.json").write_text(json.dumps({"default": "gone", "history": []}))
    with pytest.raises(ModelError, match="not found"):
        load_model()


def test_save_replaces_an_existing_directory(result, saved):
    again = save_model(saved.path, result, data_sha256="abc123")
    assert again.id == saved.id  # deterministic bytes → same id
    assert load_model(saved.path).id == saved.id
    assert sorted(p.name for p in saved.path.parent.iterdir()) == ["m1"]


def test_shipped_default_model_matches_the_seed_export(seed_export):
    from classify.dataset import build_dataset, dataset_sha256

    model = load_model()  # the committed default model
    assert model.card["data"]["sha256"] == dataset_sha256(build_dataset([seed_export]))
    assert model.card["metrics"]["folds"] == 5
