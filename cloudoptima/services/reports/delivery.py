"""Delivering a completed report: by email (one message to every recipient, the artifact attached, subject
and body naming the template, the period and the organisation, with the download link) or to S3
(``<prefix>/<org>/<yyyy-mm-dd>/<template>-<report id><suffix>``).

:func:`deliver_report` raises :class:`~cloudoptima.services.reports.errors.ReportDeliveryError` for a failure,
``retryable`` when a later attempt may succeed (connection refused, 4xx SMTP reply, S3 throttling); recording
the outcome on the report is :meth:`Reports.deliver <cloudoptima.services.reports.Reports.deliver>`'s job.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import UTC, date, timedelta
from email.message import EmailMessage as MimeMessage

from sqlalchemy.orm import Session

from cloudoptima.clouds.object_store import ObjectUploadError
from cloudoptima.notifications.email import EmailDeliveryError, SmtpSender
from cloudoptima.reports.renderers import FILE_SUFFIXES
from cloudoptima.reports.store import ArtifactMissing
from cloudoptima.services.report_catalog import get_template
from cloudoptima.services.reports.config import ReportsConfig
from cloudoptima.services.reports.errors import ReportDeliveryError
from cloudoptima.services.reports.views import RENDER_FORMATS, ReportView
from cloudoptima.storage.models import Organization


def s3_key(config: ReportsConfig, organization_id: uuid.UUID, view: ReportView) -> str:
    """``<prefix>/<org>/<yyyy-mm-dd>/<template>-<report id><suffix>`` (the day the report was requested)."""
    suffix = FILE_SUFFIXES[RENDER_FORMATS[view.format]]
    day = view.created_at.astimezone(UTC).date().isoformat()
    name = f"{organization_id}/{day}/{view.template_id}-{view.id}{suffix}"
    return f"{config.s3_prefix}/{name}" if config.s3_prefix else name


def subject_and_body(
    session: Session, organization_id: uuid.UUID, view: ReportView, link: str | None
) -> tuple[str, str]:
    """The email's subject and plain-text body; ``link`` is the download link (None: not downloadable)."""
    template = get_template(view.template_id)
    organisation = session.get(Organization, organization_id)
    org_name = organisation.name if organisation is not None else str(organization_id)
    start, end = view.parameters.get("start_date"), view.parameters.get("end_date")
    period = ""
    if isinstance(start, str) and isinstance(end, str):
        period = f"{start} – {(date.fromisoformat(end) - timedelta(days=1)).isoformat()}"
    subject = f"{template.name}{f', {period}' if period else ''} — {org_name}"
    lines = [
        f"{template.name} for {org_name}",
        f"Period: {period} (inclusive)" if period else "",
        f"Format: {view.format}, {view.size_bytes:,} bytes (attached as {view.filename})"
        if view.delivery_method == "email"
        else "",
    ]
    if link is not None and view.expires_at is not None:
        lines.append(f"Download until {view.expires_at.astimezone(UTC):%Y-%m-%d %H:%M} UTC: {link}")
    lines.append(f"Report {view.id}, generated {view.completed_at:%Y-%m-%d %H:%M} UTC by CloudOptima.")
    return subject, "\n".join(line for line in lines if line) + "\n"


def deliver_report(
    session: Session,
    organization_id: uuid.UUID,
    config: ReportsConfig,
    smtp: SmtpSender | None,
    view: ReportView,
    link: str | None,
) -> None:
    """Send the completed report ``view`` by its method (``email`` or ``s3``; module contract)."""
    if view.delivery_method == "email":
        _email(session, organization_id, config, smtp, view, link)
    else:
        _upload(config, organization_id, view)


def _artifact(config: ReportsConfig, view: ReportView) -> bytes:
    assert view.artifact_key is not None
    try:
        return config.store.read(view.artifact_key)
    except ArtifactMissing as exc:
        raise ReportDeliveryError(str(exc), retryable=False) from exc


def _email(
    session: Session,
    organization_id: uuid.UUID,
    config: ReportsConfig,
    smtp: SmtpSender | None,
    view: ReportView,
    link: str | None,
) -> None:
    if smtp is None:
        raise ReportDeliveryError("email delivery: no SMTP server is configured (SMTP_HOST)", retryable=False)
    subject, body = subject_and_body(session, organization_id, view, link)
    content = _artifact(config, view)
    recipients: Sequence[str] = view.delivery.get("recipients", [])
    mime = MimeMessage()
    mime["From"] = smtp.sender
    mime["To"] = ", ".join(recipients)
    mime["Subject"] = subject
    mime["X-CloudOptima-Report"] = str(view.id)
    mime.set_content(body)
    maintype, _, subtype = (view.content_type or "application/octet-stream").partition("/")
    mime.add_attachment(content, maintype=maintype, subtype=subtype, filename=view.filename)
    try:
        smtp.send_mime(mime)
    except EmailDeliveryError as exc:
        raise ReportDeliveryError(f"email delivery: {exc}", retryable=exc.retryable) from exc


def _upload(config: ReportsConfig, organization_id: uuid.UUID, view: ReportView) -> None:
    if config.s3 is None:
        raise ReportDeliveryError("s3 delivery: REPORTS_S3_BUCKET is not set", retryable=False)
    content = _artifact(config, view)
    try:
        config.s3.upload(
            s3_key(config, organization_id, view),
            content,
            view.content_type or "application/octet-stream",
            {"report-id": str(view.id), "sha256": view.sha256 or ""},
        )
    except ObjectUploadError as exc:
        raise ReportDeliveryError(f"s3 delivery: {exc}", retryable=exc.retryable) from exc
