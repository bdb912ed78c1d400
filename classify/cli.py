"""Command-line entry point: argument parsing, printing and exit codes; nothing else.

Each subcommand lives in ``classify/commands/<name>.py`` with ``NAME``, ``HELP``,
``add_arguments(parser)`` and ``run(args) -> int``. Command modules import heavy libraries
inside ``run`` only, so ``classify --help`` stays instant.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence

from classify import __version__
from classify.errors import ClassifyError

# Order in which the subcommands are listed in --help.
COMMAND_MODULES = [
    "segment",
    "ls",
    "dataset",
    "agreement",
    "train",
    "evaluate",
    "predict",
    "tag",
    "models",
    "retrain",
    "serve_ml",
    "audit",
]

EXIT_OK = 0
EXIT_PARTIAL = 1  # some inputs failed, the others were processed
EXIT_ERROR = 2  # bad usage or nothing could be done
EXIT_INTERRUPTED = 130
# Commands after which the process exits without freeing its memory object by object (see entry).
FAST_EXIT_COMMANDS = ("tag",)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="classify",
        description="Segment Dutch parliamentary documents on asylum and migration, annotate them "
        "in Label Studio, train a topic classifier and tag incoming letters.",
    )
    parser.add_argument("--version", action="version", version=f"classify {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMAND_MODULES:
        module = importlib.import_module(f"classify.commands.{name}")
        p = sub.add_parser(module.NAME, help=module.HELP, description=getattr(module, "DESCRIPTION", module.HELP),
                           formatter_class=argparse.RawDescriptionHelpFormatter)
        module.add_arguments(p)
        p.set_defaults(_run=module.run)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "_run", None):
        parser.print_help(sys.stderr)
        return EXIT_ERROR
    try:
        return int(args._run(args) or 0)
    except ClassifyError as exc:
        print(f"classify: error: {exc}", file=sys.stderr)
        return EXIT_ERROR
    except KeyboardInterrupt:
        print("classify: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    except BrokenPipeError:
        return EXIT_OK


def entry() -> None:
    """The ``classify`` command (and ``python -m classify``): :func:`main`, then exit.

    After a ``tag`` run the process holds the model, the libraries and the word caches
    (hundreds of MB in millions of objects); the interpreter's teardown frees them one by one,
    ~0.3 s that nobody waits for gladly. So for those commands the exit handlers are run and the
    streams flushed, and the process ends without the teardown (every output is committed,
    atomically, before ``main`` returns)."""
    argv = sys.argv[1:]
    code = main(argv)
    if argv[:1] and argv[0] in FAST_EXIT_COMMANDS and not _still_running():
        import atexit
        import os

        atexit._run_exitfuncs()
        for stream in (sys.stdout, sys.stderr):
            try:
                stream.flush()
            except (OSError, ValueError):
                pass
        os._exit(code)
    sys.exit(code)


def _still_running() -> bool:
    """Whether threads or child processes are still at work (e.g. joblib's reusable workers on
    systems without ``fork``): then the interpreter's own exit shuts them down in order."""
    import multiprocessing
    import threading

    others = [t for t in threading.enumerate() if t is not threading.main_thread() and not t.daemon]
    return bool(others or multiprocessing.active_children())
