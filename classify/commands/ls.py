"""`classify ls`: run Label Studio locally, push segments, pull annotations, connect the ML backend."""

from __future__ import annotations

import argparse
import sys

NAME = "ls"
HELP = "Label Studio: serve locally, push segments as tasks, pull annotations, connect the ML backend"
DESCRIPTION = """\
Drive a Label Studio server through its API (label-studio-sdk).

The server and key come from LABEL_STUDIO_URL and LABEL_STUDIO_API_KEY (--url and
--api-key-file override them); the key is never printed.

examples:
  classify ls serve                                  # local server on http://127.0.0.1:8080
  export LABEL_STUDIO_URL=http://127.0.0.1:8080
  classify ls push letters/ --project Migratie --api-key-file ~/.local/share/classify/label-studio/classify-credentials.json
  classify ls push new/ --project Migratie --model default --order uncertain --limit 50
  classify ls pull --project Migratie --out annotations/exports/2026-01-15.json
  classify ls connect-ml --project Migratie --url http://127.0.0.1:9090
  classify ls config --check                         # label_config.xml matches classify/topics.py?
"""


def _connection_args(p: argparse.ArgumentParser) -> None:
    g = p.add_argument_group("connection")
    g.add_argument("--url", help="Label Studio URL (default: $LABEL_STUDIO_URL, else http://localhost:8080)")
    g.add_argument("--api-key-file", metavar="FILE",
                   help="read the API key from FILE (a file holding the key, or the credentials file "
                        "of `classify ls serve`); default: $LABEL_STUDIO_API_KEY")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="ls_command", metavar="ACTION")
    fmt = argparse.RawDescriptionHelpFormatter

    p = sub.add_parser("serve", help="start a local Label Studio for annotators (127.0.0.1)",
                       formatter_class=fmt, description=(
                           "Start Label Studio bound to 127.0.0.1 with a first user and API token created "
                           "non-interactively (kept in a 0600 credentials file in the data dir), telemetry "
                           "and version checks off. The first start on a new data dir migrates its "
                           "database (about a minute). Stop with Ctrl-C."))
    p.add_argument("--data-dir", help="data directory (default: $CLASSIFY_LS_DATA_DIR, else "
                                      "~/.local/share/classify/label-studio)")
    p.add_argument("--port", type=int, default=8080, help="port (default: 8080)")
    p.add_argument("--username", help="e-mail of the first user, on the first start only "
                                      "(default: admin@classify.local)")
    p.add_argument("--timeout", type=float, default=600, help="seconds to wait for the server (default: 600)")

    p = sub.add_parser("push", help="segment documents and import them as tasks", formatter_class=fmt,
                       description=(
                           "Segment the documents and import one task per segment into the project "
                           "(created with the labelling config and guideline if it does not exist). "
                           "Segments already in the project are skipped (stable ids with a text hash). "
                           "With --model each task carries the model's prediction; --order uncertain "
                           "--limit N imports the N segments the model is least sure about."))
    p.add_argument("paths", nargs="+", metavar="PATH", help="documents, directories or globs")
    p.add_argument("--project", required=True, metavar="TITLE", help="project title")
    p.add_argument("--model", metavar="DIR", help="model directory for predictions ('default' = the default model)")
    p.add_argument("--limit", type=int, metavar="N", help="import at most N new segments")
    p.add_argument("--order", choices=("document", "uncertain"), default="document",
                   help="which new segments first: in document order, or least sure prediction first "
                        "(needs --model); default: document")
    _connection_args(p)

    p = sub.add_parser("pull", help="write a full JSON export (all tasks) of a project",
                       formatter_class=fmt, description=(
                           "Write a full JSON export of the project, all tasks with their annotations "
                           "and predictions, atomically. An existing file is only replaced with --force."))
    p.add_argument("--project", required=True, metavar="TITLE", help="project title")
    p.add_argument("--out", required=True, metavar="FILE", help="export file, e.g. annotations/exports/NAME.json")
    p.add_argument("--force", action="store_true", help="replace FILE if it exists")
    _connection_args(p)

    p = sub.add_parser("connect-ml", help="register an ML backend (classify serve-ml) with a project",
                       formatter_class=fmt, description=(
                           "Register the ML backend at URL with the project (reused when already "
                           "registered). Label Studio checks the backend first; for a backend on "
                           "127.0.0.1 the server needs ML_BLOCK_LOCAL_IP=false and "
                           "SSRF_PROTECTION_ENABLED=false, which `classify ls serve` sets."))
    p.add_argument("--project", required=True, metavar="TITLE", help="project title")
    p.add_argument("--url", dest="ml_url", required=True, metavar="URL", help="ML backend URL")
    p.add_argument("--retrieve", action="store_true",
                   help="then ask Label Studio to fetch predictions for all tasks of the project")
    p.add_argument("--ls-url", dest="url", help="Label Studio URL (default: $LABEL_STUDIO_URL)")
    p.add_argument("--api-key-file", metavar="FILE", help="read the API key from FILE")

    p = sub.add_parser("config", help="print, check or write the labelling config generated from the topics",
                       formatter_class=fmt, description=(
                           "The labelling config annotations/label_config.xml is generated from the "
                           "topic registry (classify/topics.py). Without options it is printed."))
    g = p.add_mutually_exclusive_group()
    g.add_argument("-w", "--write", action="store_true", help="regenerate annotations/label_config.xml")
    g.add_argument("--check", action="store_true", help="exit 1 if annotations/label_config.xml is out of date")


