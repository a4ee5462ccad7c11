"""Notification rules against Postgres: threshold and scope matching, quiet hours across midnight in a
non-UTC zone (clock pinned), failing channels isolated from the other rules, default rules on a fresh
organisation, an anomaly routed to a webhook by amount, idempotent dispatch and validation naming the field."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import pytest
from cryptography.fernet import Fernet
from sqlalchemy import Engine, delete, select, update
from sqlalchemy.orm import Session, sessionmaker

from cloudoptima.domain.budgets import AlertEvent, NotificationType
from cloudoptima.domain.notices import Notice, NoticeEventType, NoticeSeverity
from cloudoptima.domain.notification_rules import DispatchContext, QuietHours
from cloudoptima.security.encryption import CredentialCipher
from cloudoptima.services.inbox import Inbox, notify_budget_alerts
from cloudoptima.services.notification_delivery import NotificationDelivery
from cloudoptima.services.notification_rules import (
    DEFAULT_RULES,
    NotificationRules,
    RuleError,
    RuleNotFound,
    dispatch,
)
from cloudoptima.storage.engine import session_factory
from cloudoptima.storage.models import (
    NotificationChannelRow,
    NotificationDeliveryRow,
    NotificationRuleRow,
    Organization,
    User,
)
from cloudoptima.storage.tenancy import tenant_session

NOW = datetime(2026, 12, 7, 12, 0, tzinfo=UTC)
CIPHER = CredentialCipher(Fernet.generate_key().decode())
SECRET = "s3cret-signing-key-0123456789"


@dataclass
class Tenant:
    id: uuid.UUID
    users: dict[str, uuid.UUID]


@pytest.fixture
def factory(engine: Engine) -> sessionmaker[Session]:
    return session_factory(engine)


@pytest.fixture
def tenants(factory: sessionmaker[Session]) -> Iterator[tuple[Tenant, Tenant]]:
    made: list[Tenant] = []
    with factory() as session, session.begin():
        for name in ("rules-a", "rules-b"):
            org = Organization(name=f"{name}-{uuid.uuid4().hex[:6]}", settings={})
            session.add(org)
            session.flush()
            users = {}
            for role in ("viewer", "engineer", "finops_manager", "admin"):
                user = User(
                    organization_id=org.id,
                    email=f"{role}-{uuid.uuid4().hex[:8]}@example.com",
                    password_hash="x",
                    role=role,
                )
                session.add(user)
                session.flush()
                users[role] = user.id
            made.append(Tenant(org.id, users))
    yield made[0], made[1]
    with factory() as session, session.begin():
        session.execute(delete(Organization).where(Organization.id.in_([t.id for t in made])))


def _notice(org: uuid.UUID, key: str, **changes: Any) -> Notice:
    base: dict[str, Any] = {
        "event_type": NoticeEventType.ANOMALY_DETECTED,
        "severity": NoticeSeverity.WARNING,
        "title": "Spend anomaly on EC2",
        "summary": "EC2 spend 3x its usual level",
        "amount": Decimal("250.00"),
        "currency": "USD",
        "organization_id": org,
        "occurred_at": NOW,
        "idempotency_key": key,
    }
    base.update(changes)
    return Notice.model_validate(base)


def _channel(session: Session, org: uuid.UUID, name: str) -> uuid.UUID:
    svc = NotificationDelivery(session, org, cipher=CIPHER, smtp=None)
    return svc.create_channel(
        name=name, kind="webhook", target=f"https://hooks.example.com/{name}", secret=SECRET, now=NOW
    ).id


def _no_defaults(session: Session, org: uuid.UUID) -> NotificationRules:
    """The rules service of an organisation whose default rules were materialised, then removed."""
    rules = NotificationRules(session, org)
    for rule in rules.ensure_defaults(NOW):
        rules.delete(rule.id)
    return rules


def _deliveries(session: Session, org: uuid.UUID) -> list[NotificationDeliveryRow]:
    return list(
        session.scalars(select(NotificationDeliveryRow).where(NotificationDeliveryRow.organization_id == org))
    )


def test_thresholds_and_scope_decide_which_rules_match(
    factory: sessionmaker[Session], tenants: tuple[Tenant, Tenant]
) -> None:
    org, _ = tenants
    with tenant_session(factory, org.id) as session:
        rules = _no_defaults(session, org.id)
        critical_ec2 = rules.create(
            name="critical EC2 in eu-west-1",
            event_type="anomaly.detected",
            min_severity="critical",
            scope={"services": ["AmazonEC2"], "regions": ["eu-west-1"]},
            recipients={"roles": ["finops_manager"]},
            now=NOW,
        )
        account = rules.create(
            name="prod account, over 100",
            event_type="anomaly.detected",
            min_amount="100",
            scope={"account_ids": ["123456789012"]},
            recipients={"user_ids": [str(org.users["engineer"])]},
            now=NOW,
        )
        rules.create(
            name="other event",
            event_type="recommendation.created",
            recipients={"roles": ["viewer"]},
            now=NOW,
        )
        ec2 = DispatchContext(service="AmazonEC2", region="eu-west-1", account_id="123456789012")

        warning = dispatch(session, org.id, _notice(org.id, "a1"), context=ec2, now=NOW)
        assert warning.rules_matched == (account.id,)  # the critical rule's threshold is not reached
        assert {i.user_id for i in warning.inbox_items} == {org.users["engineer"]}
        assert warning.inbox_items[0].event_type == "anomaly.detected"
        assert warning.inbox_items[0].payload["amount"] == "250.00"

        critical = dispatch(
            session, org.id, _notice(org.id, "a2", severity=NoticeSeverity.CRITICAL), context=ec2, now=NOW
        )
        assert set(critical.rules_matched) == {critical_ec2.id, account.id}
        assert critical.in_app_users == 2  # the union: the engineer and the finops manager

        elsewhere = ec2.model_copy(update={"region": "us-east-1", "account_id": "999"})
        assert (
            dispatch(session, org.id, _notice(org.id, "a3"), context=elsewhere, now=NOW).rules_matched == ()
        )
        unknown_region = DispatchContext(service="AmazonEC2", account_id="123456789012")
        small = dispatch(
            session,
            org.id,
            _notice(org.id, "a4", severity=NoticeSeverity.CRITICAL, amount=Decimal("99.99")),
            context=unknown_region,
            now=NOW,
        )
        assert small.rules_matched == ()  # under min_amount; no region: the region-scoped rule does not apply
        no_amount = dispatch(
            session, org.id, _notice(org.id, "a5", amount=None, currency=None), context=ec2, now=NOW
        )
        assert no_amount.rules_matched == ()


def test_quiet_hours_across_midnight_delay_channels_not_the_inbox(
    factory: sessionmaker[Session], tenants: tuple[Tenant, Tenant]
) -> None:
    org, _ = tenants
    quiet = {"start": "22:00", "end": "07:00", "timezone": "Europe/Paris"}  # UTC+1 in December
    with tenant_session(factory, org.id) as session:
        rules = _no_defaults(session, org.id)
        hook = _channel(session, org.id, "night-hook")
        rules.create(
            name="anomalies to the webhook",
            event_type="anomaly.detected",
            channel_id=hook,
            quiet_hours=quiet,
            now=NOW,
        )
        rules.create(
            name="anomalies to admins",
            event_type="anomaly.detected",
            recipients={"roles": ["admin"]},
            now=NOW,
        )
        evening = datetime(2026, 12, 7, 22, 30, tzinfo=UTC)  # 23:30 in Paris: inside, before midnight
        late = dispatch(session, org.id, _notice(org.id, "q1"), now=evening)
        [held] = late.deliveries
        assert held.next_attempt_at == datetime(2026, 12, 8, 6, 0, tzinfo=UTC)  # 07:00 Paris next morning
        assert [i.created_at for i in late.inbox_items] == [evening]  # in-app at once
        night = datetime(2026, 12, 8, 1, 15, tzinfo=UTC)  # 02:15 in Paris: inside, after midnight
        [early] = dispatch(session, org.id, _notice(org.id, "q2"), now=night).deliveries
        assert early.next_attempt_at == datetime(2026, 12, 8, 6, 0, tzinfo=UTC)
        noon = dispatch(session, org.id, _notice(org.id, "q3"), now=NOW)
        assert [d.next_attempt_at for d in noon.deliveries] == [NOW]  # outside the window: due now
    window = QuietHours.model_validate(quiet)
    assert window.holds_until(datetime(2026, 12, 7, 21, 0, tzinfo=UTC)) == datetime(
        2026, 12, 8, 6, tzinfo=UTC
    )
    assert window.holds_until(datetime(2026, 12, 7, 20, 59, tzinfo=UTC)) is None  # 21:59 Paris
    assert window.holds_until(datetime(2026, 12, 8, 6, 0, tzinfo=UTC)) is None  # the end is not inside
    summer = QuietHours(start="08:00", end="18:00", timezone="America/New_York")
    assert summer.holds_until(datetime(2026, 7, 1, 12, tzinfo=UTC)) == datetime(2026, 7, 1, 22, tzinfo=UTC)


def test_a_disabled_or_deleted_channel_does_not_block_the_other_rules(
    factory: sessionmaker[Session], tenants: tuple[Tenant, Tenant]
) -> None:
    org, _ = tenants
    with tenant_session(factory, org.id) as session:
        rules = _no_defaults(session, org.id)
        broken, working, gone = (_channel(session, org.id, n) for n in ("broken", "working", "gone"))
        for name, channel in (("to broken", broken), ("to working", working), ("to gone", gone)):
            rules.create(name=name, event_type="execution.failed", channel_id=channel, now=NOW)
        in_app = rules.create(
            name="to admins", event_type="execution.failed", recipients={"roles": ["admin"]}, now=NOW
        )
        session.execute(
            update(NotificationChannelRow).where(NotificationChannelRow.id == broken).values(enabled=False)
        )
        NotificationDelivery(session, org.id, cipher=CIPHER, smtp=None).delete_channel(gone)
        notice = _notice(
            org.id, "x1", event_type=NoticeEventType.EXECUTION_FAILED, amount=None, currency=None
        )
        result = dispatch(session, org.id, notice, now=NOW)
        assert in_app.id in result.rules_matched and len(result.rules_matched) == 3  # "to gone" went with it
        assert [f.channel_id for f in result.failures] == [broken]
        assert "disabled" in result.failures[0].reason
        assert [d.channel_id for d in result.deliveries] == [working]
        assert [i.user_id for i in result.inbox_items] == [org.users["admin"]]
    with tenant_session(factory, org.id) as session:  # the failure rolled back only its savepoint
        assert [d.channel_id for d in _deliveries(session, org.id)] == [working]
        assert Inbox(session, org.id).unread_count(org.users["admin"]) == 1


def test_defaults_on_a_fresh_organisation_send_budget_alerts_to_the_admins_inbox(
    factory: sessionmaker[Session], tenants: tuple[Tenant, Tenant]
) -> None:
    org, other = tenants
    budget = uuid.uuid4()
    fired = [
        AlertEvent(
            threshold=Decimal(100),
            type=NotificationType.FORECASTED,
            spend=Decimal("1203.10"),
            limit=Decimal(1000),
            fired_at=NOW,
        )
    ]
    with tenant_session(factory, org.id) as session:
        posted = notify_budget_alerts(
            session,
            org.id,
            budget_id=budget,
            budget_name="Platform",
            period_start=date(2026, 12, 1),
            fired=fired,
            now=NOW,
            currency="EUR",
        )
        assert [i.user_id for i in posted] == [org.users["admin"]]
        assert posted[0].severity == "critical" and posted[0].payload["currency"] == "EUR"
        names = {r.name: r for r in NotificationRules(session, org.id).list_rules()}
        assert set(names) == {d.name for d in DEFAULT_RULES}
        approvals = names["Approvals waiting to approvers"]
        assert set(approvals.recipients.roles) == {"engineer", "finops_manager", "admin"}
    with tenant_session(factory, org.id) as session:
        rules = NotificationRules(session, org.id)
        assert rules.ensure_defaults(NOW) == []  # once per organisation
        for rule in rules.list_rules():  # an admin who deletes every rule is not given them back
            rules.delete(rule.id)
        again = notify_budget_alerts(
            session,
            org.id,
            budget_id=budget,
            budget_name="Platform",
            period_start=date(2027, 1, 1),
            fired=fired,
            now=NOW,
        )
        assert again == [] and rules.list_rules() == []
    with tenant_session(factory, other.id) as session:  # the other organisation got nothing, and no rules
        assert Inbox(session, other.id).unread_count(other.users["admin"]) == 0
        assert session.scalars(select(NotificationRuleRow)).all() == []


def test_an_anomaly_rule_with_min_amount_routes_only_big_anomalies_to_the_webhook(
    factory: sessionmaker[Session], tenants: tuple[Tenant, Tenant]
) -> None:
    org, _ = tenants
    with tenant_session(factory, org.id) as session:
        hook = _channel(session, org.id, "finops-webhook")
        NotificationRules(session, org.id).create(
            name="big anomalies to the webhook",
            event_type="anomaly.detected",
            min_amount=Decimal("500"),
            channel_id=hook,
            now=NOW,
        )
        big = _notice(org.id, "anomaly:big", amount=Decimal("1500.00"))
        small = _notice(org.id, "anomaly:small", amount=Decimal("499.99"))
        first = dispatch(session, org.id, big, now=NOW)
        assert [(d.channel_id, d.idempotency_key, d.status) for d in first.deliveries] == [
            (hook, "anomaly:big", "pending")
        ]
        assert first.inbox_items == ()  # defaults do not cover anomalies
        assert dispatch(session, org.id, small, now=NOW).deliveries == ()
        repeat = dispatch(session, org.id, big, now=NOW)  # a retried activity queues nothing new
        assert [d.id for d in repeat.deliveries] == [d.id for d in first.deliveries]
        [row] = _deliveries(session, org.id)
        assert row.notice["amount"] == "1500.00" and row.notice["idempotency_key"] == "anomaly:big"


def test_bad_rules_are_refused_naming_the_field(
    factory: sessionmaker[Session], tenants: tuple[Tenant, Tenant]
) -> None:
    org, other = tenants
    with tenant_session(factory, other.id) as session:
        foreign_channel = _channel(session, other.id, "theirs")
    with tenant_session(factory, org.id) as session:
        rules = NotificationRules(session, org.id)
        hook = _channel(session, org.id, "ours")
        good: dict[str, Any] = {
            "name": "r",
            "event_type": "anomaly.detected",
            "recipients": {"roles": ["admin"]},
        }
        cases: list[tuple[dict[str, Any], str]] = [
            ({"event_type": "digest"}, "event_type"),
            ({"event_type": "budget.alert"}, "event_type"),
            ({"min_severity": "urgent"}, "min_severity"),
            ({"min_amount": "-1"}, "min_amount"),
            ({"min_amount": "ten"}, "min_amount"),
            ({"min_amount": "0.0000001"}, "min_amount"),
            ({"scope": {"tags": ["a"]}}, "scope.tags"),
            ({"scope": {"regions": []}}, "scope.regions"),
            ({"scope": {"budget_ids": ["nope"]}}, "scope.budget_ids"),
            ({"channel_id": foreign_channel, "recipients": {}}, "channel_id"),
            ({"channel_id": hook}, "recipients"),
            ({"recipients": {}}, "recipients"),
            ({"recipients": {"roles": ["owner"]}}, "recipients.roles"),
            ({"recipients": {"user_ids": [str(other.users["admin"])]}}, "recipients.user_ids"),
            ({"recipients": {"teams": ["x"]}}, "recipients.teams"),
            ({"quiet_hours": {"start": "22:00", "end": "07:00", "timezone": "UTC"}}, "quiet_hours"),
            (
                {
                    "channel_id": hook,
                    "recipients": {},
                    "quiet_hours": {"start": "7", "end": "08:00", "timezone": "UTC"},
                },
                "quiet_hours.start",
            ),
            (
                {
                    "channel_id": hook,
                    "recipients": {},
                    "quiet_hours": {"start": "22:00", "end": "07:00", "timezone": "Mars/Olympus"},
                },
                "quiet_hours.timezone",
            ),
            ({"name": "  "}, "name"),
        ]
        for change, field in cases:
            with pytest.raises(RuleError) as bad:
                rules.create(**{**good, **change}, now=NOW)
            assert bad.value.field == field, change
        rule = rules.create(**good, now=NOW)
        with pytest.raises(RuleError) as bad:
            rules.create(**good, now=NOW)
        assert bad.value.field == "name"
        with pytest.raises(RuleError) as bad:
            rules.update(rule.id, {"scope": {"zones": ["a"]}})
        assert bad.value.field == "scope.zones"
        with pytest.raises(RuleError) as bad:
            rules.update(rule.id, {"created_by": None})
        assert bad.value.field == "created_by"
        changed = rules.update(
            rule.id, {"channel_id": str(hook), "recipients": {}, "enabled": False, "min_amount": "10.5"}
        )
        assert changed.channel_id == hook and not changed.enabled and changed.min_amount == Decimal("10.5")
        with pytest.raises(RuleNotFound):
            rules.update(uuid.uuid4(), {"enabled": True})
    with tenant_session(factory, other.id) as session, pytest.raises(RuleNotFound):
        NotificationRules(session, other.id).delete(rule.id)  # another organisation's rule
    with pytest.raises(RuleError) as bad, tenant_session(factory, org.id) as session:
        dispatch(session, org.id, _notice(other.id, "k"), now=NOW)
    assert bad.value.field == "notice.organization_id"


def test_an_inbox_post_that_fails_is_reported_not_raised(
    factory: sessionmaker[Session], tenants: tuple[Tenant, Tenant]
) -> None:
    org, _ = tenants
    with tenant_session(factory, org.id) as session:
        rules = _no_defaults(session, org.id)
        rule = rules.create(
            name="to admins", event_type="anomaly.detected", recipients={"roles": ["admin"]}, now=NOW
        )
        broken = _notice(org.id, "nul", title="bad \x00 title")  # the inbox refuses NUL characters
        result = dispatch(session, org.id, broken, now=NOW)
        assert result.inbox_items == () and [f.rule_id for f in result.failures] == [rule.id]
        assert "title" in result.failures[0].reason
        fine = dispatch(session, org.id, _notice(org.id, "fine"), now=NOW)  # the transaction is still usable
        assert fine.in_app_users == 1 and fine.failures == ()
