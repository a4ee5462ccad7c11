"""The ``cloudoptima`` command: the CLI's composition root.

App layers (worker, gateway, MCP servers) run in their own processes (``python -m ...``), so the kernel
never imports them.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import sys
import time
from pathlib import Path
from types import FrameType
from typing import Annotated, Any, NoReturn, get_args

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
sandbox_app = typer.Typer(no_args_is_help=True, help="The generated sandbox estate.")
app.add_typer(sandbox_app, name="sandbox")
prices_app = typer.Typer(no_args_is_help=True, help="The price store: the providers' own list prices.")
app.add_typer(prices_app, name="prices")
secrets_app = typer.Typer(no_args_is_help=True, help="Encryption and signing keys: generate and rotate.")
app.add_typer(secrets_app, name="secrets")
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


def _start_first_analysis(temporal_address: str, namespace: str, organization_id: str) -> None:
    """Start the analysis workflow for the demo organisation at once (anomalies with explanations,
    recommendations, budgets), so the first screen is not empty until the hourly schedule fires. The workflow
    is named, not imported: the kernel never imports an app layer."""
    import asyncio

    from temporalio.client import Client
    from temporalio.common import WorkflowIDConflictPolicy

    async def start() -> None:
        client = await Client.connect(temporal_address, namespace=namespace)
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
                    _load_default_sandbox(engine, settings, holder["credentials"].organization_id)
                except ValueError as exc:
                    raise PlatformError(str(exc)) from exc
                finally:
                    engine.dispose()

            platform = start_platform(settings, lambda line: console.print(f"[dim]•[/] {line}"), bootstrap)
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
    threads: Annotated[
        int | None,
        typer.Option(min=1, max=256, help="Activity threads (default: CLOUDOPTIMA_WORKER_THREADS, else 16)."),
    ] = None,
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
    if threads is not None:
        args += ["--threads", str(threads)]
    _exec_module("cloudoptima_workflows.worker", args)


def _announce_costs(settings: Settings, organization_id: Any, data: dict[str, Any]) -> None:
    """Publish ``cost_updates`` (invalidates cached cost answers, refreshes WebSocket clients) when Redis is
    reachable; a CLI run without a platform has no cache to invalidate."""
    from cloudoptima.services.events import EventPublisher

    try:
        publisher = EventPublisher.from_url(settings.resolved_redis_url())
    except SettingsError:
        return
    try:
        publisher.publish(organization_id, "cost_updates", data)
    except Exception as exc:
        err_console.print(
            f"[yellow]note:[/] could not notify the platform through Redis ({exc})", highlight=False
        )
    finally:
        publisher.close()


@app.command()
def ingest(
    path: Annotated[Path, typer.Argument(help="A billing file (CSV, CSV.gz, Parquet) or a folder of them.")],
    org: Annotated[str, typer.Option("--org", help="Organisation id or name.")],
    account: Annotated[
        str | None, typer.Option("--account", help="Cloud account id the file belongs to.")
    ] = None,
    fmt: Annotated[
        str,
        typer.Option("--format", help="auto, focus, aws_cur, aws_cur2, azure, gcp or oci (default auto)."),
    ] = "auto",
    as_json: Annotated[bool, typer.Option("--json", help="Print the summary as JSON.")] = False,
    state_dir: StateDir = None,
) -> None:
    """Load billing exports into an organisation (atomic; re-ingesting replaces, never duplicates)."""
    import uuid

    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

    from cloudoptima.services.ingestion import IngestError, ingest_path
    from cloudoptima.services.organisations import OrganisationNotFoundError, resolve_organisation
    from cloudoptima.storage.engine import engine_from_settings

    settings = _settings(state_dir)
    fmt = fmt.replace("-", "_")
    try:
        engine = engine_from_settings(settings)
        org_id = resolve_organisation(engine, org)
        account_id = uuid.UUID(account) if account else None
    except (SettingsError, OrganisationNotFoundError) as exc:
        fail(str(exc))
    except ValueError:
        fail(f"--account must be a cloud account id (UUID), got {account!r}")
    started = time.monotonic()
    rows_done = 0
    progress = Progress(
        TextColumn("[bold]ingesting[/] {task.fields[file]}"),
        BarColumn(),
        TextColumn("{task.completed:,.0f} rows"),
        TextColumn("{task.fields[rate]}"),
        TimeElapsedColumn(),
        console=err_console,
        disable=as_json,
        transient=True,
    )
    with progress:
        task = progress.add_task("ingest", total=None, file=path.name, rate="")

        def on_batch(rows: int, file: str) -> None:
            nonlocal rows_done
            rows_done += rows
            rate = rows_done / max(time.monotonic() - started, 1e-6)
            progress.update(task, advance=rows, file=Path(file).name, rate=f"{rate:,.0f} rows/s")

        try:
            report = ingest_path(
                engine, path, org_id, cloud_account_id=account_id, fmt=fmt, on_batch=on_batch
            )
        except IngestError as exc:
            fail(str(exc))
    elapsed = time.monotonic() - started
    data = report.as_dict()
    data["seconds"] = round(elapsed, 3)
    _announce_costs(
        settings, org_id, {"source": "ingest", "run_id": data["run_id"], "period": data["period"]}
    )
    if as_json:
        console.print_json(json.dumps(data))
        return
    table = Table(
        title=f"Ingested {path} in {elapsed:.2f} s ({data['rows_read'] / max(elapsed, 1e-6):,.0f} rows/s)"
    )
    table.add_column("provider")
    table.add_column("currency")
    table.add_column("billed cost", justify="right")
    for total in data["totals"]:
        table.add_row(total["provider"], total["currency"], total["billed_cost"])
    console.print(table)
    counts = Table(show_header=False, box=None)
    for key in ("rows_read", "rows_accepted", "rows_normalised", "rows_quarantined", "rows_replaced"):
        counts.add_row(key.replace("_", " "), f"{data[key]:,}")
    for kind, count in data["normalisations"].items():
        counts.add_row(f"  normalised: {kind}", f"{count:,}")
    console.print(counts)
    for sample in data["quarantine_sample"][:5]:
        console.print(
            f"[yellow]quarantined[/] {sample['file']}, line {sample['line']}, column {sample['column']}: "
            f"{sample['reason']}",
            highlight=False,
        )


@app.command()
def forecast(
    csv_file: Annotated[Path, typer.Option("--csv", help="Input CSV with a date column and a value column.")],
    horizon: Annotated[int, typer.Option("--horizon", help="Periods ahead to forecast (≤ 365 days).")],
    out: Annotated[Path, typer.Option("--out", help="Output CSV: ds,yhat,yhat_lower,yhat_upper.")],
    date_col: Annotated[str, typer.Option("--date-col")] = "ds",
    value_col: Annotated[str, typer.Option("--value-col")] = "y",
    freq: Annotated[str, typer.Option("--freq", help="D, H or W.")] = "D",
    model: Annotated[str, typer.Option("--model", help="auto, prophet, fast, damped or snaive.")] = "auto",
    confidence_level: Annotated[float, typer.Option("--confidence-level")] = 0.95,
) -> None:
    """Forecast any series in a CSV file (the same engine the product uses for costs)."""
    from cloudoptima.analytics.forecasting import CsvInputError, forecast_csv
    from cloudoptima.domain.analytics import ForecastModelName

    if model not in get_args(ForecastModelName):
        fail(f"--model must be one of {', '.join(get_args(ForecastModelName))} (got {model!r})")
    try:
        result = forecast_csv(
            csv_file,
            out,
            horizon=horizon,
            date_col=date_col,
            value_col=value_col,
            freq=freq,
            model=model,  # type: ignore[arg-type]
            confidence_level=confidence_level,
        )
    except (CsvInputError, ValueError, OSError) as exc:
        fail(str(exc).splitlines()[0])
    flags = ", ".join(str(flag) for flag in result.flags)
    console.print(
        f"wrote {len(result.mean)} forecast rows to {out} (model: {result.model}{'; ' + flags if flags else ''})"
    )


@app.command()
def anomalies(
    csv_file: Annotated[
        Path, typer.Option("--csv", help="Input CSV with a timestamp column and a value column.")
    ],
    out: Annotated[
        Path, typer.Option("--out", help="Output CSV: timestamp,value,expected,score,is_anomaly,alert.")
    ],
    date_col: Annotated[str, typer.Option("--date-col")] = "timestamp",
    value_col: Annotated[str, typer.Option("--value-col")] = "value",
    freq: Annotated[
        str | None,
        typer.Option(
            "--freq",
            help="Force the grid: 1min…59min, 1h…23h, 1D, W or M (default: inferred from the timestamps).",
        ),
    ] = None,
    direction: Annotated[str, typer.Option("--direction", help="up, down or both.")] = "both",
    duplicates: Annotated[
        str, typer.Option("--duplicates", help="Several rows on one grid point: mean, sum or last.")
    ] = "mean",
) -> None:
    """Score every point of any regular series in a CSV file for anomalies and changes of level.

    Causal: the decision at each time uses only the points up to that time, exactly as a live alert would
    (no look-ahead). The grid is inferred from the timestamps; missing points are gaps (never scored, never
    zero); duplicate timestamps are merged (--duplicates). Daily and weekly cycles are found per series.
    """
    from cloudoptima.analytics.anomalies import detect_anomalies_csv
    from cloudoptima.analytics.forecasting import CsvInputError

    if direction not in ("up", "down", "both"):
        fail(f"--direction must be up, down or both (got {direction!r})")
    if duplicates not in ("mean", "sum", "last"):
        fail(f"--duplicates must be mean, sum or last (got {duplicates!r})")
    try:
        result = detect_anomalies_csv(
            csv_file,
            out,
            date_col=date_col,
            value_col=value_col,
            freq=freq,
            direction=direction,  # type: ignore[arg-type]
            duplicates=duplicates,  # type: ignore[arg-type]
        )
    except (CsvInputError, ValueError, OSError) as exc:
        fail(str(exc).splitlines()[0])
    changes = sum(1 for _, kind in result.alerts if kind == "change")
    console.print(
        f"wrote {len(result.score)} scores to {out} (grid {result.grid.label}; "
        f"{len(result.alerts) - changes} anomalies, {changes} changes of level)"
    )


@sandbox_app.command("generate")
def sandbox_generate(
    seed: Annotated[int, typer.Option("--seed", help="Random seed: same seed, same estate.")] = 42,
    accounts: Annotated[
        int, typer.Option("--accounts", min=1, help="Accounts (round-robin AWS, Azure, GCP).")
    ] = 6,
    days: Annotated[int, typer.Option("--days", min=1, max=1100, help="Days of history.")] = 120,
    end: Annotated[
        str | None, typer.Option("--end", help="First day after the window (YYYY-MM-DD); default 2026-01-01.")
    ] = None,
    out: Annotated[
        Path | None, typer.Option("--out", help="Write FOCUS files, inventory, utilisation, manifest.")
    ] = None,
    org: Annotated[
        str | None, typer.Option("--org", help="Load into this organisation (id or name) instead.")
    ] = None,
    state_dir: StateDir = None,
) -> None:
    """Generate a deterministic multi-cloud estate with planted waste and anomalies (ground truth in manifest.json)."""
    import tempfile
    from datetime import date

    if (out is None) == (org is None):
        fail("pass exactly one of --out DIR or --org ORG")
    try:
        end_day = date.fromisoformat(end) if end else None
    except ValueError:
        fail(f"--end must be a date YYYY-MM-DD, got {end!r}")
    from cloudoptima.services.sandbox_loading import generate_to

    started = time.monotonic()
    target = out if out is not None else Path(tempfile.mkdtemp(prefix="cloudoptima-sandbox-"))
    estate = generate_to(target, seed, accounts, days, end_day)
    manifest = estate.manifest
    console.print(
        f"generated {len(estate.accounts)} accounts, {len(estate.resources)} resources, "
        f"{len(manifest.waste)} waste items, {len(manifest.anomalies)} anomalies in {time.monotonic() - started:.1f} s"
    )
    if out is not None:
        console.print(f"wrote {out} (ground truth: {out / 'manifest.json'})")
        return
    assert org is not None
    from cloudoptima.security.encryption import CredentialCipher
    from cloudoptima.services.organisations import OrganisationNotFoundError, resolve_organisation
    from cloudoptima.services.sandbox_loading import load_sandbox
    from cloudoptima.storage.engine import engine_from_settings

    settings = _settings(state_dir)
    try:
        engine = engine_from_settings(settings)
        org_id = resolve_organisation(engine, org)
        keep = settings.state_path / "sandboxes" / f"seed{seed}-a{accounts}-d{days}-{end or 'default'}"
        if keep.exists():
            import shutil

            shutil.rmtree(keep)
        keep.parent.mkdir(parents=True, exist_ok=True)
        target.rename(keep)
        report = load_sandbox(
            engine,
            CredentialCipher(settings.resolved_encryption_keys),
            org_id,
            keep,
            window_days=settings.utilisation_window_days,
        )
    except (SettingsError, OrganisationNotFoundError) as exc:
        fail(str(exc))
    _announce_costs(settings, org_id, {"source": "sandbox", "accounts": len(report.accounts)})
    console.print(
        f"loaded into {org}: {len(report.accounts)} accounts, {report.cost_rows:,} cost rows "
        f"(billed {report.billed_total}), {report.resources} resources"
    )


@app.command("eval", context_settings={"allow_extra_args": True, "ignore_unknown_options": True})
def run_eval(
    ctx: typer.Context,
    as_json: Annotated[bool, typer.Option("--json", help="Print the metrics as JSON.")] = False,
) -> None:
    """Measure recommendation, anomaly/root-cause and forecast quality against sandbox ground truth."""
    args = [*ctx.args]
    if as_json:
        args.append("--json")
    _exec_module("cloudoptima_evals", args)


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


@app.command()
def collect(
    state_dir: StateDir = None,
    org: Annotated[
        str | None, typer.Option("--org", help="Organisation id (default: every organisation).")
    ] = None,
    account: Annotated[
        str | None,
        typer.Option("--account", help="Cloud account id: collect only this account (needs --org)."),
    ] = None,
    kind: Annotated[str, typer.Option("--kind", help="sandbox, live or all accounts.")] = "all",
    wait: Annotated[bool, typer.Option("--wait/--no-wait", help="Wait for the collection to finish.")] = True,
) -> None:
    """Collect costs, inventory, utilisation and IAM now, through the CollectAll / CollectAccount workflow.

    The workflows run on the ``collection`` task queue (start a worker with ``cloudoptima worker``). The CLI
    knows them by name and JSON input only: the kernel does not import the workflow package.
    """
    import asyncio
    import uuid as uuid_module
    from datetime import UTC, datetime

    from temporalio.client import Client
    from temporalio.exceptions import WorkflowAlreadyStartedError

    if kind not in ("sandbox", "live", "all"):
        fail(f"--kind must be sandbox, live or all (got {kind!r})")
    if account and not org:
        fail("--account needs --org")
    for label, value in (("--org", org), ("--account", account)):
        if value:
            try:
                uuid_module.UUID(value)
            except ValueError:
                fail(f"{label} must be a UUID (got {value!r})")
    settings = _settings(state_dir)
    try:
        address = settings.resolved_temporal_address()
    except SettingsError as exc:
        fail(str(exc))
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S")
    if account:
        workflow, workflow_id = "CollectAccount", f"collect-account-{account}"
        arg: dict[str, Any] = {"organization_id": org, "cloud_account_id": account}
    else:
        workflow, workflow_id = "CollectAll", f"collect-manual-{org or 'all'}-{stamp}"
        arg = {"kind": kind, "organization_id": org}

    async def start() -> Any:
        client = await Client.connect(address, namespace=settings.temporal_namespace)
        handle = await client.start_workflow(workflow, arg, id=workflow_id, task_queue="collection")
        console.print(f"started {workflow} ({workflow_id})")
        return await handle.result() if wait else None

    try:
        result = asyncio.run(start())
    except WorkflowAlreadyStartedError:
        fail(f"{workflow_id} is already running")
    except Exception as exc:  # any workflow or connection failure is reported, not traced
        fail(f"{workflow} failed: {exc}")
    if result is not None:
        console.print_json(json.dumps(result, default=str))


PRICE_PROVIDERS = ("aws", "azure", "gcp")


@prices_app.command("refresh")
def prices_refresh(
    state_dir: StateDir = None,
    provider: Annotated[
        list[str] | None, typer.Option("--provider", help="aws, azure or gcp (repeatable; default all).")
    ] = None,
    wait: Annotated[bool, typer.Option("--wait/--no-wait", help="Wait for the refresh to finish.")] = True,
) -> None:
    """Refresh the price store now through the RefreshPrices workflow (``processing`` queue; start a worker
    with ``cloudoptima worker``). Exits 1 when a provider's price list failed (its last prices stay)."""
    import asyncio
    from datetime import UTC, datetime

    from temporalio.client import Client
    from temporalio.exceptions import WorkflowAlreadyStartedError

    chosen = list(provider or [])
    unknown = [p for p in chosen if p not in PRICE_PROVIDERS]
    if unknown:
        fail(f"--provider must be one of {', '.join(PRICE_PROVIDERS)} (got {', '.join(unknown)})")
    settings = _settings(state_dir)
    try:
        address = settings.resolved_temporal_address()
    except SettingsError as exc:
        fail(str(exc))
    workflow_id = f"refresh-prices-manual-{datetime.now(UTC):%Y%m%dT%H%M%S}"

    async def start() -> Any:
        client = await Client.connect(address, namespace=settings.temporal_namespace)
        handle = await client.start_workflow(
            "RefreshPrices", {"providers": chosen}, id=workflow_id, task_queue="processing"
        )
        console.print(f"started RefreshPrices ({workflow_id})")
        return await handle.result() if wait else None

    try:
        result = asyncio.run(start())
    except WorkflowAlreadyStartedError:
        fail(f"{workflow_id} is already running")
    except Exception as exc:  # any workflow or connection failure is reported, not traced
        fail(f"RefreshPrices failed: {exc}")
    if result is None:
        return
    console.print_json(json.dumps(result, default=str))
    failed = [p["provider"] for p in result.get("providers", []) if p.get("status") == "failed"]
    if failed:
        fail(f"price refresh failed for {', '.join(failed)}; their last prices stay in use")


