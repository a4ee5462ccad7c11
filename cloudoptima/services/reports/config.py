"""Where artifacts go, how download links are signed, how long they last and where S3 deliveries go
(:class:`ReportsConfig`), read from the settings by :func:`reports_config_from_settings`.
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass, field
from datetime import timedelta

from cloudoptima.clouds.object_store import ObjectUploader, s3_report_uploader
from cloudoptima.reports.store import ReportStore
from cloudoptima.settings import Settings


@dataclass(frozen=True)
class ReportsConfig:
    """Where artifacts go, how links are signed, how long they last and where S3 deliveries go."""

    store: ReportStore
    link_key: bytes
    link_ttl: timedelta = timedelta(hours=168)
    public_url: str | None = None
    s3: ObjectUploader | None = field(default=None, compare=False)
    s3_prefix: str = "cloudoptima-reports"
    notice_base_url: str | None = None
    """The absolute base of the link ``report.ready`` notices carry to channels when ``public_url`` is not set
    (``Settings.resolved_public_url``: the gateway's own address); None: no channel link then."""
    console_url: str | None = None
    """The web console's base URL (``Settings.resolved_console_url``): ``report.ready`` notices then link to its
    reports page (``cloudoptima.services.notice_links``); None: to the report in the API."""


def link_key_from_secret(secret: str) -> bytes:
    """The download-link key: HMAC-SHA256 of a fixed label under the signing secret (never the secret)."""
    return hmac.new(secret.encode(), b"cloudoptima report download links v1", hashlib.sha256).digest()


def reports_config_from_settings(settings: Settings) -> ReportsConfig:
    """The configuration of ``settings``: the store under ``<state dir>/reports``, the link key derived from
    ``JWT_SECRET``, ``REPORTS_LINK_TTL_HOURS``, the public URL (``CLOUDOPTIMA_PUBLIC_URL``: absolute download
    links; the resolved one, always set, as the base of notices' channel links) and the ``REPORTS_S3_*``
    destination (boto3 client with the SDK's usual credential chain)."""
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
        notice_base_url=settings.resolved_public_url,
        console_url=settings.resolved_console_url,
    )
