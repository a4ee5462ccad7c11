"""Collection workflows: deterministic; all I/O is in the activities (``collection.*``).

``CollectAccount`` runs ``collection.account``: one activity that plans the cost windows, loads them (each
window replaces its days, so any retry is idempotent), then inventory, utilisation and IAM, then records the
sync, heartbeating its progress (a retry resumes from it). One activity per account keeps the Temporal server
and the database light. A step that failed there with a retryable error comes back ``pending`` and is retried
here as its own activity under the retry policy (cost windows in parallel, then inventory, utilisation, IAM),
then ``collection.finish`` records the sync. A failed cost window or step is listed in the result and does not
stop the others (``last_sync_at`` only moves when every cost window loaded, so the next run re-fetches from the
last good sync). A rejected credential fails the workflow non-retryably (the activity has already marked the
account ``error``).

``CollectAll`` lists collectable accounts and runs one ``CollectAccount`` child per account, at most
``max_concurrency`` at a time. Child ids are ``collect-account-<cloud account id>``: one collection per account
at a time across every trigger (a child already running is skipped, not duplicated). When ``analyse`` is set,
it then starts ``AnalyseOrganisation`` (``analysis_task_queue``, abandoned on close, id
``analyse-organisation-<org>``) for each organisation with a successful collection.
"""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any

from temporalio import workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import (
    ActivityError,
    ApplicationError,
    ChildWorkflowError,
    WorkflowAlreadyStartedError,
)

with workflow.unsafe.imports_passed_through():
    from temporal_workflows.collection.inputs import (
        AccountKey,
        AccountList,
        AccountSteps,
        CollectAccountInput,
        CollectAccountResult,
        CollectAllInput,
        CollectAllResult,
        CostWindowInput,
        CostWindowResult,
        FinishInput,
        FinishResult,
        IamResult,
        InventoryResult,
        ListAccountsInput,
        UtilisationInput,
        UtilisationResult,
    )

CREDENTIALS_ERROR = "CredentialsError"
ANALYSIS_WORKFLOW = "AnalyseOrganisation"

READ_RETRY = RetryPolicy(
    initial_interval=timedelta(seconds=2),
    backoff_coefficient=2.0,
    maximum_interval=timedelta(minutes=2),
    maximum_attempts=6,
    non_retryable_error_types=[CREDENTIALS_ERROR, "AccountNotFound"],
)
DB_RETRY = RetryPolicy(
    initial_interval=timedelta(seconds=1),
    backoff_coefficient=2.0,
    maximum_interval=timedelta(seconds=30),
    maximum_attempts=10,
    non_retryable_error_types=[CREDENTIALS_ERROR, "AccountNotFound"],
)


def _credentials_failure(error: BaseException) -> ApplicationError | None:
    """The non-retryable credentials error behind an activity or child failure, if that is what it is."""
    cause = error.__cause__ if isinstance(error, ActivityError | ChildWorkflowError) else error
    while isinstance(cause, ActivityError | ChildWorkflowError):
        cause = cause.__cause__
    if isinstance(cause, ApplicationError) and cause.type == CREDENTIALS_ERROR:
        return cause
    return None


def _reason(error: BaseException) -> str:
    cause: BaseException | None = error
    while isinstance(cause, ActivityError | ChildWorkflowError) and cause.__cause__ is not None:
        cause = cause.__cause__
    return str(cause)


