"""The scheduled-report activity as workflows call it: its registered name, argument and result.

``ScheduledReportActivities`` (``cloudoptima_workflows.reports.scheduled_activities``) implements it.
"""

from __future__ import annotations

from abc import ABC, abstractmethod

from temporalio import activity

from cloudoptima_workflows.reports.inputs import ScheduledRunInput, ScheduledRunOutcome

__all__ = ["ScheduledReportActivityInterface"]


class ScheduledReportActivityInterface(ABC):
    """The scheduled-report activities (implemented by ``ScheduledReportActivities``)."""

    @activity.defn(name="reports.request_scheduled_run")
    @abstractmethod
    def request_scheduled_run(self, params: ScheduledRunInput) -> ScheduledRunOutcome:
        """Record one run of the schedule: a ``generating`` report for the period before ``params.now``."""
