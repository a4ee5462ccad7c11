"""AWS-specific behaviour: STS, paging, Cost Explorer caching, retries, partial failures, dry-run denials."""

from __future__ import annotations

import gzip
import json
from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest
from botocore.awsrequest import AWSResponse
from botocore.stub import Stubber

from cloudoptima.clouds.aws.pricing import PriceCatalog
from cloudoptima.clouds.protocol import (
    ActionKind,
    ActionRefusedError,
    ActionRequest,
    CredentialsError,
    ThrottledError,
)
from cloudoptima.domain.inventory import MetricName, PrincipalKind, ResourceKind, ResourceState
from tests.clouds.aws.conftest import ACCOUNT, HOME, KEYS, OTHER, TODAY, Estate, client, make_provider


class _Headers(dict[str, str]):
    """Case-insensitive enough for botocore's parsers."""

    def get_all(self, name: str, default: Any = None) -> Any:
        return [self[name]] if name in self else default


def _error_response(status: int, code: str, message: str, query_protocol: bool = True) -> AWSResponse:
    if query_protocol:  # EC2 shape
        body = f"<Response><Errors><Error><Code>{code}</Code><Message>{message}</Message></Error></Errors><RequestID>r</RequestID></Response>"
    else:  # IAM / STS shape
        body = f"<ErrorResponse><Error><Type>Sender</Type><Code>{code}</Code><Message>{message}</Message></Error><RequestId>r</RequestId></ErrorResponse>"
    raw = type("Raw", (), {"stream": lambda self, **_: iter([body.encode()])})()
    return AWSResponse("http://moto", status, _Headers({"content-type": "text/xml"}), raw)


class _FailTimes:
    """A ``before-send`` hook answering ``times`` requests with an error, then letting requests through."""

    def __init__(self, times: int, response: AWSResponse) -> None:
        self.times = times
        self.response = response
        self.sent = 0

    def __call__(self, **_: Any) -> AWSResponse | None:
        self.sent += 1
        if self.sent <= self.times:
            return self.response
        return None


def test_assume_role_with_external_id_gives_the_roles_account(estate: Estate) -> None:
    provider = make_provider(estate)
    role = type(provider)(
        {**KEYS, "role_arn": "arn:aws:iam::111122223333:role/CloudOptimaReadOnly", "external_id": "ext-42"},
        {"endpoint_url": estate.endpoint, "regions": [HOME], "use_pricing_api": False, "max_attempts": 1},
    )
    assert role.account_id == "111122223333"
    identity = role.session.client("sts").get_caller_identity()
    assert identity["Account"] == "111122223333"
    assert ":assumed-role/CloudOptimaReadOnly/cloudoptima" in identity["Arn"]
    assert "ext-42" not in repr(role) and KEYS["secret_access_key"] not in repr(role.session)


def test_instances_are_read_across_several_pages(estate: Estate) -> None:
    region = "eu-west-1"  # outside the other tests' regions
    ec2 = client(estate.endpoint, "ec2", region)
    image = ec2.register_image(Name="paging", RootDeviceName="/dev/sda1")["ImageId"]
    for _ in range(12):  # moto pages by reservation, as AWS does
        ec2.run_instances(ImageId=image, InstanceType="t3.nano", MinCount=1, MaxCount=1)
    provider = make_provider(estate, regions=[region], page_size=5)
    calls: list[str] = []
    provider.session.client("ec2", region).meta.events.register(
        "before-call.ec2.DescribeInstances", lambda **kw: calls.append("call")
    )
    instances = [r for r in provider.inventory().items if r.kind == ResourceKind.COMPUTE_INSTANCE]
    assert len(instances) == 12
    assert len(calls) == 3, "12 instances at 5 per page need three DescribeInstances requests"


def test_inventory_details_match_what_was_seeded(estate: Estate) -> None:
    items = {r.resource_id: r for r in make_provider(estate).inventory().items}
    stopped = items[estate.stopped_instance_id]
    assert (
        stopped.state == ResourceState.STOPPED
        and stopped.monthly_cost == 0
        and stopped.stopped_at is not None
    )
    assert items[estate.west_instance_id].region == OTHER
    web = items[estate.running_instance_id]
    assert web.name == "web-1" and web.monthly_cost == Decimal("60.74")  # 0.0832/h x 730 h
    assert getattr(web.attributes, "vcpu", 0) == 2
    volume = items[estate.unattached_volume_id]
    assert volume.monthly_cost == Decimal("8.00") and volume.tags == {"team": "data"}
    assert getattr(items[estate.snapshot_id].attributes, "source_disk_id", "") == estate.unattached_volume_id
    assert getattr(items[estate.free_allocation_id].attributes, "associated_with", "x") is None
    assert estate.running_instance_id in getattr(items[estate.alb_arn].attributes, "target_ids", ())
    databases = [r for r in items.values() if r.kind == ResourceKind.DATABASE]
    assert [d.name for d in databases] == [estate.db_identifier]
    assert {r.name for r in items.values() if r.kind == ResourceKind.BUCKET} == set(estate.buckets)


