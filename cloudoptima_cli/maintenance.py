"""``cloudoptima maintenance retention [--dry-run]``: the daily retention prune run by hand
(:mod:`cloudoptima.services.retention`), on ``DATABASE_URL`` or the running embedded database."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Annotated

import typer
from rich.table import Table

from cloudoptima.settings import SettingsError
from cloudoptima_cli.common import StateDir, console, fail, settings_or_fail

maintenance_app = typer.Typer(no_args_is_help=True, help="Maintenance run by hand.")


@maintenance_app.command("retention")
def retention(
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Only count what would be removed.")] = False,
    family: Annotated[
        list[str] | None,
        typer.Option(
            "--family",
            help="Only these families (cost_rows, utilisation, audit, notifications, chat_checkpoints).",
        ),
    ] = None,
    at: Annotated[
        str | None, typer.Option("--at", help="Apply the retention as of this ISO time (default: now, UTC).")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the results as JSON.")] = False,
    state_dir: StateDir = None,
) -> None:
    """Delete what the retention settings no longer keep: raw cost months, utilisation months, audit rows,
    notifications, chat checkpoint threads (the daily rollup is never touched)."""
    from cloudoptima.services.retention import FAMILIES, FamilyResult, RetentionPolicy, run
    from cloudoptima.storage.engine import engine_from_settings, session_factory

    chosen = family or list(FAMILIES)
    unknown = [name for name in chosen if name not in FAMILIES]
    if unknown:
        fail(f"--family: unknown {', '.join(unknown)}; expected one of {', '.join(FAMILIES)}")
    try:
        now = datetime.fromisoformat(at) if at else datetime.now(UTC)
    except ValueError:
        fail(f"--at: not an ISO date-time: {at!r}")
    if now.tzinfo is None:
        now = now.replace(tzinfo=UTC)
    settings = settings_or_fail(state_dir)
    try:
        engine = engine_from_settings(settings)
    except SettingsError as exc:
        fail(str(exc))
    factory = session_factory(engine)
    policy = RetentionPolicy.from_settings(settings)
    results: list[FamilyResult] = [
        run(factory, name, policy, now=now, dry_run=dry_run)  # type: ignore[arg-type]
        for name in FAMILIES
        if name in chosen
    ]
    engine.dispose()
    if as_json:
        payload = [
            {
                "family": r.family,
                "cutoff": r.cutoff.isoformat(),
                "removed": r.removed,
                "partitions": list(r.partitions),
                "dry_run": r.dry_run,
            }
            for r in results
        ]
        typer.echo(json.dumps(payload, indent=2))
        return
    table = Table(title="retention (dry run: nothing removed)" if dry_run else "retention")
    for column in ("family", "cutoff", "would remove" if dry_run else "removed", "partitions"):
        table.add_column(column)
    for r in results:
        table.add_row(r.family, r.cutoff.isoformat(), f"{r.removed:,}", ", ".join(r.partitions) or "-")
    console.print(table)
