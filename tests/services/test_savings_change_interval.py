"""Realised savings of changes the product did not make (#22, issue found by the live-savings eval):

- a change seen by a collection happened after the last collection that saw the old state: the inventory keeps
  that sighting (``previous_seen``), the hand change records the interval (``changed_after``), and the before
  window ends before it, so a partial change day is not measured as "before";
- a deleted AWS snapshot, gone from the inventory, is found in the bill under the ARN AWS bills it under."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from cloudoptima.domain.inventory import (
    CloudProvider,
    DiskAttributes,
    InstanceAttributes,
    Resource,
    ResourceKind,
    ResourceState,
)
from cloudoptima.domain.savings import MeasurementStatus
from cloudoptima.services.applied_by_hand import detect_applied_by_hand
from cloudoptima.services.realised_savings import savings_ledger
from cloudoptima.storage.inventory_store import upsert_resources
from cloudoptima.storage.models import CloudAccount, CostRow, Organization, Recommendation, ResourceDocument
from cloudoptima.storage.partitions import ensure_cost_partitions, months_between

ACCOUNT = "111111111111"
OLD_SEEN = datetime(2026, 3, 5, 2, tzinfo=UTC)  # the last collection that saw the old size
NEW_SEEN = datetime(2026, 3, 9, 2, tzinfo=UTC)  # the first that saw the new one (resized 03-06 12:00)
AS_OF = datetime(2026, 3, 20, 6, tzinfo=UTC)


def _org(session: Session) -> uuid.UUID:
    org = Organization(name=f"interval-{uuid.uuid4().hex[:8]}", subscription_tier="enterprise", settings={})
    session.add(org)
    session.flush()
    ensure_cost_partitions(session.connection(), months_between(date(2026, 2, 1), date(2026, 4, 1)))
    return org.id


def _account(session: Session, org: uuid.UUID) -> uuid.UUID:
    account = CloudAccount(
        organization_id=org,
        provider="aws",
        account_identifier=ACCOUNT,
        credentials_encrypted="-",
        settings={},
    )
    session.add(account)
    session.flush()
    return account.id


def _instance(size: str) -> Resource:
    return Resource(
        resource_id="i-1", name="web", kind=ResourceKind.COMPUTE_INSTANCE, provider=CloudProvider.AWS,
        account_id=ACCOUNT, region="us-east-1", service_name="EC2", sku_id=size,
        attributes=InstanceAttributes(instance_type=size, family="m5", vcpu=2, memory_gib=Decimal(8)),
        monthly_cost=Decimal("100"), state=ResourceState.RUNNING, created_at=datetime(2026, 1, 1, tzinfo=UTC),
    )  # fmt: skip


def _volume() -> Resource:
    return Resource(
        resource_id="vol-2", name="data", kind=ResourceKind.DISK, provider=CloudProvider.AWS, account_id=ACCOUNT,
        region="us-east-1", service_name="EC2", sku_id="gp3", attributes=DiskAttributes(disk_type="gp3", size_gb=100),
        monthly_cost=Decimal("8"), state=ResourceState.AVAILABLE, created_at=datetime(2026, 1, 1, tzinfo=UTC),
    )  # fmt: skip


def _cost(org: uuid.UUID, rid: str, day: date, cost: str) -> CostRow:
    start = datetime(day.year, day.month, day.day, tzinfo=UTC)
    period = datetime(day.year, day.month, 1, tzinfo=UTC)
    return CostRow(
        id=uuid.uuid4(), organization_id=org, provider="aws", provider_name="AWS",
        charge_period_start=start, charge_period_end=start + timedelta(days=1), billing_period_start=period,
        billing_period_end=datetime(2026, day.month + 1, 1, tzinfo=UTC), billed_cost=Decimal(cost),
        effective_cost=Decimal(cost), billing_account_id=ACCOUNT, sub_account_id=ACCOUNT, billing_currency="USD",
        charge_category="Usage", service_name="EC2", region_id="us-east-1", resource_id=rid, resource_name=rid,
        tags={},
    )  # fmt: skip


def _rec(org: uuid.UUID, rule: str, action: str, rid: str, estimate: str, **extra: object) -> Recommendation:
    parameters = {"size": "m5.large"} if action == "resize" else {}
    return Recommendation(
        organization_id=org, fingerprint=uuid.uuid4().hex, provider="aws", title=f"{action} {rid}", rule_id=rule,
        category="compute", risk_level="low", resource_ids=[rid], affected_resources=[],
        actions=[{"type": action, "resource_id": rid, "description": action, "parameters": parameters}],
        estimated_savings_monthly=Decimal(estimate), **extra,
    )  # fmt: skip


def _days(start: date, end: date) -> list[date]:
    return [start + timedelta(days=i) for i in range((end - start).days)]


def test_a_hand_change_is_measured_outside_the_interval_it_happened_in(db_session: Session) -> None:
    org = _org(db_session)
    connection, account = db_session.connection(), _account(db_session, org)
    upsert_resources(connection, org, account, [_instance("m5.xlarge"), _volume()], None, OLD_SEEN - timedelta(days=4), complete=True)  # fmt: skip
    upsert_resources(
        connection, org, account, [_instance("m5.xlarge"), _volume()], None, OLD_SEEN, complete=True
    )
    upsert_resources(connection, org, account, [_instance("m5.large")], None, NEW_SEEN, complete=True)
    docs = {
        d.resource_id: d
        for d in db_session.scalars(select(ResourceDocument).where(ResourceDocument.organization_id == org))
    }
    assert [(docs[r].last_updated, docs[r].previous_seen) for r in ("i-1", "vol-2")] == [
        (NEW_SEEN, OLD_SEEN)
    ] * 2
    # The bill: $10 a day at the old size, the resize day half and half, $5 a day after it.
    bill = [_cost(org, "i-1", d, "10") for d in _days(date(2026, 2, 20), date(2026, 3, 6))]
    bill += [_cost(org, "i-1", date(2026, 3, 6), "7.5")]
    bill += [_cost(org, "i-1", d, "5") for d in _days(date(2026, 3, 7), date(2026, 3, 20))]
    resize = _rec(org, "rightsize_vm", "resize", "i-1", "152.19", status="accepted")
    delete = _rec(org, "unattached_disk", "snapshot_and_delete_disk", "vol-2", "8.00", status="active")
    db_session.add_all([*bill, resize, delete])
    db_session.flush()

    found = detect_applied_by_hand(db_session, org, NEW_SEEN + timedelta(hours=1))

    assert {(c.recommendation_id, c.changed_at, c.changed_after) for c in found} == {
        (resize.id, NEW_SEEN, OLD_SEEN),
        (delete.id, NEW_SEEN, OLD_SEEN),
    }
    assert (resize.applied_at, resize.changed_after) == (NEW_SEEN, OLD_SEEN)
    item = next(i for i in savings_ledger(db_session, org, AS_OF).items if i.recommendation_id == resize.id)
    m = item.measurement
    assert (m.status, m.change_day, m.before_start, m.after_start) == (
        MeasurementStatus.MEASURED, date(2026, 3, 9), date(2026, 2, 26), date(2026, 3, 10),
    )  # fmt: skip
    # Before: 02-26..03-04, all at the old size (not 03-02..03-08, which holds the resize day and the new size).
    assert (m.before_daily, m.after_daily, m.realised_monthly) == (Decimal(10), Decimal(5), Decimal("152.19"))


def test_an_exact_change_time_keeps_its_windows(db_session: Session) -> None:
    """A stop with the cloud's own time is exact: no interval, the before window ends on its day."""
    org = _org(db_session)
    stopped = _instance("m5.xlarge").model_copy(
        update={"state": ResourceState.STOPPED, "stopped_at": datetime(2026, 3, 6, 12, tzinfo=UTC)}
    )
    connection, account = db_session.connection(), _account(db_session, org)
    upsert_resources(connection, org, account, [_instance("m5.xlarge")], None, OLD_SEEN, complete=True)
    upsert_resources(connection, org, account, [stopped], None, NEW_SEEN, complete=True)
    doc = db_session.scalars(select(ResourceDocument).where(ResourceDocument.organization_id == org)).one()
    assert (doc.last_updated, doc.previous_seen) == (NEW_SEEN, OLD_SEEN)  # the interval is known ...
    stop = _rec(org, "idle_vm", "stop", "i-1", "10.00", status="active")
    db_session.add(stop)
    db_session.flush()

    [change] = detect_applied_by_hand(db_session, org, NEW_SEEN)

    assert (change.changed_at, change.changed_after) == (
        datetime(2026, 3, 6, 12, tzinfo=UTC),
        None,
    )  # ... unused
    assert (stop.applied_at, stop.changed_after) == (datetime(2026, 3, 6, 12, tzinfo=UTC), None)


