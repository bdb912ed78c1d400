"""Latency of the Label Studio ML backend: /predict with batches of 10 tasks.

Starts `classify serve-ml` on 127.0.0.1 on a free port (a real process, as Label Studio would talk
to it), sends warm-up requests, then N sequential requests of 10 tasks each and prints p50, p95,
p99 latency (target: p95 < 200 ms). Tasks come from a Label Studio export (default: the shared
seed export, read at run time) or, without one, from generated Dutch sentences.

    python scripts/bench_ml_backend.py                      # default model, 200 requests
    python scripts/bench_ml_backend.py --model models/topics-seed --requests 500
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import statistics
import subprocess
import sys
import time
from pathlib import Path

import httpx

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from classify.labelconfig import label_config  # noqa: E402
from classify.paths import shared_dir  # noqa: E402


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def load_tasks(path: Path | None) -> list[dict]:
    if path is not None and path.is_file():
        tasks = json.loads(path.read_text(encoding="utf-8"))
        return [{"id": t.get("id", i), "data": t["data"]} for i, t in enumerate(tasks) if "data" in t]
    words = ("terugkeer vertrekplicht solidariteit herplaatsing Frontex buitengrens arbeidsmigranten "
             "kennismigranten terrorisme radicalisering asielzoekers opvang gemeente kabinet minister "
             "Kamer procedure beleid Europese Unie lidstaten").split()
    out = []
    for i in range(200):
        text = " ".join(words[(i * 7 + j) % len(words)] for j in range(120))
        out.append({"id": i, "data": {"question": text[:300], "answer": text, "doc_title": "Kamervragen",
                                      "heading": "", "doc": f"doc-{i % 10}"}})
    return out


def percentile(xs: list[float], p: float) -> float:
    xs = sorted(xs)
    k = (len(xs) - 1) * p / 100
    lo, hi = int(k), min(int(k) + 1, len(xs) - 1)
    return xs[lo] + (xs[hi] - xs[lo]) * (k - lo)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model", help="model directory (default: the registry's default)")
    ap.add_argument("--tasks", type=Path, default=shared_dir() / "annotations" / "seed-export.json",
                    help="Label Studio export to take task data from (default: %(default)s)")
    ap.add_argument("--requests", type=int, default=200)
    ap.add_argument("--batch", type=int, default=10)
    ap.add_argument("--warmup", type=int, default=10)
    args = ap.parse_args()

    tasks = load_tasks(args.tasks)
    source = str(args.tasks) if args.tasks and args.tasks.is_file() else "generated sentences"
    port = free_port()
    cmd = [sys.executable, "-m", "classify", "serve-ml", "--port", str(port)]
    if args.model:
        cmd += ["--model", args.model]
    proc = subprocess.Popen(cmd, cwd=REPO, env={**os.environ, "PYTHONPATH": str(REPO)},
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, start_new_session=True)
    url = f"http://127.0.0.1:{port}"
    try:
        with httpx.Client(base_url=url, timeout=30) as client:
            t_start = time.perf_counter()
            while True:
                if proc.poll() is not None:
                    print(f"serve-ml exited: {proc.stderr.read()}", file=sys.stderr)
                    return 2
                try:
                    health = client.get("/health").json()
                    break
                except httpx.HTTPError:
                    time.sleep(0.1)
            startup = time.perf_counter() - t_start
            config = label_config()
            chars = []
            latencies = []
            for i in range(args.warmup + args.requests):
                batch = [tasks[(i * args.batch + j) % len(tasks)] for j in range(args.batch)]
                body = {"tasks": batch, "project": "1.1", "label_config": config,
                        "params": {"login": None, "password": None, "context": None}}
                t0 = time.perf_counter()
                r = client.post("/predict", json=body)
                dt = time.perf_counter() - t0
                r.raise_for_status()
                assert len(r.json()["results"]) == len(batch)
                if i >= args.warmup:
                    latencies.append(dt * 1000)
                    chars.append(sum(len(json.dumps(t["data"], ensure_ascii=False)) for t in batch))
    finally:
        os.killpg(os.getpgid(proc.pid), 15)
        proc.wait(20)

    print(f"model {health['model_version']}; tasks from {source}; startup to first /health {startup:.1f} s")
    print(f"{args.requests} sequential /predict requests of {args.batch} tasks "
          f"(mean {statistics.mean(chars) / args.batch:.0f} characters of task data per task):")
    print(f"  p50 {percentile(latencies, 50):.1f} ms   p95 {percentile(latencies, 95):.1f} ms   "
          f"p99 {percentile(latencies, 99):.1f} ms   max {max(latencies):.1f} ms   "
          f"mean {statistics.mean(latencies):.1f} ms")
    print(f"  target p95 < 200 ms: {'met' if percentile(latencies, 95) < 200 else 'NOT met'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
