"""The model registry: register, promote, rollback, list, concurrent writers."""

from __future__ import annotations

import json
import threading
from pathlib import Path

import pytest

from classify import registry
from classify.cli import main
from classify.errors import ModelError


def _model_dir(root: Path, name: str, macro: float = 0.5) -> Path:
    """A model directory as far as the registry looks at it: its card."""
    d = root / name
    d.mkdir(parents=True)
    card = {"id": f"{name}-abc123", "created": "2025-01-02T03:04:05+00:00",
            "data": {"sha256": "f" * 64},
            "metrics": {"macro_f1": macro, "micro_f1": macro + 0.1,
                        "per_label": {"terrorism": {"f1": macro}}}}
    (d / "card.json").write_text(json.dumps(card), encoding="utf-8")
    return d


@pytest.fixture
def store(tmp_path, monkeypatch) -> Path:
    root = tmp_path / "models"
    root.mkdir()
    monkeypatch.setenv("CLASSIFY_MODELS_DIR", str(root))
    return root


def test_empty_store_has_no_default(store):
    assert registry.read() == {"default": None, "history": [], "previous": []}
    assert registry.default_model_dir() is None
    assert not registry.registry_path().exists()


def test_first_model_becomes_default_and_entry_comes_from_card(store):
    e = registry.register(_model_dir(store, "a", 0.61), promoted_by="train")
    assert e["id"] == "a-abc123" and e["dir"] == "a"
    assert e["data_sha256"] == "f" * 64
    assert e["metrics"]["macro_f1"] == 0.61 and e["metrics"]["f1"] == {"terrorism": 0.61}
    reg = json.loads((store / "registry.json").read_text())
    assert reg["default"] == "a"
    assert reg["history"][0]["promoted_by"] == "train" and reg["history"][0]["promoted_at"]
    assert registry.default_model_dir() == store / "a"


def test_register_is_idempotent_and_does_not_steal_default(store):
    registry.register(_model_dir(store, "a"))
    b = _model_dir(store, "b")
    registry.register(b)
    registry.register(b)
    reg = registry.read()
    assert [e["dir"] for e in reg["history"]] == ["a", "b"]
    assert reg["default"] == "a"


def test_retraining_into_the_same_directory_refreshes_its_entry(store):
    d = _model_dir(store, "a", 0.5)
    registry.register(d)
    card = json.loads((d / "card.json").read_text())
    card.update(id="a-def456", created="2026-01-01T00:00:00+00:00",
                metrics={"macro_f1": 0.7, "micro_f1": 0.8, "per_label": {}})
    (d / "card.json").write_text(json.dumps(card), encoding="utf-8")
    registry.register(d)
    (entry,) = registry.read()["history"]
    assert entry["id"] == "a-def456" and entry["metrics"]["macro_f1"] == 0.7
    assert entry["created"] == "2026-01-01T00:00:00+00:00"


def test_promote_then_rollback_restores_previous_default(store):
    for n in "abc":
        registry.register(_model_dir(store, n))
    registry.promote("b")
    registry.promote("c-abc123")  # by id
    assert registry.read()["default"] == "c"
    assert registry.rollback()["dir"] == "b"
    assert registry.rollback()["dir"] == "a"
    with pytest.raises(ModelError, match="no previous default"):
        registry.rollback()
    assert registry.read()["default"] == "a"


def test_promote_unknown_or_missing_model_is_refused_and_changes_nothing(store):
    registry.register(_model_dir(store, "alpha"))
    before = registry.registry_path().read_bytes()
    with pytest.raises(ModelError, match="no model 'zzz'.*known models: alpha-abc123"):
        registry.promote("zzz")
    b = _model_dir(store, "beta")
    registry.register(b)
    before = registry.registry_path().read_bytes()
    for f in b.iterdir():
        f.unlink()
    b.rmdir()
    with pytest.raises(ModelError, match="directory .* is missing"):
        registry.promote("beta")
    assert registry.registry_path().read_bytes() == before


def test_register_outside_store_is_refused(store, tmp_path):
    outside = _model_dir(tmp_path / "elsewhere", "x")
    with pytest.raises(ModelError, match="not inside the model store"):
        registry.register(outside)


def test_corrupt_registry_is_a_clear_error(store):
    registry.registry_path().write_text("{not json", encoding="utf-8")
    with pytest.raises(ModelError, match="registry.json: not a valid registry file"):
        registry.read()


def test_concurrent_registrations_lose_nothing(store):
    dirs = [_model_dir(store, f"m{i:02d}") for i in range(12)]
    errors = []

    def reg(d):
        try:
            registry.register(d)
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=reg, args=(d,)) for d in dirs]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    assert sorted(e["dir"] for e in registry.read()["history"]) == [d.name for d in dirs]


def test_cli_list_promote_rollback(store, capsys):
    registry.register(_model_dir(store, "a", 0.5), promoted_by="train")
    registry.register(_model_dir(store, "b", 0.75))
    assert main(["models", "promote", "b"]) == 0
    assert "default model is now b-abc123" in capsys.readouterr().out
    assert main(["models", "list"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0].split()[:3] == ["id", "created", "data"]
    row_b = next(line for line in out if "b-abc123" in line)
    assert row_b.startswith("*") and "0.750" in row_b and "models promote" in row_b
    assert "ffffffffffff" in row_b
    assert not next(line for line in out if "a-abc123" in line).startswith("*")
    assert main(["models", "rollback"]) == 0
    assert registry.read()["default"] == "a"
    assert main(["models", "rollback"]) == 2
    assert "no previous default" in capsys.readouterr().err
    assert main(["models", "list", "--json"]) == 0
    assert [e["default"] for e in json.loads(capsys.readouterr().out)] == [True, False]


def test_registry_written_without_previous_stack_still_rolls_back(store):
    """A file where every promotion appended an entry (no 'previous' key) keeps its order."""
    for n in "ab":
        _model_dir(store, n)
    entry = lambda n, at: {"id": f"{n}-abc123", "dir": n, "created": "x", "data_sha256": "f" * 64,  # noqa: E731
                           "metrics": {}, "promoted_by": "train", "promoted_at": at}
    registry.registry_path().write_text(json.dumps({"default": "a", "history": [
        entry("a", "2025-01-01"), entry("b", "2025-01-02"), entry("a", "2025-01-03")]}))
    reg = registry.read()
    assert [e["dir"] for e in reg["history"]] == ["a", "b"]
    assert reg["history"][0]["promoted_at"] == "2025-01-03"
    assert registry.rollback()["dir"] == "b"
    assert registry.rollback()["dir"] == "a"
