"""Reports: request, generate, deliver and download generated reports of one organisation.

Contract (:class:`Reports`, every query scoped to its organisation):

- :meth:`Reports.request` checks everything before anything starts and inserts a ``generating`` row.
  Bad input raises :class:`~cloudoptima.services.report_inputs.ReportInputError` whose message starts with
  the field: ``template_id``, ``parameters.<name>`` (the catalog's checks, the period rule included),
  ``format`` (``pdf``, ``excel``, ``csv``, ``json``), ``delivery.method`` (``download``, ``email``, ``s3``;
  ``s3`` needs ``REPORTS_S3_BUCKET``) and ``delivery.recipients`` (email needs 1–50 plain addresses; other
  methods take none). The parameters are resolved at request time (a default period is the last full month
  before ``now``) and recorded on the row, so generating later builds exactly what was asked. A scheduled
  run passes its ``schedule_id``.
- :meth:`Reports.generate` builds the report through
  :func:`~cloudoptima.services.report_catalog.build_report`, renders it into the
  :class:`~cloudoptima.reports.store.ReportStore` (atomically: a failure leaves no artifact) and marks the row
  ``completed`` (size, SHA-256, content type, ``completed_at``, ``expires_at = now + REPORTS_LINK_TTL_HOURS``)
  or ``failed`` with the error. A row that is no longer ``generating`` is returned as it is (retries are
  harmless). In the same transaction the requester hears of it (``report.ready``, in-app, announced on the
  ``publish`` the service was built with, and through the organisation's notification rules; once per
  report: :mod:`cloudoptima.services.report_notices`); :meth:`Reports.fail` does the same.
- :meth:`Reports.deliver` sends a completed report by email (one message to every recipient, the artifact
  attached, subject and body naming the template, the period and the organisation, with the download link)
  or uploads it to S3 (``<prefix>/<org>/<yyyy-mm-dd>/<template>-<report id><suffix>``). Success records
  ``delivery_status = delivered``. A failure that a later attempt may fix (connection refused, 4xx SMTP
  reply, S3 throttling) records ``delivery_error`` and leaves ``delivery_status`` ``pending`` (the caller
  retries later) unless ``final`` is set; a permanent failure, or any failure when ``final``, records
  ``delivery_status = failed``. A delivery failure never touches the report itself: it stays
  ``completed`` and downloadable.
- Download links: :class:`ReportLinks` signs ``/v1/reports/{id}/download?expires=<unix>&signature=<hex>``
  (HMAC-SHA256 over ``"<report id>.<expires>"`` with a key derived from the JWT signing secret) and verifies
  them in constant time (:class:`ReportLinkError` for a wrong or expired link). :func:`open_download` checks a
  link, then the report (:class:`ReportNotFound`) and its artifact (:class:`ReportGone` when expired or
  missing), and opens the file.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from email.message import EmailMessage as MimeMessage
from typing import IO, Any, Literal

from sqlalchemy import select
from sqlalchemy.orm import Session

from cloudoptima.clouds.object_store import ObjectUploader, ObjectUploadError, s3_report_uploader
from cloudoptima.notifications.email import EmailDeliveryError, SmtpSender
from cloudoptima.reports.renderers import FILE_SUFFIXES, MEDIA_TYPES, ReportFormat, render
from cloudoptima.reports.store import ArtifactMissing, ReportStore, artifact_key
from cloudoptima.services.events import Publish
from cloudoptima.services.report_catalog import (
    build_report,
    get_template,
    parameters_as_json,
    resolve_parameters,
)
from cloudoptima.services.report_inputs import ReportInputError
from cloudoptima.services.report_notices import notify_report_ready
from cloudoptima.settings import Settings
from cloudoptima.storage.models import Organization, ReportRow

ApiFormat = Literal["pdf", "excel", "csv", "json"]
API_FORMATS: tuple[ApiFormat, ...] = ("pdf", "excel", "csv", "json")
RENDER_FORMATS: dict[str, ReportFormat] = {"pdf": "pdf", "excel": "xlsx", "csv": "csv", "json": "json"}
DeliveryMethod = Literal["download", "email", "s3"]
DELIVERY_METHODS: tuple[DeliveryMethod, ...] = ("download", "email", "s3")
MAX_RECIPIENTS = 50
LINK_PATH = "/v1/reports/{report_id}/download"

_ADDRESS = re.compile(r"^[^\s@<>,;:\"()\[\]\\]+@[A-Za-z0-9](?:[A-Za-z0-9.\-]*[A-Za-z0-9])?\.[A-Za-z]{2,}$")


class ReportNotFound(LookupError):
    """No such report in this organisation."""


class ReportGone(LookupError):
    """The report exists but its artifact has expired or is no longer stored (or it never completed)."""


class ReportLinkError(PermissionError):
    """A download link whose signature is wrong or whose time is up."""


class ReportDeliveryError(RuntimeError):
    """The delivery failed (the message names the destination and the reason)."""

    def __init__(self, message: str, *, retryable: bool) -> None:
        super().__init__(message)
        self.retryable = retryable


@dataclass(frozen=True)
class ReportsConfig:
    """Where artifacts go, how links are signed, how long they last and where S3 deliveries go."""

    store: ReportStore
    link_key: bytes
    link_ttl: timedelta = timedelta(hours=168)
    public_url: str | None = None
    s3: ObjectUploader | None = field(default=None, compare=False)
    s3_prefix: str = "cloudoptima-reports"


def link_key_from_secret(secret: str) -> bytes:
    """The download-link key: HMAC-SHA256 of a fixed label under the signing secret (never the secret)."""
    return hmac.new(secret.encode(), b"cloudoptima report download links v1", hashlib.sha256).digest()


def reports_config_from_settings(settings: Settings) -> ReportsConfig:
    """The configuration of ``settings``: the store under ``<state dir>/reports``, the link key derived from
    ``JWT_SECRET``, ``REPORTS_LINK_TTL_HOURS`` and the ``REPORTS_S3_*`` destination (boto3 client with the
    SDK's usual credential chain)."""
    bucket = settings.reports_s3_bucket
    uploader = (
        s3_report_uploader(
            bucket, endpoint_url=settings.reports_s3_endpoint_url, region=settings.reports_s3_region
        )
        if bucket
        else None
    )
    return ReportsConfig(
        store=ReportStore(settings.state_path / "reports"),
        link_key=link_key_from_secret(settings.resolved_jwt_secret),
        link_ttl=timedelta(hours=settings.reports_link_ttl_hours),
        public_url=settings.public_url.rstrip("/") if settings.public_url else None,
        s3=uploader,
        s3_prefix=settings.reports_s3_prefix.strip("/"),
    )


@dataclass(frozen=True)
class ReportView:
    """A report as the API shows it."""

    id: uuid.UUID
    template_id: str
    parameters: dict[str, Any]
    format: str
    delivery: dict[str, Any]
    status: str
    error: str | None
    schedule_id: uuid.UUID | None
    requested_by: uuid.UUID | None
    content_type: str | None
    size_bytes: int | None
    sha256: str | None
    delivery_status: str | None
    delivery_error: str | None
    created_at: datetime
    completed_at: datetime | None
    expires_at: datetime | None
    artifact_key: str | None

    @property
    def delivery_method(self) -> str:
        return str(self.delivery.get("method", "download"))

    @property
    def filename(self) -> str:
        """The file name people get: ``<template>-<first day>-<last day><suffix>``."""
        suffix = FILE_SUFFIXES[RENDER_FORMATS[self.format]]
        start, end = self.parameters.get("start_date"), self.parameters.get("end_date")
        period = ""
        if isinstance(start, str) and isinstance(end, str):
            last = date.fromisoformat(end) - timedelta(days=1)
            period = f"-{start}-{last.isoformat()}"
        return f"{self.template_id}{period}{suffix}"

    def downloadable(self, now: datetime) -> bool:
        """Completed, with an artifact, and not expired at ``now``."""
        return (
            self.status == "completed"
            and self.artifact_key is not None
            and self.expires_at is not None
            and now < self.expires_at
        )


def _view(row: ReportRow) -> ReportView:
    return ReportView(
        id=row.id,
        template_id=row.template_id,
        parameters=dict(row.parameters),
        format=row.format,
        delivery=dict(row.delivery),
        status=row.status,
        error=row.error,
        schedule_id=row.schedule_id,
        requested_by=row.requested_by,
        content_type=row.content_type,
        size_bytes=row.size_bytes,
        sha256=row.sha256,
        delivery_status=row.delivery_status,
        delivery_error=row.delivery_error,
        created_at=row.created_at,
        completed_at=row.completed_at,
        expires_at=row.expires_at,
        artifact_key=row.artifact_key,
    )


class ReportLinks:
    """Signs and verifies download links (module contract)."""

    def __init__(self, key: bytes) -> None:
        self._key = key

    def signature(self, report_id: uuid.UUID, expires: int) -> str:
        return hmac.new(self._key, f"{report_id}.{expires}".encode(), hashlib.sha256).hexdigest()

    def path(self, report_id: uuid.UUID, expires_at: datetime) -> str:
        """``/v1/reports/{id}/download?expires=<unix>&signature=<hex>``."""
        expires = int(expires_at.timestamp())
        base = LINK_PATH.format(report_id=report_id)
        return f"{base}?expires={expires}&signature={self.signature(report_id, expires)}"

    def verify(self, report_id: uuid.UUID, expires: int, signature: str, now: datetime) -> None:
        """Nothing for a good, current link; :class:`ReportLinkError` saying why otherwise."""
        expected = self.signature(report_id, expires)
        if not hmac.compare_digest(expected.encode(), signature.strip().lower().encode()):
            raise ReportLinkError("the download link's signature is not valid")
        if now.timestamp() >= expires:
            raise ReportLinkError("the download link has expired; ask for a new one (GET /v1/reports/{id})")


def _check_delivery(delivery: Mapping[str, Any] | None, config: ReportsConfig) -> dict[str, Any]:
    given = dict(delivery or {"method": "download"})
    method = given.get("method", "download")
    if method not in DELIVERY_METHODS:
        raise ReportInputError(
            f"delivery.method: unknown delivery method {method!r}; expected one of {', '.join(DELIVERY_METHODS)}"
        )
    unknown = sorted(set(given) - {"method", "recipients"})
    if unknown:
        raise ReportInputError(f"delivery.{unknown[0]}: not a delivery field (method, recipients)")
    recipients = given.get("recipients") or []
    if not isinstance(recipients, list | tuple):
        raise ReportInputError("delivery.recipients: expected a list of email addresses")
    if method != "email":
        if recipients:
            raise ReportInputError(f"delivery.recipients: only email delivery takes recipients, not {method}")
        if method == "s3" and config.s3 is None:
            raise ReportInputError("delivery.method: s3 delivery is not configured (set REPORTS_S3_BUCKET)")
        return {"method": method, "recipients": []}
    if not recipients:
        raise ReportInputError("delivery.recipients: email delivery needs at least one recipient")
    if len(recipients) > MAX_RECIPIENTS:
        raise ReportInputError(f"delivery.recipients: at most {MAX_RECIPIENTS} recipients")
    clean: list[str] = []
    for index, address in enumerate(recipients):
        if not isinstance(address, str) or not _ADDRESS.match(address.strip()):
            raise ReportInputError(f"delivery.recipients[{index}]: {address!r} is not an email address")
        if address.strip() not in clean:
            clean.append(address.strip())
    return {"method": "email", "recipients": clean}


def _one_line(text: str, limit: int = 2000) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


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
        checked = _check_delivery(delivery, self.config)
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
        return _view(row)

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
        return _view(self._row(report_id))

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
        return [_view(row) for row in self.session.scalars(query)]

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
            return _view(row)
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
            row.status, row.error, row.completed_at = "failed", _one_line(str(exc) or type(exc).__name__), now
            if row.delivery_status == "pending":
                row.delivery_status, row.delivery_error = "failed", "the report could not be generated"
            self.session.flush()
            return self._finished(row, now)
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
            row.status, row.error, row.completed_at = "failed", _one_line(reason), now
            if row.delivery_status == "pending":
                row.delivery_status, row.delivery_error = "failed", "the report could not be generated"
            self.session.flush()
            return self._finished(row, now)
        return _view(row)

    def _finished(self, row: ReportRow, now: datetime) -> ReportView:
        """The report just turned ``completed`` or ``failed``: its ``report.ready`` notice, in this
        transaction (:mod:`cloudoptima.services.report_notices`; once per report)."""
        view = _view(row)
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
        )
        return view

    # ---- delivery ------------------------------------------------------------------------------------
    def deliver(self, report_id: uuid.UUID, now: datetime, *, final: bool = True) -> ReportView:
        """Deliver a completed report by its method (module contract). ``download`` needs no delivery and a
        report not pending delivery is returned as it is."""
        row = self._row(report_id)
        view = _view(row)
        if view.delivery_method == "download" or row.delivery_status != "pending":
            return view
        if row.status != "completed" or row.artifact_key is None:
            return self.record_delivery_failure(report_id, f"the report is {row.status}, nothing to deliver")
        try:
            if view.delivery_method == "email":
                self._email(view, now)
            else:
                self._upload(view)
        except ReportDeliveryError as exc:
            if final or not exc.retryable:
                return self.record_delivery_failure(report_id, str(exc))
            row.delivery_error = _one_line(str(exc))
            self.session.flush()
            return _view(row)
        row.delivery_status, row.delivery_error = "delivered", None
        self.session.flush()
        return _view(row)

    def record_delivery_failure(self, report_id: uuid.UUID, reason: str) -> ReportView:
        """Record that the delivery failed for good (the report itself is untouched)."""
        row = self._row(report_id)
        row.delivery_status, row.delivery_error = "failed", _one_line(reason)
        self.session.flush()
        return _view(row)

    def _artifact(self, view: ReportView) -> bytes:
        assert view.artifact_key is not None
        try:
            return self.config.store.read(view.artifact_key)
        except ArtifactMissing as exc:
            raise ReportDeliveryError(str(exc), retryable=False) from exc

    def _subject_and_body(self, view: ReportView, now: datetime) -> tuple[str, str]:
        template = get_template(view.template_id)
        organisation = self.session.get(Organization, self.organization_id)
        org_name = organisation.name if organisation is not None else str(self.organization_id)
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
        link = self.download_url(view, now)
        if link is not None and view.expires_at is not None:
            lines.append(f"Download until {view.expires_at.astimezone(UTC):%Y-%m-%d %H:%M} UTC: {link}")
        lines.append(f"Report {view.id}, generated {view.completed_at:%Y-%m-%d %H:%M} UTC by CloudOptima.")
        return subject, "\n".join(line for line in lines if line) + "\n"

    def _email(self, view: ReportView, now: datetime) -> None:
        if self._smtp is None:
            raise ReportDeliveryError(
                "email delivery: no SMTP server is configured (SMTP_HOST)", retryable=False
            )
        subject, body = self._subject_and_body(view, now)
        content = self._artifact(view)
        recipients: Sequence[str] = view.delivery.get("recipients", [])
        mime = MimeMessage()
        mime["From"] = self._smtp.sender
        mime["To"] = ", ".join(recipients)
        mime["Subject"] = subject
        mime["X-CloudOptima-Report"] = str(view.id)
        mime.set_content(body)
        maintype, _, subtype = (view.content_type or "application/octet-stream").partition("/")
        mime.add_attachment(content, maintype=maintype, subtype=subtype, filename=view.filename)
        try:
            self._smtp.send_mime(mime)
        except EmailDeliveryError as exc:
            raise ReportDeliveryError(f"email delivery: {exc}", retryable=exc.retryable) from exc

    def s3_key(self, view: ReportView) -> str:
        """``<prefix>/<org>/<yyyy-mm-dd>/<template>-<report id><suffix>`` (the day the report was requested)."""
        suffix = FILE_SUFFIXES[RENDER_FORMATS[view.format]]
        day = view.created_at.astimezone(UTC).date().isoformat()
        name = f"{self.organization_id}/{day}/{view.template_id}-{view.id}{suffix}"
        return f"{self.config.s3_prefix}/{name}" if self.config.s3_prefix else name

    def _upload(self, view: ReportView) -> None:
        if self.config.s3 is None:
            raise ReportDeliveryError("s3 delivery: REPORTS_S3_BUCKET is not set", retryable=False)
        content = self._artifact(view)
        try:
            self.config.s3.upload(
                self.s3_key(view),
                content,
                view.content_type or "application/octet-stream",
                {"report-id": str(view.id), "sha256": view.sha256 or ""},
            )
        except ObjectUploadError as exc:
            raise ReportDeliveryError(f"s3 delivery: {exc}", retryable=exc.retryable) from exc


