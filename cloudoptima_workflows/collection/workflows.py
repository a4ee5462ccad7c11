"""Collection workflows: deterministic; all I/O is in the activities (``collection.*``).

``CollectAccount`` runs ``collection.account``: one activity that plans the cost windows, loads them (each
window replaces its days, so any retry is idempotent), then inventory, utilisation and IAM, then records the
sync, heartbeating its progress (a retry resumes from it). One activity per account keeps the Temporal server
and the database light. A step that failed there with a retryable error comes back ``pending`` and is retried
here as its own activity under the retry policy (cost windows in parallel, then inventory, utilisation, IAM),
then ``collection.finish`` records the sync. A failed cost window or step is listed in the result and does not
stop the others (``last_sync_at`` only moves when every cost window loaded, so the next run re-fetches from the
last good sync). A step denied a permission is recorded as a permission problem (from the activity's
``denied`` and step results, or a single step's ``PermissionDenied``), passed to ``collection.finish`` (the
account becomes ``degraded``, naming them) and listed in the result. A rejected credential fails the
workflow non-retryably (the activity has already marked the
account ``error``). While another collection of the account runs, the activity is refused
(``CollectionInProgress``) and retried under the policy, so a manual collection waits for a scheduled one
(about a minute at most, then it fails saying so).

``CollectAll`` lists collectable accounts and collects them in batches: each ``collection.accounts`` activity
runs a few accounts one after the other (every step of each, as ``collection.account`` does) and returns
each account's outcome; at most ``max_concurrency`` accounts are in flight. A batch is
``len(accounts) // max_concurrency`` accounts, capped at ``batch_size`` (so small estates still use every
slot). A Temporal task per batch instead of a child workflow per account cut the Temporal server's CPU
for 400 accounts from 11.1 to 1.2 CPU-seconds (``benchmarks/collect_accounts.py``).
Per account, from its outcome: steps left pending are retried singly and the sync recorded, as in
``CollectAccount``; bad credentials are listed in ``failed`` (the account is already marked ``error``); an
account whose collection was already running (in any worker, from any trigger: the service holds an
advisory lock per account) is ``skipped``; an unexpected error, or a batch that failed for good, sends the
account to its own ``CollectAccount`` child (id ``collect-account-<cloud account id>``), retried under
the policy. When ``analyse`` is set, it then starts ``AnalyseOrganisation`` (``analysis_task_queue``,
abandoned on close, id ``analyse-organisation-<org>``) for each organisation with a successful collection.
Every other organisation it listed (a failed collection, ``analyse`` off, an analysis already running) gets
``PolicyTriggers`` (``policy_task_queue``, abandoned) so its ``collection.failed`` and ``resource.*`` policy
triggers are evaluated; the analysis starts it for the others. A ``CollectAccount`` started on its own (a
manual sync) starts ``PolicyTriggers`` for its organisation when it ends, failed or not.
Histories from before batches (a child per account) replay the old path (``workflow.patched``); histories
from before the policy triggers replay without them.

How activity failures are read (and the retry policies) is in ``collection.failures``; the end of one
account's collection (pending steps retried singly, the sync recorded) in ``collection.pending_steps``.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from contextlib import nullcontext
from datetime import timedelta

from temporalio import workflow
from temporalio.exceptions import (
    ActivityError,
    ApplicationError,
    ChildWorkflowError,
    WorkflowAlreadyStartedError,
)

with workflow.unsafe.imports_passed_through():
    from cloudoptima.domain.collection_steps import (
        AccountCollection,
    )
    from cloudoptima_workflows.analysis.inputs import AnalyseOrganisationInput
    from cloudoptima_workflows.analysis.workflows import AnalyseOrganisationWorkflow
    from cloudoptima_workflows.collection.failures import (
        DB_RETRY,
        IN_PROGRESS,
        READ_RETRY,
        failure_type,
        raise_if_credentials,
        reason,
    )
    from cloudoptima_workflows.collection.inputs import (
        AccountKey,
        AccountList,
        AccountOutcome,
        CollectAccountInput,
        CollectAccountResult,
        CollectAllInput,
        CollectAllResult,
        CollectBatchInput,
        CollectBatchResult,
        ListAccountsInput,
    )
    from cloudoptima_workflows.collection.interface import CollectionActivityInterface
    from cloudoptima_workflows.collection.pending_steps import complete
    from cloudoptima_workflows.policies.inputs import PolicyTriggersInput, TriggerEvaluationInput
    from cloudoptima_workflows.policies.workflows import PolicyTriggersWorkflow

BATCHES_PATCH = "collect-all-batches"
POLICY_TRIGGERS_PATCH = "collection-policy-triggers"
"""``CollectAll`` histories from before batches (one child workflow per account) replay the old path."""


async def _evaluate_policies(organization_id: str, today: str | None, task_queue: str) -> None:
    """Start ``PolicyTriggers`` for the organisation (abandoned; a unique id per collection run)."""
    await workflow.start_child_workflow(
        PolicyTriggersWorkflow.run,
        PolicyTriggersInput(
            evaluation=TriggerEvaluationInput(
                organization_id=organization_id, today=today, source="collection"
            )
        ),
        id=f"policy-triggers-{organization_id}-{workflow.info().run_id}",
        task_queue=task_queue,
        parent_close_policy=workflow.ParentClosePolicy.ABANDON,
    )


@workflow.defn(name="CollectAccount")
class CollectAccountWorkflow:
    @workflow.run
    async def run(self, params: CollectAccountInput) -> CollectAccountResult:
        # On its own (a manual sync), not as CollectAll's child: evaluate the policies when it ends.
        alone = workflow.info().parent is None and workflow.patched(POLICY_TRIGGERS_PATCH)
        try:
            collected: AccountCollection = await workflow.execute_activity_method(
                CollectionActivityInterface.account,
                params,
                start_to_close_timeout=timedelta(minutes=30),
                heartbeat_timeout=timedelta(seconds=params.heartbeat_seconds),
                retry_policy=READ_RETRY,
            )
            result = await complete(params, collected)
        except ActivityError as error:
            if alone:
                await _evaluate_policies(params.organization_id, params.today, params.policy_task_queue)
            raise_if_credentials(error)
            raise
        except ApplicationError:
            if alone:
                await _evaluate_policies(params.organization_id, params.today, params.policy_task_queue)
            raise
        if alone:
            await _evaluate_policies(params.organization_id, params.today, params.policy_task_queue)
        return result


@workflow.defn(name="CollectAll")
class CollectAllWorkflow:
    @workflow.run
    async def run(self, params: CollectAllInput) -> CollectAllResult:
        listed: AccountList = await workflow.execute_activity_method(
            CollectionActivityInterface.list_accounts,
            ListAccountsInput(kind=params.kind, organization_id=params.organization_id),
            start_to_close_timeout=timedelta(minutes=1),
            retry_policy=DB_RETRY,
        )
        succeeded: list[str] = []
        failed: list[str] = []
        skipped: list[str] = []
        organisations: list[str] = []

        def account_input(key: AccountKey) -> CollectAccountInput:
            return CollectAccountInput(
                organization_id=key.organization_id,
                cloud_account_id=key.cloud_account_id,
                initial_days=params.initial_days,
                restate_days=params.restate_days,
                utilisation_days=params.utilisation_days,
                heartbeat_seconds=params.heartbeat_seconds,
                today=params.today,
            )

        totals = {"cost_rows": 0, "resources": 0, "principals": 0}
        incomplete: list[str] = []

        def collected(key: AccountKey, result: CollectAccountResult) -> None:
            succeeded.append(key.cloud_account_id)
            totals["cost_rows"] += result.cost_rows
            totals["resources"] += result.resources
            totals["principals"] += result.principals
            incomplete.extend(f"{key.cloud_account_id}: {step}" for step in result.failed_steps)
            if key.organization_id not in organisations:
                organisations.append(key.organization_id)

        async def child(key: AccountKey) -> None:
            try:
                result = await workflow.execute_child_workflow(
                    CollectAccountWorkflow.run,
                    account_input(key),
                    id=f"collect-account-{key.cloud_account_id}",
                    task_queue=workflow.info().task_queue,
                )
            except WorkflowAlreadyStartedError:
                skipped.append(key.cloud_account_id)
                return
            except ChildWorkflowError as error:
                if failure_type(error) == IN_PROGRESS:
                    skipped.append(key.cloud_account_id)
                else:
                    failed.append(f"{key.cloud_account_id}: {reason(error)}")
                return
            collected(key, result)

        if not workflow.patched(BATCHES_PATCH):
            gate = asyncio.Semaphore(max(1, params.max_concurrency))

            async def one(key: AccountKey) -> None:
                async with gate:
                    await child(key)

            await asyncio.gather(*(one(key) for key in listed.accounts))
        else:
            await self._batches(params, listed.accounts, account_input, collected, child, failed, skipped)
        started: list[str] = []
        if params.analyse:
            for organization_id in sorted(organisations):
                try:
                    await workflow.start_child_workflow(
                        AnalyseOrganisationWorkflow.run,
                        AnalyseOrganisationInput(organization_id=organization_id, today=params.today),
                        id=f"analyse-organisation-{organization_id}",
                        task_queue=params.analysis_task_queue,
                        parent_close_policy=workflow.ParentClosePolicy.ABANDON,
                    )
                except WorkflowAlreadyStartedError:
                    continue
                started.append(organization_id)
        if workflow.patched(POLICY_TRIGGERS_PATCH):
            listed_orgs = sorted({key.organization_id for key in listed.accounts})
            for organization_id in listed_orgs:
                if organization_id not in started:
                    await _evaluate_policies(organization_id, params.today, params.policy_task_queue)
        return CollectAllResult(
            accounts=len(listed.accounts),
            succeeded=sorted(succeeded),
            failed=sorted(failed),
            skipped=sorted(skipped),
            analyses_started=started,
            cost_rows=totals["cost_rows"],
            resources=totals["resources"],
            principals=totals["principals"],
            incomplete=sorted(incomplete),
        )

    @staticmethod
    async def _batches(
        params: CollectAllInput,
        accounts: list[AccountKey],
        account_input: Callable[[AccountKey], CollectAccountInput],
        collected: Callable[[AccountKey, CollectAccountResult], None],
        child: Callable[[AccountKey], Awaitable[None]],
        failed: list[str],
        skipped: list[str],
    ) -> None:
        """Collect ``accounts`` in ``collection.accounts`` batches, at most ``max_concurrency`` accounts at a
        time (batches run their accounts one after the other; a batch is small enough that every slot is
        used: ``len(accounts) // max_concurrency``, capped at ``batch_size``). Then, per account: steps left
        pending are retried singly and the sync recorded (:func:`complete`); an account that hit an
        unexpected error — or whose batch failed for good — is collected again by its own ``CollectAccount``
        child under the retry policy."""
        concurrency = max(1, params.max_concurrency)
        size = max(1, min(params.batch_size, len(accounts) // concurrency))
        gate = asyncio.Semaphore(concurrency)

        async def settle(key: AccountKey, outcome: AccountOutcome | None) -> None:
            if outcome is None or outcome.status == "retry":
                async with gate:
                    await child(key)
            elif outcome.status == "skipped":
                skipped.append(key.cloud_account_id)
            elif outcome.status == "failed" or outcome.steps is None:
                failed.append(f"{key.cloud_account_id}: {outcome.reason}")
            else:
                pending = outcome.steps.finish is None
                try:
                    async with gate if pending else nullcontext():
                        result = await complete(account_input(key), outcome.steps)
                except (ActivityError, ApplicationError) as error:
                    failed.append(f"{key.cloud_account_id}: {reason(error)}")
                    return
                collected(key, result)

        async def batch(keys: list[AccountKey]) -> None:
            outcomes: dict[str, AccountOutcome] = {}
            async with gate:
                try:
                    result: CollectBatchResult = await workflow.execute_activity_method(
                        CollectionActivityInterface.accounts,
                        CollectBatchInput(accounts=[account_input(key) for key in keys]),
                        start_to_close_timeout=timedelta(minutes=30) * len(keys),
                        heartbeat_timeout=timedelta(seconds=params.heartbeat_seconds),
                        retry_policy=READ_RETRY,
                    )
                    outcomes = {outcome.cloud_account_id: outcome for outcome in result.outcomes}
                except ActivityError:
                    outcomes = {}  # the batch failed for good: each account gets its own CollectAccount
            await asyncio.gather(*(settle(key, outcomes.get(key.cloud_account_id)) for key in keys))

        await asyncio.gather(*(batch(accounts[i : i + size]) for i in range(0, len(accounts), size)))
