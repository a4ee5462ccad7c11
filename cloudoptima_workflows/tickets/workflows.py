"""SyncTickets workflow: deterministic; every organisation's tracker tickets read back at the workflow's time.

One activity lists the organisations, then one activity per organisation syncs it, retried with backoff
(``attempts`` in all, 10 s then doubling): each attempt is in the workflow history. An organisation whose attempts
all failed is listed in ``failed_organisations`` with the error and the others go on; its trackers keep
``last_sync_error``. The schedule (``cloudoptima-tickets``) runs it every 30 minutes.
"""

from __future__ import annotations

from datetime import timedelta

from temporalio import workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import ActivityError

with workflow.unsafe.imports_passed_through():
    from cloudoptima_workflows.tickets.inputs import (
        SyncOrganisationInput,
        SyncOrganisationResult,
        SyncTicketsInput,
        SyncTicketsResult,
        TicketOrganisationsInput,
    )
    from cloudoptima_workflows.tickets.interface import TicketActivityInterface


@workflow.defn(name="SyncTickets")
class SyncTicketsWorkflow:
    @workflow.run
    async def run(self, params: SyncTicketsInput) -> SyncTicketsResult:
        now = workflow.now()
        organisations: list[str] = await workflow.execute_activity_method(
            TicketActivityInterface.organisations,
            TicketOrganisationsInput(now=now),
            start_to_close_timeout=timedelta(minutes=2),
            retry_policy=RetryPolicy(maximum_attempts=3),
        )
        wanted = set(params.organisation_ids)
        result = SyncTicketsResult()
        for org in organisations:
            if wanted and org not in wanted:
                continue
            try:
                done: SyncOrganisationResult = await workflow.execute_activity_method(
                    TicketActivityInterface.sync_organisation,
                    SyncOrganisationInput(organization_id=org, now=now),
                    start_to_close_timeout=timedelta(minutes=10),
                    retry_policy=RetryPolicy(
                        initial_interval=timedelta(seconds=10),
                        backoff_coefficient=2.0,
                        maximum_attempts=params.attempts,
                    ),
                )
            except ActivityError as exc:
                result.failed_organisations[org] = str(exc.cause or exc)
                continue
            result.organisations.append(done)
        if result.failed_organisations:
            workflow.logger.warning("ticket sync failed for %s", sorted(result.failed_organisations))
        return result
