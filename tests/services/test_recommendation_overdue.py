"""``recommendation.overdue`` (#22): an accepted recommendation past its due date notifies its owner once per
due date, on the real database at pinned dates; snoozed, dismissed and applied ones never fire; the owner
recipient of rules is validated."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from cloudoptima.services.audit import AuditActor
from cloudoptima.services.event_notices import notify_recommendations_overdue
from cloudoptima.services.notification_rules import NotificationRules, RuleError
from cloudoptima.services.recommendation_lifecycle import RecommendationLifecycle
from cloudoptima.storage.models import Notification, Organization, Recommendation, User

ACCEPTED_AT = datetime(2026, 3, 2, 9, tzinfo=UTC)
DUE = date(2026, 3, 10)


def _at(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, 6, 30, tzinfo=UTC)


def _org(session: Session) -> uuid.UUID:
    org = Organization(name=f"overdue-{uuid.uuid4().hex[:8]}", subscription_tier="free", settings={})
    session.add(org)
    session.flush()
    return org.id


def _user(session: Session, org: uuid.UUID, role: str) -> uuid.UUID:
    user = User(
        organization_id=org, email=f"{role}-{uuid.uuid4().hex[:8]}@example.com", password_hash="x", role=role
    )
    session.add(user)
    session.flush()
    return user.id


def _rec(session: Session, org: uuid.UUID, title: str) -> uuid.UUID:
    row = Recommendation(
        organization_id=org, fingerprint=uuid.uuid4().hex, rule_id="idle_vm", provider="aws", title=title,
        category="compute", risk_level="low", resource_ids=["i-1"], affected_resources=[], actions=[],
        status="active", estimated_savings_monthly=Decimal("42.50"), priority=Decimal(1),
        account_identifier="123456789012", region="eu-west-1",
    )  # fmt: skip
    session.add(row)
    session.flush()
    return row.id


def _inbox(session: Session, org: uuid.UUID) -> list[Notification]:
    return list(
        session.scalars(
            select(Notification)
            .where(Notification.organization_id == org, Notification.event_type == "recommendation.overdue")
            .order_by(Notification.created_at, Notification.id)
        )
    )


def _run(session: Session, org: uuid.UUID, day: date) -> int:
    return len(
        notify_recommendations_overdue(
            session, org, now=_at(day), console_url="https://finops.example.com", public_url=None
        )
    )


def test_overdue_notifies_the_owner_once_per_due_date(db_session: Session) -> None:
    org = _org(db_session)
    owner, admin = _user(db_session, org, "member"), _user(db_session, org, "admin")
    rec = _rec(db_session, org, "Stop idle i-1")
    clock = [ACCEPTED_AT]
    lifecycle = RecommendationLifecycle(db_session, org, now=lambda: clock[0])
    actor = AuditActor(channel="rest", actor=f"user:{owner}", user_id=owner)
    lifecycle.accept(rec, owner_user_id=owner, due_date=DUE, actor=actor)

    assert _run(db_session, org, DUE - timedelta(days=1)) == 0
    assert _run(db_session, org, DUE) == 0  # due today is not overdue yet
    assert _inbox(db_session, org) == []

    assert _run(db_session, org, DUE + timedelta(days=1)) == 1
    [first] = _inbox(db_session, org)
    assert first.user_id == owner  # the owner only: not the admin
    assert first.severity == "warning" and first.title == "Overdue: Stop idle i-1"
    assert "due on 2026-03-10" in first.summary and "1 day overdue" in first.summary
    assert "42.50 USD/month" in first.summary
    assert first.link == f"https://finops.example.com/recommendations/{rec}"
    assert first.idempotency_key == f"recommendation.overdue:{rec}:2026-03-10"
    facts = {f["label"]: f["value"] for f in first.payload["facts"]}
    assert facts["Due date"] == "2026-03-10" and facts["Days overdue"] == "1"
    assert first.payload["amount"] == "42.50" and first.payload["currency"] == "USD"
    assert facts["Owner"].startswith("member-")

    assert _run(db_session, org, DUE + timedelta(days=2)) == 0
    assert _run(db_session, org, DUE + timedelta(days=9)) == 0
    assert len(_inbox(db_session, org)) == 1

    # accepted again with a new due date: silent until that one passes, then one more notice
    clock[0] = _at(DUE + timedelta(days=9))
    new_due = DUE + timedelta(days=20)
    lifecycle.accept(rec, owner_user_id=owner, due_date=new_due, actor=actor)
    assert _run(db_session, org, new_due) == 0
    assert _run(db_session, org, new_due + timedelta(days=3)) == 1
    assert _run(db_session, org, new_due + timedelta(days=4)) == 0
    second = _inbox(db_session, org)[-1]
    assert len(_inbox(db_session, org)) == 2 and second.user_id == owner
    assert "3 days overdue" in second.summary and second.idempotency_key.endswith(":2026-03-30")
    assert admin not in {n.user_id for n in _inbox(db_session, org)}


def test_snoozed_dismissed_and_applied_never_fire(db_session: Session) -> None:
    org = _org(db_session)
    owner = _user(db_session, org, "member")
    lifecycle = RecommendationLifecycle(db_session, org, now=lambda: ACCEPTED_AT)
    actor = AuditActor(channel="rest", actor=f"user:{owner}", user_id=owner)
    snoozed, dismissed, applied = (_rec(db_session, org, t) for t in ("snoozed", "dismissed", "applied"))
    for rec in (snoozed, dismissed, applied):
        lifecycle.accept(rec, owner_user_id=owner, due_date=DUE, actor=actor)
    lifecycle.snooze(snoozed, until=_at(DUE + timedelta(days=30)), actor=actor)
    lifecycle.dismiss(dismissed, "not worth it", permanent=True, actor=actor)
    db_session.execute(update(Recommendation).where(Recommendation.id == applied).values(status="applied"))

    assert _run(db_session, org, DUE + timedelta(days=5)) == 0
    assert _inbox(db_session, org) == []
    other = _org(db_session)  # another organisation's run never sees these
    assert _run(db_session, other, DUE + timedelta(days=5)) == 0
    with pytest.raises(ValueError, match="now"):
        notify_recommendations_overdue(db_session, org, now=datetime(2026, 3, 20))  # noqa: DTZ001 (naive on purpose)


def test_rules_address_the_owner_only_in_app(db_session: Session) -> None:
    org = _org(db_session)
    admin = _user(db_session, org, "admin")
    rules = NotificationRules(db_session, org)
    made = rules.ensure_defaults(ACCEPTED_AT)
    [default] = [r for r in made if r.event_type.value == "recommendation.overdue"]
    assert default.recipients.owner and default.recipients.roles == () and default.channel_id is None
    for bad, field in (("yes", "recipients.owner"), (None, "recipients.owner")):
        with pytest.raises(RuleError) as refused:
            rules.create(
                name=f"bad {bad}", event_type="recommendation.overdue", recipients={"owner": bad},
                created_by=admin, now=ACCEPTED_AT,
            )  # fmt: skip
        assert refused.value.field == field
    mine = rules.create(
        name="owner and admins", event_type="recommendation.overdue",
        recipients={"owner": True, "roles": ["admin"]}, created_by=admin, now=ACCEPTED_AT,
    )  # fmt: skip
    assert mine.recipients.owner and mine.recipients.roles == ("admin",)