def test_cost_explorer_answers_are_cached(estate: Estate) -> None:
    provider = make_provider(estate)
    sent: list[str] = []
    provider.session.client("ce", "us-east-1").meta.events.register(
        "before-send.ce.GetCostAndUsage", lambda **kw: sent.append("request")
    )
    first = provider.costs(estate.cost_start, estate.cost_end)
    assert len(sent) == 2, "two pages"
    second = provider.costs(estate.cost_start, estate.cost_end)
    assert len(sent) == 2, "the repeated query made no request"
    assert first.items == second.items
    assert provider.cache_state() == {"hits": 1, "misses": 1, "entries": 1}
    west = [c for c in first.items if c.usage_type == "USW2-BoxUsage:t3.micro"]
    assert west and west[0].region == "us-west-2" and west[0].billed_cost == Decimal("0.2496")


def test_forecast_comes_from_cost_explorer(estate: Estate) -> None:
    provider = make_provider(estate)
    ce = provider.session.client("ce", "us-east-1")
    start, end = TODAY, TODAY + timedelta(days=2)
    with Stubber(ce) as stub:
        stub.add_response(
            "get_cost_forecast",
            {
                "Total": {"Amount": "20.5", "Unit": "USD"},
                "ForecastResultsByTime": [
                    {
                        "TimePeriod": {"Start": (start + timedelta(days=i)).isoformat(), "End": ""},
                        "MeanValue": "10.25",
                        "PredictionIntervalLowerBound": "9",
                        "PredictionIntervalUpperBound": "11.5",
                    }
                    for i in range(2)
                ],
            },
            {
                "TimePeriod": {"Start": start.isoformat(), "End": end.isoformat()},
                "Metric": "UNBLENDED_COST",
                "Granularity": "DAILY",
                "PredictionIntervalLevel": 80,
            },
        )
        forecast = provider.forecast(start - timedelta(days=5), end)
        stub.assert_no_pending_responses()
    assert forecast is not None and forecast.total == Decimal("20.5")
    assert [p.upper for p in forecast.points] == [Decimal("11.5")] * 2
    assert provider.forecast(start - timedelta(days=5), start) is None, "a past period has no forecast"


def test_throttling_is_retried_then_reported(estate: Estate) -> None:
    provider = make_provider(estate, regions=[HOME], max_attempts=3)
    ec2 = provider.session.client("ec2", HOME)
    hook = _FailTimes(2, _error_response(503, "RequestLimitExceeded", "Request limit exceeded."))
    ec2.meta.events.register("before-send.ec2.DescribeInstances", hook)
    try:
        verdict = provider.validate_action(
            ActionRequest(kind=ActionKind.STOP, resource_id=estate.running_instance_id, region=HOME)
        )
        assert verdict.ok and hook.sent == 3, "two throttled attempts, then success"
        hook.sent, hook.times = 0, 99
        with pytest.raises(ThrottledError):
            provider.validate_action(
                ActionRequest(kind=ActionKind.STOP, resource_id=estate.running_instance_id)
            )
        assert hook.sent == 3
    finally:
        ec2.meta.events.unregister("before-send.ec2.DescribeInstances", hook)


def test_access_denied_is_a_credentials_error_naming_the_action(estate: Estate) -> None:
    provider = make_provider(estate)
    iam = provider.session.client("iam", HOME)
    message = (
        "User: arn:aws:iam::123456789012:user/ro is not authorized to perform: iam:ListUsers on resource: *"
    )
    hook = _FailTimes(99, _error_response(403, "AccessDenied", message, query_protocol=False))
    iam.meta.events.register("before-send.iam.ListUsers", hook)
    with pytest.raises(CredentialsError) as denied:
        provider.iam()
    assert denied.value.permission == "iam:ListUsers"
    assert hook.sent == 1, "access denied is never retried"
    assert KEYS["secret_access_key"] not in str(denied.value)


