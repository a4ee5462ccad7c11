"""The estate of the realised-savings eval (``cloudoptima_evals/live_savings.py``): an AWS account built in
moto from AWS's documentation, its changes made by hand on the change day, and the truth of each change.

Contract:

- :func:`build` creates, at :data:`T0`, three idle m5.xlarge (CPU 0.3-1.6 %, network I/O under 5 MB a day:
  AWS Trusted Advisor's low-utilisation check), two oversized m5.2xlarge (CPU 9-26 %), two busy production
  m5.xlarge, two unattached 100 GB gp2 volumes and two snapshots whose volume was deleted (64 GB of data
  each), with 30 days of hourly CloudWatch metrics; it returns the :class:`Estate`: every billed resource
  (:mod:`cloudoptima_evals.live_savings_bill`, root volumes included, snapshots under their ARN) and the
  planted waste (moto id -> label).
- :func:`apply_by_hand` makes the changes of :data:`CHANGE_DAY` (see ``live_savings``) in moto and in the
  bill, each recorded as an :class:`Applied` with the recommendation it fulfils. A stop is dated by the
  instance's ``StateTransitionReason`` as AWS writes it (``User initiated (YYYY-MM-DD hh:mm:ss GMT)``); moto
  keeps every other change's time as the request's.
- :func:`truth_monthly`: see ``live_savings`` (the truth of one change).
- :func:`moto_gaps` fills two gaps of moto while the eval runs (see its docstring).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any
from unittest import mock

import numpy as np

from cloudoptima_evals import live_savings_bill as bill
from cloudoptima_evals.live_savings_bill import ACCOUNT, REGION, Billed, PriceCut, Span

T0 = datetime(2026, 11, 9, 9, 30, tzinfo=UTC)
CHANGE_DAY = date(2026, 11, 12)
NEXT_COLLECTION = datetime(2026, 11, 13, 2, 0, tzinfo=UTC)
EARLY_READ = datetime(2026, 11, 16, 6, 0, tzinfo=UTC)
FINAL_READ = datetime(2026, 11, 25, 6, 0, tzinfo=UTC)
BILL_START = date(2026, 10, 1)
DAYS_PER_MONTH = Decimal("30.4375")
PRICE_CUT = PriceCut("m5.xlarge", datetime(2026, 11, 16, tzinfo=UTC), Decimal("0.9"))


def _at(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=UTC)


@dataclass
class Applied:
    """One change made by hand and its truth."""

    label: str
    resource_id: str
    action: str
    at: datetime
    before: list[Billed]
    after: list[Billed]
    recommendation_id: str | None = None
    truth_monthly: Decimal = Decimal(0)


@dataclass
class Estate:
    """The account as built: its bill, the waste planted, the changes applied."""

    resources: list[Billed] = field(default_factory=list)
    waste: dict[str, str] = field(default_factory=dict)  # resource id -> label of every planted waste item
    applied: list[Applied] = field(default_factory=list)


def _client(endpoint: str, service: str) -> Any:
    import boto3

    from cloudoptima_evals.live_aws import KEYS

    return boto3.client(
        service,  # type: ignore[call-overload]  # boto3-stubs types only literal service names
        region_name=REGION,
        endpoint_url=endpoint,
        aws_access_key_id=KEYS["AWS_ACCESS_KEY_ID"],
        aws_secret_access_key=KEYS["AWS_SECRET_ACCESS_KEY"],
    )


@contextmanager
def moto_gaps() -> Iterator[None]:
    """Two gaps of moto filled while the block runs, answers as AWS gives them.

    - ``ec2:DescribeReservedInstances`` (moto: HTTP 500) answers an empty set, as AWS does for an account
      that bought no Reserved Instance (this estate buys none).
    - moto's ``GetMetricData`` scans every stored data point for every period of every query (a 30-day
      read of a few instances takes minutes): a call of plain metric queries is answered query by query by
      moto's own code over only the data points of that query's metric (its name and dimensions, the same
      selection moto makes), so the answers are moto's, only faster.
    """
    from moto.cloudwatch.models import CloudWatchBackend
    from moto.core.responses import ActionResult
    from moto.ec2.responses.reserved_instances import ReservedInstances

    def no_reserved_instances(self: ReservedInstances) -> ActionResult:
        return ActionResult({"ReservedInstances": []})

    original = CloudWatchBackend.get_metric_data

    def per_query(self: CloudWatchBackend, queries: list[dict[str, Any]], *args: Any, **kwargs: Any) -> Any:
        if not queries or any("MetricStat" not in q for q in queries):
            return original(self, queries, *args, **kwargs)
        everything = self.metric_data + self.aws_metric_data
        answers = []
        for query in queries:
            metric = query["MetricStat"]["Metric"]
            dims = sorted((d["Name"], d["Value"]) for d in metric.get("Dimensions", []))
            own = [
                md
                for md in everything
                if md.name == metric["MetricName"]
                and (
                    sorted((d.name, d.value) for d in md.dimensions) == dims
                    if dims
                    else md.namespace == metric["Namespace"]
                )
            ]
            with mock.patch.object(self, "get_all_metrics", return_value=own):
                answers += original(self, [query], *args, **kwargs)
        return answers

    with (
        mock.patch.object(CloudWatchBackend, "get_metric_data", per_query),
        mock.patch.object(ReservedInstances, "describe_reserved_instances", no_reserved_instances),
    ):
        yield


def _metrics(instance_id: str, cpu: tuple[float, float], net_out: float, rng: np.random.Generator) -> None:
    """30 days of hourly CloudWatch EC2 metrics before ``T0`` (CPUUtilization, NetworkIn/Out bytes), stored
    as ``PutMetricData`` stores them (moto's backend call: its HTTP API takes seconds to parse 2,000 points)."""
    from moto.cloudwatch.models import cloudwatch_backends

    start = (T0 - timedelta(days=30)).replace(minute=0, tzinfo=None)  # moto keeps naive UTC timestamps
    dims = [{"Name": "InstanceId", "Value": instance_id}]
    data: list[dict[str, Any]] = []
    for hour in range(30 * 24):
        stamp = start + timedelta(hours=hour, minutes=5)
        out = net_out * float(rng.uniform(0.7, 1.3))
        data += [
            {"MetricName": "CPUUtilization", "Dimensions": dims, "Timestamp": stamp, "Value": float(rng.uniform(*cpu)), "Unit": "Percent"},
            {"MetricName": "NetworkOut", "Dimensions": dims, "Timestamp": stamp, "Value": out, "Unit": "Bytes"},
            {"MetricName": "NetworkIn", "Dimensions": dims, "Timestamp": stamp, "Value": out / 3, "Unit": "Bytes"},
        ]  # fmt: skip
    cloudwatch_backends[ACCOUNT][REGION].put_metric_data("AWS/EC2", data)


def build(endpoint: str, seed: int) -> Estate:
    """Create the account in the moto server at ``endpoint`` as it stands at ``T0`` and its bill so far."""
    from moto.ec2.models import ec2_backends

    from cloudoptima_evals.live_aws import _answer_cost_forecasts_like_a_new_account

    _answer_cost_forecasts_like_a_new_account()
    rng = np.random.default_rng(seed)
    ec2 = _client(endpoint, "ec2")
    backend = ec2_backends[ACCOUNT][REGION]
    ami = ec2.register_image(Name="al2023-base", RootDeviceName="/dev/xvda")["ImageId"]
    estate = Estate()
    born = _at(BILL_START, 0) - timedelta(days=40)
    # CPU % range, NetworkOut bytes per hour (the bill's egress follows it); idle as AWS Trusted Advisor's
    # low-utilisation check defines it: CPU <= 10 % and network I/O <= 5 MB a day
    workloads = {
        "idle": ((0.3, 1.6), 1.0e5),
        "oversized": ((9.0, 26.0), 3.2e8),
        "busy": ((55.0, 85.0), 2.1e9),
    }
    index = 0
    for kind, itype, count in (
        ("idle", "m5.xlarge", 3),
        ("oversized", "m5.2xlarge", 2),
        ("busy", "m5.xlarge", 2),
    ):
        for n in range(count):
            label = f"{kind}-{n}"
            tags = [{"Key": "Name", "Value": label}] + (
                [{"Key": "env", "Value": "prod"}] if kind == "busy" else []
            )
            made = ec2.run_instances(
                ImageId=ami, InstanceType=itype, MinCount=1, MaxCount=1,
                TagSpecifications=[{"ResourceType": "instance", "Tags": tags}],
            )["Instances"][0]  # fmt: skip
            rid = made["InstanceId"]
            backend.get_instance(rid).launch_time = born.replace(tzinfo=None)
            cpu, net_out = workloads[kind]
            _metrics(rid, cpu, net_out, rng)
            index += 1
            egress = Decimal(str(round(net_out * 24 / 1e9, 3)))  # GB a day, as the metrics send
            estate.resources.append(Billed(rid, label, [Span(born, None, itype)], egress, seed * 100 + index))
            if kind != "busy":
                estate.waste[rid] = label
            for mapping in made.get("BlockDeviceMappings", []):  # the root volume bills on its own id
                root = mapping["Ebs"]["VolumeId"]
                size = ec2.describe_volumes(VolumeIds=[root])["Volumes"][0]["Size"]
                estate.resources.append(
                    Billed(root, f"{label}-root", [Span(born, None, "gp2", Decimal(size))])
                )
    for n in range(2):
        vol = ec2.create_volume(AvailabilityZone=f"{REGION}a", Size=100, VolumeType="gp2")["VolumeId"]
        backend.volumes[vol].create_time = born.replace(tzinfo=None)
        estate.resources.append(Billed(vol, f"unattached-{n}", [Span(born, None, "gp2", Decimal(100))]))
        estate.waste[vol] = f"unattached-{n}"
    for n in range(2):
        source = ec2.create_volume(AvailabilityZone=f"{REGION}a", Size=80, VolumeType="gp2")["VolumeId"]
        snap = ec2.create_snapshot(VolumeId=source, Description=f"orphaned-{n}")["SnapshotId"]
        ec2.delete_volume(VolumeId=source)
        backend.snapshots[snap].start_time = born.replace(tzinfo=None)
        arn = f"arn:aws:ec2:{REGION}:{ACCOUNT}:snapshot/{snap}"  # how AWS bills a snapshot
        # a snapshot bills the data it stores (64 GB of the 80 GB volume), not the volume's size
        estate.resources.append(Billed(arn, f"orphaned-{n}", [Span(born, None, "snapshot", Decimal(64))]))
        estate.waste[snap] = f"orphaned-{n}"
    return estate


def _billed(estate: Estate, name: str) -> Billed:
    return next(r for r in estate.resources if r.name == name)


def _target_size(rec: dict[str, Any]) -> str:
    """The instance type a resize recommendation names (in its resize action's parameters)."""
    for action in rec["actions"]:
        if action["type"] == "resize":
            for value in action["parameters"].values():
                if isinstance(value, str) and value in bill.PRICES and value.startswith("m5."):
                    return value
    raise RuntimeError(f"no target size in {rec['actions']}")


def apply_by_hand(endpoint: str, estate: Estate, accepted: dict[str, dict[str, Any]]) -> None:
    """Make the changes of :data:`CHANGE_DAY` in the account and in its bill (see module docstring)."""
    from moto.ec2.models import ec2_backends

    ec2 = _client(endpoint, "ec2")
    backend = ec2_backends[ACCOUNT][REGION]
    ids = {label: rid for rid, label in estate.waste.items()}

    def record(label: str, action: str, at: datetime, after: list[Billed]) -> None:
        rid = ids[label]
        rec = accepted.get(rid)
        resource = _billed(estate, label)
        estate.applied.append(
            Applied(label, rid, action, at, [resource], [resource, *after], rec["id"] if rec else None)
        )

    for label, at in (("idle-0", _at(CHANGE_DAY, 14, 20)), ("idle-1", _at(CHANGE_DAY, 6, 5))):
        ec2.stop_instances(InstanceIds=[ids[label]])
        # AWS's StateTransitionReason for a stop a person made: "User initiated (YYYY-MM-DD hh:mm:ss GMT)"
        backend.get_instance(ids[label])._reason = f"User initiated ({at:%Y-%m-%d %H:%M:%S} GMT)"
        _billed(estate, label).spans[0] = replace(_billed(estate, label).spans[0], end=at)
        record(label, "stop", at, [])

    label, stopped, started = "oversized-0", _at(CHANGE_DAY, 5, 40), _at(CHANGE_DAY, 5, 46)
    if ids[label] in accepted:  # resized to what its recommendation says, as the user would
        target = _target_size(accepted[ids[label]])
        ec2.stop_instances(InstanceIds=[ids[label]])
        ec2.modify_instance_attribute(InstanceId=ids[label], InstanceType={"Value": target})
        ec2.start_instances(InstanceIds=[ids[label]])
        resource = _billed(estate, label)
        resource.spans[:] = [replace(resource.spans[0], end=stopped), Span(started, None, target)]
        record(label, "resize", started, [])

    label, snapped, deleted = "unattached-0", _at(CHANGE_DAY, 7, 10), _at(CHANGE_DAY, 7, 25)
    backup = ec2.create_snapshot(VolumeId=ids[label], Description="before deleting unattached-0")[
        "SnapshotId"
    ]
    backend.snapshots[backup].start_time = snapped.replace(tzinfo=None)
    ec2.delete_volume(VolumeId=ids[label])
    volume = _billed(estate, label)
    volume.spans[0] = replace(volume.spans[0], end=deleted)
    # the volume held 38 GB of data: its first snapshot stores (and bills) those, from when it was taken
    kept = Billed(
        f"arn:aws:ec2:{REGION}:{ACCOUNT}:snapshot/{backup}",
        "unattached-0-backup",
        [Span(snapped, None, "snapshot", Decimal(38))],
    )
    estate.resources.append(kept)
    record(label, "snapshot_and_delete", deleted, [kept])

    label, at = "orphaned-0", _at(CHANGE_DAY, 7, 30)
    ec2.delete_snapshot(SnapshotId=ids[label])
    snapshot = _billed(estate, label)
    snapshot.spans[0] = replace(snapshot.spans[0], end=at)
    record(label, "delete_snapshot", at, [])


def truth_monthly(applied: Applied) -> Decimal:
    """(daily cost before − daily cost after incl. what the change created, at the prices before the change,
    mean egress, days of a mean month) × 30.4375: full days three days either side of the change."""
    before_day, after_day = CHANGE_DAY - timedelta(days=3), CHANGE_DAY + timedelta(days=3)
    mean = bill.MEAN_MONTH_HOURS
    before = sum(
        (bill.daily_cost(bill.expected(r), before_day, [], mean) for r in applied.before), Decimal(0)
    )
    after = sum((bill.daily_cost(bill.expected(r), after_day, [], mean) for r in applied.after), Decimal(0))
    return ((before - after) * DAYS_PER_MONTH).quantize(Decimal("0.01"))
