"""The app-layer processes: ``python -m cloudoptima_cli.entry_points <process> [args]``.

``cloudoptima worker``, ``cloudoptima mcp`` and ``cloudoptima eval`` replace themselves with one of these
(a fresh interpreter, the same pid); ``cloudoptima up`` spawns its worker and gateway children with them.
Each process imports its app layer here, inside the function that runs it: the import linter sees every edge
from the CLI to the app layers, and neither the CLI nor the supervisor of ``cloudoptima up`` pays for
importing an app it only starts.

This module imports nothing heavy at import time; keep it that way.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence
from typing import NoReturn

MCP_SERVERS = ("aws", "azure", "gcp", "platform")


def run_worker(argv: Sequence[str]) -> None:
    """A Temporal worker (``--queues``, ``--threads``), until SIGINT / SIGTERM."""
    from cloudoptima_workflows.worker import main as work

    work(argv)
    # The worker has stopped cleanly: every Temporal worker shut down, the health server closed. The Temporal
    # SDK's Rust core and grpc keep native threads that can still touch the GIL while the interpreter
    # finalizes ("Fatal Python error: PyGILState_Release", exit -6 after a clean SIGTERM, seen in the suite),
    # so this process (a fresh interpreter of its own, see the module contract) leaves without finalizing.
    import logging
    import os

    logging.shutdown()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(0)


GATEWAY_APP = "cloudoptima_gateway.main:app_factory"
"""The gateway's app factory as an import string: each uvicorn worker process imports and calls it."""


def run_gateway(argv: Sequence[str]) -> None:
    """The FastAPI gateway under uvicorn on ``--host`` / ``--port``, without access log, in ``--workers``
    processes (default: the ``GATEWAY_WORKERS`` setting, ``Settings.resolved_gateway_workers``).

    One process serves the app built here. Several share the listening socket, each building the app from
    :data:`GATEWAY_APP`, with their Prometheus metrics summed through a shared directory
    (``cloudoptima_gateway.process_metrics``); everything else they share lives in Redis or the database.
    """
    import uvicorn

    parser = argparse.ArgumentParser(prog="cloudoptima gateway")
    parser.add_argument("--host", required=True)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--workers", type=int, default=None)
    args = parser.parse_args(argv)
    workers = args.workers
    if workers is None:
        from cloudoptima.settings import load_settings

        workers = load_settings().resolved_gateway_workers
    if workers < 1:
        parser.error(f"--workers must be at least 1, got {workers}")
    if workers == 1:
        from cloudoptima_gateway.main import app_factory

        uvicorn.run(app_factory, factory=True, host=args.host, port=args.port, access_log=False)
        return
    from cloudoptima_gateway.process_metrics import prepare_multiprocess_directory

    with prepare_multiprocess_directory():
        uvicorn.run(
            GATEWAY_APP, factory=True, workers=workers, host=args.host, port=args.port, access_log=False
        )


def run_mcp(argv: Sequence[str]) -> None:
    """The MCP server named by the first argument (aws, azure, gcp or platform) with the rest as its args."""
    server, *rest = argv or [""]
    if server == "aws":
        from cloudoptima_mcp.aws import main as serve
    elif server == "azure":
        from cloudoptima_mcp.azure import main as serve
    elif server == "gcp":
        from cloudoptima_mcp.gcp import main as serve
    elif server == "platform":
        from cloudoptima_mcp.platform import main as serve
    else:
        raise SystemExit(f"unknown MCP server {server!r}; expected one of {', '.join(MCP_SERVERS)}")
    serve(rest)


def run_eval(argv: Sequence[str]) -> NoReturn:
    """Every quality evaluation; exits 1 when a floor does not hold."""
    from cloudoptima_evals.__main__ import main as evaluate

    sys.exit(evaluate(list(argv)))


PROCESSES: dict[str, Callable[[Sequence[str]], None]] = {
    "worker": run_worker,
    "gateway": run_gateway,
    "mcp": run_mcp,
    "eval": run_eval,
}


def command(process: str, *args: str) -> list[str]:
    """The argv that runs ``process`` with ``args`` in a fresh interpreter (this interpreter's)."""
    if process not in PROCESSES:
        raise ValueError(f"unknown process {process!r}; expected one of {', '.join(PROCESSES)}")
    return [sys.executable, "-m", __name__, process, *args]


def main(argv: Sequence[str] | None = None) -> None:
    """Run the process named by the first argument (exit 2 with a usage line for anything else)."""
    process, *rest = (sys.argv[1:] if argv is None else list(argv)) or [""]
    if process not in PROCESSES:
        print(
            f"usage: python -m {__spec__.name if __spec__ else __name__} {{{','.join(PROCESSES)}}} [args]",
            file=sys.stderr,
        )
        raise SystemExit(2)
    PROCESSES[process](rest)


if __name__ == "__main__":
    main()
