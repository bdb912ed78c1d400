"""``classify tag``: every input tagged or in errors.jsonl, outputs consistent with the model,
formats agree, parallel runs give the same rows. Real readers, segmenter and default model."""

from __future__ import annotations

import json
import os
import random
import shutil

import pandas as pd
import pytest

from tag_letters import (letter_text, make_corpus, write_docx, write_html, write_pdf, write_scan_pdf,
                         write_txt)

from classify.cli import main
from classify.errors import ClassifyError
from classify.tagging import PartStore, TagOptions, excerpt, tag
from classify.topics import NONE_CHOICE, TOPIC_KEYS, get


@pytest.fixture(scope="module")
def model():
    from classify.artifacts import load_model

    return load_model()


def _n_questions(text: str) -> int:
    return sum(1 for line in text.splitlines() if line.startswith("Vraag "))


@pytest.fixture(scope="module")
def mixed(tmp_path_factory):
    """A folder of good letters in every format plus the bad files a real inbox gets."""
    d = tmp_path_factory.mktemp("inbox")
    good = {}
    for name, seed, writer in [("brief-a.txt", 1, write_txt), ("brief-b.html", 2, write_html),
                               ("brief-c.docx", 3, write_docx), ("brief-d.pdf", 4, write_pdf)]:
        text = letter_text(seed)
        writer(d / name, text)
        good[name] = _n_questions(text)
    text = letter_text(5)
    write_txt(d / "brief-e-utf16.txt", text, encoding="utf-16")  # with BOM: a good letter
    good["brief-e-utf16.txt"] = _n_questions(text)

    (d / "empty.txt").write_bytes(b"")
    (d / "garbage.txt").write_bytes(random.Random(7).randbytes(5000))
    (d / "garbage.pdf").write_bytes(random.Random(8).randbytes(5000))
    full = write_pdf(d / "tmp.pdf", letter_text(6)).read_bytes()
    (d / "truncated.pdf").write_bytes(full[: len(full) // 2])
    (d / "tmp.pdf").unlink()
    write_scan_pdf(d / "scan.pdf")
    write_pdf(d / "locked.pdf", letter_text(7), password="geheim")
    # 20 MB of text: above the default 10 MB per-letter limit, so an error record, not a hang.
    block = letter_text(8).encode("utf-8")
    with (d / "huge.txt").open("wb") as fh:
        for _ in range(20_000_000 // len(block) + 1):
            fh.write(block)
    bad = {  # file -> (stage, words the reason must contain)
        "empty.txt": ("read", "empty"),
        "garbage.txt": ("read", "binary"),
        "garbage.pdf": ("read", "not a pdf"),
        "truncated.pdf": ("read", "truncated"),
        "scan.pdf": ("read", "no text layer"),
        "locked.pdf": ("read", "password"),
        "huge.txt": ("read", "10 mb limit"),
    }
    return d, good, bad


@pytest.fixture(scope="module")
def mixed_run(mixed, tmp_path_factory):
    d, good, bad = mixed
    out = tmp_path_factory.mktemp("out")
    status = main(["tag", str(d), "--out", str(out / "segments.csv"), "--docs-out", str(out / "docs.jsonl"),
                   "--label-studio-tasks", str(out / "tasks.json")])
    return status, out


def test_mixed_folder_good_tagged_bad_recorded(mixed, mixed_run, model):
    d, good, bad = mixed
    status, out = mixed_run
    assert status == 1  # some documents failed, the others are in the output
    seg = pd.read_csv(out / "segments.csv", keep_default_na=False)
    assert seg.groupby("doc_id").size().to_dict() == good
    assert set(seg["path"]) == {str(d / n) for n in good}
    errors = [json.loads(line) for line in (out / "errors.jsonl").read_text().splitlines()]
    assert {os.path.basename(e["path"]): e["stage"] for e in errors} == {n: s for n, (s, _) in bad.items()}
    for e in errors:
        stage, words = bad[os.path.basename(e["path"])]
        assert words in e["reason"].lower(), e
    assert not (out / "segments.csv.parts").exists()  # cleaned up after a finished run
    assert sorted(p.name for p in out.iterdir()) == ["docs.jsonl", "errors.jsonl", "segments.csv", "tasks.json"]


def test_segment_rows_match_model(mixed_run, model):
    _, out = mixed_run
    seg = pd.read_csv(out / "segments.csv", keep_default_na=False)
    assert list(seg.columns) == (["doc_id", "path", "index", "kind", "question_numbers", "party", "heading",
                                  "excerpt"] + [f"score_{k}" for k in model.labels] + ["labels"])
    for _, r in seg.iterrows():
        labels = [k for k in r["labels"].split(";") if k]
        assert labels == [k for k in model.labels if r[f"score_{k}"] >= model.thresholds[k] - 1e-4]
        assert all(0.0 <= r[f"score_{k}"] <= 1.0 for k in model.labels)
        assert r["kind"] == "qa" and str(r["question_numbers"]) == str(r["index"])
        assert 0 < len(r["excerpt"]) <= 200
    # in each document the indices run 1..n in order
    for _, g in seg.groupby("doc_id", sort=False):
        assert g["index"].tolist() == list(range(1, len(g) + 1))

    # the scores are the model's own on the same segment texts
    tasks = json.loads((out / "tasks.json").read_text(encoding="utf-8"))
    scores = model.predict_scores([t["data"] for t in tasks])
    for k_i, k in enumerate(model.labels):
        assert seg[f"score_{k}"].tolist() == pytest.approx(scores[:, k_i].tolist(), abs=1e-4)


def test_document_rows_and_label_studio_tasks(mixed, mixed_run, model):
    _, good, _ = mixed
    _, out = mixed_run
    seg = pd.read_csv(out / "segments.csv", keep_default_na=False)
    docs = pd.read_json(out / "docs.jsonl", lines=True)
    assert docs["doc_id"].tolist() == list(dict.fromkeys(seg["doc_id"]))
    assert docs.set_index("doc_id")["n_segments"].to_dict() == good
    for _, d in docs.iterrows():
        rows = seg[seg["doc_id"] == d["doc_id"]]
        for k in model.labels:
            assert d[f"n_{k}"] == sum(k in x.split(";") for x in rows["labels"])
            assert d[f"max_{k}"] == pytest.approx(rows[f"score_{k}"].max())
        assert d["title"] and "Kamervragen" in d["title"]  # the Betreft line of the letter

    tasks = json.loads((out / "tasks.json").read_text(encoding="utf-8"))
    assert len(tasks) == len(seg)
    names = {get(k).name for k in TOPIC_KEYS}
    for t, (_, r) in zip(tasks, seg.iterrows()):
        data, pred = t["data"], t["predictions"][0]
        assert (data["doc"], data["seg"], data["path"]) == (r["doc_id"], r["index"], r["path"])
        assert data["question"] and data["answer"] and data["text"].startswith(data["question"])
        assert pred["model_version"] == model.id
        (res,) = pred["result"]
        assert (res["from_name"], res["to_name"], res["type"]) == ("topics", "answer", "choices")
        chosen = res["value"]["choices"]
        labels = [k for k in r["labels"].split(";") if k]
        assert chosen == ([get(k).name for k in labels] or [NONE_CHOICE])
        assert set(chosen) <= names | {NONE_CHOICE}
        assert 0.0 <= pred["score"] <= 1.0


def test_all_good_exit_zero_and_formats_agree(tmp_path):
    src = tmp_path / "in"
    make_corpus(src, 6)
    tables = {}
    for suffix in ("csv", "jsonl", "parquet"):
        out = tmp_path / suffix / f"segments.{suffix}"
        assert main(["tag", str(src), "--out", str(out), "--docs-out", str(out.with_name(f"docs.{suffix}"))]) == 0
        assert (out.parent / "errors.jsonl").read_text() == ""
        if suffix == "csv":
            df = pd.read_csv(out, keep_default_na=False)
            df["labels"] = [[x for x in v.split(";") if x] for v in df["labels"]]
            df["question_numbers"] = [[int(x) for x in str(v).split(";") if x] for v in df["question_numbers"]]
        elif suffix == "jsonl":
            df = pd.read_json(out, lines=True)
        else:
            df = pd.read_parquet(out)
            df["labels"] = df["labels"].map(list)
            df["question_numbers"] = df["question_numbers"].map(list)
        tables[suffix] = df.drop(columns=["party", "heading"])
    assert len(tables["csv"]) > 6
    pd.testing.assert_frame_equal(tables["csv"], tables["jsonl"], check_dtype=False)
    pd.testing.assert_frame_equal(tables["csv"], tables["parquet"], check_dtype=False)


def test_parallel_jobs_give_identical_output(tmp_path):
    src = tmp_path / "in"
    make_corpus(src, 40)
    (src / "zz-empty.txt").write_bytes(b"")
    outs = {}
    for jobs, chunk in ((1, None), (2, 3)):
        out = tmp_path / f"j{jobs}" / "segments.jsonl"
        events = list(tag([src], TagOptions(out=out, jobs=jobs, chunk_size=chunk)))
        assert events[-1].failed == 1 and events[-1].tagged == 40
        outs[jobs] = (out.read_bytes(), (out.parent / "errors.jsonl").read_bytes())
    assert outs[1] == outs[2]


@pytest.mark.parametrize("wait, doc_seconds", [(5.0, 0.0), (0.0, 0.1)])
def test_head_start_hands_over_whole_chunks_only(tmp_path, monkeypatch, wait, doc_seconds):
    """The head start segments the first chunks while the model loads. Given time, it hands
    them over; when it is slow and killed at once at the hand-over (``WAIT = 0``, as for a
    document it is stuck on), the chunk it was on is redone. Either way the output is the
    single-process output."""
    import multiprocessing
    import time

    from classify import artifacts, tagging

    src = tmp_path / "in"
    make_corpus(src, 40)
    (src / "zz-empty.txt").write_bytes(b"")
    handed = []
    finish, load, segment = tagging._HeadStart.finish, artifacts.load_scorer, tagging._segment_document

    def recorded(self):
        done = finish(self)
        handed.append(len(done))
        return done

    def load_slowly(path):  # on the command line the model takes ~1 s to load: the child's time
        time.sleep(0.5)
        return load(path)

    def segment_slowly(path, sha):
        if multiprocessing.current_process().name == "classify-head-start":
            time.sleep(doc_seconds)
        return segment(path, sha)

    monkeypatch.setattr(tagging._HeadStart, "finish", recorded)
    monkeypatch.setattr(tagging._HeadStart, "WAIT", wait)
    monkeypatch.setattr(artifacts, "load_scorer", load_slowly)
    monkeypatch.setattr(tagging, "_segment_document", segment_slowly)
    outs = []
    for jobs in (1, 2):
        out = tmp_path / f"j{jobs}" / "segments.jsonl"
        events = list(tag([src], TagOptions(out=out, jobs=jobs, chunk_size=3)))
        assert events[-1].failed == 1 and events[-1].tagged == 40
        outs.append((out.read_bytes(), (out.parent / "errors.jsonl").read_bytes()))
    assert outs[0] == outs[1]
    assert len(handed) == 1  # only the parallel run has a head start
    if wait:
        assert handed[0] == tagging._HeadStart.MAX_CHUNKS
    else:
        assert handed[0] < tagging._HeadStart.MAX_CHUNKS  # cut short: the rest was done by the workers


def test_run_restores_the_garbage_collector(tmp_path):
    """A run tunes the collector (frozen model, rarer young-generation passes) for its own
    duration only: callers embedding ``tag`` get their settings back, also after a failure."""
    import gc

    src = tmp_path / "in"
    make_corpus(src, 3)
    before = gc.get_threshold(), gc.get_freeze_count()
    seen = []
    for event in tag([src], TagOptions(out=tmp_path / "o" / "s.jsonl", jobs=1)):
        seen.append(gc.get_threshold()[0])
    assert seen and seen[-1] != before[0][0]  # tuned while running
    assert (gc.get_threshold(), gc.get_freeze_count()) == before
    events = tag([src], TagOptions(out=tmp_path / "o2" / "s.jsonl", jobs=1))
    next(events)
    events.close()  # interrupted after the first event
    assert (gc.get_threshold(), gc.get_freeze_count()) == before


def test_same_content_under_two_names(tmp_path):
    src = tmp_path / "in"
    src.mkdir()
    write_txt(src / "a.txt", letter_text(11))
    shutil.copy(src / "a.txt", src / "b.txt")
    out = tmp_path / "o" / "s.jsonl"
    assert main(["tag", str(src), "--out", str(out)]) == 0
    rows = [json.loads(x) for x in out.read_text().splitlines()]
    a = [r for r in rows if r["doc_id"] == "a.txt"]
    b = [r for r in rows if r["doc_id"] == "b.txt"]
    assert a and [{**r, "doc_id": "", "path": ""} for r in a] == [{**r, "doc_id": "", "path": ""} for r in b]
    assert {r["path"] for r in b} == {str(src / "b.txt")}


def test_document_without_segment_is_an_error_record(tmp_path):
    src = tmp_path / "in"
    src.mkdir()
    write_txt(src / "letterhead-only.txt", "Directoraat-Generaal Migratie\n\nDatum 3 maart 2026\n"
              "Onze referentie 7000001\n")
    write_txt(src / "good.txt", letter_text(12))
    out = tmp_path / "o" / "s.csv"
    assert main(["tag", str(src), "--out", str(out)]) == 1
    (err,) = [json.loads(x) for x in (out.parent / "errors.jsonl").read_text().splitlines()]
    assert err["path"].endswith("letterhead-only.txt")
    assert err["stage"] in ("clean", "segment") and ("no segment" in err["reason"] or "no text" in err["reason"])
    assert set(pd.read_csv(out)["doc_id"]) == {"good.txt"}


def test_no_input_and_bad_options_exit_2(tmp_path, capsys):
    (tmp_path / "in").mkdir()
    assert main(["tag", str(tmp_path / "in"), "--out", str(tmp_path / "o.csv")]) == 2
    assert "no documents found" in capsys.readouterr().err
    assert main(["tag", str(tmp_path), "--out", str(tmp_path / "o.xlsx")]) == 2
    assert "o.xlsx" in capsys.readouterr().err
    assert main(["tag", str(tmp_path), "--out", str(tmp_path / "o.csv"), "--scheduler", "tcp://x:1"]) == 2
    assert "--backend dask" in capsys.readouterr().err
    assert not (tmp_path / "o.csv").exists()


def test_options_validation():
    with pytest.raises(ClassifyError, match="jobs"):
        TagOptions(out="a.csv", jobs=0)
    with pytest.raises(ClassifyError, match="different files"):
        TagOptions(out="a.csv", docs_out="a.csv")
    with pytest.raises(ClassifyError, match=r"\.json"):
        TagOptions(out="a.csv", ls_tasks="tasks.jsonl")
    with pytest.raises(ClassifyError, match="reserved"):
        TagOptions(out="errors.jsonl")


def test_excerpt():
    assert excerpt("Vraag\n\n  over   terugkeer ") == "Vraag over terugkeer"
    long = "woord " * 100
    e = excerpt(long, 50)
    assert len(e) <= 50 and e.endswith("…") and e.startswith("woord woord")


def test_part_store_rejects_torn_parts_and_foreign_runs(tmp_path):
    root = tmp_path / "o.csv.parts"
    outputs = {"segments": "csv", "documents": None, "label_studio_tasks": False}
    store = PartStore(root, "model-a", resume=False, outputs=outputs)
    good = {"sha": "ab" * 32, "path": "x.txt", "n_rows": 1, "rows_text": "x.txt,1\r\n"}
    store.save(good)
    assert store.load(good["sha"], "x.txt")["rows_text"] == "x.txt,1\r\n"
    assert store.load(good["sha"], "moved/x.txt") is None  # its rows name the path: redone
    [part] = root.glob("[!.]*.jsonl")
    full = part.read_bytes()
    part.write_bytes(full[: len(full) // 2])  # a torn write
    assert store.load(good["sha"], "x.txt") is None
    assert store.load("cd" * 32, "x.txt") is None
    # resuming with the same model and outputs keeps the parts; another model or other
    # outputs refuse with the fix
    store.save(good)
    assert PartStore(root, "model-a", resume=True, outputs=outputs).has(good["sha"], "x.txt")
    with pytest.raises(ClassifyError, match="model-a.*without --resume"):
        PartStore(root, "model-b", resume=True, outputs=outputs)
    with pytest.raises(ClassifyError, match="outputs segments csv, documents csv.*without --resume"):
        PartStore(root, "model-a", resume=True, outputs={**outputs, "documents": "csv"})
    # a fresh run (no --resume) starts from nothing
    assert not PartStore(root, "model-b", resume=False, outputs=outputs).has(good["sha"], "x.txt")


def test_help_documents_exit_status(capsys):
    with pytest.raises(SystemExit):
        main(["tag", "--help"])
    text = capsys.readouterr().out
    assert "Exit status: 0 all documents tagged; 1 some documents failed" in text
    assert "errors.jsonl" in text and "--resume" in text


def test_command_line_exit_status_and_outputs(tmp_path):
    """``classify tag`` ends its process without the interpreter's teardown (see cli.entry):
    the exit status and the committed outputs are those of ``main``."""
    import subprocess
    import sys
    from pathlib import Path

    src = tmp_path / "in"
    make_corpus(src, 3)
    (src / "zz-empty.txt").write_bytes(b"")
    out = tmp_path / "o" / "segments.jsonl"
    done = subprocess.run([sys.executable, "-m", "classify", "tag", str(src), "--out", str(out)],
                          cwd=Path(__file__).resolve().parents[1], capture_output=True, text=True)
    assert done.returncode == 1, done.stderr  # one document failed, the others are tagged
    assert "3 tagged" in done.stderr and "1 failed" in done.stderr
    assert len(out.read_text(encoding="utf-8").splitlines()) > 3
    assert len((out.parent / "errors.jsonl").read_text(encoding="utf-8").splitlines()) == 1


def test_fast_exit_only_when_nothing_else_runs():
    """``classify tag`` skips the interpreter's teardown only when no other thread or child
    process is at work (joblib's reusable workers, where there is no fork, need the normal exit
    to be shut down in order)."""
    import threading

    from classify.cli import _still_running

    assert not _still_running()
    stop = threading.Event()
    worker = threading.Thread(target=stop.wait)
    worker.start()
    try:
        assert _still_running()
    finally:
        stop.set()
        worker.join()
    assert not _still_running()
