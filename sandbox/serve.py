"""Starting an emulator's server, the same way for every system: --state loaded, one line on stderr
(what `start_sandbox` and an operator see), uvicorn without access log and with a short graceful stop."""

from __future__ import annotations

import logging
import sys
import time
from collections.abc import Callable
from typing import Any

from sandbox import state


def serve(
    name: str,
    sb: Any,
    build_app: Callable[[Any], Any],
    *,
    host: str,
    port: int,
    log_level: str,
    started: float,
    api_path: str = "",
) -> int:
    """Load the --state file into `sb` (if any), build its ASGI app and serve it until stopped."""
    import uvicorn

    if sb.config.state_file and state.load(sb, sb.config.state_file):
        print(f"{name}: loaded state from {sb.config.state_file}", file=sys.stderr)
    app = build_app(sb)
    print(
        f"{name}: seeded {', '.join(sb.tenants)} in {time.perf_counter() - started:.2f}s; "
        f"listening on http://{host}:{port}{api_path}",
        file=sys.stderr,
        flush=True,
    )
    logging.basicConfig(level=log_level.upper())
    uvicorn.run(app, host=host, port=port, log_level=log_level, access_log=False, timeout_graceful_shutdown=2)
    return 0
