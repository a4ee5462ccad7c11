"""Storage rules: unattached disks, old snapshots of deleted volumes, and object-storage tiering.

Contract (thresholds in ``profiles``):
- ``unattached_disks``: a disk with no attachment for ≥ ``min_days`` (since ``detached_at``, or since
  creation when it never was attached) → ``snapshot_and_delete_disk``. Saving = the disk's monthly price
  (the safety snapshot's own cost is named as a risk, not netted: snapshots are incremental and sized by
  used blocks, which the inventory does not know).
- ``orphaned_snapshots``: a snapshot ≥ ``min_days`` old whose source volume is absent from the inventory or
  deleted → ``delete_snapshot``. Saving = the snapshot's monthly price.
- ``storage_tiering``: a bucket in the hottest class, ≥ ``min_size_gb``, with ≥ ``min_days`` of request
  metrics and fewer than ``max_requests_per_gb_month`` → one class colder. No provider action changes a
  storage class yet, so the step is a manual one. Saving = price difference of the stored GB.
"""

from __future__ import annotations

from cloudoptima.analytics.recommendations.build import Finding, action, list_source, whole_saving
from cloudoptima.analytics.recommendations.context import RuleContext, data_confidence
from cloudoptima.domain.inventory import (
    BucketAttributes,
    DiskAttributes,
    ResourceState,
    SnapshotAttributes,
)
from cloudoptima.domain.prices import PriceKind
from cloudoptima.domain.recommendations import Category, ImpactAnalysis, ResourceChange, RiskLevel

REQUESTS = "requests"


def unattached_disks(ctx: RuleContext) -> list[Finding]:
    """Disks unattached for at least the profile's days → snapshot and delete (see module contract)."""
    profile = ctx.settings.unattached_disk
    findings = []
    for disk in ctx.resources.values():
        attributes = disk.attributes
        if not isinstance(attributes, DiskAttributes) or attributes.attached_to is not None:
            continue
        if disk.state is ResourceState.DELETED or disk.resource_id in ctx.claimed or ctx.excluded(disk):
            continue
        since = attributes.detached_at or disk.created_at
        days = ctx.age_days(since)
        if days < profile.min_days:
            continue
        price = ctx.prices.disk_monthly(disk.provider, disk.region, attributes.disk_type, attributes.size_gb)
        cost, price_source = whole_saving(ctx, disk, price, PriceKind.DISK, attributes.disk_type)
        snapshot = ctx.prices.snapshot_monthly(disk.provider, disk.region, attributes.size_gb)
        findings.append(
            Finding(
                rule_id="unattached_disk",
                profile=profile.name,
                title=f"Delete unattached disk {disk.name}",
                description=(
                    f"{disk.name} ({attributes.size_gb} GB {attributes.disk_type}) has not been attached for "
                    f"{days:.0f} days. Snapshot it, then delete it. {profile.source}."
                ),
                category=Category.STORAGE,
                risk=RiskLevel.MEDIUM,
                confidence=0.95,
                savings_monthly=cost,
                resources=[(disk, cost)],
                actions=[action("snapshot_and_delete_disk", disk, f"Snapshot and delete {disk.name}")],
                impact=ImpactAnalysis(
                    performance_impact="none: nothing reads or writes the disk",
                    availability_impact="none while unattached; a restore from the snapshot is needed to use it",
                    security_impact="the data remains in the snapshot; review its retention",
                ),
                changes=[
                    ResourceChange(
                        resource_id=disk.resource_id,
                        change_type="snapshot_and_delete",
                        before={"state": str(disk.state), "size_gb": attributes.size_gb},
                        after={"state": "deleted", "snapshot": True},
                    )
                ],
                risks=[
                    f"the safety snapshot bills up to {snapshot:.2f}/month until deleted"
                    if snapshot is not None
                    else "the safety snapshot bills until deleted"
                ],
                rollback="create a disk from the snapshot",
                evidence={"unattached_days": round(days, 1), "price_source": price_source},
            )
        )
    return findings


