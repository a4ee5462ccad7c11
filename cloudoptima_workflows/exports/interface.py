"""The scheduled cost export activity as workflows call it (implemented by
``cloudoptima_workflows.exports.activities.ExportActivities``)."""

from __future__ import annotations

from abc import ABC, abstractmethod

from temporalio import activity

from cloudoptima_workflows.exports.inputs import (
    ExportRunOutcome,
    QueuedExportInput,
    ScheduledExportRunInput,
)

__all__ = ["ExportActivityInterface"]


class ExportActivityInterface(ABC):
    """The export activities."""

    @activity.defn(name="exports.run_scheduled_export")
    @abstractmethod
    def run_scheduled_export(self, params: ScheduledExportRunInput) -> ExportRunOutcome:
        """Run and record one scheduled export (idempotent per schedule and ``params.now``)."""

    @activity.defn(name="exports.run_queued_export")
    @abstractmethod
    def run_queued_export(self, params: QueuedExportInput) -> ExportRunOutcome:
        """Run a queued run (``queued -> running -> succeeded | failed``; a finished run is not repeated)."""