def test_one_region_failing_is_listed_and_the_others_still_return(estate: Estate) -> None:
    provider = make_provider(estate)
    west = provider.session.client("ec2", OTHER)
    west.meta.events.register(
        "before-send.ec2.DescribeInstances",
        _FailTimes(
            99,
            _error_response(
                403, "UnauthorizedOperation", "You are not authorized to perform this operation."
            ),
        ),
    )
    inventory = provider.inventory()
    assert [f.scope for f in inventory.failures] == [f"ec2/{OTHER}"]
    assert "ec2:DescribeInstances" in inventory.failures[0].error
    ids = {r.resource_id for r in inventory.items}
    assert estate.running_instance_id in ids and estate.west_instance_id not in ids


def test_dry_run_denial_names_the_missing_permission(estate: Estate) -> None:
    provider = make_provider(estate)
    ec2 = provider.session.client("ec2", HOME)
    instance = {
        "InstanceId": estate.running_instance_id,
        "InstanceType": "t3.large",
        "State": {"Name": "running", "Code": 16},
    }
    with Stubber(ec2) as stub:
        stub.add_response("describe_instances", {"Reservations": [{"Instances": [instance]}]})
        stub.add_client_error(
            "stop_instances",
            service_error_code="UnauthorizedOperation",
            service_message="You are not authorized to perform this operation. Encoded authorization failure message: x",
            http_status_code=403,
        )
        verdict = provider.validate_action(
            ActionRequest(kind=ActionKind.STOP, resource_id=estate.running_instance_id)
        )
        stub.assert_no_pending_responses()
    assert not verdict.ok
    assert verdict.missing_permissions == ["ec2:StopInstances"]


def test_resize_changes_type_and_rolls_back(estate: Estate) -> None:
    provider = make_provider(estate)
    resize = ActionRequest(
        kind=ActionKind.RESIZE,
        resource_id=estate.stopped_instance_id,
        region=HOME,
        parameters={"size": "m5.xlarge"},
    )
    result = provider.execute_action(resize, "resize-1")
    ec2 = client(estate.endpoint, "ec2")
    described = ec2.describe_instances(InstanceIds=[estate.stopped_instance_id])["Reservations"][0][
        "Instances"
    ][0]
    assert described["InstanceType"] == "m5.xlarge" and described["State"]["Name"] == "stopped"
    assert result.rollback.action is not None and result.rollback.action.parameters == {"size": "m5.large"}
    provider.execute_action(result.rollback.action, "resize-1-back")
    described = ec2.describe_instances(InstanceIds=[estate.stopped_instance_id])["Reservations"][0][
        "Instances"
    ][0]
    assert described["InstanceType"] == "m5.large"


def test_snapshot_then_delete_volume_and_restore_from_evidence(estate: Estate) -> None:
    provider = make_provider(estate)
    ec2 = client(estate.endpoint, "ec2")
    doomed = ec2.create_volume(AvailabilityZone=f"{HOME}a", Size=20, VolumeType="gp3")["VolumeId"]
    request = ActionRequest(kind=ActionKind.SNAPSHOT_AND_DELETE_DISK, resource_id=doomed, region=HOME)
    result = provider.execute_action(request, "delete-disk-1")
    assert provider.execute_action(request, "delete-disk-1") == result, "a repeated key does not act twice"
    snapshot_id = result.rollback.evidence["snapshot_id"]
    assert ec2.describe_snapshots(SnapshotIds=[snapshot_id])["Snapshots"][0]["VolumeId"] == doomed
    assert doomed not in {v["VolumeId"] for v in ec2.describe_volumes()["Volumes"]}
    restore = result.rollback.action
    assert restore is not None and restore.kind == ActionKind.RESTORE_DISK
    assert result.rollback.irreversible is None and "new id" in result.rollback.evidence["note"]
    assert restore.parameters["snapshot_id"] == snapshot_id
    assert restore.parameters["availability_zone"] == f"{HOME}a" and restore.parameters["size_gb"] == 20
    verdict = provider.validate_action(restore)
    assert verdict.ok, verdict.problems
    assert verdict.rollback is not None and verdict.rollback.action is None
    restored = provider.execute_action(restore, "restore-1")
    volume = ec2.describe_volumes(VolumeIds=[restored.after["disk_id"]])["Volumes"][0]
    assert volume["SnapshotId"] == snapshot_id and volume["Size"] == 20 and volume["VolumeType"] == "gp3"
    assert restored.rollback.action is None and restored.rollback.irreversible is None
    assert restored.rollback.evidence["disk_id"] == restored.after["disk_id"]


