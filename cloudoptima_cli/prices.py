"""``cloudoptima prices``: the price store (the providers' own list prices): refresh now, show what it holds."""

from __future__ import annotations

import json
from typing import Annotated, Any

import typer
from rich.table import Table

from cloudoptima.settings import SettingsError
from cloudoptima_cli.common import StateDir, console, fail, settings_or_fail

prices_app = typer.Typer(no_args_is_help=True, help="The price store: the providers' own list prices.")

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
    from temporalio.contrib.pydantic import pydantic_data_converter
    from temporalio.exceptions import WorkflowAlreadyStartedError

    chosen = list(provider or [])
    unknown = [p for p in chosen if p not in PRICE_PROVIDERS]
    if unknown:
        fail(f"--provider must be one of {', '.join(PRICE_PROVIDERS)} (got {', '.join(unknown)})")
    settings = settings_or_fail(state_dir)
    try:
        address = settings.resolved_temporal_address()
    except SettingsError as exc:
        fail(str(exc))
    workflow_id = f"refresh-prices-manual-{datetime.now(UTC):%Y%m%dT%H%M%S}"

    async def start() -> Any:
        client = await Client.connect(
            address, namespace=settings.temporal_namespace, data_converter=pydantic_data_converter
        )
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

    settings = settings_or_fail(state_dir)
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
