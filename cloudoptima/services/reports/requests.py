"""Checking what a report request asks for: the delivery (:func:`check_delivery`) and the one-line form of
an error recorded on a report (:func:`one_line`). The template, parameters and format are checked by
:meth:`Reports.request <cloudoptima.services.reports.Reports.request>` through the catalog.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any, Literal

from cloudoptima.services.report_inputs import ReportInputError
from cloudoptima.services.reports.config import ReportsConfig

DeliveryMethod = Literal["download", "email", "s3"]
DELIVERY_METHODS: tuple[DeliveryMethod, ...] = ("download", "email", "s3")
MAX_RECIPIENTS = 50

_ADDRESS = re.compile(r"^[^\s@<>,;:\"()\[\]\\]+@[A-Za-z0-9](?:[A-Za-z0-9.\-]*[A-Za-z0-9])?\.[A-Za-z]{2,}$")


def check_delivery(delivery: Mapping[str, Any] | None, config: ReportsConfig) -> dict[str, Any]:
    """The delivery of a request (or a schedule), checked and normalised to ``{"method", "recipients"}``.

    ``None`` means download. ``method`` is one of :data:`DELIVERY_METHODS`; ``s3`` needs the S3 destination
    configured (``REPORTS_S3_BUCKET``); only ``email`` takes ``recipients``: 1 to :data:`MAX_RECIPIENTS`
    plain addresses, trimmed, duplicates dropped in order. Any other field is refused. Bad input raises
    :class:`~cloudoptima.services.report_inputs.ReportInputError` naming the field (``delivery.method``,
    ``delivery.recipients``, ``delivery.recipients[<i>]``, ``delivery.<unknown>``)."""
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


def one_line(text: str, limit: int = 2000) -> str:
    """``text`` on one line (whitespace runs collapsed), cut to ``limit`` characters with an ellipsis."""
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"
