"""The :class:`Reports` service of one organisation: request, read, generate and deliver reports (the
contract is the package's, :mod:`cloudoptima.services.reports`)."""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from cloudoptima.notifications.email import SmtpSender
from cloudoptima.reports.renderers import FILE_SUFFIXES, MEDIA_TYPES, render
from cloudoptima.reports.store import artifact_key
from cloudoptima.services.events import Publish
from cloudoptima.services.report_catalog import (
    build_report,
    get_template,
    parameters_as_json,
    resolve_parameters,
)
from cloudoptima.services.report_inputs import ReportInputError
from cloudoptima.services.report_notices import notify_report_ready
from cloudoptima.services.reports.config import ReportsConfig
from cloudoptima.services.reports.delivery import deliver_report, s3_key
from cloudoptima.services.reports.errors import ReportDeliveryError, ReportNotFound
from cloudoptima.services.reports.links import ReportLinks
from cloudoptima.services.reports.requests import check_delivery, one_line
from cloudoptima.services.reports.views import API_FORMATS, RENDER_FORMATS, ReportView, view_of
from cloudoptima.storage.models import ReportRow


class Reports:
    """The reports of one organisation (module contract). The caller commits the session."""

    def __init__(
        self,
        session: Session,
        organization_id: uuid.UUID,
        config: ReportsConfig,
        *,
        smtp: SmtpSender | None = None,
        publish: Publish | None = None,
    ) -> None:
        self.session = session
        self.organization_id = organization_id
        self.config = config
        self.links = ReportLinks(config.link_key)
        self._smtp = smtp
        self._publish = publish

    # ---- requests ------------------------------------------------------------------------------------
    def request(
        self,
        template_id: str,
        parameters: Mapping[str, Any] | None,
        format: str,
        delivery: Mapping[str, Any] | None,
        *,
        now: datetime,
        requested_by: uuid.UUID | None = None,
        schedule_id: uuid.UUID | None = None,
    ) -> ReportView:
        """Check the request and insert a ``generating`` row (module contract); nothing is built yet."""
        template = get_template(template_id)
        resolved = resolve_parameters(template, dict(parameters or {}), now)
        if format not in API_FORMATS:
            raise ReportInputError(
                f"format: unknown format {format!r}; expected one of {', '.join(API_FORMATS)}"
            )
        checked = check_delivery(delivery, self.config)
        row = ReportRow(
            id=uuid.uuid4(),
            organization_id=self.organization_id,
            template_id=template.id,
            parameters=parameters_as_json(resolved),
            format=format,
            delivery=checked,
            status="generating",
            schedule_id=schedule_id,
            requested_by=requested_by,
            delivery_status=None if checked["method"] == "download" else "pending",
            created_at=now,
        )
        self.session.add(row)
        self.session.flush()
        return view_of(row)

    # ---- reading -------------------------------------------------------------------------------------
    def _row(self, report_id: uuid.UUID) -> ReportRow:
        row = self.session.scalars(
            select(ReportRow).where(
                ReportRow.organization_id == self.organization_id, ReportRow.id == report_id
            )
        ).first()
        if row is None:
            raise ReportNotFound(f"report {report_id} does not exist")
        return row

    def get(self, report_id: uuid.UUID) -> ReportView:
        """The report ``report_id`` (:class:`ReportNotFound` if it is not this organisation's)."""
        return view_of(self._row(report_id))

    def list(
        self, *, limit: int = 50, before: tuple[datetime, uuid.UUID] | None = None
    ) -> Sequence[ReportView]:
        """Reports newest first, at most ``limit``; ``before`` = the (created_at, id) of the last one seen."""
        query = select(ReportRow).where(ReportRow.organization_id == self.organization_id)
        if before is not None:
            created, last_id = before
            query = query.where(
                (ReportRow.created_at < created)
                | ((ReportRow.created_at == created) & (ReportRow.id < last_id))
            )
        query = query.order_by(ReportRow.created_at.desc(), ReportRow.id.desc()).limit(limit)
        return [view_of(row) for row in self.session.scalars(query)]

    def signed_download_path(self, report_id: uuid.UUID, expires_at: datetime) -> str:
        """The signed download path of ``report_id`` valid until ``expires_at`` (module contract)."""
        return self.links.path(report_id, expires_at)

    def download_url(self, view: ReportView, now: datetime) -> str | None:
        """The signed link (absolute when ``CLOUDOPTIMA_PUBLIC_URL`` is set) while the report is downloadable."""
        if not view.downloadable(now) or view.expires_at is None:
            return None
        path = self.signed_download_path(view.id, view.expires_at)
        return f"{self.config.public_url}{path}" if self.config.public_url else path

    def verify_download(self, report_id: uuid.UUID, expires: int, signature: str, now: datetime) -> None:
        """:class:`ReportLinkError` unless the link is genuine and current."""
        self.links.verify(report_id, expires, signature, now)

    # ---- generation ----------------------------------------------------------------------------------
    def generate(self, report_id: uuid.UUID, now: datetime) -> ReportView:
        """Build, render and store the report; mark it completed or failed (module contract)."""
        row = self._row(report_id)
        if row.status != "generating":
            return view_of(row)
        fmt = RENDER_FORMATS[row.format]
        key = artifact_key(self.organization_id, row.id, FILE_SUFFIXES[fmt])
        try:
            with self.session.begin_nested():
                resolved = resolve_parameters(get_template(row.template_id), row.parameters, now)
                document = build_report(
                    self.session.connection(), self.organization_id, row.template_id, resolved, now
                )
            stored = self.config.store.write(key, lambda stream: render(document, fmt, stream))
        except Exception as exc:  # the reason is recorded on the row; nothing was stored
            return self._mark_failed(row, str(exc) or type(exc).__name__, now)
        row.parameters = parameters_as_json(resolved)
        row.status, row.error = "completed", None
        row.artifact_key, row.content_type = stored.key, MEDIA_TYPES[fmt]
        row.size_bytes, row.sha256 = stored.size_bytes, stored.sha256
        row.completed_at, row.expires_at = now, now + self.config.link_ttl
        self.session.flush()
        return self._finished(row, now)

    def fail(self, report_id: uuid.UUID, reason: str, now: datetime) -> ReportView:
        """Mark a report that is still ``generating`` as ``failed`` with ``reason`` (generation gave up)."""
        row = self._row(report_id)
        if row.status == "generating":
            return self._mark_failed(row, reason, now)
        return view_of(row)

    def _mark_failed(self, row: ReportRow, reason: str, now: datetime) -> ReportView:
        """``failed`` with ``reason`` (a pending delivery fails with it), then the notice."""
        row.status, row.error, row.completed_at = "failed", one_line(reason), now
        if row.delivery_status == "pending":
            row.delivery_status, row.delivery_error = "failed", "the report could not be generated"
        self.session.flush()
        return self._finished(row, now)

    def _finished(self, row: ReportRow, now: datetime) -> ReportView:
        """The report just turned ``completed`` or ``failed``: its ``report.ready`` notice, in this
        transaction (:mod:`cloudoptima.services.report_notices`; once per report)."""
        view = view_of(row)
        notify_report_ready(
            self.session,
            self.organization_id,
            report_id=view.id,
            template_id=view.template_id,
            format=view.format,
            status=view.status,
            parameters=view.parameters,
            size_bytes=view.size_bytes,
            error=view.error,
            requested_by=view.requested_by,
            now=now,
            publish=self._publish,
            public_url=self.config.public_url,
            base_url=self.config.notice_base_url,
            console_url=self.config.console_url,
        )
        return view

    # ---- delivery ------------------------------------------------------------------------------------
    def deliver(self, report_id: uuid.UUID, now: datetime, *, final: bool = True) -> ReportView:
        """Deliver a completed report by its method (module contract). ``download`` needs no delivery and a
        report not pending delivery is returned as it is."""
        row = self._row(report_id)
        view = view_of(row)
        if view.delivery_method == "download" or row.delivery_status != "pending":
            return view
        if row.status != "completed" or row.artifact_key is None:
            return self.record_delivery_failure(report_id, f"the report is {row.status}, nothing to deliver")
        try:
            deliver_report(
                self.session,
                self.organization_id,
                self.config,
                self._smtp,
                view,
                self.download_url(view, now),
            )
        except ReportDeliveryError as exc:
            if final or not exc.retryable:
                return self.record_delivery_failure(report_id, str(exc))
            row.delivery_error = one_line(str(exc))
            self.session.flush()
            return view_of(row)
        row.delivery_status, row.delivery_error = "delivered", None
        self.session.flush()
        return view_of(row)

    def record_delivery_failure(self, report_id: uuid.UUID, reason: str) -> ReportView:
        """Record that the delivery failed for good (the report itself is untouched)."""
        row = self._row(report_id)
        row.delivery_status, row.delivery_error = "failed", one_line(reason)
        self.session.flush()
        return view_of(row)

    def s3_key(self, view: ReportView) -> str:
        """``<prefix>/<org>/<yyyy-mm-dd>/<template>-<report id><suffix>`` (the day the report was requested)."""
        return s3_key(self.config, self.organization_id, view)
