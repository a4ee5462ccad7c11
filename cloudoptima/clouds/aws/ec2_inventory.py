"""EC2 resources of one region as domain :class:`Resource` objects: instances, volumes, snapshots, EIPs.

Contract: every list is read through its paginator (``page_size`` items per request); instance sizes come
from ``DescribeInstanceTypes`` (one call per 100 types, cached for the reader's life); terminated
instances are left out; ``monthly_cost`` follows :mod:`cloudoptima.clouds.aws.pricing` (0 for a stopped
instance); every datetime is UTC. Errors leave as protocol errors (see :mod:`.errors`).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from cloudoptima.clouds.aws import pricing
from cloudoptima.clouds.aws.errors import aws_errors, error_code, translate
from cloudoptima.domain.inventory import (
    CloudProvider,
    DiskAttributes,
    InstanceAttributes,
    PublicIpAttributes,
    Resource,
    ResourceKind,
    ResourceState,
    SnapshotAttributes,
)

EC2_SERVICE = "Amazon Elastic Compute Cloud"
EBS_SERVICE = "Amazon Elastic Block Store"
VPC_SERVICE = "Amazon Virtual Private Cloud"
_TYPES_PER_CALL = 100
_STOP_REASON = re.compile(r"\((\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}) (?:GMT|UTC)\)")
_RUNNING = {"pending", "running"}
_STOPPED = {"stopping", "stopped"}
# Used when AWS does not know a type (e.g. retired generations): 2 vCPU, 8 GiB.
FALLBACK_SIZE = (2, Decimal(8))


def tags_of(raw: Iterable[dict[str, str]] | None) -> dict[str, str]:
    """``[{"Key": k, "Value": v}]`` as a dict."""
    return {t["Key"]: t.get("Value", "") for t in raw or []}


def utc(value: datetime) -> datetime:
    """``value`` as an aware UTC datetime (botocore parses timestamps aware; naive ones are UTC)."""
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def stopped_at_from_reason(reason: str | None) -> datetime | None:
    """The stop time in ``StateTransitionReason`` (``"User initiated (2024-05-01 10:00:00 GMT)"``)."""
    match = _STOP_REASON.search(reason or "")
    if not match:
        return None
    return datetime.strptime(match.group(1), "%Y-%m-%d %H:%M:%S").replace(tzinfo=UTC)


class InstanceTypeBook:
    """vCPU and memory per instance type, from ``DescribeInstanceTypes``; unknown types are remembered."""

    def __init__(self, ec2: Any) -> None:
        self._ec2 = ec2
        self._sizes: dict[str, tuple[int, Decimal]] = {}
        self._unknown: set[str] = set()

    def learn(self, instance_types: Iterable[str]) -> None:
        """Look up the types not seen yet (batched); a type AWS rejects is marked unknown."""
        missing = sorted({t for t in instance_types if t not in self._sizes and t not in self._unknown})
        for i in range(0, len(missing), _TYPES_PER_CALL):
            self._lookup(missing[i : i + _TYPES_PER_CALL])

    def _lookup(self, batch: list[str]) -> None:
        try:
            pages = self._ec2.get_paginator("describe_instance_types").paginate(InstanceTypes=batch)
            found = [t for page in pages for t in page.get("InstanceTypes", [])]
        except ClientError as error:
            if error_code(error) != "InvalidInstanceType":
                raise translate(error, "ec2") from error
            if len(batch) == 1:
                self._unknown.add(batch[0])
            else:  # find which of the batch is unknown
                for one in batch:
                    self._lookup([one])
            return
        except BotoCoreError as error:
            raise translate(error, "ec2") from error
        for item in found:
            memory = Decimal(item["MemoryInfo"]["SizeInMiB"]) / Decimal(1024)
            self._sizes[item["InstanceType"]] = (int(item["VCpuInfo"]["DefaultVCpus"]), memory)
        self._unknown.update(set(batch) - {item["InstanceType"] for item in found})

    def is_known(self, instance_type: str) -> bool:
        """True when AWS offers ``instance_type`` in this region (looks it up if needed)."""
        self.learn([instance_type])
        return instance_type in self._sizes

    def size(self, instance_type: str) -> tuple[int, Decimal]:
        """(vCPU, memory GiB) of ``instance_type``; :data:`FALLBACK_SIZE` when AWS does not know it."""
        self.learn([instance_type])
        return self._sizes.get(instance_type, FALLBACK_SIZE)


class Ec2Inventory:
    """Reads one region's EC2 resources."""

    def __init__(
        self,
        ec2: Any,
        region: str,
        account_id: str,
        catalog: pricing.PriceCatalog,
        clock: Callable[[], datetime],
        page_size: int = 1000,
    ) -> None:
        self._ec2 = ec2
        self.region = region
        self._account_id = account_id
        self._catalog = catalog
        self._clock = clock
        self._page_size = page_size
        self.types = InstanceTypeBook(ec2)

    def _pages(self, operation: str, key: str, **params: Any) -> list[dict[str, Any]]:
        with aws_errors("ec2"):
            paginator = self._ec2.get_paginator(operation)
            config = {"PageSize": self._page_size}
            return [
                item for page in paginator.paginate(PaginationConfig=config, **params) for item in page[key]
            ]

    def _resource(self, **fields: Any) -> Resource:
        return Resource(provider=CloudProvider.AWS, account_id=self._account_id, region=self.region, **fields)

    def instances(self) -> list[Resource]:
        """Running and stopped instances (terminated ones are gone for billing)."""
        reservations = self._pages("describe_instances", "Reservations")
        raw = [i for r in reservations for i in r["Instances"] if i["State"]["Name"] in _RUNNING | _STOPPED]
        self.types.learn(i["InstanceType"] for i in raw)
        return [self._instance(item) for item in raw]

    def _instance(self, item: dict[str, Any]) -> Resource:
        instance_type = item["InstanceType"]
        vcpu, memory = self.types.size(instance_type)
        hourly, sku = self._catalog.instance_hourly(instance_type, self.region, vcpu, memory)
        running = item["State"]["Name"] in _RUNNING
        launched = utc(item["LaunchTime"])
        attach_times = [
            utc(b["Ebs"]["AttachTime"]) for b in item.get("BlockDeviceMappings", []) if "Ebs" in b
        ]
        attach_times += [
            utc(n["Attachment"]["AttachTime"])
            for n in item.get("NetworkInterfaces", [])
            if n.get("Attachment", {}).get("AttachTime")
        ]
        tags = tags_of(item.get("Tags"))
        return self._resource(
            resource_id=item["InstanceId"],
            name=tags.get("Name", item["InstanceId"]),
            kind=ResourceKind.COMPUTE_INSTANCE,
            service_name=EC2_SERVICE,
            sku_id=sku,
            attributes=InstanceAttributes(
                instance_type=instance_type,
                family=instance_type.split(".")[0],
                vcpu=vcpu,
                memory_gib=memory,
                platform="windows" if item.get("Platform") == "windows" else "linux",
                attached_disk_ids=tuple(
                    b["Ebs"]["VolumeId"] for b in item.get("BlockDeviceMappings", []) if "Ebs" in b
                ),
            ),
            tags=tags,
            monthly_cost=pricing.monthly(hourly) if running else Decimal(0),
            state=ResourceState.RUNNING if running else ResourceState.STOPPED,
            created_at=min([launched, *attach_times]),
            launched_at=launched,
            stopped_at=None if running else stopped_at_from_reason(item.get("StateTransitionReason")),
        )

    def volumes(self) -> list[Resource]:
        """EBS volumes; ``attached_to`` is None for an unattached volume."""
        return [self._volume(item) for item in self._pages("describe_volumes", "Volumes")]

    def _volume(self, item: dict[str, Any]) -> Resource:
        attached = [
            a["InstanceId"]
            for a in item.get("Attachments", [])
            if a.get("State") in ("attached", "attaching")
        ]
        volume_type = item.get("VolumeType", "gp2")
        tags = tags_of(item.get("Tags"))
        return self._resource(
            resource_id=item["VolumeId"],
            name=tags.get("Name", item["VolumeId"]),
            kind=ResourceKind.DISK,
            service_name=EBS_SERVICE,
            sku_id=f"AmazonEC2/EBS:VolumeUsage.{volume_type}/{self.region}",
            attributes=DiskAttributes(
                disk_type=volume_type,
                size_gb=max(1, int(item["Size"])),
                attached_to=attached[0] if attached else None,
            ),
            tags=tags,
            monthly_cost=pricing.volume_monthly(
                volume_type, int(item["Size"]), item.get("Iops"), self.region
            ),
            state=ResourceState.IN_USE if attached else ResourceState.AVAILABLE,
            created_at=utc(item["CreateTime"]),
        )

    def snapshots(self) -> list[Resource]:
        """Snapshots this account owns, with their source volume."""
        items = self._pages("describe_snapshots", "Snapshots", OwnerIds=["self"])
        return [self._snapshot(item) for item in items]

    def _snapshot(self, item: dict[str, Any]) -> Resource:
        tier = "archive" if item.get("StorageTier") == "archive" else "standard"
        size = max(1, int(item.get("VolumeSize", 1)))
        tags = tags_of(item.get("Tags"))
        return self._resource(
            resource_id=item["SnapshotId"],
            name=tags.get("Name", item["SnapshotId"]),
            kind=ResourceKind.SNAPSHOT,
            service_name=EBS_SERVICE,
            sku_id=f"AmazonEC2/EBS:SnapshotUsage/{self.region}",
            attributes=SnapshotAttributes(
                size_gb=size, source_disk_id=item.get("VolumeId", ""), storage_tier=tier
            ),
            tags=tags,
            monthly_cost=pricing.snapshot_monthly(size, tier, self.region),
            state=ResourceState.IN_USE,
            created_at=utc(item["StartTime"]),
        )

    def addresses(self) -> list[Resource]:
        """Elastic IPs. AWS keeps no allocation time: ``created_at`` is when this read saw the address."""
        with aws_errors("ec2"):
            items = self._ec2.describe_addresses().get("Addresses", [])
        seen = self._clock()
        return [self._address(item, seen) for item in items]

    def _address(self, item: dict[str, Any], seen: datetime) -> Resource:
        associated = item.get("InstanceId") or item.get("NetworkInterfaceId") or None
        resource_id = item.get("AllocationId") or item["PublicIp"]
        tags = tags_of(item.get("Tags"))
        return self._resource(
            resource_id=resource_id,
            name=tags.get("Name", item["PublicIp"]),
            kind=ResourceKind.PUBLIC_IP,
            service_name=VPC_SERVICE,
            sku_id=f"AmazonVPC/PublicIPv4:InUseAddress/{self.region}",
            attributes=PublicIpAttributes(address=item["PublicIp"], associated_with=associated),
            tags=tags,
            monthly_cost=pricing.public_ip_monthly(self.region),
            state=ResourceState.IN_USE if associated else ResourceState.AVAILABLE,
            created_at=seen,
        )
