"""What the reports service raises: an unknown report (:class:`ReportNotFound`), a report whose artifact is gone
(:class:`ReportGone`), a bad or expired download link (:class:`ReportLinkError`) and a failed delivery
(:class:`ReportDeliveryError`, which says whether a later attempt may succeed). Bad request input raises
:class:`~cloudoptima.services.report_inputs.ReportInputError` (see :mod:`.requests`).
"""

from __future__ import annotations


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
