"""Serve the production app from an existing frontend build: pages and backend on one port.

    reflex export --frontend-only --no-zip --env prod   # once per release (`make run-prod` does it)
    python -m klinikita.serve --port 3000

This is what `reflex run --env prod` serves (the backend with the built pages mounted), without
compiling the app and building the frontend again at every start: a start takes seconds, so a
server restarted by `python -m klinikita.supervisor` or systemd is back within seconds. Build
the frontend again after every upgrade, before the restart. The backend's worker count follows
Reflex (`GRANIAN_WORKERS` overrides it).
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence

from klinikita.settings import PROJECT_ROOT

BUILD_MISSING = (
    "no frontend build in {web}/build/client: run "
    "`reflex export --frontend-only --no-zip --env prod` first"
)


def serve(host: str, port: int) -> None:
    """Run the backend on host:port with the built frontend mounted; returns when it stops."""
    from reflex import constants
    from reflex.config import get_config
    from reflex.environment import environment
    from reflex.utils import exec as reflex_exec
    from reflex.utils import prerequisites

    os.chdir(PROJECT_ROOT)
    # The config's backend address (its api_url, which the security headers name) is this
    # port, as `reflex run --env prod --frontend-port P --backend-port P` sets it.
    os.environ["REFLEX_FRONTEND_PORT"] = os.environ["REFLEX_BACKEND_PORT"] = str(port)
    # The switches `reflex run --env prod` sets (they reach every backend worker through the
    # environment): production mode, no compile at start, the built pages mounted.
    environment.REFLEX_ENV_MODE.set(constants.Env.PROD)
    environment.REFLEX_SKIP_COMPILE.set(True)
    environment.REFLEX_MOUNT_FRONTEND_COMPILED_APP.set(True)

    web = prerequisites.get_web_dir()
    if not (web / "build" / "client" / "index.html").exists():
        raise SystemExit(BUILD_MISSING.format(web=web))
    loglevel = get_config().loglevel.subprocess_level()
    if reflex_exec.should_use_granian():
        reflex_exec.run_granian_backend_prod(host, port, loglevel)
    else:
        reflex_exec.run_uvicorn_backend_prod(host, port, loglevel)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m klinikita.serve",
        description="Serve the built Klinikita app (pages and backend) on one port.",
    )
    parser.add_argument("--host", default="0.0.0.0", help="address to listen on (0.0.0.0)")
    parser.add_argument("--port", type=int, default=3000, help="port to listen on (3000)")
    args = parser.parse_args(argv)
    serve(args.host, args.port)
    return 0


if __name__ == "__main__":
    sys.exit(main())
