"""classify serve-ml — the Label Studio ML backend (live predictions, training from Label Studio)."""

from __future__ import annotations

NAME = "serve-ml"
HELP = "serve the topic model to Label Studio as an ML backend (predictions and retraining)"
DESCRIPTION = """\
A small web service implementing Label Studio's ML backend protocol: GET /health, POST /setup,
POST /predict, POST /webhook (START_TRAINING from Label Studio's "Start training" button, and
optionally every N new annotations). Training runs 'classify retrain --project TITLE' in the
background with the registry's promotion rule; a promoted model replaces the served one without
dropping requests. Annotations are fetched with LABEL_STUDIO_URL and LABEL_STUDIO_API_KEY
(falling back to the URL and token Label Studio sends on /setup).

Label Studio refuses a backend on 127.0.0.1 unless it runs with ML_BLOCK_LOCAL_IP=false and
SSRF_PROTECTION_ENABLED=false ('classify ls serve' sets both).

examples:
  classify serve-ml                                  # default model, 127.0.0.1:9090
  classify serve-ml --model models/seed-3f2a9c1d --port 9091
  classify serve-ml --retrain-every 50               # also retrain after every 50 annotations
  classify ls connect-ml --project "Migratie" --url http://127.0.0.1:9090
"""


def add_arguments(parser) -> None:
    parser.add_argument("--model", metavar="DIR", help="model directory (default: the registry's "
                        "default model, following promotions and rollbacks)")
    parser.add_argument("--host", default="127.0.0.1", help="address to bind (default: %(default)s)")
    parser.add_argument("--port", type=int, default=9090, help="port (default: %(default)s)")
    parser.add_argument("--retrain-every", type=int, default=0, metavar="N",
                        help="retrain after every N new annotations (default: 0, only on request)")


def run(args) -> int:
    import sys

    from classify.errors import ClassifyError
    from classify.mlbackend import serve

    if args.retrain_every < 0:
        raise ClassifyError(f"--retrain-every {args.retrain_every}: must be 0 (off) or a positive number")
    if not 0 < args.port < 65536:
        raise ClassifyError(f"--port {args.port}: not a valid port number")
    print(f"classify ML backend on http://{args.host}:{args.port} (Ctrl-C stops it)", file=sys.stderr,
          flush=True)
    serve(args.model, args.host, args.port, retrain_every=args.retrain_every)
    return 0
