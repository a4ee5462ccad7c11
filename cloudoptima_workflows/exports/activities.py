"""The scheduled cost export activity: one run through the kernel's
:func:`~cloudoptima.services.cost_export_schedules.perform_scheduled_export` (which records the run, writes
the files and the manifest last, and records success or the failure's reason)."""

from __future__ import annotations

import uuid

from sqlalchemy import Engine
from temporalio import activity

from cloudoptima.services.cost_export_schedules import (
    ExportRunNotFound,
    ExportScheduleNotFound,
    ExportsConfig,
    perform_queued_export,
    perform_scheduled_export,
)
from cloudoptima_workflows.exports.inputs import (
    ExportRunOutcome,
    QueuedExportInput,
    ScheduledExportRunInput,
)
from cloudoptima_workflows.exports.interface import ExportActivityInterface


class ExportActivities(ExportActivityInterface):
    """Bound to the database and the exports configuration (folder root, credential cipher)."""

    def __init__(self, engine: Engine, config: ExportsConfig) -> None:
        self._engine = engine
        self._config = config

    @activity.defn(name="exports.run_scheduled_export")
    def run_scheduled_export(self, params: ScheduledExportRunInput) -> ExportRunOutcome:
        """The recorded run (a failed export is a recorded ``failed`` run, not an activity failure, so it is
        not retried into duplicates); no run when the schedule was deleted meanwhile."""
        try:
            run = perform_scheduled_export(
                self._engine,
                uuid.UUID(params.organization_id),
                uuid.UUID(params.schedule_id),
                self._config,
                now=params.now,
            )
        except ExportScheduleNotFound:
            activity.logger.info("export schedule %s no longer exists; nothing to run", params.schedule_id)
            return ExportRunOutcome(run_id=None)
        return ExportRunOutcome(run_id=str(run.id), status=run.status, error=run.error)

    @activity.defn(name="exports.run_queued_export")
    def run_queued_export(self, params: QueuedExportInput) -> ExportRunOutcome:
        """The queued run exported and recorded (a failed export is a recorded ``failed`` run); no run when
        it no longer exists (its organisation was deleted)."""
        try:
            run = perform_queued_export(
                self._engine, uuid.UUID(params.organization_id), uuid.UUID(params.run_id), self._config
            )
        except ExportRunNotFound:
            activity.logger.info("export run %s no longer exists; nothing to run", params.run_id)
            return ExportRunOutcome(run_id=None)
        return ExportRunOutcome(run_id=str(run.id), status=run.status, error=run.error)

    def all(self) -> list[object]:
        """Every activity, to register on a worker."""
        return [self.run_scheduled_export, self.run_queued_export]
