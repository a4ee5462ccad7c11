"""DeliverNotifications workflow: deterministic; one activity that attempts every due delivery at the
workflow's time. Retries of single deliveries are the delivery pipeline's own (backoff recorded on each row,
``cloudoptima.services.notification_delivery``), so the activity is retried only briefly for infrastructure
failures; the schedule runs again every minute."""

from __future__ import annotations

from datetime import timedelta

from temporalio import workflow
from temporalio.common import RetryPolicy

with workflow.unsafe.imports_passed_through():
    from cloudoptima_workflows.notifications.inputs import (
        DeliverDueInput,
        DeliverDueResult,
        DeliverNotificationsInput,
        SendDigestsInput,
        SendDigestsResult,
        SendDueDigestsInput,
    )
    from cloudoptima_workflows.notifications.interface import NotificationActivityInterface


@workflow.defn(name="DeliverNotifications")
class DeliverNotificationsWorkflow:
    @workflow.run
    async def run(self, params: DeliverNotificationsInput) -> DeliverDueResult:
        result: DeliverDueResult = await workflow.execute_activity_method(
            NotificationActivityInterface.deliver_due,
            DeliverDueInput(now=workflow.now(), limit=params.limit),
            start_to_close_timeout=timedelta(minutes=10),
            retry_policy=RetryPolicy(maximum_attempts=2),
        )
        if result.failed_organisations:
            workflow.logger.warning("notification delivery failed for %s", result.failed_organisations)
        return result


@workflow.defn(name="SendDigests")
class SendDigestsWorkflow:
    """One pass of the per-user digests at the workflow's time (the schedule runs it every 15 minutes). Each
    subscription records its own outcome (``last_sent_at`` or ``last_error``), so a failed digest is simply
    due again on the next pass; the activity is retried only briefly for infrastructure failures."""

    @workflow.run
    async def run(self, params: SendDigestsInput) -> SendDigestsResult:
        result: SendDigestsResult = await workflow.execute_activity_method(
            NotificationActivityInterface.send_digests,
            SendDueDigestsInput(now=workflow.now()),
            start_to_close_timeout=timedelta(minutes=10),
            retry_policy=RetryPolicy(maximum_attempts=2),
        )
        if result.failed_users:
            workflow.logger.warning("digests failed for users %s", result.failed_users)
        return result
