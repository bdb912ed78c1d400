"""Benchmark of ``classify tag``: throughput, peak memory, cold start, and a plain baseline.

Builds N letters in a temporary directory (never in the repository) by re-combining the
question/answer segments of the documents in ``../shared/corpus`` into new letters in the
``Vraag N`` / ``Antwoord op vraag N`` layout, runs ``python -m classify tag`` on them as a user
would (a subprocess, so model loading, worker start-up and writing are all counted) and prints:

- letters/s and segments/s of the whole run;
- peak memory of the whole process tree (the CLI plus its worker processes and helpers, sampled
  with psutil every 20 ms, PSS every 200 ms): summed RSS (counts shared library pages once per
  process) and summed PSS (shares them out), and the largest single process;
- the cold start of ``classify tag`` on one letter (median and min of 5 runs, wall clock and CPU
  seconds; on a shared machine the CPU time is the steadier number);
- a plain scikit-learn baseline: ``TfidfVectorizer`` + ``LogisticRegression`` (one-vs-rest),
  fitted on the seed export, timed predicting the same segment texts in memory (no spaCy, no
  I/O), and the ratio tagger/baseline in segments/s.

With ``--repeat N`` the tag run and the baseline alternate N times (so both see the same machine;
on a shared VM the speed drifts) and the medians are printed, with the median of the per-pair
ratios.

    python scripts/bench_tag.py --letters 1000 --jobs 2
    python scripts/bench_tag.py --letters 10000 --jobs 2 --repeat 3
    python scripts/bench_tag.py --letters 10000 --jobs 2 --format parquet
"""

from __future__ import annotations

import argparse
import json
import os
import random
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import psutil

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from classify.paths import shared_dir  # noqa: E402


def source_segments(corpus: Path) -> list[tuple[str, str]]:
    """(question, answer) pairs of the corpus documents, via the project's own segmenter."""
    from classify.pipeline import iter_paths, process

    pairs = []
    for path in iter_paths([corpus]):
        _, segments = process(path)
        pairs += [(s.question.strip(), s.answer.strip()) for s in segments
                  if s.kind == "qa" and s.question.strip() and s.answer.strip()]
    if not pairs:
        raise SystemExit(f"no question/answer segments found in {corpus}")
    return pairs


def build_letters(pairs, n: int, folder: Path, seed: int = 1) -> list[str]:
    """Write ``n`` letters of 3–12 segments each; returns the texts of all segments written."""
    rng = random.Random(seed)
    texts = []
    for i in range(n):
        chosen = rng.sample(pairs, rng.randint(3, min(12, len(pairs))))
        lines = ["Directoraat-Generaal Migratie", "", f"Datum {1 + i % 28} mei 2026",
                 f"Onze referentie {8_000_000 + i}", "",
                 f"Betreft Antwoorden op vragen over het migratiebeleid ({i})", "",
                 "Hierbij ontvangt u de antwoorden op de schriftelijke vragen.", ""]
        for j, (q, a) in enumerate(chosen, 1):
            lines += [f"Vraag {j}", q, "", f"Antwoord op vraag {j}", a, ""]
            texts.append(f"{q}\n\n{a}")
        lines += ["De Minister van Asiel en Migratie,", "", "N.N."]
        (folder / f"letter-{i:06d}.txt").write_text("\n".join(lines) + "\n", encoding="utf-8")
    return texts


class TreeSampler(threading.Thread):
    """Samples the summed RSS of a process and all its descendants until stopped.

    RSS is sampled every ``interval`` seconds; PSS only every ``pss_every``-th sample, because
    the kernel computes it by walking each process's page tables (/proc/PID/smaps_rollup: ~5 ms
    per call for a 300 MB process): sampled every 20 ms for every process, it took about half
    a core of this 2-core machine away from the run being measured."""

    def __init__(self, pid: int, interval: float = 0.02, pss_every: int = 10):
        super().__init__(daemon=True)
        self.root = psutil.Process(pid)
        self.interval = interval
        self.pss_every = pss_every
        self.peak_total = 0  # summed RSS (shared library pages counted once per process)
        self.peak_pss = 0  # summed PSS (shared pages split between the processes sharing them)
        self.peak_single = 0
        self._done = threading.Event()

    def run(self):
        n = 0
        while not self._done.is_set():
            try:
                procs = [self.root] + self.root.children(recursive=True)
            except psutil.NoSuchProcess:
                break
            with_pss = n % self.pss_every == 0
            n += 1
            total = pss = 0
            for p in procs:
                try:
                    m = p.memory_full_info() if with_pss else p.memory_info()
                except psutil.Error:
                    continue
                total += m.rss
                pss += getattr(m, "pss", m.rss)
                self.peak_single = max(self.peak_single, m.rss)
            self.peak_total = max(self.peak_total, total)
            if with_pss:
                self.peak_pss = max(self.peak_pss, pss)
            self._done.wait(self.interval)

    def stop(self):
        self._done.set()
        self.join()


