"""The notification delivery pipeline: configured channels, queued deliveries, retries and dead letters.

Contract:
- Channels (``notification_channels``) are configured per organisation by an admin:
  :meth:`NotificationDelivery.create_channel` validates ``kind`` (``email``, ``slack``, ``teams``,
  ``webhook``), ``target`` (a single plain email address for ``email``; for the others a URL passing the
  channels' SSRF guard: ``https`` only, Slack/Teams only on their vendors' hosts) and, for ``webhook``, a
  signing ``secret`` of at least 16 characters. Bad input is :class:`DeliveryConfigError` naming the field.
  The target and the secret are stored encrypted with the credential cipher; only ``target_hint`` (the
  redacted target: ``scheme://host[:port]/…`` for URLs, ``a…@domain`` for addresses) is ever shown.
- :meth:`NotificationDelivery.enqueue` queues one ``pending`` delivery per (notice, enabled channel), due
  ``now`` (or at a later ``due_at``: quiet hours). It is idempotent per ``(channel, notice.idempotency_key)``: a repeat keeps the existing row
  untouched (whatever its status) and returns it. Unknown, other-organisation or disabled channel ids are
  :class:`DeliveryConfigError` on ``channel_ids``.
- :meth:`NotificationDelivery.deliver_due` attempts up to ``limit`` pending deliveries with
  ``next_attempt_at <= now`` (oldest due first; rows are locked ``FOR UPDATE SKIP LOCKED`` so two workers
  never send the same delivery at once). Each delivery is attempted independently: one channel failing
  never blocks another. Outcome: success → ``delivered`` (``delivered_at = now``); retryable failure →
  ``attempts + 1`` and ``next_attempt_at = now + 2**(attempts-1) minutes`` (1, 2, 4, 8, 16 …), or later when
  the receiver asked for it (``retry_after`` / ``retry_at``); after :data:`MAX_ATTEMPTS` attempts, or at
  once for a permanent failure → ``dead``. ``last_error`` names the channel, its redacted target and the
  reason. A delivery whose channel was disabled meanwhile goes ``dead`` without an attempt.
- :meth:`dead_letters` lists ``dead`` deliveries newest first; :meth:`replay` puts one back to ``pending``,
  due ``now``, with ``attempts = 0`` (``DeliveryNotFound`` for an unknown id or one of another
  organisation; only ``dead`` deliveries can be replayed).
- :meth:`send_test` sends a test notice to one channel now (not queued) and returns the receipt or raises
  the channel's :class:`~cloudoptima.notifications.channels.DeliveryError`.
- Email channels need an SMTP sender (:func:`smtp_sender_from_settings`); without one, delivering to an
  email channel is a permanent failure saying SMTP is not configured.
- Every query is scoped to the organisation (tenant repository); the caller owns the transaction and passes
  ``now`` (timezone-aware). :func:`organisations_with_due_deliveries` is the one cross-tenant read, for the
  scheduled worker to find which organisations to process.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from cloudoptima.domain.notices import Notice, NoticeEventType, NoticeSeverity
from cloudoptima.notifications.channels import (
    Channel,
    DeliveryError,
    DeliveryReceipt,
    check_webhook_url,
    redact_url,
)
from cloudoptima.notifications.email import SmtpSender, sender_from_settings
from cloudoptima.notifications.email_channel import EmailChannel
from cloudoptima.notifications.slack import SLACK_HOSTS, SlackChannel
from cloudoptima.notifications.teams import TEAMS_HOSTS, TeamsChannel
from cloudoptima.notifications.webhook import MIN_SECRET_LENGTH, GenericWebhookChannel
from cloudoptima.observability.metrics import NOTIFICATION_FAILURES, NOTIFICATIONS_DELIVERED
from cloudoptima.security.encryption import CredentialCipher
from cloudoptima.settings import Settings
from cloudoptima.storage.models import NotificationChannelRow, NotificationDeliveryRow
from cloudoptima.storage.tenancy import TenantRepository

KINDS = ("email", "slack", "teams", "webhook")
STATUSES = ("pending", "delivered", "dead")
MAX_ATTEMPTS = 6
"""Attempts before a retryable failure goes dead (1+2+4+8+16 minutes of backoff between them)."""
BASE_BACKOFF = timedelta(minutes=1)
MAX_NAME = 100
_ADDRESS = re.compile(r"^[^\s@<>,;:\"()\[\]\\]+@[A-Za-z0-9](?:[A-Za-z0-9.\-]*[A-Za-z0-9])?$")
_VENDOR_HOSTS: dict[str, tuple[str, ...] | None] = {
    "slack": SLACK_HOSTS,
    "teams": TEAMS_HOSTS,
    "webhook": None,
}


class DeliveryConfigError(ValueError):
    """Bad input; ``field`` names it."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message


