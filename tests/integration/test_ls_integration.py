"""Against a real Label Studio (session fixture `label_studio`): push the sample letters, re-push,
annotate through the API as two annotators would, pull, build the dataset; errors for a server
that is down and a wrong token. No mocks."""

from __future__ import annotations

import json

import pytest
from letters import LETTERS, letter_text, write_letters
from lsserver import signup_user

from classify import labelconfig, labelstudio
from classify.agreement import agreement
from classify.cli import main
from classify.dataset import build_dataset
from classify.types import Prediction

pytestmark = pytest.mark.integration

TITLE = "Migratie test"


@pytest.fixture(autouse=True)
def _no_ambient_connection(monkeypatch):
    monkeypatch.delenv("LABEL_STUDIO_URL", raising=False)
    monkeypatch.delenv("LABEL_STUDIO_API_KEY", raising=False)


def _cli(server, *args):
    return main(["ls", *args, "--url", server.url, "--api-key-file", str(server.credentials_file)])


@pytest.fixture(scope="module")
def pushed(label_studio, tmp_path_factory):
    """The sample letters pushed once through the CLI: (letters dir, project id)."""
    letters = tmp_path_factory.mktemp("letters")
    write_letters(letters)
    assert _cli(label_studio, "push", str(letters), "--project", TITLE) == 0
    conn = labelstudio.connect(label_studio.url, label_studio.token)
    return letters, labelstudio.project_id(conn, TITLE)


@pytest.fixture
def conn(label_studio):
    return labelstudio.connect(label_studio.url, label_studio.token)


def test_push_creates_the_project_with_config_guideline_and_one_task_per_segment(pushed, conn):
    _, pid = pushed
    settings = labelstudio.project_settings(conn, pid)
    assert settings["title"] == TITLE
    assert settings["label_config"].strip() == labelconfig.label_config().strip()
    assert settings["show_instruction"] is True
    assert "Boundary" in settings["expert_instruction"] or "boundary" in settings["expert_instruction"]
    tasks = labelstudio.list_tasks(conn, pid)
    n_segments = sum(len(spec["qa"]) for spec in LETTERS.values())
    assert len(tasks) == n_segments == 5
    data = {t["data"]["seg_id"]: t["data"] for t in tasks}
    d = data[next(k for k in data if k.startswith("antwoorden-terugkeer.txt#1-"))]
    assert d["doc_title"] == "Antwoorden Kamervragen over terugkeer naar Marokko"
    assert d["question"].startswith("Hoeveel vreemdelingen") and d["answer"].startswith("In 2025")
    assert d["text"] == f"{d['question']}\n\n{d['answer']}"


def test_repush_creates_no_duplicates_and_a_changed_segment_is_new(pushed, conn, label_studio, capsys):
    letters, pid = pushed
    capsys.readouterr()
    assert _cli(label_studio, "push", str(letters), "--project", TITLE) == 0
    assert "5 already in the project" in capsys.readouterr().out
    assert len(labelstudio.list_tasks(conn, pid)) == 5
    # an edited answer is a new segment (new text hash); the other four are still known
    spec = dict(LETTERS["antwoorden-grens.txt"])
    spec["qa"] = [spec["qa"][0], (spec["qa"][1][0], "Er zijn 31 mensen herplaatst.")]
    (letters / "antwoorden-grens.txt").write_text(letter_text(spec), encoding="utf-8")
    r = labelstudio.push(conn, TITLE, [letters])
    assert (r.segments, r.already, r.imported) == (5, 4, 1)
    assert len(labelstudio.existing_seg_ids(conn, pid)) == 6


