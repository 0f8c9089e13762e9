"""`python -m sandbox --port 8765`: serve the provider sandbox with werkzeug's threaded server.

Configuration at start: `--config '{"providers": {"crustdata": {"latency_ms": 200}}}'` (or
`--config @file.json`, or the SANDBOX_CONFIG environment variable, same format); `--plain` starts
without the providers' documented rate limits. With `--port 0` a free port is chosen; the first
stdout line is always `SANDBOX_LISTENING <host> <port>` so a parent process can read it.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import logging
import os
import sys
from pathlib import Path
from typing import Any

from werkzeug.serving import make_server

from sandbox.app import create_sandbox_app


def _load_config(raw: str | None) -> dict[str, Any]:
    if not raw:
        return {}
    text = Path(raw[1:]).read_text(encoding="utf-8") if raw.startswith("@") else raw
    value = json.loads(text)
    if not isinstance(value, dict):
        raise SystemExit("sandbox config must be a JSON object")
    return value


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m sandbox", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=int(os.environ.get("SANDBOX_PORT", "8765")))
    parser.add_argument("--config", default=os.environ.get("SANDBOX_CONFIG"))
    parser.add_argument("--plain", action="store_true", help="no default rate limits")
    parser.add_argument("--quiet", action="store_true", help="no request log")
    args = parser.parse_args(argv)
    config = _load_config(args.config)
    if args.plain:
        config["plain"] = True
    if args.quiet:
        logging.getLogger("werkzeug").setLevel(logging.WARNING)
    app = create_sandbox_app(config)
    server = make_server(args.host, args.port, app, threaded=True)
    print(f"SANDBOX_LISTENING {args.host} {server.server_port}", flush=True)
    with contextlib.suppress(KeyboardInterrupt):
        server.serve_forever()
    return 0


if __name__ == "__main__":
    sys.exit(main())
