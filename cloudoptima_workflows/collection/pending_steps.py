"""The end of one account's collection in a workflow: retry singly what ``collection.account`` (or a batch)
left pending, then record the sync (``collection.finish``) and build the account's result.

Deterministic: every read and write is an activity (``CollectionActivityInterface``).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import timedelta
from typing import TypeVar

from temporalio import workflow

from cloudoptima.domain.collection_steps import (
    AccountCollection,
    IamStep,
    InventoryStep,
    UtilisationStep,
)
from cloudoptima.domain.permission_problems import PermissionProblem
from cloudoptima_workflows.collection.failures import DB_RETRY, READ_RETRY, message, optional, step_failed
from cloudoptima_workflows.collection.inputs import (
    CollectAccountInput,
    CollectAccountResult,
    CostWindowInput,
    FinishInput,
    UtilisationInput,
)
from cloudoptima_workflows.collection.interface import CollectionActivityInterface

__all__ = ["complete", "problems"]

ArgT = TypeVar("ArgT")
ResultT = TypeVar("ResultT")


async def complete(params: CollectAccountInput, collected: AccountCollection) -> CollectAccountResult:
    """The account's result from what ``collection.account`` (or a batch) did: first retry the steps it left
    ``pending``, each as its own activity under the retry policy (cost windows in parallel, then inventory,
    utilisation, IAM), then record the sync with ``collection.finish``. Raises the non-retryable
    credentials error if one turns up."""
    heartbeat = timedelta(seconds=params.heartbeat_seconds)

    async def step(
        activity: Callable[[CollectionActivityInterface, ArgT], ResultT], arg: ArgT, *, long: bool = False
    ) -> ResultT:
        return await workflow.execute_activity_method(
            activity,
            arg,
            start_to_close_timeout=timedelta(minutes=30 if long else 5),
            heartbeat_timeout=heartbeat,
            retry_policy=READ_RETRY,
        )

    plan = collected.plan
    failed = list(collected.failed_steps)
    denied = list(collected.denied)
    loaded = list(collected.costs)
    inventory: InventoryStep | None = collected.inventory
    utilisation: UtilisationStep | None = collected.utilisation
    iam: IamStep | None = collected.iam
    finish = collected.finish
    if finish is None:
        pending = {p.step for p in collected.pending}
        windows = [p.window for p in collected.pending if p.step == "costs" and p.window]
        outcomes = await asyncio.gather(
            *(
                step(
                    CollectionActivityInterface.costs,
                    CostWindowInput(
                        organization_id=params.organization_id,
                        cloud_account_id=params.cloud_account_id,
                        start=w.start,
                        end=w.end,
                    ),
                    long=True,
                )
                for w in windows
            ),
            return_exceptions=True,
        )
        for window, outcome in zip(windows, outcomes, strict=True):
            if isinstance(outcome, BaseException):
                step_failed(failed, denied, f"costs {window.start}..{window.end}", outcome)
            else:
                loaded.append(outcome)
        if "inventory" in pending:
            inventory = await optional(
                failed, denied, "inventory", step(CollectionActivityInterface.inventory, params, long=True)
            )
        if "utilisation" in pending:
            utilisation = await optional(
                failed,
                denied,
                "utilisation",
                step(
                    CollectionActivityInterface.utilisation,
                    UtilisationInput(
                        organization_id=params.organization_id,
                        cloud_account_id=params.cloud_account_id,
                        start=plan.utilisation_start,
                        end=plan.utilisation_end,
                    ),
                    long=True,
                ),
            )
        if "iam" in pending:
            iam = await optional(failed, denied, "iam", step(CollectionActivityInterface.iam, params))
        finish = await workflow.execute_activity_method(
            CollectionActivityInterface.finish,
            FinishInput(
                organization_id=params.organization_id,
                cloud_account_id=params.cloud_account_id,
                costs_complete=len(loaded) == len(plan.windows),
                cost_windows=loaded,
                inventory=inventory,
                today=params.today,
                permission_problems=problems(denied, inventory, utilisation, iam),
            ),
            start_to_close_timeout=timedelta(minutes=2),
            retry_policy=DB_RETRY,
        )
    return CollectAccountResult(
        organization_id=params.organization_id,
        cloud_account_id=params.cloud_account_id,
        cost_rows=sum(w.rows for w in loaded),
        cost_windows=len(loaded),
        resources=inventory.resources if inventory else 0,
        utilisation_resources=utilisation.resources if utilisation else 0,
        principals=iam.principals if iam else 0,
        failed_steps=failed,
        last_sync_at=finish.last_sync_at.isoformat() if finish.last_sync_at else None,
        permission_problems=[message(p) for p in problems(denied, inventory, utilisation, iam)],
    )


def problems(
    denied: list[PermissionProblem],
    inventory: InventoryStep | None,
    utilisation: UtilisationStep | None,
    iam: IamStep | None,
) -> list[PermissionProblem]:
    """Every permission problem of the collection (denied steps, then the denied parts of the reads), once."""
    parts = [r.permission_problems for r in (inventory, utilisation, iam) if r is not None]
    return list(dict.fromkeys([*denied, *(p for problems in parts for p in problems)]))
