"""The notification channel contract: deliver one notice to one target, or say precisely why not.

Contract:
- A :class:`Channel` has a ``name`` (``email``, ``slack``, ``teams``, ``webhook``) and
  ``deliver(notice, target) -> DeliveryReceipt``. ``target`` is a string whose meaning depends on the channel:
  an email address for ``email``, a webhook URL for the others. ``deliver`` makes exactly one attempt and never
  retries by itself: the caller (the delivery activity) owns retries, backoff and the dead-letter list.
- Failure is a :class:`DeliveryError` with ``retryable`` (timeouts, connection errors, HTTP 408/429 and 5xx,
  SMTP 4xx: try again later, after ``retry_after`` when the receiver said so), else permanent (other HTTP
  4xx, redirects, refused targets, a refused SMTP login or recipient: retrying cannot help), ``reason`` (text
  for an administrator), ``channel`` and ``target`` (redacted: webhook URLs carry their secret in the path, so
  only scheme, host and port are kept).
- Channels are independent: one channel's failure never affects another. That is the caller's loop: it calls
  each (channel, target) in turn, catches :class:`DeliveryError` per call and records it, and goes on with the
  next one. Channels hold no state between calls beyond their configuration and HTTP/SMTP settings.
- Targets are checked before any connection (SSRF guard, :func:`check_webhook_url`): only ``https`` URLs
  without credentials; Slack and Teams targets only on their vendors' webhook hosts. With
  ``allow_insecure_localhost`` (tests, a receiver on the same machine) ``http``/``https`` to ``localhost``,
  ``127.0.0.1`` or ``::1`` is accepted as well, for every channel. Redirects are never followed.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol
from urllib.parse import urlsplit

from cloudoptima.domain.notices import Notice

LOCAL_HOSTS = frozenset({"localhost", "127.0.0.1", "::1"})


@dataclass(frozen=True)
class DeliveryReceipt:
    """Proof that a receiver accepted the notice: which channel, to whom (redacted), the notice's key, and
    what the receiver answered (HTTP status, or 250 for SMTP, with its ``detail``)."""

    channel: str
    target: str
    idempotency_key: str
    status: int
    detail: str = ""


class DeliveryError(Exception):
    """One delivery attempt failed (see module contract).

    ``retry_after`` is the delay the receiver asked for (``Retry-After`` in seconds); ``retry_at`` the moment
    it asked for when it sent an HTTP date instead. Both are ``None`` when it asked for nothing.
    """

    def __init__(
        self,
        *,
        retryable: bool,
        reason: str,
        channel: str,
        target: str,
        retry_after: timedelta | None = None,
        retry_at: datetime | None = None,
        status: int | None = None,
    ) -> None:
        kind = "retryable" if retryable else "permanent"
        super().__init__(f"{channel} delivery to {target} failed ({kind}): {reason}")
        self.retryable = retryable
        self.reason = reason
        self.channel = channel
        self.target = target
        self.retry_after = retry_after
        self.retry_at = retry_at
        self.status = status


class Channel(Protocol):
    """Delivers one notice to one target (see module contract)."""

    @property
    def name(self) -> str: ...

    def deliver(self, notice: Notice, target: str) -> DeliveryReceipt: ...


def redact_url(url: str) -> str:
    """``scheme://host[:port]/…``: what may be shown or logged of a webhook URL (its path is a secret)."""
    try:
        parts = urlsplit(url)
        host = parts.hostname
        port = parts.port
    except ValueError:
        return "<invalid URL>"
    if not host:
        return "<invalid URL>"
    shown = f"[{host}]" if ":" in host else host
    if port is not None:
        shown = f"{shown}:{port}"
    return f"{parts.scheme}://{shown}/…"


def check_webhook_url(
    url: str,
    *,
    channel: str,
    allowed_host_suffixes: tuple[str, ...] | None,
    allow_insecure_localhost: bool,
) -> None:
    """Raises a permanent :class:`DeliveryError` unless ``url`` is an acceptable target (module contract).

    ``allowed_host_suffixes``: the host must equal one of them or end with ``"." + suffix`` (``None``: any
    host).
    """
    shown = redact_url(url)

    def refuse(reason: str) -> DeliveryError:
        return DeliveryError(retryable=False, reason=reason, channel=channel, target=shown)

    if any(ch.isspace() for ch in url):
        raise refuse("the URL contains whitespace")
    try:
        parts = urlsplit(url)
        host = (parts.hostname or "").lower()
        parts.port  # noqa: B018 - validates the port
    except ValueError as exc:
        raise refuse(f"the URL is not valid: {exc}") from exc
    if not host:
        raise refuse("the URL has no host")
    if parts.username is not None or parts.password is not None:
        raise refuse("the URL must not carry credentials")
    local = allow_insecure_localhost and host in LOCAL_HOSTS
    if parts.scheme != "https" and not (local and parts.scheme == "http"):
        raise refuse(
            f"only https URLs are accepted (got {parts.scheme or 'no scheme'!r}; http only to "
            "localhost when allow_insecure_localhost is set)"
        )
    if local or allowed_host_suffixes is None:
        return
    if not any(host == s or host.endswith("." + s) for s in allowed_host_suffixes):
        raise refuse(
            f"host {host!r} is not a {channel} webhook host (expected one of: "
            f"{', '.join(allowed_host_suffixes)})"
        )
