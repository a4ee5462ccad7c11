"""The scheduled-report activity: records one run of a report schedule through the kernel's
:class:`~cloudoptima.services.report_schedules.ReportSchedules` (the report is then generated and delivered
by the ``GenerateReport`` child workflow, exactly as an ad hoc one)."""

from __future__ import annotations

import uuid

from sqlalchemy.orm import Session, sessionmaker
from temporalio import activity
from temporalio.exceptions import ApplicationError

from cloudoptima.services.events import Publish
from cloudoptima.services.report_inputs import ReportInputError
from cloudoptima.services.report_schedules import ReportScheduleNotFound, ReportSchedules
from cloudoptima.services.reports import ReportsConfig
from cloudoptima.storage.tenancy import tenant_session
from cloudoptima_workflows.reports.inputs import ScheduledRunInput, ScheduledRunOutcome
from cloudoptima_workflows.reports.scheduled_interface import ScheduledReportActivityInterface


class ScheduledReportActivities(ScheduledReportActivityInterface):
    """Bound to the database, the report configuration (the store, links and S3 destination) and ``publish``
    (the live announcement of the ``report.ready`` notices of the reports it records; None: not announced)."""

    def __init__(
        self, sessions: sessionmaker[Session], config: ReportsConfig, *, publish: Publish | None = None
    ) -> None:
        self._sessions = sessions
        self._config = config
        self._publish = publish

    @activity.defn(name="reports.request_scheduled_run")
    def request_scheduled_run(self, params: ScheduledRunInput) -> ScheduledRunOutcome:
        """The report row of this run (committed), or no report when the schedule was deleted meanwhile. A
        schedule whose inputs no longer pass the template's checks gets a ``failed`` report with the reason
        (:meth:`~cloudoptima.services.report_schedules.ReportSchedules.request_run`); the ``GenerateReport``
        child then finds it finished and returns its outcome. Any other input error fails without retrying."""
        org = uuid.UUID(params.organization_id)
        try:
            with tenant_session(self._sessions, org) as session:
                view = ReportSchedules(session, org, self._config, publish=self._publish).request_run(
                    uuid.UUID(params.schedule_id), params.now
                )
        except ReportScheduleNotFound:
            activity.logger.info("report schedule %s no longer exists; nothing to run", params.schedule_id)
            return ScheduledRunOutcome(report_id=None)
        except ReportInputError as exc:
            raise ApplicationError(str(exc), type="ReportInputError", non_retryable=True) from exc
        return ScheduledRunOutcome(report_id=str(view.id))

    def all(self) -> list[object]:
        """Every activity, to register on a worker."""
        return [self.request_scheduled_run]
