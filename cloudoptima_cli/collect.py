"""``cloudoptima collect``: a collection now, through the CollectAll / CollectAccount workflow."""

from __future__ import annotations

import json
from typing import Annotated, Any

import typer

from cloudoptima.settings import SettingsError
from cloudoptima_cli.common import StateDir, console, fail, settings_or_fail


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
    from temporalio.contrib.pydantic import pydantic_data_converter
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
    settings = settings_or_fail(state_dir)
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
        client = await Client.connect(
            address, namespace=settings.temporal_namespace, data_converter=pydantic_data_converter
        )
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
