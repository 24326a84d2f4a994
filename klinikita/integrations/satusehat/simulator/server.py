"""Run the simulator with uvicorn (`python -m klinikita.integrations.satusehat.simulator`)."""

from __future__ import annotations

import argparse
import logging
from collections.abc import Sequence
from pathlib import Path

from .config import SimulatorConfig
from .simulator import Simulator

DROP_LOG_MESSAGE = "ASGI callable returned without completing response."


class IntentionalDropFilter(logging.Filter):
    """Silence uvicorn's complaint about the connections the drop faults break on purpose."""

    def filter(self, record: logging.LogRecord) -> bool:
        return record.getMessage() != DROP_LOG_MESSAGE


def install_drop_log_filter() -> None:
    target = logging.getLogger("uvicorn.error")
    if not any(isinstance(f, IntentionalDropFilter) for f in target.filters):
        target.addFilter(IntentionalDropFilter())


def serve(
    host: str = "127.0.0.1",
    port: int = 9080,
    data_file: str | Path | None = None,
    *,
    config: SimulatorConfig | None = None,
    simulator: Simulator | None = None,
    root_path: str = "",
    log_level: str = "info",
) -> None:
    """Serve until interrupted. `data_file` keeps resources and added clients across restarts."""
    import uvicorn

    sim = simulator or Simulator(config, data_file=data_file)
    install_drop_log_filter()
    try:
        uvicorn.run(
            sim.create_app(),
            host=host,
            port=port,
            root_path=root_path,
            log_level=log_level,
            lifespan="off",
        )
    finally:
        sim.close()


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description="Local SATUSEHAT (FHIR R4) simulator")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=9080)
    parser.add_argument("--data-file", default=None, help="SQLite file to persist resources")
    parser.add_argument("--root-path", default="", help="path prefix when behind a proxy")
    parser.add_argument("--token-lifetime", type=int, default=3599, help="expires_in seconds")
    parser.add_argument("--log-level", default="info")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    serve(
        args.host,
        args.port,
        args.data_file,
        config=SimulatorConfig(token_lifetime_seconds=args.token_lifetime),
        root_path=args.root_path,
        log_level=args.log_level,
    )
    return 0
