"""Signed download links (:class:`ReportLinks`) and opening a download (:func:`open_download`).

A link is ``/v1/reports/{id}/download?expires=<unix>&signature=<hex>``: HMAC-SHA256 over
``"<report id>.<expires>"`` with the key of :func:`~cloudoptima.services.reports.config.link_key_from_secret`,
verified in constant time.
"""

from __future__ import annotations

import hashlib
import hmac
import uuid
from datetime import datetime
from typing import IO

from sqlalchemy.orm import Session

from cloudoptima.reports.store import ArtifactMissing
from cloudoptima.services.reports.config import ReportsConfig
from cloudoptima.services.reports.errors import ReportGone, ReportLinkError, ReportNotFound
from cloudoptima.services.reports.views import ReportView, view_of
from cloudoptima.storage.models import ReportRow

LINK_PATH = "/v1/reports/{report_id}/download"


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
    view = view_of(row)
    if not view.downloadable(now) or view.artifact_key is None:
        raise ReportGone(f"report {report_id} is no longer available (it expired or was not generated)")
    try:
        return view, config.store.open(view.artifact_key)
    except ArtifactMissing as exc:
        raise ReportGone(f"report {report_id} is no longer stored") from exc
