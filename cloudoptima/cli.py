"""The ``cloudoptima`` command: the CLI's composition root.

App layers (worker, gateway, MCP servers) run in their own processes (``python -m ...``), so the kernel
never imports them.
"""

from __future__ import annotations

import json
import os
import signal
import sys
import time
from pathlib import Path
from types import FrameType
from typing import Annotated, Any, NoReturn

import httpx
import psutil
import typer
from rich.console import Console
from rich.panel import Panel
from rich.table import Table

from cloudoptima.embedded.platform import (
    Platform,
    PlatformError,
    check_ports,
    prepare_state_dir,
    start_platform,
    state_lock,
    supervise,
)
from cloudoptima.embedded.ports import PortInUseError
from cloudoptima.embedded.postgres import EmbeddedPostgresError
from cloudoptima.embedded.redis import EmbeddedRedisError
from cloudoptima.embedded.temporal import EmbeddedTemporalError
from cloudoptima.settings import Settings, SettingsError, load_settings

app = typer.Typer(
    add_completion=False, no_args_is_help=True, help="CloudOptima: multi-cloud FinOps platform."
)
db_app = typer.Typer(no_args_is_help=True, help="Database maintenance.")
app.add_typer(db_app, name="db")
console = Console()
err_console = Console(stderr=True, soft_wrap=True)

KNOWN_ERRORS = (
    PlatformError,
    SettingsError,
    PortInUseError,
    EmbeddedPostgresError,
    EmbeddedRedisError,
    EmbeddedTemporalError,
)

StateDir = Annotated[
    Path | None,
    typer.Option("--state-dir", help="State directory (default ./.cloudoptima or CLOUDOPTIMA_STATE_DIR)."),
]


def fail(message: str) -> NoReturn:
    """Print one clear line and exit 1 (no traceback for errors a person can act on)."""
    err_console.print(f"[bold red]error:[/] {message}", highlight=False)
    raise typer.Exit(1)


def _settings(state_dir: Path | None, **overrides: Any) -> Settings:
    try:
        return load_settings(state_dir=state_dir, **overrides)
    except (SettingsError, ValueError) as exc:
        fail(str(exc).splitlines()[0])


class _StopFlag:
    def __init__(self) -> None:
        self.requested = False

    def handler(self, signum: int, _frame: FrameType | None) -> None:
        if self.requested:
            return
        self.requested = True
        raise KeyboardInterrupt(signal.Signals(signum).name)


def _print_ready(platform: Platform, credentials: Any, created: bool) -> None:
    table = Table(show_header=False, box=None)
    urls = platform.urls
    table.add_row("API docs", urls["api_docs_url"])
    table.add_row("Health", urls["gateway_url"] + "/health/detailed")
    table.add_row("Metrics", urls["gateway_url"] + "/metrics")
    if "temporal_ui_url" in urls:
        table.add_row("Temporal UI", urls["temporal_ui_url"])
    table.add_row("Temporal", urls["temporal_address"])
    table.add_row("Database", urls["database_url"])
    table.add_row("Redis", urls["redis_url"])
    table.add_row("Credentials", str(platform.settings.credentials_file))
    console.print(Panel(table, title="CloudOptima is running", subtitle="Ctrl-C stops everything"))
    if created:
        console.print(
            "[bold]Demo login (shown once, also in the credentials file):[/]\n"
            f"  email:    {credentials.email}\n  password: {credentials.password}\n"
            f"  api key:  {credentials.api_key}\n  org id:   {credentials.organization_id}",
            highlight=False,
        )