@prices_app.command("show")
def prices_show(state_dir: StateDir = None, as_json: Annotated[bool, typer.Option("--json")] = False) -> None:
    """What the price store holds per provider: last refresh, its outcome, and prices per kind."""
    from cloudoptima.storage.engine import engine_from_settings, session_factory
    from cloudoptima.storage.price_store import load_snapshots, refresh_status

    settings = _settings(state_dir)
    try:
        engine = engine_from_settings(settings)
    except SettingsError as exc:
        fail(str(exc))
    with session_factory(engine)() as session:
        snapshots, status = load_snapshots(session), refresh_status(session)
    engine.dispose()
    rows = []
    for name in PRICE_PROVIDERS:
        snapshot = next((v for k, v in snapshots.items() if k.value == name), None)
        attempt = next((v for k, v in status.items() if k.value == name), None)
        kinds: dict[str, int] = {}
        for price in snapshot.prices if snapshot else ():
            kinds[price.kind.value] = kinds.get(price.kind.value, 0) + 1
        rows.append(
            {
                "provider": name,
                "source": snapshot.label if snapshot else "built-in tables only (never refreshed)",
                "prices": sum(kinds.values()),
                "regions": len({p.region for p in snapshot.prices}) if snapshot else 0,
                "kinds": kinds,
                "last_attempt": attempt.attempted_at.isoformat() if attempt else None,
                "last_status": attempt.status if attempt else None,
                "last_error": attempt.error if attempt else None,
            }
        )
    if as_json:
        console.print_json(json.dumps(rows))
        return
    table = Table("provider", "source", "prices", "regions", "last attempt", "status", "error")
    for row in rows:
        table.add_row(
            str(row["provider"]),
            str(row["source"]),
            str(row["prices"]),
            str(row["regions"]),
            str(row["last_attempt"] or "-"),
            str(row["last_status"] or "-"),
            str(row["last_error"] or ""),
        )
    console.print(table)


