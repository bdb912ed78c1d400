"""A real ``python -m classify tag`` run killed part-way (SIGKILL), then ``--resume``: the output
equals that of an uninterrupted run, byte for byte."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from tag_letters import make_corpus

REPO = Path(__file__).resolve().parents[1]


def _tag(*args: str, **kw) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "classify", "tag", *args], cwd=REPO,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, **kw)


def _parts(out: Path) -> list[Path]:
    """The part files (one per finished chunk, one line per document)."""
    d = out.with_name(out.name + ".parts")
    return sorted(d.glob("[!.]*.jsonl")) if d.is_dir() else []


def _done(out: Path) -> int:
    """Documents stored in the part files so far."""
    n = 0
    for p in _parts(out):
        try:
            n += p.read_bytes().count(b"\n")
        except FileNotFoundError:  # replaced between listing and reading
            pass
    return n


def test_killed_run_resumes_to_the_uninterrupted_output(tmp_path):
    src = tmp_path / "in"
    make_corpus(src, 400)
    (src / "zz-empty.txt").write_bytes(b"")  # an error record must survive the resume too

    ref = tmp_path / "ref" / "segments.jsonl"
    p = _tag(str(src), "--out", str(ref), "--docs-out", str(ref.with_name("docs.csv")))
    _, err = p.communicate(timeout=600)
    assert p.returncode == 1, err

    out = tmp_path / "run" / "segments.jsonl"
    args = (str(src), "--out", str(out), "--docs-out", str(out.with_name("docs.csv")))
    p = _tag(*args)
    deadline = time.monotonic() + 300
    while _done(out) < 60 and p.poll() is None and time.monotonic() < deadline:
        time.sleep(0.005)
    p.send_signal(signal.SIGKILL)
    p.communicate()
    assert p.returncode == -signal.SIGKILL
    done = _done(out)
    assert 60 <= done < 400, f"kill came too late or too early ({done} documents in parts)"
    assert not out.exists() and not out.with_name("docs.csv").exists()  # nothing half-written
    assert list(out.parent.glob(".segments.jsonl.*.tmp"))  # the killed writer's temp file, removed on resume

    # Make it harder: a torn part (its last document cut short, as after a power loss) and a
    # stray temp file.
    victim = _parts(out)[0]
    data = victim.read_bytes()
    victim.write_bytes(data[: data.rindex(b"\n", 0, len(data) - 1) + 40])
    (victim.parent / ".abc.tmp").write_text("{")

    p = _tag(*args, "--resume")
    _, err = p.communicate(timeout=600)
    assert p.returncode == 1, err
    resumed = int(err.split("resuming: ")[1].split()[0])
    assert resumed == done - 1  # the torn document is not counted as done and is tagged again
    assert out.read_bytes() == ref.read_bytes()
    assert out.with_name("docs.csv").read_bytes() == ref.with_name("docs.csv").read_bytes()
    assert (out.parent / "errors.jsonl").read_text() == (ref.parent / "errors.jsonl").read_text()
    assert not out.with_name(out.name + ".parts").exists()
    assert sorted(os.listdir(out.parent)) == ["docs.csv", "errors.jsonl", "segments.jsonl"]


def test_resume_without_interrupted_run_is_a_normal_run(tmp_path):
    src = tmp_path / "in"
    make_corpus(src, 3)
    out = tmp_path / "o" / "s.csv"
    p = _tag(str(src), "--out", str(out), "--resume")
    _, err = p.communicate(timeout=300)
    assert p.returncode == 0, err
    assert "resuming" not in err and "3 documents, 3 tagged" in err
