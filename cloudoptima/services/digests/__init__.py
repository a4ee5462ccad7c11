"""Per-user daily or weekly digests: the subscription, when it is due, what it says, and sending it.

Each user may subscribe to one digest (``notification_digests``): a summary of the organisation's spend, new
anomalies, open savings, budgets at risk or over and approvals waiting, sent by email or to the in-app inbox
at a local time of day. The parts, each with its contract:

- :mod:`.schedule`: checking a schedule, DST-safe send times, when a subscription is due, the period a
  digest covers (pure).
- :mod:`.subscriptions`: :class:`Digests`, one organisation's subscriptions (create/replace, read, delete)
  and a user's digest.
- :mod:`.figures`: the digest's numbers, from the services the REST API answers with.
- :mod:`.notice`: the digest as a :class:`~cloudoptima.domain.notices.Notice` and its idempotency key.
- :mod:`.sending`: the scheduled pass, :func:`send_due`.

The names below are the package's public interface; callers import them from here.
"""

from __future__ import annotations

from collections.abc import Sequence

from cloudoptima.services.digests.figures import DigestFigures, digest_figures
from cloudoptima.services.digests.notice import digest_notice, idempotency_key
from cloudoptima.services.digests.schedule import (
    CHANNELS,
    FREQUENCIES,
    DigestError,
    DigestPeriod,
    DigestSchedule,
    digest_schedule,
    is_due,
    latest_send_time,
    next_send_time,
    period_at,
)
from cloudoptima.services.digests.sending import DigestPassResult, due_subscriptions, send_due, send_one
from cloudoptima.services.digests.subscriptions import DigestNotFound, Digests, DigestView

__all__: Sequence[str] = [
    "CHANNELS",
    "FREQUENCIES",
    "DigestError",
    "DigestFigures",
    "DigestNotFound",
    "DigestPassResult",
    "DigestPeriod",
    "DigestSchedule",
    "DigestView",
    "Digests",
    "digest_figures",
    "digest_notice",
    "digest_schedule",
    "due_subscriptions",
    "idempotency_key",
    "is_due",
    "latest_send_time",
    "next_send_time",
    "period_at",
    "send_due",
    "send_one",
]