@workflow.defn(name="CollectAccount")
class CollectAccountWorkflow:
    @workflow.run
    async def run(self, params: CollectAccountInput) -> CollectAccountResult:
        heartbeat = timedelta(seconds=params.heartbeat_seconds)

        async def step(name: str, arg: Any, result_type: type[Any], *, long: bool = False) -> Any:
            return await workflow.execute_activity(
                name,
                arg,
                result_type=result_type,
                start_to_close_timeout=timedelta(minutes=30 if long else 5),
                heartbeat_timeout=heartbeat,
                retry_policy=READ_RETRY,
            )

        try:
            collected: AccountSteps = await workflow.execute_activity(
                "collection.account",
                params,
                result_type=AccountSteps,
                start_to_close_timeout=timedelta(minutes=30),
                heartbeat_timeout=heartbeat,
                retry_policy=READ_RETRY,
            )
            plan = collected.plan
            failed = list(collected.failed_steps)
            loaded = list(collected.cost_windows)
            inventory: InventoryResult | None = collected.inventory
            utilisation: UtilisationResult | None = collected.utilisation
            iam: IamResult | None = collected.iam
            finish = collected.finish
            if finish is None:
                pending = {p.step for p in collected.pending}
                windows = [p.window for p in collected.pending if p.step == "costs" and p.window]
                outcomes = await asyncio.gather(
                    *(
                        step(
                            "collection.costs",
                            CostWindowInput(params.organization_id, params.cloud_account_id, w.start, w.end),
                            CostWindowResult,
                            long=True,
                        )
                        for w in windows
                    ),
                    return_exceptions=True,
                )
                for window, outcome in zip(windows, outcomes, strict=True):
                    if isinstance(outcome, BaseException):
                        self._raise_if_credentials(outcome)
                        failed.append(f"costs {window.start}..{window.end}: {_reason(outcome)}")
                    else:
                        loaded.append(outcome)
                if "inventory" in pending:
                    inventory = await self._optional(
                        failed, "inventory", step("collection.inventory", params, InventoryResult, long=True)
                    )
                if "utilisation" in pending:
                    utilisation = await self._optional(
                        failed,
                        "utilisation",
                        step(
                            "collection.utilisation",
                            UtilisationInput(
                                params.organization_id,
                                params.cloud_account_id,
                                plan.utilisation_start,
                                plan.utilisation_end,
                            ),
                            UtilisationResult,
                            long=True,
                        ),
                    )
                if "iam" in pending:
                    iam = await self._optional(failed, "iam", step("collection.iam", params, IamResult))
                finish = await workflow.execute_activity(
                    "collection.finish",
                    FinishInput(
                        params.organization_id,
                        params.cloud_account_id,
                        costs_complete=len(loaded) == len(plan.windows),
                        cost_windows=loaded,
                        inventory=inventory,
                    ),
                    result_type=FinishResult,
                    start_to_close_timeout=timedelta(minutes=2),
                    retry_policy=DB_RETRY,
                )
        except ActivityError as error:
            self._raise_if_credentials(error)
            raise
        return CollectAccountResult(
            organization_id=params.organization_id,
            cloud_account_id=params.cloud_account_id,
            cost_rows=sum(w.rows for w in loaded),
            cost_windows=len(loaded),
            resources=inventory.resources if inventory else 0,
            utilisation_resources=utilisation.resources if utilisation else 0,
            principals=iam.principals if iam else 0,
            failed_steps=failed,
            last_sync_at=finish.last_sync_at,
        )

    async def _optional(self, failed: list[str], name: str, call: Any) -> Any:
        try:
            return await call
        except ActivityError as error:
            self._raise_if_credentials(error)
            failed.append(f"{name}: {_reason(error)}")
            return None

    @staticmethod
    def _raise_if_credentials(error: BaseException) -> None:
        cause = _credentials_failure(error)
        if cause is not None:
            raise ApplicationError(str(cause), type=CREDENTIALS_ERROR, non_retryable=True) from error


@workflow.defn(name="CollectAll")
class CollectAllWorkflow:
    @workflow.run
    async def run(self, params: CollectAllInput) -> CollectAllResult:
        listed: AccountList = await workflow.execute_activity(
            "collection.list_accounts",
            ListAccountsInput(kind=params.kind, organization_id=params.organization_id),
            result_type=AccountList,
            start_to_close_timeout=timedelta(minutes=1),
            retry_policy=DB_RETRY,
        )
        gate = asyncio.Semaphore(max(1, params.max_concurrency))
        succeeded: list[str] = []
        failed: list[str] = []
        skipped: list[str] = []
        organisations: list[str] = []

        async def collect(key: AccountKey) -> None:
            async with gate:
                try:
                    await workflow.execute_child_workflow(
                        CollectAccountWorkflow.run,
                        CollectAccountInput(
                            organization_id=key.organization_id,
                            cloud_account_id=key.cloud_account_id,
                            initial_days=params.initial_days,
                            restate_days=params.restate_days,
                            utilisation_days=params.utilisation_days,
                            heartbeat_seconds=params.heartbeat_seconds,
                            today=params.today,
                        ),
                        id=f"collect-account-{key.cloud_account_id}",
                        task_queue=workflow.info().task_queue,
                    )
                except WorkflowAlreadyStartedError:
                    skipped.append(key.cloud_account_id)
                    return
                except ChildWorkflowError as error:
                    failed.append(f"{key.cloud_account_id}: {_reason(error)}")
                    return
                succeeded.append(key.cloud_account_id)
                if key.organization_id not in organisations:
                    organisations.append(key.organization_id)

        await asyncio.gather(*(collect(key) for key in listed.accounts))
        started: list[str] = []
        if params.analyse:
            for organization_id in sorted(organisations):
                try:
                    await workflow.start_child_workflow(
                        ANALYSIS_WORKFLOW,
                        {"organization_id": organization_id, "today": params.today},
                        id=f"analyse-organisation-{organization_id}",
                        task_queue=params.analysis_task_queue,
                        parent_close_policy=workflow.ParentClosePolicy.ABANDON,
                    )
                except WorkflowAlreadyStartedError:
                    continue
                started.append(organization_id)
        return CollectAllResult(
            accounts=len(listed.accounts),
            succeeded=sorted(succeeded),
            failed=sorted(failed),
            skipped=sorted(skipped),
            analyses_started=started,
        )
