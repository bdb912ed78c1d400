"""classify retrain: the promotion rule, rollback, and failure safety (incl. a killed process).

Small synthetic exports (tests/synthetic_topics.py); every test works in its own model store
(CLASSIFY_MODELS_DIR in a tmp dir), never in the repository's models/.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

import synthetic_topics as synth
from classify import registry
from classify.cli import main
from classify.dataset import build_dataset
from classify.errors import ClassifyError
from classify.retrain import drop_eval_rows, retrain

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def exports(tmp_path_factory) -> dict[str, Path]:
    d = tmp_path_factory.mktemp("exports")
    segs = synth.segments(n_docs=6, per_doc=12, seed=0)
    return {
        "good": synth.write_export(d / "good.json", segs),
        "shuffled": synth.write_export(d / "shuffled.json", synth.shuffled(segs, seed=1)),
        "shuffled2": synth.write_export(d / "shuffled2.json", synth.shuffled(segs, seed=2)),
        # a fixed gold set: other segments, other documents, correct labels
        "eval": synth.write_export(d / "eval.json", synth.segments(n_docs=3, per_doc=12, seed=7, prefix="gold")),
        "one_doc": synth.write_export(d / "one_doc.json", synth.segments(n_docs=1, per_doc=10, seed=3)),
    }


@pytest.fixture(scope="module")
def trained_store(tmp_path_factory, exports) -> Path:
    """A model store whose default was trained on the correct labels (trained once per module)."""
    root = tmp_path_factory.mktemp("trained") / "models"
    mp = pytest.MonkeyPatch()
    mp.setenv("CLASSIFY_MODELS_DIR", str(root))
    try:
        res = retrain(build_dataset([exports["good"]]), name="good")
    finally:
        mp.undo()
    assert res.promoted and res.default_id is None
    return root


@pytest.fixture
def store(tmp_path, monkeypatch, trained_store) -> Path:
    root = tmp_path / "models"
    shutil.copytree(trained_store, root)
    monkeypatch.setenv("CLASSIFY_MODELS_DIR", str(root))
    return root


@pytest.fixture
def empty_store(tmp_path, monkeypatch) -> Path:
    root = tmp_path / "models"
    monkeypatch.setenv("CLASSIFY_MODELS_DIR", str(root))
    return root


def _model_dirs(root: Path) -> list[str]:
    return sorted(p.name for p in root.iterdir() if p.is_dir() and not p.name.startswith("."))


def test_worse_candidate_is_not_promoted_better_one_is_and_rollback_restores(empty_store, exports, capsys):
    ev = str(exports["eval"])
    # 1. first model (shuffled labels): promoted because there is no default yet
    assert main(["retrain", "--annotations", str(exports["shuffled"]), "--eval-annotations", ev,
                 "--name", "bad"]) == 0
    out = capsys.readouterr().out
    assert "promoted: bad-" in out and "there is no default model yet" in out
    bad_dir = registry.read()["default"]

    # 2. a candidate trained on the correct labels beats it on the fixed evaluation export
    assert main(["retrain", "--annotations", str(exports["good"]), "--eval-annotations", ev,
                 "--name", "good"]) == 0
    out = capsys.readouterr().out
    assert "promoted: good-" in out
    assert "fixed evaluation export (36 segments; both fitted models)" in out
    assert "leave-one-document-out (72 segments, 6 documents" in out
    macro = next(line for line in out.splitlines()[out.splitlines().index(
        next(ln for ln in out.splitlines() if ln.startswith("fixed evaluation export"))):]
        if line.strip().startswith("macro-F1"))
    default_f1, cand_f1 = (float(x) for x in macro.split()[1:3])
    assert cand_f1 > default_f1 + 0.2  # correct labels generalise, shuffled ones do not
    good_dir = registry.read()["default"]
    assert good_dir != bad_dir and good_dir.startswith("good-")

    # 3. another candidate on shuffled labels is worse: kept, but not promoted
    reg_before = registry.registry_path().read_bytes()
    assert main(["retrain", "--annotations", str(exports["shuffled2"]), "--eval-annotations", ev,
                 "--name", "bad2"]) == 0
    out = capsys.readouterr().out
    assert "not promoted: candidate macro-F1" in out and "is worse than the default's" in out
    reg = registry.read()
    assert reg["default"] == good_dir
    assert [e["dir"].split("-")[0] for e in reg["history"]] == ["bad", "good", "bad2"]
    assert registry.registry_path().read_bytes() != reg_before  # the candidate is in the history
    assert next(e for e in reg["history"] if e["dir"].startswith("bad2"))["promoted_at"] is None

    # 4. rollback restores the previous default, and the files are still loadable
    assert main(["models", "rollback"]) == 0
    assert registry.read()["default"] == bad_dir
    from classify.artifacts import load_model

    assert load_model(None).path.name == bad_dir


def test_force_promotes_a_worse_candidate(store, exports, capsys):
    assert main(["retrain", "--annotations", str(exports["shuffled"]), "--eval-annotations",
                 str(exports["eval"]), "--name", "forced", "--force"]) == 0
    out = capsys.readouterr().out
    assert "promoted anyway because of --force" in out
    assert registry.read()["default"].startswith("forced-")
    assert registry.read()["previous"][-1].startswith("good-")


def test_same_config_on_new_data_is_a_documented_tie_and_promotes(store, exports, capsys):
    assert main(["retrain", "--annotations", str(exports["good"]), str(exports["eval"]), "--name", "more"]) == 0
    out = capsys.readouterr().out
    assert "note: same config: refitting both procedures gives the same scores" in out
    assert "(108 segments, 9 documents" in out
    assert registry.read()["default"].startswith("more-")


def test_worse_config_is_not_promoted_by_leave_one_document_out(store, exports, tmp_path, capsys):
    # A recipe that cannot see the text: no word survives min_df, no n-grams, no seed terms, no lexicon.
    cfg = tmp_path / "weak.json"
    cfg.write_text(json.dumps({"word_min_df": 10000, "char_weight": 0.0, "seed_weight": 0.0,
                               "lexicon_weight": 0.0, "lexicon_prior": 0.0, "context_weight": 0.0}))
    before = registry.read()["default"]
    assert main(["retrain", "--annotations", str(exports["good"]), "--config", str(cfg), "--name", "weak"]) == 0
    out = capsys.readouterr().out
    assert "not promoted" in out and "leave-one-document-out" in out
    assert "note:" not in out  # the two configs were really cross-validated separately
    assert registry.read()["default"] == before


def test_crash_during_training_leaves_default_untouched(store, exports, monkeypatch):
    import classify.model

    before = registry.registry_path().read_bytes()
    dirs = _model_dirs(store)

    def boom(*a, **k):
        raise MemoryError("injected failure while fitting")

    monkeypatch.setattr(classify.model, "train_model", boom)
    with pytest.raises(MemoryError):
        retrain(build_dataset([exports["good"]]), name="crash")
    assert registry.registry_path().read_bytes() == before
    assert _model_dirs(store) == dirs


def test_failure_while_saving_leaves_default_untouched(store, exports, monkeypatch):
    import classify.artifacts

    before = registry.registry_path().read_bytes()
    dirs = _model_dirs(store)
    real_dump = classify.artifacts.render_card_readme

    def fail(card):
        real_dump(card)
        raise OSError("disk full (injected)")

    monkeypatch.setattr(classify.artifacts, "render_card_readme", fail)
    with pytest.raises(OSError):
        retrain(build_dataset([exports["good"]]), name="diskfull")
    assert registry.registry_path().read_bytes() == before
    assert _model_dirs(store) == dirs
    assert not [p for p in store.iterdir() if "diskfull" in p.name]  # no temporary left behind


def test_killed_retrain_process_leaves_default_untouched(store, exports):
    """A real crash: SIGKILL the retrain process while it is training."""
    before = registry.registry_path().read_bytes()
    dirs = _model_dirs(store)
    env = {**os.environ, "CLASSIFY_MODELS_DIR": str(store), "PYTHONPATH": str(REPO)}
    proc = subprocess.Popen([sys.executable, "-m", "classify", "retrain", "--annotations",
                             str(exports["good"]), "--name", "killed"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env, cwd=REPO)
    try:
        line = proc.stderr.readline()
        assert "training candidate" in line, line
        time.sleep(1.0)  # well inside the fit (which takes several seconds)
        assert proc.poll() is None, "retrain finished before it could be killed"
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == -signal.SIGKILL
    assert registry.registry_path().read_bytes() == before
    assert _model_dirs(store) == dirs
    from classify.artifacts import load_model

    assert load_model(None).path.name == dirs[0]


def test_broken_default_is_reported_before_any_training(store, exports, monkeypatch):
    import classify.model

    default = store / registry.read()["default"]
    (default / "model.joblib").write_bytes(b"tampered")
    called = []
    monkeypatch.setattr(classify.model, "train_model", lambda *a, **k: called.append(1))
    with pytest.raises(ClassifyError, match="sha256 does not match.*models rollback"):
        retrain(build_dataset([exports["good"]]), name="x")
    assert not called


def test_bad_input_is_a_clear_error(empty_store, exports, capsys):
    assert main(["retrain", "--annotations", str(exports["one_doc"])]) == 2
    assert "at least two documents; the annotations have 1" in capsys.readouterr().err
    assert main(["retrain", "--annotations", str(exports["good"]), "--eval-annotations",
                 str(exports["good"])]) == 2
    assert "every training segment is also in the evaluation export" in capsys.readouterr().err
    assert not registry.registry_path().exists()


def test_evaluation_segments_are_removed_from_training(exports):
    df = build_dataset([exports["good"], exports["eval"]])
    ev = build_dataset([exports["eval"]])
    kept, n = drop_eval_rows(df, ev)
    assert n == len(ev) == 36 and len(kept) == 72
    assert not set(kept["id"]) & set(ev["id"])