def orphaned_snapshots(ctx: RuleContext) -> list[Finding]:
    """Old snapshots whose source volume no longer exists → delete (see module contract)."""
    profile = ctx.settings.orphaned_snapshot
    findings = []
    for snap in ctx.resources.values():
        attributes = snap.attributes
        if not isinstance(attributes, SnapshotAttributes) or snap.state is ResourceState.DELETED:
            continue
        source = ctx.resources.get(attributes.source_disk_id)
        if source is not None and source.state is not ResourceState.DELETED:
            continue
        days = ctx.age_days(snap.created_at)
        if days < profile.min_days or snap.resource_id in ctx.claimed or ctx.excluded(snap):
            continue
        price = ctx.prices.snapshot_monthly(snap.provider, snap.region, attributes.size_gb)
        cost, price_source = whole_saving(ctx, snap, price, PriceKind.SNAPSHOT, "standard")
        findings.append(
            Finding(
                rule_id="orphaned_snapshot",
                profile=profile.name,
                title=f"Delete snapshot {snap.name} of a deleted volume",
                description=(
                    f"{snap.name} ({attributes.size_gb} GB) is {days:.0f} days old and its source volume "
                    f"{attributes.source_disk_id} no longer exists. {profile.source}."
                ),
                category=Category.STORAGE,
                risk=RiskLevel.HIGH,
                confidence=0.85,
                savings_monthly=cost,
                resources=[(snap, cost)],
                actions=[action("delete_snapshot", snap, f"Delete {snap.name}")],
                impact=ImpactAnalysis(
                    performance_impact="none",
                    availability_impact="the data of the deleted volume is gone for good",
                    security_impact="removes an unreviewed copy of old data",
                ),
                changes=[
                    ResourceChange(
                        resource_id=snap.resource_id,
                        change_type="delete",
                        before={"state": str(snap.state)},
                        after={"state": "deleted"},
                    )
                ],
                risks=["irreversible: check no image, template or restore plan still uses it"],
                rollback="none: deleting a snapshot cannot be undone",
                evidence={
                    "age_days": round(days, 1),
                    "source_disk_id": attributes.source_disk_id,
                    "price_source": price_source,
                },
            )
        )
    return findings


def storage_tiering(ctx: RuleContext) -> list[Finding]:
    """Big, almost never read buckets in the hottest class → one class colder (see module contract)."""
    profile = ctx.settings.storage_tiering
    findings = []
    for bucket in ctx.resources.values():
        attributes = bucket.attributes
        if not isinstance(attributes, BucketAttributes) or bucket.state is ResourceState.DELETED:
            continue
        classes = ctx.prices.storage_classes(bucket.provider)
        if (
            len(classes) < 2
            or attributes.storage_class != classes[0]
            or attributes.size_gb < profile.min_size_gb
        ):
            continue
        if ctx.excluded(bucket) or not ctx.enough(bucket.resource_id, (REQUESTS,), profile.min_days):
            continue
        requests = ctx.metric(bucket.resource_id, REQUESTS)
        assert requests is not None
        per_gb_month = requests["avg"] * 730 / attributes.size_gb
        if per_gb_month >= profile.max_requests_per_gb_month:
            continue
        now = ctx.prices.bucket_monthly(bucket.provider, bucket.region, classes[0], attributes.size_gb)
        after = ctx.prices.bucket_monthly(bucket.provider, bucket.region, classes[1], attributes.size_gb)
        if now is None or after is None or after >= now:
            continue
        days = ctx.sample_days(bucket.resource_id, REQUESTS)
        findings.append(
            Finding(
                rule_id="storage_tiering",
                profile=profile.name,
                title=f"Move bucket {bucket.name} to {classes[1]}",
                description=(
                    f"{bucket.name} stores {attributes.size_gb} GB in {classes[0]} and served "
                    f"{per_gb_month:.3f} requests per GB-month over {days:.0f} days. {profile.source}."
                ),
                category=Category.STORAGE,
                risk=RiskLevel.MEDIUM,
                confidence=data_confidence(0.7, days, 60.0),
                savings_monthly=now - after,
                resources=[(bucket, now)],
                actions=[],
                manual_steps=[f"add a lifecycle rule moving objects of {bucket.name} to {classes[1]}"],
                impact=ImpactAnalysis(
                    performance_impact="reads pay a retrieval fee and may be slower",
                    availability_impact="none",
                    security_impact="none",
                ),
                changes=[
                    ResourceChange(
                        resource_id=bucket.resource_id,
                        change_type="storage_class",
                        before={"storage_class": classes[0]},
                        after={"storage_class": classes[1]},
                    )
                ],
                risks=["colder classes charge per GB read and have a minimum storage duration"],
                rollback=f"a lifecycle transition back to {classes[0]} (copying objects)",
                evidence={
                    "requests_per_gb_month": round(per_gb_month, 4),
                    "days": round(days, 1),
                    "price_source": list_source(ctx, bucket, PriceKind.OBJECT_STORAGE, classes[0]),
                },
            )
        )
    return findings
