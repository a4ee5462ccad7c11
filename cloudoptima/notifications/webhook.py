"""The generic webhook: a notice as signed JSON, POSTed to a receiver the organisation runs.

Contract (documented for receivers in docs/webhooks.md):
- The body is :func:`webhook_body`: ``{"id", "type", "occurred_at", "organization_id", "severity", "title",
  "summary", "amount", "currency", "link", "facts"}``; ``id`` is the notice's idempotency key, ``occurred_at``
  ISO 8601 UTC with ``Z``, ``amount`` the exact decimal as a string (or null), ``facts`` a list of
  ``{"label", "value"}`` in the notice's order. UTF-8, compact separators.
- Headers: ``X-CloudOptima-Signature`` (see webhook_signature.py), ``X-CloudOptima-Timestamp`` (the moment of
  this attempt from the channel's clock, so a retry carries a fresh timestamp) and ``X-CloudOptima-Delivery``
  (the idempotency key, the same on every attempt).
- :class:`GenericWebhookChannel` is configured with the endpoint's signing secret (at least 16 characters)
  and a clock; any ``https`` host is accepted (the organisation's own receiver), ``http`` only to a local host
  with ``allow_insecure_localhost``; redirects are not followed (channels.py).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import datetime
from typing import Any

from cloudoptima.domain.notices import Notice
from cloudoptima.notifications.channels import DeliveryReceipt, check_webhook_url
from cloudoptima.notifications.http_delivery import post_json
from cloudoptima.notifications.webhook_signature import (
    DELIVERY_HEADER,
    SIGNATURE_HEADER,
    TIMESTAMP_HEADER,
    sign,
)

MIN_SECRET_LENGTH = 16


def webhook_body(notice: Notice) -> dict[str, Any]:
    """The JSON document for ``notice`` (see module contract)."""
    return {
        "id": notice.idempotency_key,
        "type": notice.event_type.value,
        "occurred_at": notice.occurred_at.isoformat().replace("+00:00", "Z"),
        "organization_id": str(notice.organization_id),
        "severity": notice.severity.value,
        "title": notice.title,
        "summary": notice.summary,
        "amount": None if notice.amount is None else str(notice.amount),
        "currency": notice.currency,
        "link": notice.link,
        "facts": [{"label": fact.label, "value": fact.value} for fact in notice.facts],
    }


class GenericWebhookChannel:
    """Delivers signed JSON notices to one endpoint's URLs (see module contract)."""

    name = "webhook"

    def __init__(
        self,
        secret: str,
        *,
        clock: Callable[[], datetime],
        allow_insecure_localhost: bool = False,
        timeout_s: float = 10.0,
    ) -> None:
        if len(secret) < MIN_SECRET_LENGTH:
            raise ValueError(f"secret: the signing secret needs at least {MIN_SECRET_LENGTH} characters")
        self._secret = secret
        self._clock = clock
        self._allow_local = allow_insecure_localhost
        self._timeout = timeout_s

    def deliver(self, notice: Notice, target: str) -> DeliveryReceipt:
        """One signed POST to the receiver URL ``target`` (channels.py contract)."""
        check_webhook_url(
            target, channel=self.name, allowed_host_suffixes=None, allow_insecure_localhost=self._allow_local
        )
        now = self._clock()
        if now.tzinfo is None:
            raise ValueError("clock must return timezone-aware datetimes")
        timestamp = int(now.timestamp())
        body = json.dumps(webhook_body(notice), ensure_ascii=False, separators=(",", ":")).encode()
        return post_json(
            channel=self.name,
            url=target,
            body=body,
            idempotency_key=notice.idempotency_key,
            headers={
                SIGNATURE_HEADER: sign(self._secret, timestamp, body),
                TIMESTAMP_HEADER: str(timestamp),
                DELIVERY_HEADER: notice.idempotency_key,
            },
            timeout_s=self._timeout,
        )