def test_a_deleted_snapshot_is_found_in_the_bill_under_its_arn(db_session: Session) -> None:
    """The snapshot is in no inventory (deleted, never stored): its id is all the recommendation records."""
    org = _org(db_session)
    arn = f"arn:aws:ec2:eu-west-1:{ACCOUNT}:snapshot/snap-9"
    change = datetime(2026, 3, 8, 14, 30, tzinfo=UTC)
    bill = [_cost(org, arn, d, "0.5") for d in _days(date(2026, 3, 1), date(2026, 3, 9))]
    bill += [_cost(org, f"arn:aws:ec2:eu-west-1:{ACCOUNT}:snapshot/snap-99", d, "3") for d in _days(date(2026, 3, 1), date(2026, 3, 20))]  # fmt: skip
    bill += [
        _cost(org, "other", d, "1") for d in _days(date(2026, 3, 1), date(2026, 3, 20))
    ]  # the bill goes on
    lb = "arn:aws:elasticloadbalancing:eu-west-1:111111111111:loadbalancer/app/web/abc"  # named by its ARN
    bill += [_cost(org, lb, d, "2") for d in _days(date(2026, 3, 1), date(2026, 3, 9))]
    snapshot = _rec(org, "orphaned_snapshot", "delete_snapshot", "snap-9", "15.22", status="completed", applied_at=change)  # fmt: skip
    balancer = _rec(
        org, "idle_lb", "delete_load_balancer", lb, "60.88", status="completed", applied_at=change
    )
    db_session.add_all([*bill, snapshot, balancer])
    db_session.flush()

    items = {i.recommendation_id: i.measurement for i in savings_ledger(db_session, org, AS_OF).items}

    assert (items[snapshot.id].status, items[snapshot.id].before_daily, items[snapshot.id].realised_monthly) == (
        MeasurementStatus.MEASURED, Decimal("0.5"), Decimal("15.22"),
    )  # fmt: skip
    assert (items[balancer.id].before_daily, items[balancer.id].realised_monthly) == (
        Decimal(2),
        Decimal("60.88"),
    )