def run_tag(args: list[str]) -> tuple[float, float, TreeSampler, subprocess.CompletedProcess]:
    """Wall seconds, CPU seconds of the whole tree (the CLI reaps its workers, so their time is
    in RUSAGE_CHILDREN), memory peaks, and the finished process."""
    r0 = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    proc = subprocess.Popen([sys.executable, "-m", "classify", "tag", *args], cwd=REPO,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    sampler = TreeSampler(proc.pid)
    sampler.start()
    out, err = proc.communicate()
    seconds = time.perf_counter() - t0
    sampler.stop()
    r1 = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = r1.ru_utime - r0.ru_utime + r1.ru_stime - r0.ru_stime
    return seconds, cpu, sampler, subprocess.CompletedProcess(proc.args, proc.returncode, out, err)


def fit_baseline(seed_export: Path):
    """TF-IDF + one-vs-rest logistic regression fitted on the seed export; (pipeline, fit seconds)."""
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression
    from sklearn.multiclass import OneVsRestClassifier
    from sklearn.pipeline import make_pipeline

    from classify.dataset import build_dataset
    from classify.topics import TOPIC_KEYS

    df = build_dataset([seed_export])
    y = df[list(TOPIC_KEYS)].to_numpy()
    t0 = time.perf_counter()
    clf = make_pipeline(TfidfVectorizer(), OneVsRestClassifier(LogisticRegression(max_iter=1000)))
    clf.fit(df["text"].tolist(), y)
    return clf, time.perf_counter() - t0


def time_baseline(clf, texts: list[str]) -> tuple[float, float]:
    """Wall and CPU seconds of the baseline predicting ``texts``."""
    t0 = time.perf_counter()
    c0 = time.process_time()
    clf.predict_proba(texts)
    return time.perf_counter() - t0, time.process_time() - c0


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--letters", type=int, default=1000)
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--format", choices=("csv", "jsonl", "parquet"), default="csv")
    ap.add_argument("--shared", type=Path, default=shared_dir(), help="shared data dir (corpus + seed export)")
    ap.add_argument("--keep", action="store_true", help="keep the temporary corpus and outputs")
    ap.add_argument("--cold-runs", type=int, default=5)
    ap.add_argument("--repeat", type=int, default=1,
                    help="tag runs, each followed by a baseline run; medians and the median of the "
                         "per-pair ratios are reported (memory: the highest peak)")
    ap.add_argument("--json", type=Path, help="also write the numbers to this JSON file")
    ap.add_argument("--model", type=Path, help="model directory passed to `classify tag --model` "
                    "(default: the registry's default model)")
    args = ap.parse_args(argv)

    corpus, export = args.shared / "corpus", args.shared / "annotations" / "seed-export.json"
    if not corpus.is_dir():
        raise SystemExit(f"corpus not found at {corpus}; pass --shared DIR")
    tmp = Path(tempfile.mkdtemp(prefix="bench-tag-"))
    try:
        letters_dir = tmp / "letters"
        letters_dir.mkdir()
        pairs = source_segments(corpus)
        t0 = time.perf_counter()
        texts = build_letters(pairs, args.letters, letters_dir)
        print(f"corpus: {args.letters} letters, {len(texts)} segments from {len(pairs)} source segments "
              f"({sum(p.stat().st_size for p in letters_dir.iterdir()) / 1e6:.1f} MB) "
              f"built in {time.perf_counter() - t0:.1f} s in {letters_dir}", flush=True)

        model_args = ["--model", str(args.model)] if args.model else []
        clf, base_fit = fit_baseline(export)
        runs = []
        for i in range(args.repeat):
            # The tag run and the baseline alternate, so both see the same machine (a shared VM's
            # speed drifts by 20-30 % over minutes); the ratio is taken per pair.
            out = tmp / f"out{i}" / f"segments.{args.format}"
            seconds, cpu, mem, cp = run_tag([str(letters_dir), "--out", str(out),
                                             "--docs-out", str(out.with_name(f"docs.{args.format}")),
                                             "--jobs", str(args.jobs), *model_args])
            if cp.returncode != 0:
                print(cp.stderr, file=sys.stderr)
                raise SystemExit(f"classify tag exited with {cp.returncode}")
            base_s, base_cpu = time_baseline(clf, texts)
            runs.append({"seconds": seconds, "cpu": cpu, "mem": mem, "base_s": base_s, "base_cpu": base_cpu})
            if args.repeat > 1:
                print(f"run {i + 1}/{args.repeat}: {seconds:.2f} s, baseline {base_s:.2f} s", flush=True)
        import pandas as pd

        out = tmp / "out0" / f"segments.{args.format}"
        n_rows = len(pd.read_parquet(out, columns=["index"]) if args.format == "parquet" else
                     pd.read_csv(out, usecols=["index"]) if args.format == "csv" else pd.read_json(out, lines=True))
        if n_rows != len(texts):
            print(f"warning: {n_rows} segment rows, {len(texts)} segments built "
                  "(the segmenter splits some recombined letters differently)", file=sys.stderr)

        one = tmp / "one"
        one.mkdir()
        shutil.copy(next(iter(sorted(letters_dir.iterdir()))), one / "letter.txt")
        cold, cold_cpu = [], []
        for i in range(args.cold_runs):
            t1 = time.perf_counter()
            r0 = resource.getrusage(resource.RUSAGE_CHILDREN)
            c = subprocess.run([sys.executable, "-m", "classify", "tag", str(one / "letter.txt"),
                                "--out", str(one / f"out{i}.csv"), *model_args], cwd=REPO,
                               capture_output=True, text=True)
            cold.append(time.perf_counter() - t1)
            r1 = resource.getrusage(resource.RUSAGE_CHILDREN)
            cold_cpu.append(r1.ru_utime - r0.ru_utime + r1.ru_stime - r0.ru_stime)
            if c.returncode != 0:
                raise SystemExit(f"cold-start run failed: {c.stderr}")

        def med(key):
            return statistics.median(r[key] for r in runs)

        seconds, cpu, base_s, base_cpu = med("seconds"), med("cpu"), med("base_s"), med("base_cpu")
        result = {
            "letters": args.letters, "jobs": args.jobs, "format": args.format, "segments": n_rows,
            "runs": args.repeat,
            "seconds": round(seconds, 2),
            "letters_per_s": round(args.letters / seconds, 1),
            "segments_per_s": round(n_rows / seconds, 1),
            "cpu_s": round(cpu, 2),
            "segments_per_cpu_s": round(n_rows / cpu, 1),
            # CPU-seconds per wall second of the tag run: 2.0 would be both cores busy throughout;
            # lower when start-up is serial or other jobs share the machine (see load average)
            "cores_used": round(cpu / seconds, 2),
            # memory: the highest peak over the runs
            "peak_rss_tree_mb": round(max(r["mem"].peak_total for r in runs) / 2**20, 1),
            "peak_pss_tree_mb": round(max(r["mem"].peak_pss for r in runs) / 2**20, 1),
            "peak_rss_single_process_mb": round(max(r["mem"].peak_single for r in runs) / 2**20, 1),
            "cold_start_s_median": round(statistics.median(cold), 3),
            "cold_start_s_min": round(min(cold), 3),
            "cold_start_cpu_s_median": round(statistics.median(cold_cpu), 3),
            "load_average_1min": round(os.getloadavg()[0], 2),
            "baseline_segments_per_s": round(len(texts) / base_s, 1),
            "baseline_segments_per_cpu_s": round(len(texts) / base_cpu, 1),
            "baseline_fit_s": round(base_fit, 2),
        }
        # the median of the per-pair ratios (with one run: the ratio of that pair)
        ratios = [(n_rows / r["seconds"]) / (len(texts) / r["base_s"]) for r in runs]
        result["ratio_vs_baseline"] = round(statistics.median(ratios), 3)
        if args.repeat > 1:
            result["ratio_vs_baseline_runs"] = [round(x, 3) for x in ratios]
        result["ratio_vs_baseline_per_cpu_s"] = round(result["segments_per_cpu_s"] /
                                                      result["baseline_segments_per_cpu_s"], 3)
        width = max(map(len, result))
        for k, v in result.items():
            print(f"{k:<{width}}  {v}")
        if args.json:
            args.json.write_text(json.dumps(result, indent=2) + "\n")
    finally:
        if args.keep:
            print(f"kept {tmp}")
        else:
            shutil.rmtree(tmp, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
