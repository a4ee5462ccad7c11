"""Non-EC2 resources as domain :class:`Resource` objects: ELBv2 load balancers, RDS instances, S3 buckets.

Contract: lists are read through paginators; a load balancer carries the instance ids registered in its
target groups; an RDS instance's vCPU/memory come from the EC2 type of the same name (``db.m5.large`` →
``m5.large``); a bucket's size is its latest daily ``BucketSizeBytes`` metric (0 when CloudWatch has
none yet). Buckets are global: :meth:`BucketInventory.buckets` reads them once for the whole account.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from botocore.exceptions import ClientError

from cloudoptima.clouds.aws import pricing
from cloudoptima.clouds.aws.ec2_inventory import InstanceTypeBook, tags_of, utc
from cloudoptima.clouds.aws.errors import aws_errors, error_code
from cloudoptima.domain.inventory import (
    BucketAttributes,
    CloudProvider,
    DatabaseAttributes,
    LoadBalancerAttributes,
    Resource,
    ResourceKind,
    ResourceState,
)

ELB_SERVICE = "Elastic Load Balancing"
RDS_SERVICE = "Amazon Relational Database Service"
S3_SERVICE = "Amazon Simple Storage Service"
_TAGS_PER_CALL = 20
_GIB = Decimal(1024**3)


def _pages(client: Any, service: str, operation: str, key: str, page_size: int, **params: Any) -> list[Any]:
    with aws_errors(service):
        paginator = client.get_paginator(operation)
        config = {"PageSize": page_size}
        return [
            item
            for page in paginator.paginate(PaginationConfig=config, **params)
            for item in page.get(key, [])
        ]


def load_balancers(elbv2: Any, region: str, account_id: str, page_size: int = 400) -> list[Resource]:
    """Application/network/gateway load balancers of ``region`` with their registered targets."""
    items = _pages(elbv2, "elbv2", "describe_load_balancers", "LoadBalancers", min(page_size, 400))
    arns = [item["LoadBalancerArn"] for item in items]
    tags: dict[str, dict[str, str]] = {}
    with aws_errors("elbv2"):
        for i in range(0, len(arns), _TAGS_PER_CALL):
            described = elbv2.describe_tags(ResourceArns=arns[i : i + _TAGS_PER_CALL])
            for entry in described.get("TagDescriptions", []):
                tags[entry["ResourceArn"]] = tags_of(entry.get("Tags"))
    resources = []
    for item in items:
        arn = item["LoadBalancerArn"]
        lb_type = item.get("Type", "application")
        resources.append(
            Resource(
                resource_id=arn,
                name=item["LoadBalancerName"],
                kind=ResourceKind.LOAD_BALANCER,
                provider=CloudProvider.AWS,
                account_id=account_id,
                region=region,
                service_name=ELB_SERVICE,
                sku_id=f"AWSELB/LoadBalancerUsage:{lb_type}/{region}",
                attributes=LoadBalancerAttributes(lb_type=lb_type, target_ids=_targets(elbv2, arn)),
                tags=tags.get(arn, {}),
                monthly_cost=pricing.load_balancer_monthly(lb_type, region),
                state=ResourceState.IN_USE,
                created_at=utc(item["CreatedTime"]),
            )
        )
    return resources


def _targets(elbv2: Any, lb_arn: str) -> tuple[str, ...]:
    targets: list[str] = []
    groups = _pages(elbv2, "elbv2", "describe_target_groups", "TargetGroups", 400, LoadBalancerArn=lb_arn)
    with aws_errors("elbv2"):
        for group in groups:
            health = elbv2.describe_target_health(TargetGroupArn=group["TargetGroupArn"])
            for description in health.get("TargetHealthDescriptions", []):
                target = description["Target"]["Id"]
                if target not in targets:
                    targets.append(target)
    return tuple(targets)


def databases(
    rds: Any, types: InstanceTypeBook, region: str, account_id: str, page_size: int = 100
) -> list[Resource]:
    """RDS DB instances of ``region`` (stopped ones cost nothing for compute but keep storage)."""
    items = _pages(rds, "rds", "describe_db_instances", "DBInstances", max(20, min(page_size, 100)))
    resources = []
    for item in items:
        instance_class = item["DBInstanceClass"]
        vcpu, memory = types.size(instance_class.removeprefix("db."))
        storage = max(1, int(item.get("AllocatedStorage", 1)))
        stopped = item.get("DBInstanceStatus") in ("stopped", "stopping")
        cost = pricing.database_monthly(
            instance_class, vcpu, memory, storage, bool(item.get("MultiAZ")), region
        )
        if stopped:
            cost = (pricing.RDS_STORAGE_GB_MONTH * storage * pricing.region_factor(region)).quantize(
                pricing.CENT
            )
        resources.append(
            Resource(
                resource_id=item["DBInstanceArn"],
                name=item["DBInstanceIdentifier"],
                kind=ResourceKind.DATABASE,
                provider=CloudProvider.AWS,
                account_id=account_id,
                region=region,
                service_name=RDS_SERVICE,
                sku_id=f"AmazonRDS/InstanceUsage:{instance_class}/{item.get('Engine', '')}/{region}",
                attributes=DatabaseAttributes(
                    engine=item.get("Engine", "unknown"),
                    instance_class=instance_class,
                    vcpu=vcpu,
                    memory_gib=memory,
                    storage_gb=storage,
                ),
                tags=tags_of(item.get("TagList")),
                monthly_cost=cost,
                state=ResourceState.STOPPED if stopped else ResourceState.RUNNING,
                created_at=utc(item["InstanceCreateTime"]),
            )
        )
    return resources


class BucketInventory:
    """S3 buckets of the account. ``client_for(service, region)`` gives boto3 clients."""

    def __init__(
        self, client_for: Callable[[str, str], Any], account_id: str, clock: Callable[[], datetime]
    ) -> None:
        self._client_for = client_for
        self._account_id = account_id
        self._clock = clock

    def buckets(self, regions: set[str] | None = None) -> list[Resource]:
        """Buckets located in ``regions`` (all when None)."""
        s3 = self._client_for("s3", "us-east-1")
        with aws_errors("s3"):
            listed = s3.list_buckets().get("Buckets", [])
            located = []
            for bucket in listed:
                region = (
                    s3.get_bucket_location(Bucket=bucket["Name"]).get("LocationConstraint") or "us-east-1"
                )
                region = "eu-west-1" if region == "EU" else region
                if regions is None or region in regions:
                    located.append((bucket, region))
        return [self._bucket(bucket, region, s3) for bucket, region in located]

    def _bucket(self, bucket: dict[str, Any], region: str, s3: Any) -> Resource:
        name = bucket["Name"]
        size_gb = self._size_gb(name, region)
        return Resource(
            resource_id=f"arn:aws:s3:::{name}",
            name=name,
            kind=ResourceKind.BUCKET,
            provider=CloudProvider.AWS,
            account_id=self._account_id,
            region=region,
            service_name=S3_SERVICE,
            sku_id=f"AmazonS3/TimedStorage-ByteHrs/{region}",
            attributes=BucketAttributes(storage_class="STANDARD", size_gb=size_gb),
            tags=self._tags(s3, name),
            monthly_cost=pricing.bucket_monthly("STANDARD", size_gb, region),
            state=ResourceState.IN_USE,
            created_at=utc(bucket["CreationDate"]),
        )

    def _tags(self, s3: Any, name: str) -> dict[str, str]:
        with aws_errors("s3"):
            try:
                return tags_of(s3.get_bucket_tagging(Bucket=name).get("TagSet"))
            except ClientError as error:
                if error_code(error) in ("NoSuchTagSet", "NoSuchTagSetError"):
                    return {}
                raise

    def _size_gb(self, name: str, region: str) -> int:
        now = self._clock()
        with aws_errors("cloudwatch"):
            answer = self._client_for("cloudwatch", region).get_metric_statistics(
                Namespace="AWS/S3",
                MetricName="BucketSizeBytes",
                Dimensions=[
                    {"Name": "BucketName", "Value": name},
                    {"Name": "StorageType", "Value": "StandardStorage"},
                ],
                StartTime=now - timedelta(days=3),
                EndTime=now,
                Period=86400,
                Statistics=["Average"],
            )
        points = sorted(answer.get("Datapoints", []), key=lambda p: p["Timestamp"])
        if not points:
            return 0
        return int((Decimal(str(points[-1]["Average"])) / _GIB).to_integral_value())
