"""A moto server seeded with a small AWS estate, shared by the AWS provider tests of one module.

``estate`` holds the ids the tests assert on. Everything is created through boto3 against the server, so
the provider reads it back through the same SDK paths it uses against AWS.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

import boto3
import pytest
import requests
from moto.server import ThreadedMotoServer

from cloudoptima.clouds.aws import AwsProvider
from cloudoptima.clouds.aws.cost_cache import CostQueryCache
from cloudoptima.embedded.ports import free_port

KEYS = {"access_key_id": "AKIAEXAMPLEKEY000001", "secret_access_key": "test-secret-not-real"}
ACCOUNT = "123456789012"
HOME = "us-east-1"
OTHER = "us-west-2"
EXTRA_VOLUMES = 11  # with page size 5, describe_volumes needs several pages
TODAY = datetime.now(UTC).date()


@dataclass
class Estate:
    """What the seeded moto server holds."""

    endpoint: str
    running_instance_id: str = ""
    stopped_instance_id: str = ""
    west_instance_id: str = ""
    unattached_volume_id: str = ""
    snapshot_id: str = ""
    free_allocation_id: str = ""
    free_address: str = ""
    alb_arn: str = ""
    db_identifier: str = ""
    buckets: list[str] = field(default_factory=list)
    volume_count: int = 0
    cost_start: date = TODAY - timedelta(days=10)
    cost_end: date = TODAY - timedelta(days=7)
    cost_total: Decimal = Decimal(0)
    metric_start: date = TODAY - timedelta(days=3)
    metric_end: date = TODAY - timedelta(days=1)
    cpu_values: list[float] = field(default_factory=list)


def client(endpoint: str, service: str, region: str = HOME) -> Any:
    return boto3.client(
        service,  # type: ignore[call-overload]  # boto3-stubs types only literal service names
        region_name=region,
        endpoint_url=endpoint,
        aws_access_key_id=KEYS["access_key_id"],
        aws_secret_access_key=KEYS["secret_access_key"],
    )


def make_provider(estate: Estate, **settings: Any) -> AwsProvider:
    """A provider on the moto server with fast waiters and a private Cost Explorer cache."""
    base: dict[str, Any] = {
        "endpoint_url": estate.endpoint,
        "regions": [HOME, OTHER],
        "max_attempts": 3,
        "waiter_delay": 1,
        "waiter_attempts": 5,
        "page_size": 5,
        "use_pricing_api": False,
        "account_id": ACCOUNT,
    }
    # The provider's clock is pinned to the estate's TODAY, so a run that crosses midnight UTC still asks
    # for the days the test expects.
    return AwsProvider(
        KEYS,
        base | settings,
        clock=lambda: datetime.combine(TODAY, time(9), tzinfo=UTC),
        cost_cache=CostQueryCache(),
    )


def _seed_ec2(estate: Estate) -> None:
    ec2 = client(estate.endpoint, "ec2")
    image = ec2.register_image(Name="base", RootDeviceName="/dev/sda1")["ImageId"]
    running = ec2.run_instances(
        ImageId=image,
        InstanceType="t3.large",
        MinCount=1,
        MaxCount=1,
        TagSpecifications=[{"ResourceType": "instance", "Tags": [{"Key": "Name", "Value": "web-1"}]}],
    )["Instances"][0]["InstanceId"]
    stopped = ec2.run_instances(ImageId=image, InstanceType="m5.large", MinCount=1, MaxCount=1)["Instances"][
        0
    ]["InstanceId"]
    ec2.stop_instances(InstanceIds=[stopped])
    volume = ec2.create_volume(
        AvailabilityZone=f"{HOME}a",
        Size=100,
        VolumeType="gp3",
        TagSpecifications=[{"ResourceType": "volume", "Tags": [{"Key": "team", "Value": "data"}]}],
    )["VolumeId"]
    for index in range(EXTRA_VOLUMES):
        ec2.create_volume(AvailabilityZone=f"{HOME}b", Size=10 + index, VolumeType="gp2")
    snapshot = ec2.create_snapshot(VolumeId=volume, Description="nightly")["SnapshotId"]
    free = ec2.allocate_address(Domain="vpc")
    bound = ec2.allocate_address(Domain="vpc")
    ec2.associate_address(AllocationId=bound["AllocationId"], InstanceId=running)
    estate.running_instance_id, estate.stopped_instance_id = running, stopped
    estate.unattached_volume_id, estate.snapshot_id = volume, snapshot
    estate.free_allocation_id, estate.free_address = free["AllocationId"], free["PublicIp"]
    estate.volume_count = len(ec2.describe_volumes()["Volumes"])

    west = client(estate.endpoint, "ec2", OTHER)
    west_image = west.register_image(Name="base", RootDeviceName="/dev/sda1")["ImageId"]
    estate.west_instance_id = west.run_instances(
        ImageId=west_image, InstanceType="t3.micro", MinCount=1, MaxCount=1
    )["Instances"][0]["InstanceId"]


def _seed_alb_rds_s3(estate: Estate) -> None:
    ec2 = client(estate.endpoint, "ec2")
    subnets = ec2.describe_subnets()["Subnets"]
    by_zone = {s["AvailabilityZone"]: s["SubnetId"] for s in subnets}
    elbv2 = client(estate.endpoint, "elbv2")
    alb = elbv2.create_load_balancer(Name="shop", Subnets=list(by_zone.values())[:2], Type="application")
    estate.alb_arn = alb["LoadBalancers"][0]["LoadBalancerArn"]
    group = elbv2.create_target_group(Name="shop-web", Protocol="HTTP", Port=80, VpcId=subnets[0]["VpcId"])
    group_arn = group["TargetGroups"][0]["TargetGroupArn"]
    elbv2.register_targets(TargetGroupArn=group_arn, Targets=[{"Id": estate.running_instance_id}])
    elbv2.create_listener(
        LoadBalancerArn=estate.alb_arn,
        Protocol="HTTP",
        Port=80,
        DefaultActions=[{"Type": "forward", "TargetGroupArn": group_arn}],
    )
    rds = client(estate.endpoint, "rds")
    rds.create_db_instance(
        DBInstanceIdentifier="orders",
        DBInstanceClass="db.t3.micro",
        Engine="postgres",
        AllocatedStorage=50,
        MasterUsername="admin",
        MasterUserPassword="not-a-real-password",
    )
    estate.db_identifier = "orders"
    s3 = client(estate.endpoint, "s3")
    s3.create_bucket(Bucket="co-logs-east")
    client(estate.endpoint, "s3", OTHER).create_bucket(
        Bucket="co-archive-west", CreateBucketConfiguration={"LocationConstraint": OTHER}
    )
    estate.buckets = ["co-logs-east", "co-archive-west"]


def _seed_iam(estate: Estate) -> None:
    iam = client(estate.endpoint, "iam")
    iam.create_user(UserName="alice")
    iam.create_access_key(UserName="alice")
    admin = iam.create_policy(
        PolicyName="AdministratorAccess",
        Path="/",
        PolicyDocument='{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}',
    )
    # moto does not load AWS-managed policies by default: a customer policy with the same document stands in,
    # so privilege is judged from the document, not the name.
    iam.attach_user_policy(UserName="alice", PolicyArn=admin["Policy"]["Arn"])
    iam.create_user(UserName="bob")
    iam.create_access_key(UserName="bob")
    iam.put_user_policy(
        UserName="bob",
        PolicyName="read-s3",
        PolicyDocument='{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:Get*","Resource":"*"}]}',
    )
    iam.create_role(RoleName="ops", AssumeRolePolicyDocument="{}")


def _seed_metrics(estate: Estate) -> None:
    cloudwatch = client(estate.endpoint, "cloudwatch")
    first = datetime.combine(estate.metric_start, time(0), tzinfo=UTC)
    hours = (estate.metric_end - estate.metric_start).days * 24
    estate.cpu_values = [float(10 + (h % 24)) for h in range(hours)]
    data = [
        {
            "MetricName": "CPUUtilization",
            "Dimensions": [{"Name": "InstanceId", "Value": estate.running_instance_id}],
            "Timestamp": first + timedelta(hours=h, minutes=5),
            "Value": value,
            "Unit": "Percent",
        }
        for h, value in enumerate(estate.cpu_values)
    ]
    for offset in range(0, len(data), 20):
        cloudwatch.put_metric_data(Namespace="AWS/EC2", MetricData=data[offset : offset + 20])


def _seed_costs(estate: Estate) -> None:
    """Two Cost Explorer pages: the first carries a NextPageToken, so paging must be followed."""

    def day_result(day: date, groups: list[tuple[str, str, str]]) -> dict[str, Any]:
        return {
            "TimePeriod": {"Start": day.isoformat(), "End": (day + timedelta(days=1)).isoformat()},
            "Total": {},
            "Groups": [
                {
                    "Keys": [service, usage_type],
                    "Metrics": {
                        "UnblendedCost": {"Amount": amount, "Unit": "USD"},
                        "AmortizedCost": {"Amount": amount, "Unit": "USD"},
                        "UsageQuantity": {"Amount": "24", "Unit": "Hrs"},
                    },
                }
                for service, usage_type, amount in groups
            ],
            "Estimated": False,
        }

    days = [estate.cost_start + timedelta(days=i) for i in range((estate.cost_end - estate.cost_start).days)]
    ec2_groups = [("Amazon Elastic Compute Cloud - Compute", "BoxUsage:t3.large", "1.9968000001")]
    west_groups = [("Amazon Elastic Compute Cloud - Compute", "USW2-BoxUsage:t3.micro", "0.2496")]
    s3_groups = [("Amazon Simple Storage Service", "TimedStorage-ByteHrs", "0.0333333333")]
    first_page: dict[str, Any] = {
        "ResultsByTime": [day_result(days[0], ec2_groups + west_groups + s3_groups)],
        "NextPageToken": "page-2",
        "DimensionValueAttributes": [],
    }
    second_page: dict[str, Any] = {
        "ResultsByTime": [day_result(day, ec2_groups + s3_groups) for day in days[1:]],
        "DimensionValueAttributes": [],
    }
    amounts = [Decimal(a) for _, _, a in ec2_groups + west_groups + s3_groups]
    amounts += [Decimal(a) for _ in days[1:] for _, _, a in ec2_groups + s3_groups]
    estate.cost_total = sum(amounts, Decimal(0))
    response = requests.post(
        f"{estate.endpoint}/moto-api/static/ce/cost-and-usage-results",
        json={"account_id": ACCOUNT, "results": [first_page, second_page]},
        timeout=10,
    )
    assert response.status_code == 201, response.text


@pytest.fixture(scope="module")
def estate() -> Iterator[Estate]:
    """A moto server on a free port holding the seeded estate (reset when the module ends)."""
    with pytest.MonkeyPatch.context() as env:
        env.setenv("MOTO_EC2_LOAD_DEFAULT_AMIS", "false")  # else moto invents ~1300 AMI snapshots
        port = free_port()
        server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
        server.start()
        endpoint = f"http://127.0.0.1:{port}"
        requests.post(f"{endpoint}/moto-api/reset", timeout=10)
        seeded = Estate(endpoint=endpoint)
        try:
            _seed_ec2(seeded)
            _seed_alb_rds_s3(seeded)
            _seed_iam(seeded)
            _seed_metrics(seeded)
            _seed_costs(seeded)
            yield seeded
        finally:
            requests.post(f"{endpoint}/moto-api/reset", timeout=10)
            server.stop()
