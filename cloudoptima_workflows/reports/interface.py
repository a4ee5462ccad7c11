"""The report activities as workflows call them: each one's registered name, argument and result.

``ReportActivities`` (``cloudoptima_workflows.reports.activities``) implements them under the same names.
"""

from __future__ import annotations

from abc import ABC, abstractmethod

from temporalio import activity

from cloudoptima_workflows.reports.inputs import (
    DeliverReportInput,
    RecordReportFailureInput,
    ReportOutcome,
    ReportStepInput,
)

__all__ = ["ReportActivityInterface"]


class ReportActivityInterface(ABC):
    """The report activities (implemented by ``ReportActivities``)."""

    @activity.defn(name="reports.generate")
    @abstractmethod
    def generate(self, params: ReportStepInput) -> ReportOutcome:
        """Build, render and store the report; the row ends ``completed`` or ``failed``."""

    @activity.defn(name="reports.deliver")
    @abstractmethod
    def deliver(self, params: DeliverReportInput) -> ReportOutcome:
        """Deliver the completed report by email or to S3; a retryable failure raises (Temporal retries)."""

    @activity.defn(name="reports.record_failure")
    @abstractmethod
    def record_failure(self, params: RecordReportFailureInput) -> ReportOutcome:
        """Record on the row that generation or delivery failed for good."""
