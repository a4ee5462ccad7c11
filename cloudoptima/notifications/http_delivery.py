"""One HTTP POST of a JSON body to a webhook, its answer classified for the channel contract (channels.py).

Contract:
- :func:`post_json` sends the body with ``httpx`` (synchronous: the delivery activity runs in the worker's
  thread pool), never follows redirects, reads at most :data:`MAX_RESPONSE_BYTES` of the answer, and either
  returns a :class:`~cloudoptima.notifications.channels.DeliveryReceipt` (any 2xx) or raises
  :class:`~cloudoptima.notifications.channels.DeliveryError`:
  retryable for timeouts, connection errors, 408, 429 and 5xx (with ``Retry-After`` parsed as seconds into
  ``retry_after`` or as an HTTP date into ``retry_at``); permanent for 3xx (redirects are not followed), other
  4xx and TLS certificate failures. The reason quotes the start of the receiver's answer.
- A new connection is opened per call and closed before returning; nothing is shared between calls.
"""

from __future__ import annotations

import json
import ssl
from abc import ABC, abstractmethod
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime
from typing import Any

import httpx

from cloudoptima.domain.notices import Notice
from cloudoptima.notifications.channels import (
    DeliveryError,
    DeliveryReceipt,
    check_webhook_url,
    redact_url,
)

MAX_RESPONSE_BYTES = 64 * 1024
_SNIPPET = 200
USER_AGENT = "CloudOptima-Notifications/1"


def parse_retry_after(value: str | None) -> tuple[timedelta | None, datetime | None]:
    """``Retry-After`` as (delay, moment): delta-seconds give a delay, an HTTP date a UTC moment."""
    if value is None:
        return None, None
    value = value.strip()
    if value.isdigit():
        return timedelta(seconds=int(value)), None
    try:
        moment = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None, None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return None, moment.astimezone(UTC)


def _snippet(raw: bytes) -> str:
    text = " ".join(raw.decode("utf-8", errors="replace").split())
    return text[:_SNIPPET] + ("…" if len(text) > _SNIPPET else "")


def _is_certificate_failure(exc: BaseException) -> bool:
    seen: BaseException | None = exc
    while seen is not None:
        if isinstance(seen, ssl.SSLCertVerificationError):
            return True
        seen = seen.__cause__ or seen.__context__
    return False


def post_json(
    *,
    channel: str,
    url: str,
    body: bytes,
    idempotency_key: str,
    headers: Mapping[str, str] | None = None,
    timeout_s: float = 10.0,
) -> DeliveryReceipt:
    """POSTs ``body`` (JSON) to ``url`` once (see module contract); ``url`` was checked by the caller."""
    shown = redact_url(url)
    all_headers = {"Content-Type": "application/json", "User-Agent": USER_AGENT, **(headers or {})}
    try:
        with (
            httpx.Client(timeout=timeout_s, follow_redirects=False) as client,
            client.stream("POST", url, content=body, headers=all_headers) as response,
        ):
            raw = b""
            for chunk in response.iter_bytes():
                raw += chunk
                if len(raw) >= MAX_RESPONSE_BYTES:
                    break
            status, answer_headers = response.status_code, response.headers
    except httpx.TimeoutException as exc:
        raise DeliveryError(
            retryable=True,
            reason=f"no answer within {timeout_s:g}s ({type(exc).__name__})",
            channel=channel,
            target=shown,
        ) from exc
    except httpx.TransportError as exc:
        certificate = _is_certificate_failure(exc)
        raise DeliveryError(
            retryable=not certificate,
            reason=("TLS certificate refused: " if certificate else "connection failed: ")
            + (str(exc) or type(exc).__name__),
            channel=channel,
            target=shown,
        ) from exc

    answer = _snippet(raw)
    if 200 <= status < 300:
        return DeliveryReceipt(
            channel=channel, target=shown, idempotency_key=idempotency_key, status=status, detail=answer
        )
    if 300 <= status < 400:
        raise DeliveryError(
            retryable=False,
            reason=f"HTTP {status}: the receiver redirects and redirects are not followed",
            channel=channel,
            target=shown,
            status=status,
        )
    retry_after, retry_at = parse_retry_after(answer_headers.get("Retry-After"))
    retryable = status in (408, 429) or status >= 500
    raise DeliveryError(
        retryable=retryable,
        reason=f"HTTP {status}" + (f": {answer}" if answer else ""),
        channel=channel,
        target=shown,
        retry_after=retry_after if retryable else None,
        retry_at=retry_at if retryable else None,
        status=status,
    )


class VendorWebhookChannel(ABC):
    """A channel that POSTs a vendor's JSON message (Slack, Teams) to an incoming-webhook URL on the vendor's
    hosts: ``target`` is checked against :attr:`hosts` (https only; localhost only when allowed), the
    :meth:`payload` is sent once through :func:`post_json` (channels.py contract). Subclasses name the
    channel, its hosts and its payload."""

    name: str
    hosts: tuple[str, ...]

    def __init__(self, *, allow_insecure_localhost: bool = False, timeout_s: float = 10.0) -> None:
        self._allow_local = allow_insecure_localhost
        self._timeout = timeout_s

    @abstractmethod
    def payload(self, notice: Notice) -> dict[str, Any]:
        """The vendor's message for ``notice``."""

    def deliver(self, notice: Notice, target: str) -> DeliveryReceipt:
        """One POST of :meth:`payload` to the webhook URL ``target``."""
        check_webhook_url(
            target,
            channel=self.name,
            allowed_host_suffixes=self.hosts,
            allow_insecure_localhost=self._allow_local,
        )
        body = json.dumps(self.payload(notice), ensure_ascii=False).encode()
        return post_json(
            channel=self.name,
            url=target,
            body=body,
            idempotency_key=notice.idempotency_key,
            timeout_s=self._timeout,
        )
