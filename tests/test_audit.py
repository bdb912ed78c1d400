"""classify audit: planted labelling mistakes come out on top."""

from __future__ import annotations

import json

import numpy as np
import pytest

import synthetic_topics as synth
from classify.audit import audit, calibrate_to_threshold, find_label_issues, review_tasks
from classify.cli import main
from classify.dataset import build_dataset
from classify.errors import ClassifyError

LABELS = ["a", "b", "c"]


def test_ranking_by_self_confidence_with_disagreeing_topics():
    y = np.array([[1, 0, 0], [0, 1, 0], [1, 1, 0], [0, 0, 0]])
    p = np.array([[0.9, 0.1, 0.2],   # agrees
                  [0.1, 0.2, 0.1],   # b annotated, model 0.2: disagrees
                  [0.95, 0.9, 0.97],  # c not annotated, model 0.97: disagrees strongly
                  [0.4, 0.3, 0.45]])  # agrees, but unsure
    issues = find_label_issues(y, p, LABELS, ids=["r0", "r1", "r2", "r3"])
    assert [i.id for i in issues] == ["r2", "r1"]
    assert issues[0].quality == pytest.approx(0.03)
    (d,) = issues[0].disagreements
    assert (d.topic, d.annotated, d.probability) == ("c", False, 0.97)
    assert issues[0].suggested == ("a", "b", "c") and issues[0].labels == ("a", "b")
    assert [i.id for i in find_label_issues(y, p, LABELS, ids=["r0", "r1", "r2", "r3"], top=1)] == ["r2"]


def test_thresholds_decide_disagreement_and_are_mapped_to_one_half():
    y = np.array([[0, 0, 0], [1, 0, 0]])
    p = np.array([[0.3, 0.0, 0.0], [0.25, 0.0, 0.0]])
    assert [i.row for i in find_label_issues(y, p, LABELS)] == [1]  # threshold 0.5: row 1 disagrees
    issues = find_label_issues(y, p, LABELS, {"a": 0.2})
    assert [i.row for i in issues] == [0]  # with threshold 0.2, 0.3 means "a" for an unlabelled row
    assert issues[0].quality == pytest.approx(1 - (0.5 + 0.5 * 0.1 / 0.8))
    q = calibrate_to_threshold(np.array([[0.0, 0.2, 1.0]]), np.array([0.2, 0.2, 0.2]))
    assert q.tolist() == [[0.0, 0.5, 1.0]]


def test_shape_mismatch_is_refused():
    with pytest.raises(ValueError, match="must both be n × 3"):
        find_label_issues(np.zeros((2, 3)), np.zeros((3, 3)), LABELS)


@pytest.fixture(scope="module")
def planted(tmp_path_factory):
    """A synthetic export with 4 segments whose labels were swapped for a wrong topic."""
    segs = synth.segments(n_docs=5, per_doc=12, seed=4)
    wrong = {}
    for i in (3, 17, 30, 44):
        true = segs[i]["labels"]
        new = [k for k in ("terrorism", "labour_migration", "border_control") if k not in true][:1]
        segs[i] = {**segs[i], "labels": new}
        wrong[f"{segs[i]['doc']}#{segs[i]['seg']}"] = (true, new)
    path = synth.write_export(tmp_path_factory.mktemp("audit") / "planted.json", segs)
    return path, wrong


def test_planted_mistakes_rank_first(planted, tmp_path, monkeypatch):
    monkeypatch.setenv("CLASSIFY_MODELS_DIR", str(tmp_path / "models"))  # no default: built-in config
    path, wrong = planted
    res = audit(build_dataset([path]), top=6)
    top4 = [i.id for i in res.issues[:4]]
    assert set(top4) == set(wrong)
    for issue in res.issues[:4]:
        true, given = wrong[issue.id]
        assert set(issue.suggested) == set(true)
        assert {d.topic for d in issue.disagreements} == set(true) ^ set(given)
        assert issue.quality < 0.5
    assert res.n_segments == 60 and res.n_documents == 5

    tasks = review_tasks(res)
    assert len(tasks) == len(res.issues)
    t0 = tasks[0]
    assert t0["data"]["seg_id"].startswith("review:") and t0["data"]["review_rank"] == 1
    assert t0["data"]["question"] and "annotated" in t0["data"]["review_reason"]
    ann, model = t0["predictions"]
    assert ann["model_version"] == "annotation under review"
    assert model["result"][0]["value"]["choices"]


def test_cli_lists_and_prints_json(planted, tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("CLASSIFY_MODELS_DIR", str(tmp_path / "models"))
    path, wrong = planted
    assert main(["audit", str(path), "--top", "4"]) == 0
    out = capsys.readouterr().out
    assert "of 60 segments (5 documents)" in out and "the 4 most doubtful" in out
    for key in wrong:
        assert key in out
    assert main(["audit", str(path), "--top", "2", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert len(data) == 2 and {d["id"] for d in data} <= set(wrong)
    assert data[0]["disagreements"][0]["topic"]


def test_bad_usage(planted, capsys):
    path, _ = planted
    assert main(["audit", str(path), "--to-label-studio"]) == 2
    assert "--to-label-studio needs --project" in capsys.readouterr().err
    with pytest.raises(ClassifyError, match="--top must be 1 or more"):
        audit(build_dataset([path]), top=0)
