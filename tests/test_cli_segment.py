"""End-to-end tests of ``classify segment`` through ``classify.cli.main``."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

from classify.cli import main
from classify.commands.segment import FIELDS
from classify.paths import annotations_dir

SAMPLE = annotations_dir() / "sample" / "sample_kamervragen.txt"

LETTER = """\
Vraag 1

Hoeveel asielzoekers kwamen in 2025 via de oostgrens?

Antwoord op vraag 1

Daarover zijn geen cijfers beschikbaar.

Vraag 2

Werkt Nederland samen met Frontex?

Antwoord op vraag 2

Ja, Nederland levert personeel aan Frontex.
"""


def _jsonl(out: str) -> list[dict]:
    return [json.loads(line) for line in out.splitlines() if line.strip()]


def test_bundled_sample_to_stdout_has_exactly_the_fields(capsys):
    assert main(["segment", str(SAMPLE)]) == 0
    rows = _jsonl(capsys.readouterr().out)
    assert len(rows) == 6
    assert all(list(r) == list(FIELDS) for r in rows)
    assert list(FIELDS) == ["doc_id", "index", "kind", "question", "answer", "question_numbers",
                            "party", "heading", "start", "end"]
    assert {r["doc_id"] for r in rows} == {"sample_kamervragen.txt"}
    assert [r["question_numbers"] for r in rows] == [[1], [2, 3], [4], [5], [6], [7]]
    grouped = rows[1]
    assert "Vraag 3" in grouped["question"] and grouped["answer"].startswith("De omvang")
    # The page furniture that split an answer is gone, the footnote too.
    assert "Directoraat" not in rows[2]["answer"] and "zo min mogelijk\nhinder" in rows[2]["answer"]
    assert not any("Artikel 66" in r["answer"] for r in rows)


def test_unreadable_file_is_reported_and_the_others_are_still_processed(tmp_path, capsys):
    good = tmp_path / "a_brief.txt"
    good.write_text(LETTER, encoding="utf-8")
    broken = tmp_path / "b_kapot.pdf"
    broken.write_bytes(b"this is not a pdf at all")
    missing = tmp_path / "bestaat_niet.txt"
    status = main(["segment", str(good), str(broken), str(missing)])
    captured = capsys.readouterr()
    assert status == 1
    rows = _jsonl(captured.out)
    assert [r["doc_id"] for r in rows] == ["a_brief.txt", "a_brief.txt"]
    errors = captured.err.strip().splitlines()
    assert len(errors) == 2
    assert errors[0].startswith(f"classify: error: {broken}: ")
    assert errors[1].startswith(f"classify: error: {missing}: ")


def test_nothing_readable_gives_status_2(tmp_path, capsys):
    assert main(["segment", str(tmp_path / "weg.txt")]) == 2
    assert capsys.readouterr().err.startswith("classify: error: ")


def test_directory_walk_and_out_file_formats(tmp_path, capsys):
    src = tmp_path / "in"
    (src / "sub").mkdir(parents=True)
    (src / "sub" / "een.txt").write_text(LETTER, encoding="utf-8")
    (src / "twee.txt").write_text(LETTER.replace("Frontex", "de EU"), encoding="utf-8")
    (src / "notities.md").write_text("geen brief", encoding="utf-8")
    out_jsonl = tmp_path / "out" / "segs.jsonl"
    assert main(["segment", str(src), "--out", str(out_jsonl)]) == 0
    assert capsys.readouterr().out == ""
    rows = _jsonl(out_jsonl.read_text(encoding="utf-8"))
    assert [(r["doc_id"], r["index"]) for r in rows] == [
        ("een.txt", 1), ("een.txt", 2), ("twee.txt", 1), ("twee.txt", 2)]
    assert not list(out_jsonl.parent.glob(".*.tmp"))

    out_csv = tmp_path / "segs.csv"
    assert main(["segment", str(src / "twee.txt"), "--out", str(out_csv)]) == 0
    table = list(csv.DictReader(io.StringIO(out_csv.read_text(encoding="utf-8-sig"))))
    assert list(table[0]) == list(FIELDS)
    assert table[1]["question"] == "Werkt Nederland samen met de EU?"
    assert table[1]["question_numbers"] == "2"

    # --format wins over a missing extension; csv on stdout has a header row.
    assert main(["segment", str(src / "twee.txt"), "--format", "csv"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == ",".join(FIELDS) and len(lines) == 3


def test_unknown_out_extension_is_a_usage_error(tmp_path, capsys):
    assert main(["segment", str(SAMPLE), "--out", str(tmp_path / "x.xlsx")]) == 2
    assert "x.xlsx" in capsys.readouterr().err


def test_explain_accounts_for_every_character(capsys):
    assert main(["segment", str(SAMPLE), "--explain"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("== sample_kamervragen.txt")
    for word in ("segment 1", "preamble", "signature", "removed by cleaning", "footnote",
                 "furniture", "metadata"):
        assert word in out
    totals = next(line for line in out.splitlines() if "totals:" in line)
    covered, total = totals.split("covered ")[1].split(" of ")
    assert covered == total.strip() and "UNACCOUNTED" not in out
