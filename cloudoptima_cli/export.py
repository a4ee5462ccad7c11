"""``cloudoptima export``: one cost export (raw FOCUS rows or the daily rollup) into a local folder, with its
checksummed ``manifest.json``; the same export the API's schedules run."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Annotated

import typer

from cloudoptima.settings import SettingsError
from cloudoptima_cli.common import StateDir, console, fail, settings_or_fail


def export(
    org: Annotated[str, typer.Option("--org", help="Organisation id or name.")],
    start: Annotated[str, typer.Option("--start", help="First day (YYYY-MM-DD, UTC).")],
    end: Annotated[str, typer.Option("--end", help="Day after the last one (YYYY-MM-DD, end-exclusive).")],
    out: Annotated[Path, typer.Option("--out", help="Folder the export goes under (created if missing).")],
    dataset: Annotated[str, typer.Option("--dataset", help="focus_raw or daily.")] = "focus_raw",
    fmt: Annotated[str, typer.Option("--format", help="parquet or csv.")] = "parquet",
    partition: Annotated[str, typer.Option("--partition", help="month or day.")] = "month",
    focus_version: Annotated[
        str | None,
        typer.Option("--focus-version", help="focus_raw columns as FOCUS 1.2 (default) or 1.3."),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the manifest as JSON.")] = False,
    state_dir: StateDir = None,
) -> None:
    """Export an organisation's cost data as CSV or Parquet files plus manifest.json (re-running replaces);
    directly, without the API or a worker."""
    from pydantic import ValidationError

    from cloudoptima.domain.cost_exports import ExportRequest
    from cloudoptima.services.cost_exports import (
        ExportError,
        LocalFolderDestination,
        UnknownDatasetError,
        run_export,
    )
    from cloudoptima.services.organisations import OrganisationNotFoundError, resolve_organisation
    from cloudoptima.storage.engine import engine_from_settings

    try:
        request = ExportRequest.model_validate(
            {
                "dataset": dataset,
                "format": fmt,
                "partition": partition,
                "start": start,
                "end": end,
                "focus_version": focus_version,
            }
        )
    except ValidationError as exc:
        first = exc.errors()[0]
        message = str(first["msg"]).removeprefix("Value error, ")
        fail(f"--{first['loc'][0]}: {message}" if first["loc"] else message)
    settings = settings_or_fail(state_dir)
    try:
        engine = engine_from_settings(settings)
        org_id = resolve_organisation(engine, org)
    except (SettingsError, OrganisationNotFoundError) as exc:
        fail(str(exc))
    try:
        manifest = run_export(engine, org_id, request, LocalFolderDestination(out), now=datetime.now(UTC))
    except (UnknownDatasetError, ExportError) as exc:
        fail(str(exc))
    finally:
        engine.dispose()
    if as_json:
        console.print_json(json.dumps(manifest.model_dump(mode="json")))
        return
    folder = out.resolve() / request.folder
    console.print(
        f"[bold]{manifest.rows:,}[/] rows in {len(manifest.files)} file(s) under {folder} "
        f"({request.start.isoformat()} – {(request.end - timedelta(days=1)).isoformat()} inclusive)",
        highlight=False,
    )
    for currency, total in manifest.billed_cost.items():
        console.print(f"  BilledCost {currency}: {total}", highlight=False)
