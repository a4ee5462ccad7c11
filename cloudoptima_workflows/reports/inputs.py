"""Inputs and results of report generation (pydantic messages, see ``cloudoptima_workflows.message``)."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import Field

from cloudoptima_workflows.message import Message

GENERATE_REPORT_WORKFLOW = "GenerateReport"
"""The workflow type clients start (``cloudoptima_gateway`` starts it by name on the ``reports`` queue)."""


def report_workflow_id(report_id: str) -> str:
    """One workflow per report."""
    return f"report-{report_id}"


class GenerateReportInput(Message):
    """Generate (then deliver, if its delivery is email or s3) the report row ``report_id``."""

    report_id: str
    organization_id: str


class ReportStepInput(Message):
    """One step on the report ``report_id`` at ``now`` (the workflow's time)."""

    report_id: str
    organization_id: str
    now: datetime


class DeliverReportInput(ReportStepInput):
    """A delivery attempt; the attempt numbered ``max_attempts`` records a failure for good."""

    max_attempts: int = Field(default=4, ge=1, le=20)


class RecordReportFailureInput(ReportStepInput):
    """Record that ``stage`` failed for good after the activity's retries, with the reason."""

    stage: Literal["generate", "deliver"]
    reason: str


class ReportOutcome(Message):
    """Where the report stands: ``status`` (generating, completed, failed) with ``error``; its delivery
    method and ``delivery_status`` (None for download; pending, delivered, failed) with ``delivery_error``."""

    report_id: str
    status: str
    error: str | None = None
    delivery_method: str = "download"
    delivery_status: str | None = None
    delivery_error: str | None = None


SCHEDULED_REPORT_WORKFLOW = "ScheduledReport"
"""The workflow type each report schedule's Temporal Schedule starts (on the ``reports`` queue)."""


class ScheduledReportInput(Message):
    """One run of the report schedule ``schedule_id`` (what its Temporal Schedule passes)."""

    schedule_id: str
    organization_id: str


class ScheduledRunInput(ScheduledReportInput):
    """Record the run at ``now`` (the run's scheduled time): a report for the period before it."""

    now: datetime


class ScheduledRunOutcome(Message):
    """The report the run recorded, or none (``report_id`` None) when the schedule no longer exists."""

    report_id: str | None = None