@app.command()
def up(
    state_dir: StateDir = None,
    port: Annotated[int | None, typer.Option("--port", help="Gateway port (default 8000).")] = None,
    temporal_port: Annotated[int | None, typer.Option(help="Temporal gRPC port (default 7233).")] = None,
    temporal_ui_port: Annotated[int | None, typer.Option(help="Temporal Web UI port (default 8233).")] = None,
    postgres_port: Annotated[int | None, typer.Option(help="Embedded Postgres port.")] = None,
    redis_port: Annotated[int | None, typer.Option(help="Embedded Redis port.")] = None,
) -> None:
    """Start the whole platform on embedded defaults and supervise it until Ctrl-C."""
    settings = _settings(
        state_dir,
        gateway_port=port,
        temporal_port=temporal_port,
        temporal_ui_port=temporal_ui_port,
        postgres_port=postgres_port,
        redis_port=redis_port,
    )
    flag = _StopFlag()
    signal.signal(signal.SIGTERM, flag.handler)
    signal.signal(signal.SIGINT, flag.handler)
    started = time.monotonic()
    code = 0
    try:
        prepare_state_dir(settings.state_path)
        with state_lock(settings.state_path):
            settings.check_production_safety()
            _ = settings.resolved_jwt_secret  # generate or validate secrets before anything starts
            check_ports(settings)
            holder: dict[str, Any] = {}

            def bootstrap(platform: Platform) -> None:
                from cloudoptima.services.bootstrap import ensure_demo_organisation
                from cloudoptima.storage.engine import make_engine, session_factory

                engine = make_engine(platform.urls["database_url"], pool_size=2)
                try:
                    holder["credentials"], holder["created"] = ensure_demo_organisation(
                        session_factory(engine), settings.credentials_file
                    )
                except ValueError as exc:
                    raise PlatformError(str(exc)) from exc
                finally:
                    engine.dispose()

            platform = start_platform(settings, lambda line: console.print(f"[dim]•[/] {line}"), bootstrap)
            try:
                console.print(f"[green]healthy[/] in {time.monotonic() - started:.1f} s")
                _print_ready(platform, holder["credentials"], holder["created"])
                code = supervise(platform, lambda: flag.requested)
            except KeyboardInterrupt:
                code = 0
            finally:
                console.print("stopping…")
                platform.stop_all()
    except KeyboardInterrupt:
        console.print("stopped")
        code = 0  # a requested stop is a clean stop, whatever phase it interrupted
    except KNOWN_ERRORS as exc:
        fail(str(exc).splitlines()[0])
    raise typer.Exit(code)


@app.command()
def status(state_dir: StateDir = None, as_json: Annotated[bool, typer.Option("--json")] = False) -> None:
    """Report what is running for this state directory (exit 1 when not running or unhealthy)."""
    settings = _settings(state_dir)
    path = settings.runtime_file
    if not path.exists():
        fail(f"no platform is running for {settings.state_path} (start it with `cloudoptima up`)")
    try:
        runtime = json.loads(path.read_text())
    except ValueError:
        fail(f"{path} is unreadable; stop any running platform and start it again")
    pids: dict[str, int] = runtime.get("pids", {})
    processes = {name: psutil.pid_exists(pid) for name, pid in pids.items()}
    health: dict[str, Any]
    try:
        response = httpx.get(runtime["gateway_url"] + "/health/detailed", timeout=5)
        health = response.json()
    except (httpx.HTTPError, ValueError, KeyError) as exc:
        health = {"status": "unreachable", "error": str(exc)}
    report = {
        "state_dir": str(settings.state_path),
        "processes": processes,
        "health": health,
        "urls": runtime,
    }
    if as_json:
        console.print_json(json.dumps(report))
    else:
        table = Table(title=f"CloudOptima at {settings.state_path}")
        table.add_column("piece")
        table.add_column("state")
        for name, alive in processes.items():
            table.add_row(name, "[green]running[/]" if alive else "[red]stopped[/]")
        for name, check in health.get("checks", {}).items():
            table.add_row(f"{name} check", check.get("status", "?"))
        table.add_row("overall", health.get("status", "?"))
        console.print(table)
    if health.get("status") != "healthy" or not all(processes.values()):
        raise typer.Exit(1)


def _exec_module(module: str, args: list[str]) -> NoReturn:
    """Replace this process with ``python -m module args`` (keeps the pid for supervisors)."""
    os.execv(sys.executable, [sys.executable, "-m", module, *args])  # noqa: S606


@app.command(context_settings={"allow_extra_args": True, "ignore_unknown_options": True})
def worker(
    ctx: typer.Context,
    state_dir: StateDir = None,
    queues: Annotated[str | None, typer.Option(help="Comma-separated task queues (default: all).")] = None,
) -> None:
    """Run a Temporal worker for the given task queues (scale out by starting more)."""
    settings = _settings(state_dir)
    try:
        os.environ.setdefault("DATABASE_URL", settings.resolved_database_url())
        os.environ.setdefault("TEMPORAL_ADDRESS", settings.resolved_temporal_address())
    except SettingsError as exc:
        fail(str(exc))
    os.environ["CLOUDOPTIMA_STATE_DIR"] = str(settings.state_path)
    args = [*ctx.args]
    if queues:
        args += ["--queues", queues]
    _exec_module("temporal_workflows.worker", args)


@db_app.command("upgrade")
def db_upgrade(state_dir: StateDir = None) -> None:
    """Apply database migrations to DATABASE_URL (or the running embedded database)."""
    from cloudoptima.storage.migrate import upgrade as run_upgrade

    settings = _settings(state_dir)
    try:
        run_upgrade(settings.resolved_database_url())
    except SettingsError as exc:
        fail(str(exc))
    console.print("database is at the latest revision")


def main() -> None:
    """Console-script entry point."""
    app()


if __name__ == "__main__":
    main()
