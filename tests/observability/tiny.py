"""A one-activity workflow and a failing one: enough for the Temporal SDK to emit its workflow (completed, failed), activity and poll
metrics."""

from __future__ import annotations

import logging
from dataclasses import dataclass
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


@dataclass
class Job:
    """What :class:`LogOnce` is asked to do, for an organisation (as the product's activity inputs are)."""

    organization_id: str
    text: str


@activity.defn
async def log_line(job: Job) -> None:
    """Log ``job.text`` once (the worker's log line under test)."""
    logging.getLogger("tests.observability.worker").info(job.text)


@workflow.defn
class LogOnce:
    """Run :func:`log_line` once."""

    @workflow.run
    async def run(self, job: Job) -> None:
        await workflow.execute_activity(log_line, job, start_to_close_timeout=timedelta(seconds=30))