class ChannelNotFound(LookupError):
    def __init__(self, channel_id: uuid.UUID) -> None:
        super().__init__(f"notification channel {channel_id} not found")


class DeliveryNotFound(LookupError):
    def __init__(self, delivery_id: uuid.UUID) -> None:
        super().__init__(f"notification delivery {delivery_id} not found")


@dataclass(frozen=True)
class ChannelView:
    """A channel as shown to admins: never the full target nor the secret."""

    id: uuid.UUID
    name: str
    kind: str
    target_hint: str
    enabled: bool
    created_at: datetime


@dataclass(frozen=True)
class DeliveryView:
    id: uuid.UUID
    channel_id: uuid.UUID
    idempotency_key: str
    status: str
    attempts: int
    last_error: str | None
    next_attempt_at: datetime
    delivered_at: datetime | None
    created_at: datetime


def smtp_sender_from_settings(settings: Settings) -> SmtpSender | None:
    """The SMTP sender configured by ``SMTP_HOST`` & co., or ``None`` (email channels then fail, permanently)."""
    sender = sender_from_settings(settings)
    return sender if isinstance(sender, SmtpSender) else None


def redact_address(address: str) -> str:
    """``a…@example.com``: what may be shown of an email target."""
    local, _, domain = address.partition("@")
    return f"{local[:1]}…@{domain}"


def backoff(attempts: int, now: datetime, error: DeliveryError) -> datetime:
    """When to try again after the ``attempts``-th failed attempt (module contract)."""
    due = now + BASE_BACKOFF * (1 << max(attempts - 1, 0))
    if error.retry_after is not None:
        due = max(due, now + error.retry_after)
    if error.retry_at is not None:
        due = max(due, error.retry_at)
    return due


def _channel_view(row: NotificationChannelRow) -> ChannelView:
    return ChannelView(row.id, row.name, row.kind, row.target_hint, row.enabled, row.created_at)


def _delivery_view(row: NotificationDeliveryRow) -> DeliveryView:
    return DeliveryView(
        row.id,
        row.channel_id,
        row.idempotency_key,
        row.status,
        row.attempts,
        row.last_error,
        row.next_attempt_at,
        row.delivered_at,
        row.created_at,
    )


def _aware(now: datetime) -> datetime:
    if now.tzinfo is None:
        raise DeliveryConfigError("now", "must be timezone-aware")
    return now


class _Channels(TenantRepository[NotificationChannelRow]):
    model = NotificationChannelRow


class _Deliveries(TenantRepository[NotificationDeliveryRow]):
    model = NotificationDeliveryRow


def organisations_with_due_deliveries(session: Session, now: datetime) -> list[uuid.UUID]:
    """The organisations having pending deliveries due at ``now`` (the worker's one cross-tenant read)."""
    rows = session.scalars(
        select(NotificationDeliveryRow.organization_id)
        .where(NotificationDeliveryRow.status == "pending", NotificationDeliveryRow.next_attempt_at <= now)
        .distinct()
    )
    return sorted(rows, key=str)