def test_restore_disk_names_missing_parameters_and_unknown_snapshot(estate: Estate) -> None:
    provider = make_provider(estate)
    ec2 = client(estate.endpoint, "ec2")
    volumes_before = len(ec2.describe_volumes()["Volumes"])
    bare = ActionRequest(kind=ActionKind.RESTORE_DISK, resource_id="vol-0123456789abcdef0", region=HOME)
    verdict = provider.validate_action(bare)
    assert not verdict.ok
    for name in ("snapshot_id", "size_gb", "volume_type", "availability_zone"):
        assert any(f"parameters.{name}" in problem for problem in verdict.problems), verdict.problems
    ghost = bare.model_copy(
        update={
            "parameters": {
                "snapshot_id": "snap-0123456789abcdef0",
                "size_gb": 8,
                "volume_type": "gp3",
                "availability_zone": f"{HOME}a",
            }
        }
    )
    verdict = provider.validate_action(ghost)
    assert not verdict.ok and any("snap-0123456789abcdef0" in p for p in verdict.problems)
    with pytest.raises(ActionRefusedError, match="snap-0123456789abcdef0"):
        provider.execute_action(ghost, "restore-ghost")
    still_there = bare.model_copy(
        update={
            "resource_id": estate.unattached_volume_id,
            "parameters": {**ghost.parameters, "snapshot_id": estate.snapshot_id, "size_gb": 100},
        }
    )
    verdict = provider.validate_action(still_there)
    assert not verdict.ok and any("still exists" in p for p in verdict.problems), verdict.problems
    assert len(ec2.describe_volumes()["Volumes"]) == volumes_before, "validation created nothing"


def test_release_ip_is_irreversible_and_recorded(estate: Estate) -> None:
    provider = make_provider(estate)
    ec2 = client(estate.endpoint, "ec2")
    spare = ec2.allocate_address(Domain="vpc")
    request = ActionRequest(kind=ActionKind.RELEASE_IP, resource_id=spare["AllocationId"], region=HOME)
    assert provider.validate_action(request).ok
    result = provider.execute_action(request, "release-1")
    assert result.rollback.action is None and result.rollback.irreversible
    assert result.rollback.evidence["address"] == spare["PublicIp"]
    with pytest.raises(ActionRefusedError, match=spare["AllocationId"]):
        provider.execute_action(request, "release-2")


def test_iam_marks_admin_grants_and_keys(estate: Estate) -> None:
    principals = {p.name: p for p in make_provider(estate).iam().items}
    assert any(g.privileged for g in principals["alice"].grants)
    assert principals["bob"].grants and not any(g.privileged for g in principals["bob"].grants)
    assert principals["ops"].kind == PrincipalKind.ROLE
    assert all(
        c.credential_id.startswith("AKIA") or "/" in c.credential_id for c in principals["bob"].credentials
    )


def test_utilisation_matches_the_seeded_hours(estate: Estate) -> None:
    provider = make_provider(estate)
    instance = next(r for r in provider.inventory().items if r.resource_id == estate.running_instance_id)
    series = provider.utilisation([instance], estate.metric_start, estate.metric_end)
    cpu = next(s for s in series.items if s.metric == MetricName.CPU_PERCENT)
    assert list(cpu.values) == estate.cpu_values


def test_pricing_api_answer_is_used_then_cached_and_errors_fall_back(estate: Estate) -> None:
    provider = make_provider(estate)
    pricing = provider.session.client("pricing", "us-east-1")
    product = {
        "product": {"sku": "SKU123"},
        "terms": {"OnDemand": {"a": {"priceDimensions": {"b": {"pricePerUnit": {"USD": "0.0900000000"}}}}}},
    }
    catalog = PriceCatalog(pricing)
    with Stubber(pricing) as stub:
        stub.add_response("get_products", {"PriceList": [json.dumps(product)]})
        stub.add_client_error(
            "get_products", service_error_code="AccessDeniedException", http_status_code=400
        )
        assert catalog.instance_hourly("t3.large", HOME, 2, Decimal(8)) == (Decimal("0.0900000000"), "SKU123")
        assert catalog.instance_hourly("t3.large", HOME, 2, Decimal(8))[1] == "SKU123", "cached, no request"
        price, sku = catalog.instance_hourly("m5.large", HOME, 2, Decimal(8))
        stub.assert_no_pending_responses()
    assert price == Decimal("0.096") and sku.startswith("AmazonEC2/BoxUsage") and catalog.api_failures == 1


