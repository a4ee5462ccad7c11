"""Inputs and results of notification delivery (pydantic messages, see ``cloudoptima_workflows.message``)."""

from __future__ import annotations

from datetime import datetime

from pydantic import Field

from cloudoptima_workflows.message import Message


class DeliverNotificationsInput(Message):
    """One pass: at most ``limit`` due deliveries per organisation."""

    limit: int = Field(default=200, ge=1, le=1000)


class DeliverDueInput(Message):
    """Attempt the deliveries due at ``now`` (the workflow's time), at most ``limit`` per organisation."""

    now: datetime
    limit: int = Field(default=200, ge=1, le=1000)


class DeliverDueResult(Message):
    """What one pass did: attempts ``delivered``, ``retrying`` (pending again, later) and ``dead``;
    ``organisations`` processed, and those whose pass failed as a whole (``failed_organisations``, with the
    reason in the worker log; their deliveries stay due and are retried next pass)."""

    organisations: int = 0
    delivered: int = 0
    retrying: int = 0
    dead: int = 0
    failed_organisations: list[str] = Field(default_factory=list)


class SendDigestsInput(Message):
    """One digest pass (``SendDigests``): every per-user digest due at the workflow's time."""


class SendDueDigestsInput(Message):
    """Send the digests due at ``now`` (the workflow's time)."""

    now: datetime


class SendDigestsResult(Message):
    """What one digest pass did: subscriptions ``due``, digests ``sent``, and the users whose digest failed
    (``failed_users``; the reason is on their subscription's ``last_error`` and they are retried next pass)."""

    due: int = 0
    sent: int = 0
    failed_users: list[str] = Field(default_factory=list)