def enqueue_deliveries(
    session: Session,
    organization_id: uuid.UUID,
    notice: Notice,
    channel_ids: Sequence[uuid.UUID],
    now: datetime,
    *,
    due_at: datetime | None = None,
) -> list[DeliveryView]:
    """Queues ``notice`` for each channel of the organisation, idempotently (module contract), due ``now`` or,
    when given, at ``due_at`` (not before ``now``: a notification dispatcher holds deliveries back through
    quiet hours this way). Needs no cipher: nothing is decrypted or sent here."""
    now = _aware(now)
    due = now if due_at is None else max(_aware(due_at), now)
    channels = _Channels(session, organization_id)
    deliveries = _Deliveries(session, organization_id)
    if notice.organization_id != organization_id:
        raise DeliveryConfigError("notice.organization_id", "belongs to another organisation")
    wanted = list(dict.fromkeys(channel_ids))
    rows = {
        row.id: row for row in session.scalars(channels.query().where(NotificationChannelRow.id.in_(wanted)))
    }
    for channel_id in wanted:
        row = rows.get(channel_id)
        if row is None:
            raise DeliveryConfigError("channel_ids", f"unknown channel {channel_id}")
        if not row.enabled:
            raise DeliveryConfigError("channel_ids", f"channel {row.name!r} is disabled")
    if wanted:
        payload = notice.model_dump(mode="json")
        session.execute(
            insert(NotificationDeliveryRow)
            .values(
                [
                    {
                        "id": uuid.uuid4(),
                        "organization_id": organization_id,
                        "channel_id": channel_id,
                        "idempotency_key": notice.idempotency_key,
                        "notice": payload,
                        "status": "pending",
                        "attempts": 0,
                        "next_attempt_at": due,
                        "created_at": now,
                    }
                    for channel_id in wanted
                ]
            )
            .on_conflict_do_nothing(constraint="uq_notification_deliveries_key")
        )
    stored = session.scalars(
        deliveries.query().where(
            NotificationDeliveryRow.channel_id.in_(wanted),
            NotificationDeliveryRow.idempotency_key == notice.idempotency_key,
        )
    )
    by_channel = {row.channel_id: row for row in stored}
    return [_delivery_view(by_channel[channel_id]) for channel_id in wanted]