def test_annotate_pull_and_build_the_dataset(pushed, conn, label_studio, tmp_path, capsys):
    _, pid = pushed
    tasks = {t["data"]["seg_id"]: t for t in labelstudio.list_tasks(conn, pid)}
    by_seg = {f"{t['data']['doc']}#{t['data']['seg']}": t["id"] for t in tasks.values()
              if not t["data"]["answer"].startswith("Er zijn 31")}
    first = {  # annotator 1, the admin
        "antwoorden-terugkeer.txt#1": ["return_policy"],
        "antwoorden-terugkeer.txt#2": ["return_policy"],
        "antwoorden-terugkeer.txt#3": [],  # none of the five
        "antwoorden-grens.txt#1": ["border_control"],
        "antwoorden-grens.txt#2": ["solidarity_pool"],
    }
    for seg, keys in first.items():
        labelstudio.create_annotation(conn, by_seg[seg], keys)
    # annotator 2 signs up in the web UI and labels with their own token
    token2 = signup_user(label_studio, "tweede@example.org", "annotator-2-secret")
    conn2 = labelstudio.connect(label_studio.url, token2)
    assert conn2.client.users.whoami().email == "tweede@example.org"
    labelstudio.create_annotation(conn2, by_seg["antwoorden-terugkeer.txt#1"], ["return_policy"])
    labelstudio.create_annotation(conn2, by_seg["antwoorden-grens.txt#1"], ["border_control", "return_policy"])
    labelstudio.create_annotation(conn2, by_seg["antwoorden-grens.txt#2"], [], was_cancelled=True)

    out = tmp_path / "exports" / "round1.json"
    assert _cli(label_studio, "pull", "--project", TITLE, "--out", str(out)) == 0
    assert "6 tasks, 5 annotated (7 annotations, 1 cancelled)" in capsys.readouterr().out
    export = json.loads(out.read_text(encoding="utf-8"))
    assert len(export) == 6  # all tasks, also the one nobody labelled
    # an existing export is never overwritten silently
    before = out.read_bytes()
    assert _cli(label_studio, "pull", "--project", TITLE, "--out", str(out)) == 2
    assert "already exists" in capsys.readouterr().err
    assert out.read_bytes() == before
    assert _cli(label_studio, "pull", "--project", TITLE, "--out", str(out), "--force") == 0

    df = build_dataset([out]).set_index("id")
    assert sorted(df.index) == sorted(first)  # the unlabelled task is left out
    for seg, keys in first.items():
        assert df.loc[seg, "labels"] == keys, seg
    assert df.loc["antwoorden-grens.txt#1", "tied"] == ["return_policy"]  # 1 vs 1: first annotator wins
    assert df.loc["antwoorden-grens.txt#1", "n_annotations"] == 2
    assert df.loc["antwoorden-grens.txt#2", "n_annotations"] == 1  # the skip does not count
    assert df.loc["antwoorden-terugkeer.txt#1", "return_policy"] == 1

    r = agreement(out)
    assert r.n_coannotated == 2
    assert [(d.id, d.topics) for d in r.disagreements] == [("antwoorden-grens.txt#1", ["return_policy"])]


class KeywordModel:
    """A small deterministic stand-in for a trained model (same interface as TopicModel)."""

    id = "keywords-test-1"
    labels = ["return_policy", "solidarity_pool", "terrorism", "labour_migration", "border_control"]
    thresholds = {k: 0.5 for k in labels}
    stems = {"return_policy": "vertrek", "solidarity_pool": "herplaats", "terrorism": "terror",
             "labour_migration": "arbeid", "border_control": "grens"}

    def predict(self, items):
        out = []
        for it in items:
            text = it["text"].lower()
            scores = {k: min(0.95, 0.1 + 0.25 * text.count(s)) for k, s in self.stems.items()}
            out.append(Prediction(labels=tuple(k for k in self.labels if scores[k] >= 0.5), scores=scores,
                                  model_version=self.id))
        return out


def test_push_with_predictions_imports_the_least_sure_first(conn, tmp_path):
    letters = write_letters(tmp_path / "letters")
    model = KeywordModel()
    expected = sorted(
        ((labelstudio.certainty(p.scores, model.thresholds), i) for i, p in
         enumerate(model.predict([t["data"] for t in labelstudio.tasks_from_paths(letters).tasks]))))
    r = labelstudio.push(conn, "Actief leren", letters, model=model, order="uncertain", limit=2)
    assert (r.imported, r.withheld, r.model_version) == (2, 3, "keywords-test-1")
    tasks = labelstudio.list_tasks(conn, "Actief leren")
    scores = sorted(t["predictions"][0]["score"] for t in tasks)
    assert scores == pytest.approx([round(c, 6) for c, _ in expected[:2]])
    for t in tasks:
        (pred,) = t["predictions"]
        assert pred["model_version"] == "keywords-test-1"
        assert pred["result"][0]["from_name"] == "topics" and pred["result"][0]["value"]["choices"]
    r = labelstudio.push(conn, "Actief leren", letters, model=model, order="uncertain", limit=2)
    assert (r.already, r.imported, r.withheld) == (2, 2, 1)


def test_wrong_token_is_a_one_line_error_naming_the_url(label_studio, tmp_path, capsys):
    key = tmp_path / "key"
    key.write_text("0123456789abcdef0123456789abcdef01234567")
    code = main(["ls", "pull", "--project", TITLE, "--out", str(tmp_path / "x.json"),
                 "--url", label_studio.url, "--api-key-file", str(key)])
    err = capsys.readouterr().err
    assert code == 2
    assert err.count("\n") == 1 and "Traceback" not in err
    assert label_studio.url in err and "rejected the API key (HTTP 401)" in err
    assert "0123456789abcdef" not in err


def test_server_down_is_a_one_line_error_naming_the_url(label_studio, tmp_path, capsys, monkeypatch):
    url = f"http://127.0.0.1:{labelstudio.free_port()}"
    monkeypatch.setenv("LABEL_STUDIO_URL", url)
    monkeypatch.setenv("LABEL_STUDIO_API_KEY", label_studio.token)
    code = main(["ls", "push", str(write_letters(tmp_path)[0]), "--project", TITLE])
    err = capsys.readouterr().err
    assert code == 2
    assert err.count("\n") == 1 and "Traceback" not in err
    assert f"cannot connect to Label Studio at {url}" in err and "refused" in err.lower()
    assert label_studio.token not in err
