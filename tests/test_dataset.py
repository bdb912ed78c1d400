"""Label Studio exports → training rows: parsing, aggregation, validation."""

import json

import pytest

from classify.cli import main
from classify.dataset import build_dataset, dataset_sha256, read_rows, read_tasks, write_dataset
from classify.errors import ExportError
from classify.topics import TOPIC_KEYS

SEED_COUNTS = {"return_policy": 55, "solidarity_pool": 23, "border_control": 23, "terrorism": 12,
               "labour_migration": 10}


def _ann(choices, annotator=1, cancelled=False, minute=0, ground_truth=False, ann_id=None):
    result = [] if choices is None else [
        {"from_name": "topics", "to_name": "answer", "type": "choices", "value": {"choices": choices}}]
    return {"id": ann_id or annotator * 100 + minute, "completed_by": annotator, "result": result,
            "was_cancelled": cancelled, "ground_truth": ground_truth,
            "created_at": f"2026-01-05T10:{minute:02d}:00Z"}


def _task(tid, *anns, doc="brief.txt", seg=None):
    seg = tid if seg is None else seg
    return {"id": tid, "annotations": list(anns), "predictions": [],
            "data": {"doc": doc, "seg": seg, "doc_title": "Beantwoording Kamervragen",
                     "heading": None, "kind": "qa", "party": "VVD",
                     "question": f"Vraag {tid} over vertrek?", "answer": f"Antwoord {tid}.",
                     "text": f"Vraag {tid} over vertrek?\n\nAntwoord {tid}."}}


def _write(tmp_path, tasks, name="export.json"):
    path = tmp_path / name
    path.write_text(json.dumps(tasks), encoding="utf-8")
    return path


# --- the real seed export --------------------------------------------------------------------

def test_seed_export_rows_and_label_counts(seed_export):
    df = build_dataset([seed_export])
    assert len(df) == 152
    assert {k: int(df[k].sum()) for k in TOPIC_KEYS} == SEED_COUNTS
    assert int((df["labels"].map(len) == 0).sum()) == 37
    assert int((df["n_annotations"] == 2).sum()) == 46  # the cancelled third one does not count
    assert df["id"].is_unique


def test_seed_json_min_twin_gives_the_same_rows(seed_export):
    full = build_dataset([seed_export]).set_index("id")
    mini = build_dataset([seed_export.with_name("seed-export-min.json")]).set_index("id")
    assert len(mini) == 152
    assert {k: int(mini[k].sum()) for k in TOPIC_KEYS} == SEED_COUNTS
    assert (full.loc[mini.index, "labels"] == mini["labels"]).all()
    assert (full.loc[mini.index, "text"] == mini["text"]).all()


def test_seed_cancelled_annotation_is_ignored(seed_export):
    tasks = read_tasks(seed_export)
    assert sum(t["cancelled"] for t in tasks) == 1
    cancelled_task = next(t for t in tasks if t["cancelled"])
    assert len(cancelled_task["annotations"]) == 1


# --- hand-made exports -----------------------------------------------------------------------

def test_cancelled_annotations_are_ignored_and_skipped_tasks_dropped(tmp_path):
    path = _write(tmp_path, [
        _task(1, _ann(["Return policy"]), _ann(["Terrorism"], annotator=2, cancelled=True, minute=1)),
        _task(2, _ann(None, cancelled=True)),
        _task(3),  # pushed but not labelled yet
    ])
    rows = read_rows(path)
    assert [r["task_id"] for r in rows] == [1]
    assert rows[0]["labels"] == ["return_policy"] and rows[0]["n_annotations"] == 1
    assert rows[0]["tied"] == []


def test_none_of_the_five_is_an_explicit_empty_label_set(tmp_path):
    path = _write(tmp_path, [_task(1, _ann(["None of the five"])), _task(2, _ann([]))])
    rows = read_rows(path)
    assert [r["labels"] for r in rows] == [[], []]


def test_ties_are_marked_and_go_to_the_earliest_annotation(tmp_path):
    path = _write(tmp_path, [
        # annotator 2 labelled first, so their choice wins the tie
        _task(1, _ann(["Return policy"], annotator=1, minute=5), _ann(["Border control"], annotator=2, minute=1)),
        _task(2, _ann(["Terrorism", "Border control"]), _ann(["terrorism"], annotator=2, minute=1),
              _ann(["Border control"], annotator=3, minute=2)),
    ])
    r1, r2 = read_rows(path)
    assert r1["labels"] == ["border_control"]
    assert r1["tied"] == ["return_policy", "border_control"]
    assert r1["annotators"] == [2, 1]
    assert r2["labels"] == ["terrorism", "border_control"] and r2["tied"] == []  # 2 of 3 each


