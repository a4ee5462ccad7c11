"""The recommendation lifecycle (#22): accept, snooze (woken by the caller's clock), dismiss, false positive,
reopen; each checked against the graph, with a history row and an audit row; false positives fed to runs."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

import numpy as np
import pytest
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from cloudoptima.analytics.utilisation import summarise_values
from cloudoptima.clouds.sandbox import generate_estate
from cloudoptima.clouds.sandbox.utilisation import resource_arrays
from cloudoptima.domain.recommendation_lifecycle import TransitionRefused
from cloudoptima.services.audit import AuditActor
from cloudoptima.services.pricing import SandboxPriceCatalog
from cloudoptima.services.recommendation_lifecycle import LifecycleInputError, RecommendationLifecycle
from cloudoptima.services.recommendations import RecommendationService
from cloudoptima.services.rule_feedback import rule_feedback
from cloudoptima.storage.inventory_store import upsert_resources
from cloudoptima.storage.models import AuditLog, Organization, Recommendation, User

NOW = datetime(2026, 3, 10, 12, tzinfo=UTC)


def _org(session: Session, name: str) -> uuid.UUID:
    org = Organization(name=name, subscription_tier="free", settings={})
    session.add(org)
    session.flush()
    return org.id


def _user(session: Session, org: uuid.UUID, *, active: bool = True) -> uuid.UUID:
    user = User(
        organization_id=org, email=f"{uuid.uuid4().hex[:10]}@example.com", password_hash="x", role="member",
        is_active=active,
    )  # fmt: skip
    session.add(user)
    session.flush()
    return user.id


def _rec(session: Session, org: uuid.UUID) -> uuid.UUID:
    row = Recommendation(
        organization_id=org, fingerprint=uuid.uuid4().hex, rule_id="idle_vm", provider="aws", title="stop idle",
        category="compute", risk_level="low", resource_ids=["i-1"], affected_resources=[], actions=[],
        status="active", estimated_savings_monthly=Decimal("12.50"), priority=Decimal(1),
    )  # fmt: skip
    session.add(row)
    session.flush()
    return row.id


def test_transitions_follow_the_graph_and_leave_history_and_audit(db_session: Session) -> None:
    org, other = _org(db_session, "lifecycle"), _org(db_session, "other")
    owner, stranger, retired = (
        _user(db_session, org),
        _user(db_session, other),
        _user(db_session, org, active=False),
    )
    rec = _rec(db_session, org)
    clock = [NOW]
    lc = RecommendationLifecycle(db_session, org, now=lambda: clock[0])
    alice = AuditActor(channel="rest", actor=f"user:{owner}", user_id=owner)

    for bad_owner in (stranger, retired, uuid.uuid4()):
        with pytest.raises(LifecycleInputError) as refused:
            lc.accept(rec, owner_user_id=bad_owner, due_date=date(2026, 4, 1), actor=alice)
        assert refused.value.field == "owner_user_id"
    with pytest.raises(LifecycleInputError) as late:
        lc.accept(rec, owner_user_id=owner, due_date=date(2026, 3, 9), actor=alice)
    assert late.value.field == "due_date"
    with pytest.raises(TransitionRefused, match="'active'"):
        lc.reopen(rec, actor=alice)

    row = lc.accept(rec, owner_user_id=owner, due_date=date(2026, 3, 10), actor=alice, note="mine")
    assert (row.status, row.owner_user_id, row.due_date) == ("accepted", owner, date(2026, 3, 10))
    for naive_or_past in (NOW.replace(tzinfo=None) + timedelta(days=1), NOW, NOW + timedelta(days=366)):
        with pytest.raises(LifecycleInputError, match="until"):
            lc.snooze(rec, until=naive_or_past, actor=alice)
    lc.snooze(rec, until=NOW + timedelta(days=7), actor=alice, reason="freeze")
    clock[0] = NOW + timedelta(days=7) - timedelta(seconds=1)
    assert lc.wake_snoozed() == 0
    clock[0] = NOW + timedelta(days=7)
    assert lc.wake_snoozed() == 1
    assert (row.status, row.owner_user_id, row.snoozed_until) == ("active", None, None)

    lc.false_positive(rec, "it is a batch host", actor=alice)
    with pytest.raises(TransitionRefused, match="'false_positive'"):
        lc.dismiss(rec, "no", permanent=True, actor=alice)
    with pytest.raises(TransitionRefused, match="'false_positive'"):
        lc.snooze(rec, until=clock[0] + timedelta(days=1), actor=alice)
    assert lc.false_positive_counts() == {"idle_vm": 1}
    lc.reopen(rec, actor=alice, reason="rule fixed")
    lc.dismiss(rec, "legal hold", permanent=True, actor=alice)
    assert (row.status, row.dismissal_reason, row.dismissed_permanently) == ("dismissed", "legal hold", True)

    history = [(t.from_status, t.to_status, t.actor, t.reason) for t in lc.history(rec)]
    me = f"user:{owner}"
    assert history == [
        ("active", "accepted", me, "mine"),
        ("accepted", "snoozed", me, "freeze"),
        ("snoozed", "active", "system", "snooze ended"),
        ("active", "false_positive", me, "it is a batch host"),
        ("false_positive", "active", me, "rule fixed"),
        ("active", "dismissed", me, "legal hold"),
    ]
    audit = db_session.scalars(
        select(AuditLog)
        .where(AuditLog.organization_id == org, AuditLog.resource_id == str(rec))
        .order_by(AuditLog.timestamp, AuditLog.action)
    ).all()
    assert sorted((a.action, a.details["from"], a.details["to"]) for a in audit) == sorted(
        [
            ("recommendation.accept", "active", "accepted"),
            ("recommendation.snooze", "accepted", "snoozed"),
            ("recommendation.wake", "snoozed", "active"),
            ("recommendation.false_positive", "active", "false_positive"),
            ("recommendation.reopen", "false_positive", "active"),
            ("recommendation.dismiss", "active", "dismissed"),
        ]
    )
    assert {a.actor for a in audit} == {me, "system"}


AS_OF = datetime(2026, 1, 1, tzinfo=UTC)


@pytest.fixture
def loaded(db_session: Session) -> uuid.UUID:
    org = _org(db_session, "lifecycle-runs")
    estate = generate_estate(seed=5, accounts=1, days=60)
    live = [r for r in estate.resources if r.deleted_at is None]
    metrics: dict[str, Any] = {}
    for resource in live:
        arrays = resource_arrays(estate, resource)
        metrics[resource.resource_id] = {
            str(m): summarise_values(v[~np.isnan(v)]) for m, v in arrays.items() if (~np.isnan(v)).any()
        }
    upsert_resources(db_session.connection(), org, None, live, metrics, AS_OF, complete=True)
    return org


def test_runs_keep_false_positives_suppress_their_findings_and_wake_snoozes(
    db_session: Session, loaded: uuid.UUID
) -> None:
    org = loaded
    service = RecommendationService(db_session, org, SandboxPriceCatalog(), now=lambda: AS_OF)
    first = service.run(AS_OF)
    rows = {r.rule_id: r for r in service.list()}
    lc = RecommendationLifecycle(db_session, org, now=lambda: AS_OF)
    system = AuditActor()
    wrong, snoozed = rows["orphaned_snapshot"], rows["unassociated_ip"]
    lc.false_positive(wrong.id, "kept for audits", actor=system)
    lc.snooze(snoozed.id, until=AS_OF + timedelta(days=3), actor=system)

    again = service.run(AS_OF)
    assert (again.kept_false_positive, again.suppressed, again.woken) == (1, 0, 0)
    assert (wrong.status, snoozed.status) == ("false_positive", "snoozed")
    # the same rule on the same resources with other parameters is a new fingerprint: not suggested again
    db_session.execute(
        update(Recommendation).where(Recommendation.id == wrong.id).values(fingerprint="older")
    )
    later = RecommendationService(
        db_session, org, SandboxPriceCatalog(), now=lambda: AS_OF + timedelta(days=3)
    )
    third = later.run(AS_OF)
    assert (third.suppressed, third.woken, third.created) == (1, 1, 0)
    db_session.refresh(snoozed)
    assert snoozed.status == "active"
    assert len(list(service.list(status=None))) == len(first.recommendations)


def test_a_profile_marked_wrong_often_has_its_findings_trusted_less(
    db_session: Session, loaded: uuid.UUID
) -> None:
    org = loaded
    service = RecommendationService(db_session, org, SandboxPriceCatalog(), now=lambda: AS_OF)
    service.run(AS_OF)
    by_rule: dict[str, list[Recommendation]] = {}
    for row in service.list(sort_by="age"):
        by_rule.setdefault(row.rule_id or "", []).append(row)
    rule, rows = max(by_rule.items(), key=lambda kv: (len(kv[1]), kv[0]))
    assert len(rows) >= 5, {k: len(v) for k, v in by_rule.items()}
    kept = rows[4:]
    before = {r.id: r.confidence for r in kept}
    others = {r.id: r.confidence for k, v in by_rule.items() if k != rule for r in v}
    lc = RecommendationLifecycle(db_session, org, now=lambda: AS_OF)
    for row in rows[:2]:
        lc.false_positive(row.id, "batch host", actor=AuditActor())
    lc.dismiss(rows[3].id, "not now", permanent=False, actor=AuditActor())
    service.run(AS_OF)  # 2 of 3 decided: under the 3 false positives a profile needs
    assert {r.id: r.confidence for r in kept} == before

    lc.false_positive(rows[2].id, "batch host", actor=AuditActor())
    [judged] = [f for f in rule_feedback(db_session, org) if f.rule_id == rule]
    assert (judged.false_positives, judged.decided, judged.rate_percent, judged.lowered) == (
        3, 4, Decimal("75.00"), True,
    )  # fmt: skip
    service.run(AS_OF)
    for row in kept:
        db_session.refresh(row)
        was = before[row.id]
        assert was is not None and row.confidence == max(Decimal("0.05"), was - Decimal("0.3")), row.rule_id
        note = (row.evidence or {})["false_positive_feedback"]
        assert note["reason"] == "3 of 4 marked false positive here" and note["rate_percent"] == "75.00"
    assert {r.id: r.confidence for k, v in by_rule.items() if k != rule for r in v} == others