class NotificationDelivery:
    """One organisation's channels and deliveries (see module contract)."""

    def __init__(
        self,
        session: Session,
        organization_id: uuid.UUID,
        *,
        cipher: CredentialCipher,
        smtp: SmtpSender | None,
        allow_insecure_localhost: bool = False,
        timeout_s: float = 10.0,
    ) -> None:
        self._org = organization_id
        self._channels = _Channels(session, organization_id)
        self._deliveries = _Deliveries(session, organization_id)
        self._session = self._channels.session
        self._cipher = cipher
        self._smtp = smtp
        self._allow_local = allow_insecure_localhost
        self._timeout = timeout_s

    # -- channels ---------------------------------------------------------------------------------------

    def create_channel(
        self, *, name: str, kind: str, target: str, secret: str | None, now: datetime, enabled: bool = True
    ) -> ChannelView:
        """Validates and stores a channel (module contract)."""
        now = _aware(now)
        name = name.strip()
        if not name or len(name) > MAX_NAME:
            raise DeliveryConfigError("name", f"must be 1 to {MAX_NAME} characters")
        if kind not in KINDS:
            raise DeliveryConfigError("kind", f"must be one of {', '.join(KINDS)} (got {kind!r})")
        target = target.strip()
        if kind == "email":
            if not _ADDRESS.match(target):
                raise DeliveryConfigError("target", "must be a single plain email address")
            hint = redact_address(target)
        else:
            try:
                check_webhook_url(
                    target,
                    channel=kind,
                    allowed_host_suffixes=_VENDOR_HOSTS[kind],
                    allow_insecure_localhost=self._allow_local,
                )
            except DeliveryError as exc:
                raise DeliveryConfigError("target", exc.reason) from exc
            hint = redact_url(target)
        if kind == "webhook":
            if secret is None or len(secret) < MIN_SECRET_LENGTH:
                raise DeliveryConfigError(
                    "secret", f"a webhook needs a signing secret of at least {MIN_SECRET_LENGTH} characters"
                )
        elif secret is not None:
            raise DeliveryConfigError(
                "secret", f"only webhook channels take a signing secret (kind is {kind})"
            )
        if self._session.scalars(self._channels.query().where(NotificationChannelRow.name == name)).first():
            raise DeliveryConfigError("name", f"a channel named {name!r} already exists")
        row = NotificationChannelRow(
            name=name,
            kind=kind,
            target_encrypted=self._cipher.encrypt({"target": target}),
            target_hint=hint,
            secret_encrypted=None if secret is None else self._cipher.encrypt({"secret": secret}),
            enabled=enabled,
            created_at=now,
        )
        return _channel_view(self._channels.add(row))

    def list_channels(self) -> list[ChannelView]:
        rows = self._session.scalars(
            self._channels.query().order_by(NotificationChannelRow.created_at, NotificationChannelRow.id)
        )
        return [_channel_view(row) for row in rows]

    def delete_channel(self, channel_id: uuid.UUID) -> None:
        """Deletes the channel and its deliveries; :class:`ChannelNotFound` when it is not this org's."""
        row = self._channels.get(channel_id)
        if row is None:
            raise ChannelNotFound(channel_id)
        self._channels.delete(row)

    def _channel(self, row: NotificationChannelRow, now: datetime) -> tuple[Channel, str]:
        target = str(self._cipher.decrypt(row.target_encrypted)["target"])
        if row.kind == "email":
            if self._smtp is None:
                raise DeliveryError(
                    retryable=False,
                    reason="no SMTP server is configured (set SMTP_HOST), so email cannot be sent",
                    channel="email",
                    target=row.target_hint,
                )
            return EmailChannel(self._smtp), target
        if row.kind == "slack":
            return SlackChannel(allow_insecure_localhost=self._allow_local, timeout_s=self._timeout), target
        if row.kind == "teams":
            return TeamsChannel(allow_insecure_localhost=self._allow_local, timeout_s=self._timeout), target
        secret = str(self._cipher.decrypt(row.secret_encrypted or "")["secret"])
        channel = GenericWebhookChannel(
            secret, clock=lambda: now, allow_insecure_localhost=self._allow_local, timeout_s=self._timeout
        )
        return channel, target

    def _attempt(self, row: NotificationChannelRow, notice: Notice, now: datetime) -> DeliveryReceipt:
        channel, target = self._channel(row, now)
        return channel.deliver(notice, target)

    def send_test(self, channel_id: uuid.UUID, now: datetime) -> DeliveryReceipt:
        """Sends a test notice to the channel now (module contract)."""
        now = _aware(now)
        row = self._channels.get(channel_id)
        if row is None:
            raise ChannelNotFound(channel_id)
        notice = Notice(
            event_type=NoticeEventType.DIGEST,
            severity=NoticeSeverity.INFO,
            title="CloudOptima test notification",
            summary=f"This is a test of the notification channel {row.name!r}.",
            organization_id=self._org,
            occurred_at=now,
            idempotency_key=f"test:{row.id}:{int(now.timestamp())}",
        )
        return self._attempt(row, notice, now)

    # -- deliveries -------------------------------------------------------------------------------------

    def enqueue(
        self,
        notice: Notice,
        channel_ids: Sequence[uuid.UUID],
        now: datetime,
        *,
        due_at: datetime | None = None,
    ) -> list[DeliveryView]:
        """Queues ``notice`` for each channel, idempotently (module contract; :func:`enqueue_deliveries`)."""
        return enqueue_deliveries(self._session, self._org, notice, channel_ids, now, due_at=due_at)

    def deliver_due(self, now: datetime, limit: int = 100) -> list[DeliveryView]:
        """Attempts the due pending deliveries, each independently, and records each outcome (contract)."""
        now = _aware(now)
        if limit < 1:
            raise DeliveryConfigError("limit", "must be at least 1")
        due = self._session.scalars(
            self._deliveries.query()
            .where(
                NotificationDeliveryRow.status == "pending", NotificationDeliveryRow.next_attempt_at <= now
            )
            .order_by(NotificationDeliveryRow.next_attempt_at, NotificationDeliveryRow.id)
            .limit(limit)
            .with_for_update(skip_locked=True)
        ).all()
        channels = {
            row.id: row
            for row in self._session.scalars(
                self._channels.query().where(NotificationChannelRow.id.in_({d.channel_id for d in due}))
            )
        }
        for delivery in due:
            self._deliver_one(delivery, channels[delivery.channel_id], now)
        self._session.flush()
        return [_delivery_view(row) for row in due]

    def _deliver_one(
        self, delivery: NotificationDeliveryRow, channel: NotificationChannelRow, now: datetime
    ) -> None:
        where = f"{channel.kind} channel {channel.name!r} ({channel.target_hint})"
        if not channel.enabled:
            delivery.status = "dead"
            delivery.last_error = f"{where}: the channel is disabled"
            return
        try:
            notice = Notice.model_validate(delivery.notice)
            self._attempt(channel, notice, now)
        except DeliveryError as exc:
            delivery.attempts += 1
            delivery.last_error = f"{where}: {exc.reason}"
            if exc.retryable and delivery.attempts < MAX_ATTEMPTS:
                delivery.next_attempt_at = backoff(delivery.attempts, now, exc)
            else:
                if exc.retryable:
                    delivery.last_error += f" (gave up after {delivery.attempts} attempts)"
                delivery.status = "dead"
            NOTIFICATION_FAILURES.labels(channel.kind, str(delivery.status == "dead").lower()).inc()
            return
        except Exception as exc:  # a broken row or secret must not stop the other deliveries
            delivery.attempts += 1
            delivery.status = "dead"
            delivery.last_error = f"{where}: {type(exc).__name__}: {exc}"
            NOTIFICATION_FAILURES.labels(channel.kind, "true").inc()
            return
        NOTIFICATIONS_DELIVERED.labels(channel.kind).inc()
        delivery.attempts += 1
        delivery.status = "delivered"
        delivery.delivered_at = now
        delivery.last_error = None

    def list_deliveries(self, *, status: str | None = None, limit: int = 100) -> list[DeliveryView]:
        """Deliveries newest first, optionally of one ``status``."""
        if status is not None and status not in STATUSES:
            raise DeliveryConfigError("status", f"must be one of {', '.join(STATUSES)}")
        query = self._deliveries.query()
        if status is not None:
            query = query.where(NotificationDeliveryRow.status == status)
        rows = self._session.scalars(
            query.order_by(
                NotificationDeliveryRow.created_at.desc(), NotificationDeliveryRow.id.desc()
            ).limit(limit)
        )
        return [_delivery_view(row) for row in rows]

    def dead_letters(self, limit: int = 100) -> list[DeliveryView]:
        return self.list_deliveries(status="dead", limit=limit)

    def replay(self, delivery_id: uuid.UUID, now: datetime) -> DeliveryView:
        """Puts a dead delivery back to pending, due ``now`` (module contract)."""
        now = _aware(now)
        row = self._deliveries.get(delivery_id)
        if row is None:
            raise DeliveryNotFound(delivery_id)
        if row.status != "dead":
            raise DeliveryConfigError(
                "delivery_id", f"only dead deliveries can be replayed (this one is {row.status})"
            )
        row.status = "pending"
        row.attempts = 0
        row.next_attempt_at = now
        self._session.flush()
        return _delivery_view(row)