def test_ground_truth_annotation_wins(tmp_path):
    path = _write(tmp_path, [_task(1, _ann(["Terrorism"]), _ann(["Terrorism"], annotator=2, minute=1),
                                   _ann(["Labour migration"], annotator=3, minute=2, ground_truth=True))])
    assert read_rows(path)[0]["labels"] == ["labour_migration"]


def test_unknown_choice_names_the_task_and_value(tmp_path):
    path = _write(tmp_path, [_task(1, _ann(["Return policy"])), _task(7, _ann(["Opvang"]))])
    with pytest.raises(ExportError, match=r"export\.json: task 7: unknown choice value 'Opvang'"):
        read_rows(path)


def test_none_together_with_a_topic_is_an_error(tmp_path):
    path = _write(tmp_path, [_task(4, _ann(["None of the five", "Terrorism"]))])
    with pytest.raises(ExportError, match=r"task 4: .*None of the five.*terrorism"):
        read_rows(path)


@pytest.mark.parametrize("content, reason", [
    ("{not json", "not valid JSON"),
    ('{"tasks": []}', "expected a JSON list of tasks, got a JSON dict"),
    ("[1, 2]", "neither full-export tasks"),
    ('[{"id": 1, "data": "text"}]', "item 0 is not a Label Studio task"),
    ('[{"id": 1, "data": {"text": "x"}, "annotations": {"a": 1}}]', "task 1: 'annotations' is not a list"),
    ('[{"id": 1, "data": {"text": "x"}, "annotations": [{"result": "Terrorism"}]}]', "task 1: annotation 'result'"),
    ('[{"id": 3, "score": 1}]', "has no 'text', 'question' or 'answer'"),
])
def test_malformed_export_names_the_file_and_the_problem(tmp_path, content, reason):
    path = tmp_path / "broken.json"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(ExportError) as err:
        read_rows(path)
    assert str(err.value).startswith(str(path))
    assert reason in str(err.value)


def test_missing_file_is_an_export_error(tmp_path):
    with pytest.raises(ExportError, match="no such file"):
        read_rows(tmp_path / "nope.json")


def test_json_min_export_with_single_and_multiple_choices(tmp_path):
    items = [
        {"id": 1, "annotation_id": 1, "annotator": 1, "text": "a", "doc": "d.txt", "seg": 1,
         "topics": "Return policy", "created_at": "2026-01-01T00:00:00Z"},
        {"id": 1, "annotation_id": 2, "annotator": 2, "text": "a", "doc": "d.txt", "seg": 1,
         "topics": {"choices": ["Return policy", "Border control"]}, "created_at": "2026-01-01T00:01:00Z"},
        {"id": 2, "annotation_id": 3, "annotator": 1, "text": "b", "doc": "d.txt", "seg": 2,
         "topics": "None of the five", "created_at": "2026-01-01T00:02:00Z"},
    ]
    rows = read_rows(_write(tmp_path, items, "min.json"))
    assert [(r["id"], r["labels"], r["tied"]) for r in rows] == [
        ("d.txt#1", ["return_policy"], ["border_control"]), ("d.txt#2", [], [])]


def test_later_file_wins_and_dataset_round_trips(tmp_path):
    first = _write(tmp_path, [_task(1, _ann(["Terrorism"])), _task(2, _ann([]))], "a.json")
    second = _write(tmp_path, [_task(1, _ann(["Border control"]))], "b.json")
    df = build_dataset([first, second])
    assert sorted(map(tuple, df["labels"])) == [(), ("border_control",)]
    assert list(df.columns[-5:]) == list(TOPIC_KEYS)
    out = tmp_path / "dataset.jsonl"
    write_dataset(df, out)
    again = build_dataset([out])
    assert dataset_sha256(again) == dataset_sha256(df)
    assert dataset_sha256(df.iloc[::-1]) == dataset_sha256(df)  # order does not matter
    assert dataset_sha256(build_dataset([first])) != dataset_sha256(df)


def test_cli_dataset_prints_summary_and_writes(tmp_path, capsys):
    path = _write(tmp_path, [
        _task(1, _ann(["Return policy"]), _ann(["Border control"], annotator=2, minute=1)),
        _task(2, _ann(["None of the five"]))])
    out = tmp_path / "ds.jsonl"
    assert main(["dataset", str(path), "--out", str(out)]) == 0
    text = capsys.readouterr().out
    assert "2 rows" in text and "1 with tied topics" in text
    assert len(out.read_text().splitlines()) == 2


def test_cli_dataset_bad_export_is_one_line_error(tmp_path, capsys):
    path = tmp_path / "x.json"
    path.write_text("[{", encoding="utf-8")
    assert main(["dataset", str(path)]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"classify: error: {path}: not valid JSON") and err.count("\n") == 1
