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
  missing), and opens the fi

The parts, each with its contract: :mod:`.config` (:class:`ReportsConfig` and reading it from the settings),
:mod:`.errors`, :mod:`.views` (:class:`ReportView`, the formats), :mod:`.requests` (checking a request's
delivery, :func:`check_delivery`, also used by report schedules), :mod:`.service` (:class:`Reports`),
:mod:`.delivery` (email and S3) and :mod:`.links` (signed links, :func:`open_download`). The names below are
the package's public interface; callers import them from here.
"""

from __future__ import annotations

from cloudoptima.services.reports.config import (
    ReportsConfig,
    link_key_from_secret,
    reports_config_from_settings,
)
from cloudoptima.services.reports.errors import (
    ReportDeliveryError,
    ReportGone,
    ReportLinkError,
    ReportNotFound,
)
from cloudoptima.services.reports.links import LINK_PATH, ReportLinks, open_download
from cloudoptima.services.reports.requests import (
    DELIVERY_METHODS,
    MAX_RECIPIENTS,
    DeliveryMethod,
    check_delivery,
)
from cloudoptima.services.reports.service import Reports
from cloudoptima.services.reports.views import API_FORMATS, RENDER_FORMATS, ApiFormat, ReportView

__all__ = [
    "API_FORMATS",
    "DELIVERY_METHODS",
    "LINK_PATH",
    "MAX_RECIPIENTS",
    "RENDER_FORMATS",
    "ApiFormat",
    "DeliveryMethod",
    "ReportDeliveryError",
    "ReportGone",
    "ReportLinkError",
    "ReportLinks",
    "ReportNotFound",
    "ReportView",
    "Reports",
    "ReportsConfig",
    "check_delivery",
    "link_key_from_secret",
    "open_download",
    "reports_config_from_settings",
]
