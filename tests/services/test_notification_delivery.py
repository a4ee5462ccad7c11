"""The notification delivery pipeline against Postgres and real local receivers: retries with exponential
backoff (clock pinned), dead letters, channels independent of each other, replay, idempotent enqueue,
validation and encryption of channel targets, tenant isolation."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from cryptography.fernet import Fernet
from sqlalchemy import Engine, delete, func, select
from sqlalchemy.orm import Session, sessionmaker

from cloudoptima.notifications.channels import DeliveryError
from cloudoptima.notifications.webhook_signature import DELIVERY_HEADER
from cloudoptima.observability.metrics import REGISTRY
from cloudoptima.security.encryption import CredentialCipher
from cloudoptima.services.notification_delivery import (
    MAX_ATTEMPTS,
    ChannelNotFound,
    DeliveryConfigError,
    DeliveryNotFound,
    NotificationDelivery,
    organisations_with_due_deliveries,
)
from cloudoptima.storage.engine import session_factory
from cloudoptima.storage.models import NotificationChannelRow, NotificationDeliveryRow, Organization
from cloudoptima.storage.tenancy import tenant_session
from tests.notifications.notices import approval_notice
from tests.notifications.receiver import Receiver, running_receiver

NOW = datetime(2026, 12, 7, 9, 30, tzinfo=UTC)
SECRET = "s3cret-signing-key-0123456789"
CIPHER = CredentialCipher(Fernet.generate_key().decode())


@pytest.fixture
def factory(engine: Engine) -> sessionmaker[Session]:
    return session_factory(engine)


@pytest.fixture
def orgs(factory: sessionmaker[Session]) -> Iterator[tuple[uuid.UUID, uuid.UUID]]:
    with factory() as session, session.begin():
        made = [Organization(name=f"deliveries-{i}-{uuid.uuid4().hex[:6]}", settings={}) for i in range(2)]
        session.add_all(made)
        session.flush()
        ids = (made[0].id, made[1].id)
    yield ids
    with factory() as session, session.begin():
        session.execute(delete(Organization).where(Organization.id.in_(ids)))


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    """A receiver that accepts unsigned requests (Slack, Teams)."""
    with running_receiver(NOW) as r:
        yield r


@pytest.fixture
def signed() -> Iterator[Receiver]:
    """A receiver that verifies the webhook signature with ``SECRET`` (401 otherwise)."""
    with running_receiver(NOW, secret=SECRET) as r:
        yield r


def _svc(session: Session, org: uuid.UUID) -> NotificationDelivery:
    return NotificationDelivery(session, org, cipher=CIPHER, smtp=None, allow_insecure_localhost=True)


def _channel(factory: sessionmaker[Session], org: uuid.UUID, name: str, kind: str, target: str) -> uuid.UUID:
    with tenant_session(factory, org) as session:
        secret = SECRET if kind == "webhook" else None
        return (
            _svc(session, org).create_channel(name=name, kind=kind, target=target, secret=secret, now=NOW).id
        )


def _enqueue(
    factory: sessionmaker[Session], org: uuid.UUID, channels: list[uuid.UUID], key: str = "k1"
) -> list[uuid.UUID]:
    with tenant_session(factory, org) as session:
        notice = approval_notice(organization_id=org, idempotency_key=key)
        return [d.id for d in _svc(session, org).enqueue(notice, channels, NOW)]


def _run(
    factory: sessionmaker[Session], org: uuid.UUID, at: datetime
) -> dict[uuid.UUID, NotificationDeliveryRow]:
    with tenant_session(factory, org) as session:
        done = _svc(session, org).deliver_due(at, limit=50)
        rows = session.scalars(
            select(NotificationDeliveryRow).where(NotificationDeliveryRow.id.in_([d.id for d in done]))
        )
        out = {row.id: row for row in rows}
        session.expunge_all()
        return out


def _row(factory: sessionmaker[Session], delivery_id: uuid.UUID) -> NotificationDeliveryRow:
    with factory() as session:
        row = session.get(NotificationDeliveryRow, delivery_id)
        assert row is not None
        session.expunge(row)
        return row


def test_retryable_failure_then_success_records_backoff_and_ends_delivered(
    factory: sessionmaker[Session], orgs: tuple[uuid.UUID, uuid.UUID], signed: Receiver
) -> None:
    org, _ = orgs
    channel = _channel(factory, org, "hook", "webhook", signed.url("/flaky"))
    [delivery] = _enqueue(factory, org, [channel])
    failed = {"kind": "webhook", "final": "false"}
    failures_before = REGISTRY.get_sample_value("cloudoptima_notification_failures_total", failed) or 0.0
    delivered_before = REGISTRY.get_sample_value(
        "cloudoptima_notifications_delivered_total", {"kind": "webhook"}
    )
    first = _run(factory, org, NOW)[delivery]
    assert (first.status, first.attempts, first.next_attempt_at) == ("pending", 1, NOW + timedelta(minutes=1))
    assert REGISTRY.get_sample_value("cloudoptima_notification_failures_total", failed) == failures_before + 1
    assert first.last_error is not None and "webhook channel 'hook' (http://127.0.0.1:" in first.last_error
    assert "500" in first.last_error and "/flaky" not in first.last_error  # the target is redacted
    assert _run(factory, org, NOW + timedelta(seconds=59)) == {}  # not due yet: nothing attempted
    second = _run(factory, org, NOW + timedelta(minutes=1))[delivery]
    assert (second.status, second.attempts, second.delivered_at) == (
        "delivered",
        2,
        NOW + timedelta(minutes=1),
    )
    assert second.last_error is None
    delivered = REGISTRY.get_sample_value("cloudoptima_notifications_delivered_total", {"kind": "webhook"})
    assert delivered == (delivered_before or 0.0) + 1  # the metrics operators watch (#23)
    assert [r.status for r in signed.requests] == [500, 200]
    assert all(r.verification_error is None for r in signed.requests)
    assert {r.headers[DELIVERY_HEADER.lower()] for r in signed.requests} == {"k1"}


def test_backoff_doubles_and_the_delivery_goes_dead_after_max_attempts(
    factory: sessionmaker[Session], orgs: tuple[uuid.UUID, uuid.UUID], receiver: Receiver
) -> None:
    org, _ = orgs
    channel = _channel(factory, org, "slack", "slack", receiver.url("/boom"))
    [delivery] = _enqueue(factory, org, [channel])
    at = NOW
    delays = []
    for _ in range(MAX_ATTEMPTS - 1):
        row = _run(factory, org, at)[delivery]
        assert row.status == "pending"
        delays.append(row.next_attempt_at - at)
        at = row.next_attempt_at
    assert delays == [timedelta(minutes=m) for m in (1, 2, 4, 8, 16)]
    last = _run(factory, org, at)[delivery]
    assert (last.status, last.attempts) == ("dead", MAX_ATTEMPTS)
    assert last.last_error is not None and f"gave up after {MAX_ATTEMPTS} attempts" in last.last_error
    assert len(receiver.requests) == MAX_ATTEMPTS


def test_receiver_retry_after_is_honoured_when_larger(
    factory: sessionmaker[Session], orgs: tuple[uuid.UUID, uuid.UUID], receiver: Receiver
) -> None:
    org, _ = orgs
    short = _channel(factory, org, "short", "teams", receiver.url("/unavailable"))  # Retry-After: 30 s
    dated = _channel(factory, org, "dated", "teams", receiver.url("/busy-date"))  # an HTTP date, 2 days on
    ids = _enqueue(factory, org, [short, dated])
    rows = _run(factory, org, NOW)
    assert rows[ids[0]].next_attempt_at == NOW + timedelta(minutes=1)
    assert rows[ids[1]].next_attempt_at == datetime(2026, 12, 9, 10, tzinfo=UTC)


def test_permanent_failure_is_dead_at_once_and_does_not_stop_other_channels(
    factory: sessionmaker[Session], orgs: tuple[uuid.UUID, uuid.UUID], receiver: Receiver
) -> None:
    org, _ = orgs
    bad = _channel(factory, org, "bad", "slack", receiver.url("/bad"))
    boom = _channel(factory, org, "boom", "teams", receiver.url("/boom"))
    ok = _channel(factory, org, "ok", "webhook", receiver.url("/ok"))
    mail = _channel(factory, org, "mail", "email", "finance@example.com")
    ids = _enqueue(factory, org, [bad, boom, ok, mail])
    rows = _run(factory, org, NOW)
    assert [rows[i].status for i in ids] == ["dead", "pending", "delivered", "dead"]
    assert rows[ids[0]].attempts == 1
    assert "slack channel 'bad'" in (rows[ids[0]].last_error or "") and "400" in (
        rows[ids[0]].last_error or ""
    )
    assert "no SMTP server is configured" in (rows[ids[3]].last_error or "")
    assert "f…@example.com" in (rows[ids[3]].last_error or "")
    with tenant_session(factory, org) as session:
        assert {d.id for d in _svc(session, org).dead_letters()} == {ids[0], ids[3]}


def test_replay_puts_a_dead_delivery_back_and_it_is_delivered(
    factory: sessionmaker[Session], orgs: tuple[uuid.UUID, uuid.UUID], receiver: Receiver
) -> None:
    org, other = orgs
    channel = _channel(factory, org, "flaky", "teams", receiver.url("/flaky"))
    [delivery] = _enqueue(factory, org, [channel])
    with factory() as session, session.begin():  # pretend it already exhausted its attempts
        row = session.get(NotificationDeliveryRow, delivery)
        assert row is not None
        row.status, row.attempts, row.last_error = "dead", MAX_ATTEMPTS, "teams channel: gave up"
    later = NOW + timedelta(hours=3)
    with tenant_session(factory, other) as session, pytest.raises(DeliveryNotFound):
        _svc(session, other).replay(delivery, later)
    with tenant_session(factory, org) as session:
        view = _svc(session, org).replay(delivery, later)
    assert (view.status, view.attempts, view.next_attempt_at) == ("pending", 0, later)
    with tenant_session(factory, org) as session, pytest.raises(DeliveryConfigError) as err:
        _svc(session, org).replay(delivery, later)
    assert err.value.field == "delivery_id"
    assert _run(factory, org, later)[delivery].status == "pending"  # /flaky: 500 first
    assert _run(factory, org, later + timedelta(minutes=1))[delivery].status == "delivered"


def test_enqueue_is_idempotent_per_channel_and_key(
    factory: sessionmaker[Session], orgs: tuple[uuid.UUID, uuid.UUID], receiver: Receiver
) -> None:
    org, _ = orgs
    a = _channel(factory, org, "a", "webhook", receiver.url("/ok"))
    b = _channel(factory, org, "b", "teams", receiver.url("/ok"))
    first = _enqueue(factory, org, [a])
    _run(factory, org, NOW)
    again = _enqueue(factory, org, [a, b])
    assert again[0] == first[0] and again[1] != first[0]
    assert _row(factory, first[0]).status == "delivered"  # the repeat left the delivered row alone
    with factory() as session:
        count = session.scalar(
            select(func.count())
            .select_from(NotificationDeliveryRow)
            .where(NotificationDeliveryRow.organization_id == org)
        )
    assert count == 2
    _run(factory, org, NOW)
    assert len(receiver.requests) == 2  # a once, b once


def test_channel_validation_names_the_field_and_targets_are_stored_encrypted(
    factory: sessionmaker[Session], orgs: tuple[uuid.UUID, uuid.UUID], receiver: Receiver
) -> None:
    org, _ = orgs
    cases = [
        ({"kind": "pager", "target": "x", "secret": None}, "kind"),
        ({"kind": "webhook", "target": "ftp://example.com/x", "secret": SECRET}, "target"),
        ({"kind": "slack", "target": "https://hooks.example.com/services/x", "secret": None}, "target"),
        ({"kind": "webhook", "target": "https://example.com/hook", "secret": "short"}, "secret"),
        ({"kind": "teams", "target": receiver.url("/ok"), "secret": SECRET}, "secret"),
        ({"kind": "email", "target": "a@b.com, c@d.com", "secret": None}, "target"),
    ]
    with tenant_session(factory, org) as session:
        svc = _svc(session, org)
        for args, field in cases:
            with pytest.raises(DeliveryConfigError) as err:
                svc.create_channel(name="x", now=NOW, **args)  # type: ignore[arg-type]
            assert err.value.field == field, args
        view = svc.create_channel(
            name="hook", kind="webhook", target="https://example.com/hook/TOPSECRET", secret=SECRET, now=NOW
        )
        with pytest.raises(DeliveryConfigError) as err:
            svc.create_channel(name="hook", kind="teams", target=receiver.url("/ok"), secret=None, now=NOW)
        assert err.value.field == "name"
    assert view.target_hint == "https://example.com/…"
    with factory() as session:
        row = session.get(NotificationChannelRow, view.id)
        assert row is not None
        assert "TOPSECRET" not in row.target_encrypted and SECRET not in (row.secret_encrypted or "")
        assert CIPHER.decrypt(row.target_encrypted) == {"target": "https://example.com/hook/TOPSECRET"}


def test_channels_and_deliveries_are_isolated_between_organisations(
    factory: sessionmaker[Session], orgs: tuple[uuid.UUID, uuid.UUID], receiver: Receiver
) -> None:
    org, other = orgs
    channel = _channel(factory, org, "hook", "webhook", receiver.url("/boom"))
    _enqueue(factory, org, [channel])
    with tenant_session(factory, other) as session:
        svc = _svc(session, other)
        assert svc.list_channels() == []
        with pytest.raises(DeliveryConfigError) as err:
            svc.enqueue(approval_notice(organization_id=other), [channel], NOW)
        assert err.value.field == "channel_ids"
        with pytest.raises(ChannelNotFound):
            svc.delete_channel(channel)
        with pytest.raises(ChannelNotFound):
            svc.send_test(channel, NOW)
        assert svc.deliver_due(NOW) == []
    with factory() as session:
        due = organisations_with_due_deliveries(session, NOW)
    assert org in due and other not in due
    assert receiver.requests == []


def test_send_test_returns_the_receipt_or_raises_the_channel_error(
    factory: sessionmaker[Session], orgs: tuple[uuid.UUID, uuid.UUID], signed: Receiver
) -> None:
    org, _ = orgs
    ok = _channel(factory, org, "ok", "webhook", signed.url("/ok"))
    bad = _channel(factory, org, "bad", "webhook", signed.url("/bad"))
    with tenant_session(factory, org) as session:
        svc = _svc(session, org)
        receipt = svc.send_test(ok, NOW)
        assert (receipt.channel, receipt.status) == ("webhook", 200)
        with pytest.raises(DeliveryError) as err:
            svc.send_test(bad, NOW)
        assert not err.value.retryable and "/bad" not in str(err.value)
        svc.delete_channel(ok)
        assert [c.name for c in svc.list_channels()] == ["bad"]
    assert [r.verification_error for r in signed.requests] == [None, None]
