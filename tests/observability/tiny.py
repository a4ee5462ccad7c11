"""A one-activity workflow and a failing one: enough for the Temporal SDK to emit its workflow (completed, failed), activity and poll
metrics."""

from __future__ import annotations

from datetime import timedelta

from temporalio import activity, workflow
from temporalio.exceptions import ApplicationError


@activity.defn
async def echo(text: str) -> str:
    """Answer ``text`` back."""
    return text


@workflow.defn
class EchoOnce:
    """Run :func:`echo` once and return its answer."""

    @workflow.run
    async def run(self, text: str) -> str:
        return await workflow.execute_activity(echo, text, start_to_close_timeout=timedelta(seconds=30))


@workflow.defn
class FailOnce:
    """Fail at once (not retried): what makes the SDK count a failed workflow."""

    @workflow.run
    async def run(self, reason: str) -> None:
        raise ApplicationError(reason, non_retryable=True)
