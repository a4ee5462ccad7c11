"""Report activities: generation and delivery through the kernel's ``Reports`` service."""

from __future__ import annotations

import uuid
from datetime import timedelta

from sqlalchemy.orm import Session, sessionmaker
from temporalio import activity
from temporalio.exceptions import ApplicationError

from cloudoptima.notifications.email import SmtpSender
from cloudoptima.services.events import Publish
from cloudoptima.services.reports import (
    ReportNotFound,
    Reports,
    ReportsConfig,
    ReportView,
)
from cloudoptima.storage.tenancy import tenant_session
from cloudoptima_workflows.reports.inputs import (
    DeliverReportInput,
    RecordReportFailureInput,
    ReportOutcome,
    ReportStepInput,
)
from cloudoptima_workflows.reports.interface import ReportActivityInterface


def _outcome(view: ReportView) -> ReportOutcome:
    return ReportOutcome(
        report_id=str(view.id),
        status=view.status,
        error=view.error,
        delivery_method=view.delivery_method,
        delivery_status=view.delivery_status,
        delivery_error=view.delivery_error,
    )


class ReportActivities(ReportActivityInterface):
    """Activities bound to the database, the report configuration (store, links, S3) and the SMTP sender
    (``None``: email deliveries fail, saying so). ``delivery_retry_delay`` overrides the workflow's backoff
    between delivery attempts (doubling from it), e.g. to keep tests short. ``publish`` announces the
    ``report.ready`` inbox notices on the ``notifications`` channel (None: stored, not pushed)."""

    def __init__(
        self,
        sessions: sessionmaker[Session],
        config: ReportsConfig,
        smtp: SmtpSender | None,
        *,
        delivery_retry_delay: timedelta | None = None,
        publish: Publish | None = None,
    ) -> None:
        self._sessions = sessions
        self._config = config
        self._smtp = smtp
        self._retry_delay = delivery_retry_delay
        self._publish = publish

    def _service(self, session: Session, organization_id: uuid.UUID) -> Reports:
        return Reports(session, organization_id, self._config, smtp=self._smtp, publish=self._publish)

    @activity.defn(name="reports.generate")
    def generate(self, params: ReportStepInput) -> ReportOutcome:
        """Build, render and store the report at ``params.now``; the row ends ``completed`` or ``failed``."""
        org = uuid.UUID(params.organization_id)
        try:
            with tenant_session(self._sessions, org) as session:
                view = self._service(session, org).generate(uuid.UUID(params.report_id), params.now)
        except ReportNotFound as exc:
            raise ApplicationError(str(exc), type="ReportNotFound", non_retryable=True) from exc
        return _outcome(view)

    @activity.defn(name="reports.deliver")
    def deliver(self, params: DeliverReportInput) -> ReportOutcome:
        """One delivery attempt; the last attempt (``max_attempts``) records a failure instead of raising."""
        org = uuid.UUID(params.organization_id)
        attempt = activity.info().attempt
        final = attempt >= params.max_attempts
        try:
            with tenant_session(self._sessions, org) as session:
                view = self._service(session, org).deliver(
                    uuid.UUID(params.report_id), params.now, final=final
                )
        except ReportNotFound as exc:
            raise ApplicationError(str(exc), type="ReportNotFound", non_retryable=True) from exc
        if view.delivery_status == "pending":
            # A retryable failure, recorded (and committed) on the row; Temporal retries with backoff.
            delay = self._retry_delay * (2 ** (attempt - 1)) if self._retry_delay is not None else None
            raise ApplicationError(
                view.delivery_error or "delivery failed", type="ReportDeliveryError", next_retry_delay=delay
            )
        return _outcome(view)

    @activity.defn(name="reports.record_failure")
    def record_failure(self, params: RecordReportFailureInput) -> ReportOutcome:
        """Record that generation or delivery failed for good (the activity ran out of attempts)."""
        org = uuid.UUID(params.organization_id)
        report_id = uuid.UUID(params.report_id)
        with tenant_session(self._sessions, org) as session:
            service = self._service(session, org)
            if params.stage == "generate":
                view = service.fail(report_id, params.reason, params.now)
            else:
                view = service.record_delivery_failure(report_id, params.reason)
        return _outcome(view)

    def all(self) -> list[object]:
        """Every activity, to register on a worker."""
        return [self.generate, self.deliver, self.record_failure]
