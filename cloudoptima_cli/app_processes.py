"""``cloudoptima worker``, ``gateway``, ``mcp`` and ``eval``: commands that become an app-layer
process. Each checks its arguments and the environment, then replaces this process with the matching
:mod:`cloudoptima_cli.entry_points` process (a fresh interpreter, the same pid for supervisors).
"""

from __future__ import annotations

import contextlib
import os
from typing import Annotated, NoReturn

import typer

from cloudoptima.settings import SettingsError
from cloudoptima_cli import entry_points
from cloudoptima_cli.common import StateDir, fail, settings_or_fail

MCP_SERVERS = entry_points.MCP_SERVERS


def _become(process: str, args: list[str]) -> NoReturn:
    """Replace this process with the app-layer ``process`` run with ``args`` (keeps the pid for supervisors)."""
    argv = entry_points.command(process, *args)
    os.execv(argv[0], argv)  # noqa: S606


def worker(
    ctx: typer.Context,
    state_dir: StateDir = None,
    queues: Annotated[str | None, typer.Option(help="Comma-separated task queues (default: all).")] = None,
    threads: Annotated[
        int | None,
        typer.Option(min=1, max=256, help="Activity threads (default: CLOUDOPTIMA_WORKER_THREADS, else 16)."),
    ] = None,
) -> None:
    """Run a Temporal worker for the given task queues (scale out by starting more)."""
    settings = settings_or_fail(state_dir)
    try:
        os.environ.setdefault("DATABASE_URL", settings.resolved_database_url())
        os.environ.setdefault("TEMPORAL_ADDRESS", settings.resolved_temporal_address())
    except SettingsError as exc:
        fail(str(exc))
    os.environ["CLOUDOPTIMA_STATE_DIR"] = str(settings.state_path)
    args = [*ctx.args]
    if queues:
        args += ["--queues", queues]
    if threads is not None:
        args += ["--threads", str(threads)]
    _become("worker", args)


def gateway(
    host: Annotated[str, typer.Option("--host", help="Bind address (0.0.0.0 in a container).")] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", min=1, max=65535, help="HTTP port.")] = 8000,
    workers: Annotated[
        int | None,
        typer.Option(
            "--workers",
            min=1,
            max=64,
            help="Gateway processes sharing the port (default GATEWAY_WORKERS, else min(CPUs, 4) in "
            "production mode, 1 in embedded mode).",
        ),
    ] = None,
) -> None:
    """Serve the REST API, the console and /mcp (what a container runs; settings from the environment)."""
    settings = settings_or_fail(None, gateway_workers=workers)
    _become(
        "gateway",
        ["--host", host, "--port", str(port), "--workers", str(settings.resolved_gateway_workers)],
    )


def mcp(
    server: Annotated[str, typer.Argument(help="aws, azure, gcp or platform.")],
    transport: Annotated[str, typer.Option("--transport", help="stdio (default) or http.")] = "stdio",
    read_only: Annotated[
        bool, typer.Option("--read-only", help="List only tools that change nothing.")
    ] = False,
    port: Annotated[int, typer.Option("--port", help="HTTP port (default 8765).")] = 8765,
    host: Annotated[str | None, typer.Option("--host", help="HTTP bind address.")] = None,
    toolsets: Annotated[
        str | None,
        typer.Option(
            "--toolsets",
            help="Toolsets to list, e.g. cost,compute, or all (default CLOUDOPTIMA_MCP_TOOLSETS, else the "
            "server's default); checked by the server.",
        ),
    ] = None,
    workers: Annotated[
        int | None,
        typer.Option(
            "--workers",
            help="HTTP server processes (default CLOUDOPTIMA_MCP_WORKERS or 1); checked by the server.",
        ),
    ] = None,
    stateful: Annotated[
        bool,
        typer.Option(
            "--stateful",
            help="Keep MCP sessions and SSE streams over HTTP (one process; default: stateless, JSON).",
        ),
    ] = False,
    state_dir: StateDir = None,
) -> None:
    """Run an MCP server (stdio acts for CLOUDOPTIMA_API_KEY; http requires a bearer on every request)."""
    if server not in MCP_SERVERS:
        fail(f"unknown MCP server {server!r}; expected one of {', '.join(MCP_SERVERS)}")
    if transport not in ("stdio", "http"):
        fail(f"--transport must be stdio or http (got {transport!r})")
    settings = settings_or_fail(state_dir)
    try:
        os.environ.setdefault("DATABASE_URL", settings.resolved_database_url())
    except SettingsError as exc:
        fail(str(exc))
    with contextlib.suppress(SettingsError):
        os.environ.setdefault("TEMPORAL_ADDRESS", settings.resolved_temporal_address())
    os.environ["CLOUDOPTIMA_STATE_DIR"] = str(settings.state_path)
    args = ["--transport", transport, "--port", str(port)]
    if read_only:
        args.append("--read-only")
    if host:
        args += ["--host", host]
    if toolsets is not None:
        args += ["--toolsets", toolsets]
    if workers is not None:
        args += ["--workers", str(workers)]
    if stateful:
        args.append("--stateful")
    _become("mcp", [server, *args])


def run_eval(
    ctx: typer.Context,
    as_json: Annotated[bool, typer.Option("--json", help="Print the metrics as JSON.")] = False,
) -> None:
    """Measure recommendation, anomaly/root-cause and forecast quality against sandbox ground truth."""
    args = [*ctx.args]
    if as_json:
        args.append("--json")
    _become("eval", args)