MCP_SERVERS = ("aws", "azure", "gcp", "platform")


@app.command()
def mcp(
    server: Annotated[str, typer.Argument(help="aws, azure, gcp or platform.")],
    transport: Annotated[str, typer.Option("--transport", help="stdio (default) or http.")] = "stdio",
    read_only: Annotated[
        bool, typer.Option("--read-only", help="List only tools that change nothing.")
    ] = False,
    port: Annotated[int, typer.Option("--port", help="HTTP port (default 8765).")] = 8765,
    host: Annotated[str | None, typer.Option("--host", help="HTTP bind address.")] = None,
    state_dir: StateDir = None,
) -> None:
    """Run an MCP server (stdio acts for CLOUDOPTIMA_API_KEY; http requires a bearer on every request)."""
    if server not in MCP_SERVERS:
        fail(f"unknown MCP server {server!r}; expected one of {', '.join(MCP_SERVERS)}")
    if transport not in ("stdio", "http"):
        fail(f"--transport must be stdio or http (got {transport!r})")
    settings = _settings(state_dir)
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
    _exec_module(f"cloudoptima_mcp.{server}", args)


@secrets_app.command("generate-key")
def secrets_generate_key() -> None:
    """Print a fresh Fernet key (for the front of CLOUDOPTIMA_ENCRYPTION_KEYS)."""
    from cryptography.fernet import Fernet

    print(Fernet.generate_key().decode())