def _connect(args):
    from classify import labelstudio

    key = labelstudio.read_api_key_file(args.api_key_file) if getattr(args, "api_key_file", None) else None
    return labelstudio.connect(getattr(args, "url", None), key)


def _serve(args) -> int:
    from pathlib import Path

    from classify import labelstudio

    data_dir = (Path(args.data_dir) if args.data_dir else labelstudio.default_data_dir()).absolute()
    first = not (data_dir / labelstudio.DATABASE_FILE).exists()
    labelstudio.label_studio_version()
    if first:
        print(f"first start in {data_dir}: creating the database (about a minute)...", file=sys.stderr)
    server = labelstudio.start_server(data_dir, args.port, username=args.username, timeout=args.timeout)
    try:
        print(f"Label Studio is running at {server.url}")
        print(f"  user:        {server.username} (password and API token in {server.credentials_file})")
        print(f"  log:         {server.log_file}")
        print(f"  for classify: export LABEL_STUDIO_URL={server.url}  and pass "
              f"--api-key-file {server.credentials_file}")
        print("Press Ctrl-C to stop.", flush=True)
        code = server.process.wait()
        print(f"classify: error: Label Studio exited with status {code}; see {server.log_file}",
              file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("stopping Label Studio...", file=sys.stderr)
        return 0
    finally:
        server.stop()


def _push(args) -> int:
    from classify import labelstudio

    model = None
    if args.model:
        from classify.artifacts import load_model

        model = load_model(None if args.model == "default" else args.model)
    conn = _connect(args)
    r = labelstudio.push(conn, args.project, args.paths, model=model, limit=args.limit, order=args.order)
    for e in r.errors:
        print(f"classify: error: {e.message}" if e.path in e.message else f"classify: error: {e.path}: {e.message}",
              file=sys.stderr)
    state = "created" if r.project_created else "existing"
    print(f"project {args.project!r} (id {r.project_id}, {state}) at {conn.url}")
    print(f"  {r.documents} documents, {r.segments} segments; {r.already} already in the project")
    extra = f" with predictions of model {r.model_version}" if r.model_version else ""
    print(f"  imported {r.imported} tasks{extra}" + (f"; {r.withheld} left for a later push (--limit)"
                                                     if r.withheld else ""))
    if r.errors:
        print(f"  {len(r.errors)} of {r.documents} documents failed (see above)")
        return 1
    return 0


def _pull(args) -> int:
    from classify import labelstudio

    conn = _connect(args)
    r = labelstudio.pull(conn, args.project, args.out, force=args.force)
    print(f"wrote {r.path}: {r.tasks} tasks, {r.annotated} annotated ({r.annotations} annotations, "
          f"{r.cancelled} cancelled)")
    return 0


def _connect_ml(args) -> int:
    from classify import labelstudio

    conn = _connect(args)
    backend = labelstudio.connect_ml(conn, args.project, args.ml_url)
    print(f"ML backend {args.ml_url} connected to project {args.project!r} (backend id {backend})")
    if args.retrieve:
        labelstudio.retrieve_predictions(conn, args.project)
        print("asked Label Studio to retrieve predictions for all tasks")
    return 0


def _config(args) -> int:
    from classify import labelconfig

    if args.write:
        print(f"wrote {labelconfig.write_config()}")
        return 0
    if args.check:
        path = labelconfig.config_path()
        if labelconfig.check_config(path):
            print(f"{path} is up to date")
            return 0
        print(f"{path} differs from the config generated from classify/topics.py; "
              "run `classify ls config --write`", file=sys.stderr)
        return 1
    sys.stdout.write(labelconfig.label_config())
    return 0


def run(args) -> int:
    actions = {"serve": _serve, "push": _push, "pull": _pull, "connect-ml": _connect_ml, "config": _config}
    if not args.ls_command:
        print("classify ls: choose an action: " + ", ".join(actions) + " (see classify ls --help)",
              file=sys.stderr)
        return 2
    return actions[args.ls_command](args)
