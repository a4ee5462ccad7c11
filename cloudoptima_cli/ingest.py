"""``cloudoptima ingest``: billing exports into an organisation, with progress and a summary."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.table import Table

from cloudoptima.settings import SettingsError
from cloudoptima_cli.common import StateDir, announce_costs, console, err_console, fail, settings_or_fail

if TYPE_CHECKING:
    import uuid

    from sqlalchemy import Engine


def ingest(
    path: Annotated[Path, typer.Argument(help="A billing file (CSV, CSV.gz, Parquet) or a folder of them.")],
    org: Annotated[str, typer.Option("--org", help="Organisation id or name.")],
    account: Annotated[
        str | None, typer.Option("--account", help="Cloud account id the file belongs to.")
    ] = None,
    fmt: Annotated[
        str,
        typer.Option(
            "--format",
            help="auto, focus, aws_cur, aws_cur2, azure, gcp, oci or opencost (default auto; OpenCost CSV "
            "exports and allocation API JSON are detected); contract_commitment for a FOCUS 1.3 Contract "
            "Commitment file.",
        ),
    ] = "auto",
    currency: Annotated[
        str,
        typer.Option(
            "--currency", help="ISO 4217 currency of files that carry none (OpenCost); default USD."
        ),
    ] = "USD",
    as_json: Annotated[bool, typer.Option("--json", help="Print the summary as JSON.")] = False,
    state_dir: StateDir = None,
) -> None:
    """Load billing exports into an organisation (atomic; re-ingesting replaces, never duplicates)."""
    import uuid

    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

    from cloudoptima.services.ingestion import IngestError, ingest_path
    from cloudoptima.services.organisations import OrganisationNotFoundError, resolve_organisation
    from cloudoptima.storage.engine import engine_from_settings

    settings = settings_or_fail(state_dir)
    fmt = fmt.replace("-", "_")
    try:
        engine = engine_from_settings(settings)
        org_id = resolve_organisation(engine, org)
        account_id = uuid.UUID(account) if account else None
    except (SettingsError, OrganisationNotFoundError) as exc:
        fail(str(exc))
    except ValueError:
        fail(f"--account must be a cloud account id (UUID), got {account!r}")
    if fmt == "contract_commitment":
        _contract_commitments(engine, path, org_id, as_json)
        return
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
                engine,
                path,
                org_id,
                cloud_account_id=account_id,
                fmt=fmt,
                on_batch=on_batch,
                currency=currency,
            )
        except IngestError as exc:
            fail(str(exc))
        finally:
            engine.dispose()  # the pool's connections are closed, not left to the garbage collector
    elapsed = time.monotonic() - started
    data = report.as_dict()
    data["seconds"] = round(elapsed, 3)
    announce_costs(settings, org_id, {"source": "ingest", "run_id": data["run_id"], "period": data["period"]})
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
    for rule, count in sorted(data["focus_findings"].items(), key=lambda item: (-item[1], item[0]))[:10]:
        counts.add_row(f"  FOCUS finding: {rule}", f"{count:,}")
    console.print(counts)
    for sample in data["quarantine_sample"][:5]:
        console.print(
            f"[yellow]quarantined[/] {sample['file']}, line {sample['line']}, column {sample['column']}: "
            f"{sample['reason']}",
            highlight=False,
        )


def _contract_commitments(engine: Engine, path: Path, org_id: uuid.UUID, as_json: bool) -> None:
    """``--format contract_commitment``: store a FOCUS 1.3 Contract Commitment file (all or nothing)."""
    from cloudoptima.services.contract_commitments import ingest_contract_commitments
    from cloudoptima.services.ingestion import IngestError
    from cloudoptima.storage.base import utcnow

    try:
        stored = ingest_contract_commitments(engine, path, org_id, now=utcnow())
    except IngestError as exc:
        fail(str(exc))
    finally:
        engine.dispose()
    if as_json:
        console.print_json(json.dumps({"file": str(path), "contract_commitments": stored}))
        return
    console.print(f"Stored {stored:,} contract commitments from {path}", highlight=False)
