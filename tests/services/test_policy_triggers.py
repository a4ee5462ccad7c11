"""Event and threshold triggers over the real Postgres with a pinned clock: every event kind fires its
policy once (with what fired it recorded), filters hold, a threshold fires when the metric crosses over the
whole window and not otherwise, once per window; condition and trigger names are checked at validation."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import update
from sqlalchemy.orm import Session

from cloudoptima.domain.inventory import MetricName, ResourceKind, UtilisationSeries
from cloudoptima.services.policies import PolicyService, PolicyValidationError, validate_policy
from cloudoptima.services.policy_triggers import PolicyTriggerService
from cloudoptima.storage import utilisation_history
from cloudoptima.storage.inventory_store import upsert_resources
from cloudoptima.storage.models import (
    Anomaly,
    Budget,
    CloudAccount,
    CostDaily,
    Policy,
    Recommendation,
    ResourceDocument,
)
from tests.services.test_policies_service import Stored
from tests.workflows.test_remediation_harness import sandbox_copy

NOW = datetime(2026, 1, 5, 12, tzinfo=UTC)
TODAY = NOW.date()
STOP = [{"type": "stop"}]


@pytest.fixture
def stored(db_session: Session, tmp_path: Path) -> Stored:
    return Stored(db_session, sandbox_copy(tmp_path / "sandbox"), "triggers")


def policy(session: Session, stored: Stored, trigger: dict[str, Any], name: str = "p") -> uuid.UUID:
    """A stored policy created a day before ``NOW`` (events before it do not fire it)."""
    row = PolicyService(session, stored.org, now=lambda: NOW).create(
        validate_policy({"name": name, "trigger": trigger, "actions": STOP})
    )
    row.created_at = NOW - timedelta(days=1)
    session.flush()
    return row.id


def evaluate(session: Session, stored: Stored, now: datetime = NOW, today: date | None = None) -> list[Any]:
    return PolicyTriggerService(session, stored.org, now=lambda: now).evaluate(today=today or now.date())


def test_each_event_kind_fires_its_policy_once_with_what_fired_it(
    db_session: Session, stored: Stored
) -> None:
    s = db_session
    on_high = policy(
        s, stored, {"type": "event", "config": {"event": "anomaly.detected", "filters": {"severity": "high"}}}
    )
    on_rec = policy(s, stored, {"type": "event", "config": {"event": "recommendation.created"}})
    on_budget = policy(s, stored, {"type": "event", "config": {"event": "budget.threshold_crossed"}})
    on_new = policy(s, stored, {"type": "event", "config": {"event": "resource.created"}})
    on_changed = policy(s, stored, {"type": "event", "config": {"event": "resource.changed"}})
    on_failed = policy(s, stored, {"type": "event", "config": {"event": "collection.failed"}})
    disabled = policy(s, stored, {"type": "event", "config": {"event": "anomaly.detected"}})
    s.execute(update(Policy).where(Policy.id == disabled).values(enabled=False))

    # Stored before the policies existed: nothing fires for the existing inventory.
    s.execute(
        update(ResourceDocument).values(
            first_seen=NOW - timedelta(days=3), last_updated=NOW - timedelta(days=3)
        )
    )
    assert evaluate(s, stored) == []

    old = Anomaly(organization_id=stored.org, severity="high", detected_at=NOW - timedelta(days=2))
    high = Anomaly(organization_id=stored.org, severity="high", detected_at=NOW - timedelta(hours=1))
    low = Anomaly(organization_id=stored.org, severity="low", detected_at=NOW - timedelta(hours=1))
    instance = next(r for r in stored.resources if r.kind is ResourceKind.COMPUTE_INSTANCE)
    rec = Recommendation(
        organization_id=stored.org,
        title="stop idle",
        category="idle",
        risk_level="medium",
        resource_ids=[instance.resource_id],
        affected_resources=[],
        actions=[],
        created_at=NOW - timedelta(hours=2),
    )
    budget = Budget(
        organization_id=stored.org,
        name="team",
        amount=Decimal(100),
        period="monthly",
        start_date=date(2026, 1, 1),
        end_date=date(2027, 1, 1),
        alert_state={
            "period_start": "2026-01-01",
            "fired": {"actual:80": (NOW - timedelta(hours=3)).isoformat()},
        },
    )
    s.add_all([old, high, low, rec, budget])
    s.execute(
        update(CloudAccount)
        .where(CloudAccount.id == stored.account_row)
        .values(status="error", verification_error="AccessDenied", updated_at=NOW - timedelta(minutes=5))
    )
    # One new resource, one changed (its tags), the rest seen again unchanged.
    changed, brand_new = stored.resources[0], stored.resources[1].model_copy(update={"resource_id": "i-new"})
    seen = [
        changed.model_copy(update={"tags": {**changed.tags, "team": "x"}}),
        *stored.resources[1:],
        brand_new,
    ]
    upsert_resources(
        s.connection(), stored.org, stored.account_row, seen, None, NOW - timedelta(minutes=1), complete=True
    )
    s.flush()

    fired = evaluate(s, stored)
    by_policy = {f.policy_id: f for f in fired}
    assert len(fired) == len(by_policy) == 6 and disabled not in by_policy
    assert (by_policy[on_high].event, by_policy[on_high].event_id) == ("anomaly.detected", str(high.id))
    assert by_policy[on_rec].event_id == str(rec.id) and by_policy[on_rec].resource_ids == [
        instance.resource_id
    ]
    assert by_policy[on_budget].details["payload"]["threshold"] == "80"
    assert by_policy[on_new].resource_ids == ["i-new"], "only the resource first seen now is new"
    assert by_policy[on_changed].resource_ids == [changed.resource_id], "unchanged sightings are no change"
    assert by_policy[on_failed].details["payload"]["reason"] == "AccessDenied"
    assert all(f.trigger_type == "event" for f in fired)

    assert evaluate(s, stored) == [], "an event fires a policy once, however often the triggers run"
    recorded = PolicyTriggerService(s, stored.org).firings(on_high)
    assert [(r.event_id, r.execution_id, r.workflow_id) for r in recorded] == [
        (str(high.id), by_policy[on_high].execution_id, None)
    ]
    assert {f.id for f in PolicyTriggerService(s, stored.org, now=lambda: NOW).unstarted()} == {
        f.id for f in fired
    }


def _costs(session: Session, stored: Stored, days: dict[date, int], service: str = "AmazonEC2") -> None:
    for day, amount in days.items():
        session.add(
            CostDaily(
                organization_id=stored.org,
                usage_date=day,
                provider="aws",
                service_name=service,
                region_id="us-east-1",
                billing_currency="USD",
                tag_values={},
                billed_cost=Decimal(amount),
                effective_cost=Decimal(amount),
                list_cost=Decimal(amount),
                row_count=1,
            )
        )
    session.flush()


def test_cost_threshold_fires_when_every_day_of_the_window_is_over_once_per_window(
    db_session: Session, stored: Stored
) -> None:
    s = db_session
    pid = policy(
        s,
        stored,
        {
            "type": "threshold",
            "config": {
                "metric": "daily_cost",
                "operator": "gt",
                "value": 100,
                "window_days": 3,
                "filters": {"service_name": "AmazonEC2"},
            },
        },
    )
    d = [date(2026, 1, 1) + timedelta(days=i) for i in range(8)]  # window as of Jan 5: Jan 2, 3, 4
    _costs(s, stored, {d[1]: 150, d[2]: 150, d[3]: 90})
    _costs(s, stored, {day: 1000 for day in d}, service="AmazonS3")  # filtered out
    assert evaluate(s, stored) == [], "one day of the window is under the threshold"

    s.execute(
        update(CostDaily)
        .where(CostDaily.usage_date == d[3], CostDaily.service_name == "AmazonEC2")
        .values(billed_cost=Decimal(120))
    )
    [fired] = evaluate(s, stored)
    assert (fired.policy_id, fired.metric, fired.observed, fired.threshold) == (
        pid,
        "daily_cost",
        Decimal(120),
        Decimal(100),
    )
    assert (fired.window_start, fired.window_end, fired.event_id) == (d[1], d[4], "USD")
    assert evaluate(s, stored) == [], "the same window fires once"

    _costs(s, stored, {d[4]: 200, d[5]: 200, d[6]: 200})
    later = NOW + timedelta(days=1)
    assert evaluate(s, stored, now=later) == [], "a breach that lasts does not fire again within its window"
    [again] = evaluate(s, stored, now=NOW + timedelta(days=3))
    assert (again.window_start, again.window_end) == (d[4], d[7])


def test_usage_threshold_fires_for_the_resources_that_crossed(db_session: Session, stored: Stored) -> None:
    s = db_session
    pid = policy(
        s,
        stored,
        {
            "type": "threshold",
            "config": {
                "metric": "cpu_percent",
                "operator": "lt",
                "value": 10,
                "window_days": 7,
                "aggregation": "average",
            },
        },
    )
    a, b, c = [r.resource_id for r in stored.resources if r.kind is ResourceKind.COMPUTE_INSTANCE][:3]
    start = datetime.combine(TODAY - timedelta(days=7), datetime.min.time(), UTC)

    def series(resource_id: str, daily: Sequence[float | None]) -> UtilisationSeries:
        values = tuple(v for day in daily for v in [day] * 24)
        return UtilisationSeries(
            resource_id=resource_id, metric=MetricName.CPU_PERCENT, start=start, values=values
        )

    utilisation_history.store(
        s.connection(),
        stored.org,
        stored.account_row,
        [
            series(a, [5.0] * 7),
            series(b, [5.0] * 6 + [50.0]),  # mean 11.4: not under 10
            series(c, [None] + [1.0] * 6),  # a day without samples: not judged
        ],
    )
    [fired] = evaluate(s, stored)
    assert (fired.policy_id, fired.resource_ids, fired.observed) == (pid, [a], Decimal("5.0000"))
    assert evaluate(s, stored) == []


def test_names_that_do_not_exist_are_refused_listing_the_valid_ones() -> None:
    base: dict[str, Any] = {
        "name": "p",
        "trigger": {"type": "event", "config": {"event": "anomaly.detected"}},
        "actions": STOP,
    }
    cases = {
        "metrics.cpu_avg": "unknown metric 'cpu_avg'; known: connections, cpu_percent, disk_io_ops, memory_percent",
        "metrics.cpu_percent.mean": "unknown statistic 'mean'; known: avg, max, p95, p99, samples",
        "configuration.colour": "unknown configuration key 'colour'; known: account_id,",
        "colour": "unknown field 'colour'; known: resource_id,",
    }
    for field, message in cases.items():
        with pytest.raises(PolicyValidationError) as caught:
            validate_policy({**base, "conditions": [{"field": field, "operator": "exists", "value": True}]})
        assert caught.value.problems[0].startswith(f"conditions[0].field: {message}"), caught.value.problems
    for trigger, message in (
        (
            {"type": "event", "config": {"event": "anomaly.found"}},
            "trigger.config.event: unknown event 'anomaly.found'; known: anomaly.detected,",
        ),
        (
            {"type": "event", "config": {"event": "anomaly.detected", "filters": {"sev": "high"}}},
            "trigger.config.filters.sev: unknown field 'sev'; known: id, severity,",
        ),
        (
            {"type": "threshold", "config": {"metric": "cpu", "value": 5}},
            "trigger.config.metric: unknown metric 'cpu'; known: daily_cost, connections, cpu_percent,",
        ),
        (
            {"type": "threshold", "config": {"metric": "daily_cost", "value": 5, "window_days": 0}},
            "trigger.config.window_days: must be a whole number",
        ),
    ):
        with pytest.raises(PolicyValidationError) as caught:
            validate_policy({**base, "trigger": trigger})
        assert caught.value.problems[0].startswith(message), caught.value.problems
    validate_policy(
        {**base, "conditions": [{"field": "metrics.cpu_percent", "operator": "exists", "value": True}]}
    )
    validate_policy(
        {**base, "conditions": [{"field": "tags.anything-goes", "operator": "exists", "value": True}]}
    )