def test_costs_from_a_cur_export_in_s3(estate: Estate) -> None:
    s3 = client(estate.endpoint, "s3")
    s3.create_bucket(Bucket="co-cur")
    day = estate.cost_start.isoformat()
    rows = [
        "identity/LineItemId,bill/PayerAccountId,lineItem/UsageAccountId,lineItem/LineItemType,lineItem/UsageStartDate,"
        "lineItem/ProductCode,product/ProductName,product/region,lineItem/UsageType,lineItem/UnblendedCost,"
        "lineItem/CurrencyCode,lineItem/UsageAmount",
        f"1,999999999999,123456789012,Usage,{day}T00:00:00Z,AmazonEC2,Amazon Elastic Compute Cloud,us-east-1,BoxUsage:t3.large,0.0832,USD,1",
        f"2,999999999999,123456789012,Usage,{day}T01:00:00Z,AmazonEC2,Amazon Elastic Compute Cloud,us-east-1,BoxUsage:t3.large,0.0832,USD,1",
        f"3,999999999999,123456789012,Tax,{day}T00:00:00Z,AmazonEC2,Amazon Elastic Compute Cloud,,,0.01,USD,",
    ]
    s3.put_object(
        Bucket="co-cur",
        Key="cur/r/20240101-20240201/r-1.csv.gz",
        Body=gzip.compress("\n".join(rows).encode()),
    )
    s3.put_object(Bucket="co-cur", Key="cur/r/20240101-20240201/old/r-1.csv.gz", Body=gzip.compress(b"stale"))
    manifest = {"reportKeys": ["cur/r/20240101-20240201/r-1.csv.gz"]}
    s3.put_object(
        Bucket="co-cur", Key="cur/r/20240101-20240201/r-Manifest.json", Body=json.dumps(manifest).encode()
    )
    provider = make_provider(estate, cost_source="cur_s3", cur_bucket="co-cur", cur_prefix="cur/r")
    costs = provider.costs(estate.cost_start, estate.cost_end)
    assert not costs.failures
    assert sum(c.billed_cost for c in costs.items) == Decimal("0.1764")
    usage = next(c for c in costs.items if c.charge_category == "Usage")
    assert usage.billed_cost == Decimal("0.1664") and usage.billing_account_id == "999999999999"


def test_member_accounts_from_organizations(estate: Estate) -> None:
    org = client(estate.endpoint, "organizations")
    org.create_organization(FeatureSet="ALL")
    org.create_account(Email="dev@example.com", AccountName="dev")
    accounts = make_provider(estate).member_accounts()
    assert "dev" in {a["name"] for a in accounts}


def test_member_accounts_are_read_through_the_configured_role(estate: Estate) -> None:
    org = client(estate.endpoint, "organizations")
    if not org.list_roots()["Roots"]:
        org.create_organization(FeatureSet="ALL")
    org.create_account(Email="ops@example.com", AccountName="ops")
    management = make_provider(estate, member_role_name="CloudOptimaMemberReader")
    ops = next(a for a in management.member_accounts() if a["name"] == "ops")
    assert ops["role_arn"] == f"arn:aws:iam::{ops['account_id']}:role/CloudOptimaMemberReader"
    member = management.member(ops["account_id"])
    identity = member.session.client("sts").get_caller_identity()
    assert identity["Account"] == ops["account_id"] != ACCOUNT
    assert ":assumed-role/CloudOptimaMemberReader/cloudoptima" in identity["Arn"]
    # The member reads its own account (moto keeps state per account): none of the management's instances.
    assert estate.running_instance_id not in {r.resource_id for r in member.inventory().items}
    default = make_provider(estate).member(ops["account_id"]).session.client("sts").get_caller_identity()
    assert ":assumed-role/OrganizationAccountAccessRole/" in default["Arn"]


def test_resizing_a_running_instance_stops_resizes_and_starts_it(estate: Estate) -> None:
    provider = make_provider(estate)
    request = ActionRequest(
        kind=ActionKind.RESIZE,
        resource_id=estate.west_instance_id,
        region=OTHER,
        parameters={"size": "t3.small"},
    )
    sent: list[str] = []
    provider.session.client("ec2", OTHER).meta.events.register(
        "before-call.ec2.*", lambda event_name, **kw: sent.append(event_name.rsplit(".", 1)[1])
    )
    result = provider.execute_action(request, "resize-running-1")
    calls = [c for c in sent if c in ("StopInstances", "ModifyInstanceAttribute", "StartInstances")]
    # dry runs first (stop, start, modify), then the real sequence
    assert calls[-3:] == ["StopInstances", "ModifyInstanceAttribute", "StartInstances"]
    assert result.after == {"instance_type": "t3.small", "state": "running"}
    west = client(estate.endpoint, "ec2", OTHER).describe_instances(InstanceIds=[estate.west_instance_id])
    instance = west["Reservations"][0]["Instances"][0]
    assert instance["InstanceType"] == "t3.small" and instance["State"]["Name"] == "running"
