"""Signing and verifying the generic webhook's requests (HMAC-SHA256 over the timestamp and the body).

Contract (documented for receivers in docs/webhooks.md):
- The signature is ``sha256=`` + the lower-case hex HMAC-SHA256, keyed with the endpoint's secret (UTF-8), of
  the ASCII ``<timestamp>.`` followed by the exact body bytes; the timestamp is Unix seconds as a decimal
  string and travels in ``X-CloudOptima-Timestamp``, the signature in ``X-CloudOptima-Signature``.
- :func:`verify_signature` accepts a request only when the timestamp is within ``tolerance`` (default five
  minutes, either side) of ``now`` and the signature matches (constant-time comparison); otherwise it raises
  :class:`SignatureError` saying which check failed. It uses only the standard library.
"""

from __future__ import annotations

import hashlib
import hmac
from datetime import UTC, datetime, timedelta

SIGNATURE_HEADER = "X-CloudOptima-Signature"
TIMESTAMP_HEADER = "X-CloudOptima-Timestamp"
DELIVERY_HEADER = "X-CloudOptima-Delivery"
DEFAULT_TOLERANCE = timedelta(seconds=300)


class SignatureError(ValueError):
    """The request is not a genuine, fresh CloudOptima webhook (the message says which check failed)."""


def sign(secret: str, timestamp: int, body: bytes) -> str:
    """``sha256=<hex>`` for ``body`` sent at ``timestamp`` (Unix seconds)."""
    digest = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    return f"sha256={digest}"


def verify_signature(
    secret: str,
    timestamp: str,
    body: bytes,
    header: str,
    now: datetime,
    tolerance: timedelta = DEFAULT_TOLERANCE,
) -> None:
    """Raises :class:`SignatureError` unless ``header`` signs ``body`` at a ``timestamp`` close to ``now``."""
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    value = timestamp.strip()
    if not value.isdigit():
        raise SignatureError(f"{TIMESTAMP_HEADER} is not Unix seconds: {timestamp!r}")
    sent = datetime.fromtimestamp(int(value), tz=UTC)
    if abs(now - sent) > tolerance:
        raise SignatureError(
            f"{TIMESTAMP_HEADER} {value} is {abs(now - sent).total_seconds():.0f}s away from now "
            f"(tolerance {tolerance.total_seconds():.0f}s): stale or replayed request"
        )
    scheme, _, given = header.strip().partition("=")
    if scheme != "sha256" or not given:
        raise SignatureError(f"{SIGNATURE_HEADER} must look like 'sha256=<hex>'")
    expected = sign(secret, int(value), body).partition("=")[2]
    if not hmac.compare_digest(expected, given.lower()):
        raise SignatureError(f"{SIGNATURE_HEADER} does not match the body and timestamp")