def open_download(
    session: Session,
    config: ReportsConfig,
    report_id: uuid.UUID,
    expires: int,
    signature: str,
    now: datetime,
) -> tuple[ReportView, IO[bytes]]:
    """Check the link (:class:`ReportLinkError`), find the report in any organisation (the signature is the
    credential; :class:`ReportNotFound`), check it is still downloadable (:class:`ReportGone`) and open its
    artifact (the caller closes it). ``session`` is a system session (not scoped to an organisation)."""
    ReportLinks(config.link_key).verify(report_id, expires, signature, now)
    row = session.get(ReportRow, report_id)
    if row is None:
        raise ReportNotFound(f"report {report_id} does not exist")
    view = _view(row)
    if not view.downloadable(now) or view.artifact_key is None:
        raise ReportGone(f"report {report_id} is no longer available (it expired or was not generated)")
    try:
        return view, config.store.open(view.artifact_key)
    except ArtifactMissing as exc:
        raise ReportGone(f"report {report_id} is no longer stored") from exc


__all__ = [
    "API_FORMATS",
    "DELIVERY_METHODS",
    "RENDER_FORMATS",
    "ReportDeliveryError",
    "ReportGone",
    "ReportLinkError",
    "ReportLinks",
    "ReportNotFound",
    "ReportView",
    "Reports",
    "ReportsConfig",
    "link_key_from_secret",
    "open_download",
    "reports_config_from_settings",
]