@secrets_app.command("rotate")
def secrets_rotate(
    state_dir: StateDir = None,
    batch_size: Annotated[
        int, typer.Option("--batch-size", min=1, help="Rows re-encrypted per transaction.")
    ] = 200,
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """Re-encrypt every stored secret under the newest key of CLOUDOPTIMA_ENCRYPTION_KEYS.

    Readers keep every key of the ring, so the platform keeps running; rows move in batches, each in its own
    transaction; a value no key can read stops the command before anything changes; running it again is a
    no-op.
    """
    from cloudoptima.security.encryption import CredentialCipher
    from cloudoptima.services.key_rotation import KeyRotationError, rotate_stored_secrets
    from cloudoptima.storage.engine import make_engine

    settings = _settings(state_dir)
    try:
        keys = settings.resolved_encryption_keys
        engine = make_engine(settings.resolved_database_url(), pool_size=2)
    except SettingsError as exc:
        fail(str(exc))
    try:
        report = rotate_stored_secrets(engine, CredentialCipher(keys), batch_size=batch_size)
    except KeyRotationError as exc:
        fail(str(exc))
    finally:
        engine.dispose()
    if as_json:
        print(
            json.dumps(
                {
                    "keys": len(keys),
                    "rotated": report.rotated,
                    "columns": [
                        {
                            "column": c.column,
                            "rows": c.rows,
                            "rotated": c.rotated,
                            "already_current": c.already_current,
                        }
                        for c in report.columns
                    ],
                }
            )
        )
        return
    table = Table("column", "rows", "re-encrypted", "already current", title="secrets rotate")
    for column in report.columns:
        table.add_row(column.column, str(column.rows), str(column.rotated), str(column.already_current))
    console.print(table)
    if len(keys) > 1:
        console.print(
            "every stored secret is under the newest key; the older keys can now be removed from "
            "CLOUDOPTIMA_ENCRYPTION_KEYS"
        )


users_app = typer.Typer(no_args_is_help=True, help="Accounts: platform administrators.")
app.add_typer(users_app, name="users")


@users_app.command("platform-admin")
def users_platform_admin(
    email: Annotated[str, typer.Argument(help="The account's email address.")],
    revoke: Annotated[
        bool, typer.Option("--revoke", help="Take the right away instead of granting it.")
    ] = False,
    state_dir: StateDir = None,
) -> None:
    """Make an account a platform administrator, the only kind of user who may change an organisation's
    subscription tier (PATCH /v1/organization); --revoke takes it away. Only this command grants it."""
    from cloudoptima.services.organisation_admin import set_platform_admin
    from cloudoptima.storage.engine import make_engine, session_factory

    settings = _settings(state_dir)
    try:
        engine = make_engine(settings.resolved_database_url(), pool_size=2)
    except SettingsError as exc:
        fail(str(exc))
    try:
        with session_factory(engine)() as session:
            user = set_platform_admin(session, email, grant=not revoke)
            session.commit()
    except LookupError as exc:
        fail(str(exc))
    finally:
        engine.dispose()
    state = "is now" if user.is_platform_admin else "is no longer"
    console.print(f"{user.email} {state} a platform administrator")


@secrets_app.command("rotate-jwt")
def secrets_rotate_jwt(
    state_dir: StateDir = None,
    key_id: Annotated[
        str | None, typer.Option("--key-id", help="kid of the new key (default: derived).")
    ] = None,
) -> None:
    """Print the settings that retire the current JWT signing key now and sign with a fresh one.

    Set the printed JWT_SECRET, JWT_KEY_ID and JWT_PREVIOUS_KEYS on every gateway and MCP server and restart
    them: tokens of the retired key keep working for JWT_KEY_GRACE_MINUTES, new tokens use the new key.
    """
    import secrets as random_secrets
    from datetime import UTC, datetime

    from cloudoptima.security.jwt_keys import default_kid

    settings = _settings(state_dir)
    secret = random_secrets.token_urlsafe(48)
    try:
        previous = settings.jwt_keys_retired_at(datetime.now(UTC).replace(microsecond=0))
    except SettingsError as exc:
        fail(str(exc))
    print(f"JWT_SECRET={secret}")
    print(f"JWT_KEY_ID={key_id or default_kid(secret)}")
    print(f"JWT_PREVIOUS_KEYS='{json.dumps(previous)}'")


def main() -> None:
    """Console-script entry point."""
    app()


if __name__ == "__main__":
    main()
