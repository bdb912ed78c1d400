"""Streaming table writers: round trip through pandas, atomic replacement, abort."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from classify.errors import ClassifyError
from classify.writers import JsonListWriter, atomic_write_text, open_table, write_jsonl

COLUMNS = [("doc_id", "str"), ("index", "int"), ("question_numbers", "list[int]"), ("party", "str"),
           ("excerpt", "str"), ("score_a", "float"), ("labels", "list[str]")]

ROWS = [
    {"doc_id": "brief-1.txt", "index": 1, "question_numbers": [1], "party": None,
     "excerpt": "Bent u bekend met het bericht \"Terugkeer stokt\"?", "score_a": 0.8123, "labels": ["a", "b"]},
    {"doc_id": "brief-1.txt", "index": 2, "question_numbers": [2, 3], "party": "VVD",
     "excerpt": "Regel één;\nregel twee, met komma", "score_a": 0.0, "labels": []},
    {"doc_id": "brief 2 (é).txt", "index": 1, "question_numbers": [], "party": "GroenLinks-PvdA",
     "excerpt": "", "score_a": 1.0, "labels": ["a"]},
]


def _write(path, rows, **kw):
    w = open_table(path, COLUMNS, **kw) if kw else open_table(path, COLUMNS)
    for r in rows:
        w.write(r)
    w.commit()
    return w


@pytest.mark.parametrize("suffix", [".csv", ".jsonl", ".parquet"])
def test_round_trip_with_pandas(tmp_path, suffix):
    path = tmp_path / f"segments{suffix}"
    w = _write(path, ROWS)
    assert w.n_rows == 3
    if suffix == ".csv":
        df = pd.read_csv(path, keep_default_na=False)
        assert list(df.columns) == [c for c, _ in COLUMNS]  # the BOM does not leak into the header
        assert df["question_numbers"].tolist() == ["1", "2;3", ""]
        assert df["labels"].tolist() == ["a;b", "", "a"]
        assert df["party"].tolist() == ["", "VVD", "GroenLinks-PvdA"]
        assert df["excerpt"].tolist() == [r["excerpt"] for r in ROWS]
    else:
        df = pd.read_json(path, lines=True) if suffix == ".jsonl" else pd.read_parquet(path)
        assert list(df.columns) == [c for c, _ in COLUMNS]
        assert [list(x) for x in df["question_numbers"]] == [[1], [2, 3], []]
        assert [list(x) for x in df["labels"]] == [["a", "b"], [], ["a"]]
        assert df["party"].tolist()[1:] == ["VVD", "GroenLinks-PvdA"]
        assert df["party"].isna().tolist()[0]
        assert df["excerpt"].tolist() == [r["excerpt"] for r in ROWS]
    assert df["doc_id"].tolist() == [r["doc_id"] for r in ROWS]
    assert df["index"].tolist() == [1, 2, 1]
    assert df["score_a"].tolist() == [0.8123, 0.0, 1.0]


def test_parquet_row_groups_keep_order_and_schema(tmp_path):
    import pyarrow.parquet as pq

    from classify.writers import ParquetWriter

    path = tmp_path / "many.parquet"
    w = ParquetWriter(path, COLUMNS, row_group_size=7)
    rows = [{**ROWS[i % 3], "index": i} for i in range(50)]
    for r in rows:
        w.write(r)
    w.commit()
    f = pq.ParquetFile(path)
    assert f.metadata.num_row_groups == 8  # 7 full groups of 7 and one of 1
    assert f.read().column("index").to_pylist() == list(range(50))


def test_empty_table_still_has_columns(tmp_path):
    for suffix in (".csv", ".parquet"):
        path = tmp_path / f"empty{suffix}"
        _write(path, [])
        df = pd.read_csv(path) if suffix == ".csv" else pd.read_parquet(path)
        assert list(df.columns) == [c for c, _ in COLUMNS] and len(df) == 0


@pytest.mark.parametrize("suffix", [".csv", ".jsonl", ".parquet"])
def test_nothing_replaced_until_commit_and_abort_leaves_old_file(tmp_path, suffix):
    path = tmp_path / f"out{suffix}"
    _write(path, ROWS[:1])
    before = path.read_bytes()
    w = open_table(path, COLUMNS)
    w.write(ROWS[1])
    assert path.read_bytes() == before  # still the old, complete file
    w.abort()
    assert path.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == [path.name]  # no temp file left behind


def test_context_manager_aborts_on_error(tmp_path):
    path = tmp_path / "out.jsonl"
    with pytest.raises(RuntimeError):
        with open_table(path, COLUMNS) as w:
            w.write(ROWS[0])
            raise RuntimeError("boom")
    assert not path.exists()
    assert list(tmp_path.iterdir()) == []


def test_unknown_extension_is_a_clear_error(tmp_path):
    with pytest.raises(ClassifyError, match=r"out\.xlsx.*\.csv, \.jsonl, \.parquet"):
        open_table(tmp_path / "out.xlsx", COLUMNS)


def test_json_list_writer(tmp_path):
    path = tmp_path / "tasks.json"
    w = JsonListWriter(path)
    assert not path.exists()
    for i in range(3):
        w.write({"data": {"seg": i, "text": "Vraag één"}})
    w.commit()
    assert json.loads(path.read_text(encoding="utf-8")) == [{"data": {"seg": i, "text": "Vraag één"}} for i in range(3)]
    empty = tmp_path / "none.json"
    JsonListWriter(empty).commit()
    assert json.loads(empty.read_text()) == []


def test_write_jsonl_and_atomic_text(tmp_path):
    path = tmp_path / "sub" / "errors.jsonl"
    assert write_jsonl(path, ({"path": f"{i}.pdf", "stage": "read"} for i in range(2))) == 2
    assert [json.loads(x) for x in path.read_text().splitlines()] == [
        {"path": "0.pdf", "stage": "read"}, {"path": "1.pdf", "stage": "read"}]
    atomic_write_text(path, "x")
    assert path.read_text() == "x"


@pytest.mark.parametrize("suffix", [".csv", ".jsonl"])
def test_rows_encoded_elsewhere_give_the_same_file(tmp_path, suffix):
    """``classify tag`` encodes text rows in its workers: the file is the one write() gives."""
    import pickle

    from classify.writers import row_encoder

    direct = tmp_path / f"direct{suffix}"
    _write(direct, ROWS)
    encode = pickle.loads(pickle.dumps(row_encoder(direct, COLUMNS)))  # sent to worker processes
    w = open_table(tmp_path / f"encoded{suffix}", COLUMNS)
    w.write_encoded(encode(ROWS[:2]), 2)
    w.write(ROWS[2])
    w.commit()
    assert (tmp_path / f"encoded{suffix}").read_bytes() == direct.read_bytes() and w.n_rows == 3
    assert row_encoder(tmp_path / "x.parquet", COLUMNS) is None
    tasks = JsonListWriter(tmp_path / "a.json")
    tasks.write({"data": {"text": "één"}})
    tasks.commit()
    encoded = JsonListWriter(tmp_path / "b.json")
    encoded.write_encoded(JsonListWriter.encode([{"data": {"text": "één"}}]))
    encoded.commit()
    assert (tmp_path / "a.json").read_bytes() == (tmp_path / "b.json").read_bytes()
