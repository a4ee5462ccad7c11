"""``cloudoptima up`` and ``cloudoptima status``: the whole platform on embedded defaults, supervised until
Ctrl-C, and what is running for a state directory.

The worker and the gateway are started through :mod:`cloudoptima_cli.entry_points`, which imports their app
layers in the child processes; the embedded launcher (``cloudoptima.embedded.platform``) is told what to
start and names no app layer itself.
"""

from __future__ import annotations

import json
import signal
import time
from types import FrameType
from typing import Annotated, Any

import httpx
import psutil
import typer
from rich.panel import Panel
from rich.table import Table

from cloudoptima.embedded.platform import (
    AppProcesses,
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
from cloudoptima.settings import Settings, SettingsError
from cloudoptima_cli import entry_points
from cloudoptima_cli.common import StateDir, console, err_console, fail, settings_or_fail

KNOWN_ERRORS = (
    PlatformError,
    SettingsError,
    PortInUseError,
    EmbeddedPostgresError,
    EmbeddedRedisError,
    EmbeddedTemporalError,
)

APP_PROCESSES = AppProcesses(
    worker=entry_points.command("worker"),
    gateway=entry_points.command("gateway"),
)
"""The worker and the gateway children of ``cloudoptima up`` (the gateway's ``--host``/``--port`` are appended
by the platform)."""


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


def _start_first_analysis(temporal_address: str, namespace: str, organization_id: str) -> None:
    """Start the analysis workflow for the demo organisation at once (anomalies with explanations,
    recommendations, budgets), so the first screen is not empty until the hourly schedule fires. The workflow
    is started by its registered name and JSON input, as ``cloudoptima collect`` starts its workflows."""
    import asyncio

    from temporalio.client import Client
    from temporalio.common import WorkflowIDConflictPolicy
    from temporalio.contrib.pydantic import pydantic_data_converter

    async def start() -> None:
        client = await Client.connect(
            temporal_address, namespace=namespace, data_converter=pydantic_data_converter
        )
        await client.start_workflow(
            "AnalyseOrganisation",
            {"organization_id": organization_id},
            id=f"analyse-first-start-{organization_id}",
            task_queue="processing",
            id_conflict_policy=WorkflowIDConflictPolicy.USE_EXISTING,
        )

    try:
        asyncio.run(start())
    except Exception as exc:
        err_console.print(f"[yellow]note:[/] first analysis not started ({exc}); the schedule will run it")


def _load_default_sandbox(engine: Any, settings: Settings, organization_id: str) -> None:
    """On first start, generate the default sandbox (ending today) and load it into the demo organisation."""
    import uuid
    from datetime import UTC, datetime

    from sqlalchemy import func, select

    from cloudoptima.security.encryption import CredentialCipher
    from cloudoptima.services.sandbox_loading import generate_to, load_sandbox
    from cloudoptima.storage.models import CloudAccount

    org_id = uuid.UUID(organization_id)
    with engine.connect() as connection:
        accounts = connection.execute(
            select(func.count()).select_from(CloudAccount).where(CloudAccount.organization_id == org_id)
        ).scalar()
    if accounts:
        return
    started = time.monotonic()
    estate_dir = settings.state_path / "sandbox"
    if not (estate_dir / "manifest.json").exists():
        generate_to(estate_dir, seed=42, accounts=6, days=120, end=datetime.now(UTC).date())
    report = load_sandbox(
        engine,
        CredentialCipher(settings.resolved_encryption_keys),
        org_id,
        estate_dir,
        window_days=settings.utilisation_window_days,
    )
    console.print(
        f"[dim]•[/] loaded the sandbox estate: {len(report.accounts)} accounts, {report.cost_rows:,} cost rows, "
        f"{report.resources} resources ({time.monotonic() - started:.1f} s)"
    )


def up(
    state_dir: StateDir = None,
    port: Annotated[int | None, typer.Option("--port", help="Gateway port (default 8000).")] = None,
    temporal_port: Annotated[int | None, typer.Option(help="Temporal gRPC port (default 7233).")] = None,
    temporal_ui_port: Annotated[int | None, typer.Option(help="Temporal Web UI port (default 8233).")] = None,
    postgres_port: Annotated[int | None, typer.Option(help="Embedded Postgres port.")] = None,
    redis_port: Annotated[int | None, typer.Option(help="Embedded Redis port.")] = None,
) -> None:
    """Start the whole platform on embedded defaults and supervise it until Ctrl-C."""
    settings = settings_or_fail(
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
                    _load_default_sandbox(engine, settings, holder["credentials"].organization_id)
                except ValueError as exc:
                    raise PlatformError(str(exc)) from exc
                finally:
                    engine.dispose()

            platform = start_platform(
                settings, lambda line: console.print(f"[dim]•[/] {line}"), bootstrap, APP_PROCESSES
            )
            if holder.get("created"):
                _start_first_analysis(
                    platform.urls["temporal_address"],
                    settings.temporal_namespace,
                    holder["credentials"].organization_id,
                )
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


def status(state_dir: StateDir = None, as_json: Annotated[bool, typer.Option("--json")] = False) -> None:
    """Report what is running for this state directory (exit 1 when not running or unhealthy)."""
    settings = settings_or_fail(state_dir)
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
