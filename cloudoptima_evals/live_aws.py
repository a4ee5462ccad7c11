"""Live-path eval, AWS: an account built in moto — not by the sandbox generator — with planted waste and
look-alikes, connected through the REST API, collected by the real AWS connector (boto3 → moto), analysed
by the recommendation engine, and scored against the planted truth.

The estate (``build_estate``) is written from the AWS documentation's point of view, not the sandbox's:

- waste: idle m5 instances (CPU ~1 %, almost no network, 30 days of hourly CloudWatch data, launched 60
  days ago), oversized m5.2xlarge instances without memory metrics (no CloudWatch agent), unattached gp2
  volumes created 40 days ago, snapshots whose volume was deleted 45 days ago, unassociated Elastic IPs;
- look-alikes that must not be touched: busy production instances, an idle instance tagged
  ``do-not-optimize``, an idle instance launched 5 days ago, a nightly batch instance (low average, daily
  spikes to 95 %), a volume created 3 days ago, a snapshot of a live volume, an associated Elastic IP.

``run`` connects it over REST, collects and analyses it (``cloudoptima_evals.live_path``) and scores it
(``cloudoptima_evals.live_scoring``: recall, precision, critical false positives, found in the *first* analysis, and
each finding's saving next to the AWS connector's own list price).
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

import numpy as np

from cloudoptima_evals.live_path import collect_and_analyse, connect, judged
from cloudoptima_evals.live_scoring import HOURS, FloatArray, LiveEstate, Planted, steady_production, workload

ACCOUNT = "123456789012"  # moto's default account: the assumed role reads the state the estate wrote
REGION = "us-east-1"
ROLE_ARN = f"arn:aws:iam::{ACCOUNT}:role/CloudOptimaReadOnly"
KEYS = {"AWS_ACCESS_KEY_ID": "AKIALIVEEVAL00000001", "AWS_SECRET_ACCESS_KEY": "live-eval-not-a-secret"}
MAX_SAVINGS_ERROR_PERCENT = 1.0
"""CI bound on the worst saving error (measured 0 %: the catalogue and the connector use the same AWS
list prices; the bound leaves room for rounding only)."""


def _client(endpoint: str, service: str) -> Any:
    import boto3

    return boto3.client(
        service,  # type: ignore[call-overload]  # boto3-stubs types only literal service names
        region_name=REGION,
        endpoint_url=endpoint,
        aws_access_key_id=KEYS["AWS_ACCESS_KEY_ID"],
        aws_secret_access_key=KEYS["AWS_SECRET_ACCESS_KEY"],
    )


def _put_metrics(endpoint: str, instance_id: str, start: datetime, cpu: FloatArray, net: FloatArray) -> None:
    cloudwatch = _client(endpoint, "cloudwatch")
    data: list[dict[str, Any]] = []
    for hour, (c, n) in enumerate(zip(cpu, net, strict=True)):
        stamp = start + timedelta(hours=hour, minutes=5)
        dims = [{"Name": "InstanceId", "Value": instance_id}]
        data += [
            {"MetricName": "CPUUtilization", "Dimensions": dims, "Timestamp": stamp, "Value": float(c), "Unit": "Percent"},
            {"MetricName": "NetworkIn", "Dimensions": dims, "Timestamp": stamp, "Value": float(n), "Unit": "Bytes"},
            {"MetricName": "NetworkOut", "Dimensions": dims, "Timestamp": stamp, "Value": float(n) * 0.7, "Unit": "Bytes"},
        ]  # fmt: skip
    for offset in range(0, len(data), 1000):  # PutMetricData takes up to 1,000 metrics per request
        cloudwatch.put_metric_data(Namespace="AWS/EC2", MetricData=data[offset : offset + 1000])


def _answer_cost_forecasts_like_a_new_account() -> None:
    """Give moto's Cost Explorer the ``GetCostForecast`` it lacks, answering as AWS does for an account whose
    Cost Explorer holds no cost history (this estate plants none): ``DataUnavailableException``. Without
    it moto's server answers HTTP 500, which no real account does."""
    from moto.ce.responses import CostExplorerResponse
    from moto.core.exceptions import JsonRESTError

    def get_cost_forecast(self: CostExplorerResponse) -> str:
        params = json.loads(self.body)
        for field in ("TimePeriod", "Metric", "Granularity"):
            if field not in params:
                raise JsonRESTError("ValidationException", f"{field} is required")
        raise JsonRESTError(
            "DataUnavailableException", "Insufficient amount of historical data to generate forecast."
        )

    if not hasattr(CostExplorerResponse, "get_cost_forecast"):
        CostExplorerResponse.get_cost_forecast = get_cost_forecast  # type: ignore[attr-defined]


def _read_metrics_by_bucket() -> None:
    """Answer moto's ``GetMetricData`` for metric-stat queries by putting each query's points into their
    periods once, instead of moto's scan of every stored point for every period of every query (hours ×
    queries × points: tens of seconds for this estate, and an answer slower than boto3's 60-second read
    timeout under load is sent again while the first still runs, until the test times out). Same answers:
    the same filters (name and dimensions, else namespace and name; unit), periods from ``StartTime``, moto's
    own ``Statistics``, labels and ordering. Anything else (metric math, insights queries) goes to moto."""
    from moto.cloudwatch.models import CloudWatchBackend, Dimension, MetricDatumBase, Statistics

    original = CloudWatchBackend.get_metric_data
    if getattr(original, "by_bucket", False):
        return

    def get_metric_data(
        self: CloudWatchBackend,
        queries: list[dict[str, Any]],
        start_time: datetime,
        end_time: datetime,
        scan_by: str = "TimestampAscending",
    ) -> list[dict[str, Any]]:
        start, end = start_time.replace(microsecond=0), end_time.replace(microsecond=0)
        if not queries or start >= end or any("MetricStat" not in query for query in queries):
            return original(self, queries, start_time, end_time, scan_by)
        points = [md for md in self.get_all_metrics() if start <= md.timestamp < end]
        answers = []
        for query in queries:
            metric_stat = query["MetricStat"]
            metric, stat, unit = metric_stat["Metric"], metric_stat["Stat"], metric_stat.get("Unit")
            period = int(metric_stat["Period"])
            dimensions = sorted(Dimension(d["Name"], d["Value"]) for d in metric.get("Dimensions", []))
            buckets: dict[int, list[MetricDatumBase]] = {}
            for md in points:
                if dimensions:
                    if md.name != metric["MetricName"] or sorted(md.dimensions) != dimensions:
                        continue
                elif md.namespace != metric["Namespace"] or md.name != metric["MetricName"]:
                    continue
                if unit and md.unit != unit:
                    continue
                index = int((md.timestamp - start).total_seconds()) // period
                buckets.setdefault(index, []).append(md)
            values, stamps = [], []
            for index in sorted(buckets):
                stats = Statistics([stat], start + timedelta(seconds=index * period))
                stats.metric_data = buckets[index]
                values.append(stats.get_statistics_for_type(stat))
                stamps.append(stats.timestamp)
            if scan_by == "TimestampDescending":
                values.reverse()
                stamps.reverse()
            if query.get("ReturnData", True):
                answers.append(
                    {
                        "id": query["Id"],
                        "label": query.get("Label") or f"{metric['MetricName']} {stat}",
                        "values": values,
                        "timestamps": stamps,
                        "status_code": "Complete",
                    }
                )
        return answers

    get_metric_data.by_bucket = True  # type: ignore[attr-defined]
    CloudWatchBackend.get_metric_data = get_metric_data  # type: ignore[method-assign]


def build_estate(endpoint: str, now: datetime, seed: int = 11) -> LiveEstate:
    """Create the estate in the moto server at ``endpoint`` (see module docstring); returns the truth."""
    from moto.ec2.models import ec2_backends

    _answer_cost_forecasts_like_a_new_account()
    _read_metrics_by_bucket()

    from cloudoptima.clouds.aws import pricing

    rng = np.random.default_rng(seed)
    estate = LiveEstate(now=now, endpoint=endpoint)
    ec2 = _client(endpoint, "ec2")
    backend = ec2_backends[ACCOUNT][REGION]
    image = ec2.describe_images(Owners=["amazon"])["Images"]
    ami = (
        image[0]["ImageId"]
        if image
        else ec2.register_image(Name="base", RootDeviceName="/dev/sda1")["ImageId"]
    )

    def instance(label: str, itype: str, kind: str, *, age_days: int, tags: dict[str, str] | None = None,
                 metric_hours: int = HOURS) -> str:  # fmt: skip
        all_tags = {"Name": label, **(tags or {})}
        made: str = ec2.run_instances(
            ImageId=ami, InstanceType=itype, MinCount=1, MaxCount=1,
            TagSpecifications=[{"ResourceType": "instance", "Tags": [{"Key": k, "Value": v} for k, v in all_tags.items()]}],
        )["Instances"][0]["InstanceId"]  # fmt: skip
        launched = (now - timedelta(days=age_days)).replace(tzinfo=None)
        backend.get_instance(made).launch_time = launched
        cpu, net = workload(rng, kind, metric_hours)
        start = (now - timedelta(hours=metric_hours)).replace(minute=0, second=0, microsecond=0)
        _put_metrics(endpoint, made, start, cpu, net)
        return made

    def instance_price(itype: str) -> Decimal:
        return pricing.monthly(pricing.table_instance_hourly(itype, REGION, 4, Decimal(16)))

    for n in range(3):
        rid = instance(f"live-idle-{n}", "m5.xlarge", "idle", age_days=60)
        estate.planted.append(
            Planted(rid, f"live-idle-{n}", "idle_vm", list_price_usd=instance_price("m5.xlarge"))
        )
    for n in range(2):
        rid = instance(f"live-oversized-{n}", "m5.2xlarge", "oversized", age_days=60)
        saving = instance_price("m5.2xlarge") - instance_price("m5.xlarge")
        estate.planted.append(Planted(rid, f"live-oversized-{n}", "rightsize_vm", list_price_usd=saving))
    busy = [
        instance(f"live-busy-{n}", "m5.xlarge", "busy", age_days=90, tags={"env": "prod"}) for n in range(2)
    ]
    estate.planted += [steady_production(rid, f"live-busy-{n}") for n, rid in enumerate(busy)]
    tagged = instance("live-tagged-idle", "m5.large", "idle", age_days=60, tags={"do-not-optimize": "true"})
    estate.planted.append(Planted(tagged, "live-tagged-idle", None, protected=True))
    fresh = instance("live-new-idle", "m5.large", "idle", age_days=5, metric_hours=5 * 24)
    estate.planted.append(Planted(fresh, "live-new-idle", None, protected=True))
    burst = instance("live-nightly-batch", "m5.xlarge", "burst", age_days=60)
    estate.planted.append(Planted(burst, "live-nightly-batch", None, protected=True))

    zone = f"{REGION}a"
    for n in range(2):
        vol = ec2.create_volume(AvailabilityZone=zone, Size=100, VolumeType="gp2")["VolumeId"]
        backend.volumes[vol].create_time = (now - timedelta(days=40)).replace(tzinfo=None)
        estate.planted.append(
            Planted(vol, f"live-unattached-{n}", "unattached_disk", list_price_usd=pricing.volume_monthly("gp2", 100, None, REGION))
        )  # fmt: skip
    young = ec2.create_volume(AvailabilityZone=zone, Size=50, VolumeType="gp2")["VolumeId"]
    backend.volumes[young].create_time = (now - timedelta(days=3)).replace(tzinfo=None)
    estate.planted.append(Planted(young, "live-young-volume", None))
    for n in range(2):
        source = ec2.create_volume(AvailabilityZone=zone, Size=80, VolumeType="gp2")["VolumeId"]
        snap = ec2.create_snapshot(VolumeId=source)["SnapshotId"]
        ec2.delete_volume(VolumeId=source)
        backend.snapshots[snap].start_time = (now - timedelta(days=45)).replace(tzinfo=None)
        estate.planted.append(
            Planted(snap, f"live-orphaned-snapshot-{n}", "orphaned_snapshot", list_price_usd=pricing.snapshot_monthly(80, "standard", REGION))
        )  # fmt: skip
    kept = ec2.create_volume(AvailabilityZone=zone, Size=20, VolumeType="gp3")["VolumeId"]
    live_snap = ec2.create_snapshot(VolumeId=kept)["SnapshotId"]
    backend.snapshots[live_snap].start_time = (now - timedelta(days=45)).replace(tzinfo=None)
    estate.planted.append(Planted(live_snap, "live-snapshot-of-live-volume", None))
    for n in range(2):
        allocation = ec2.allocate_address(Domain="vpc")["AllocationId"]
        estate.planted.append(
            Planted(allocation, f"live-free-eip-{n}", "unassociated_ip", list_price_usd=pricing.public_ip_monthly(REGION))
        )  # fmt: skip
    used = ec2.allocate_address(Domain="vpc")["AllocationId"]
    ec2.associate_address(AllocationId=used, InstanceId=busy[0])
    estate.planted.append(Planted(used, "live-associated-eip", None))
    return estate


def _reset(endpoint: str) -> None:
    import httpx

    httpx.post(f"{endpoint}/moto-api/reset", timeout=30).raise_for_status()


@contextmanager
def moto_server() -> Iterator[str]:
    """A moto server on a free loopback port, with boto3's environment pointed at it; restored after."""
    from moto.server import ThreadedMotoServer

    from cloudoptima.embedded.ports import free_port

    port = free_port()
    saved = {
        k: os.environ.get(k)
        for k in (*KEYS, "AWS_ENDPOINT_URL", "MOTO_EC2_LOAD_DEFAULT_AMIS", "AWS_DEFAULT_REGION")
    }
    os.environ.update(KEYS)
    os.environ["MOTO_EC2_LOAD_DEFAULT_AMIS"] = "false"
    os.environ["AWS_DEFAULT_REGION"] = REGION
    # moto's server logs every request, and the Pricing API it lacks (the connector then falls back to its
    # table, by design) as an error with a traceback: quiet for the eval's output
    requests_log = logging.getLogger("werkzeug")
    saved_level = requests_log.level
    requests_log.setLevel(logging.CRITICAL)
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    endpoint = f"http://127.0.0.1:{port}"
    os.environ["AWS_ENDPOINT_URL"] = endpoint
    # moto keeps its state per process, not per server: start from an empty account and leave one behind.
    _reset(endpoint)
    try:
        yield endpoint
    finally:
        _reset(endpoint)
        server.stop()
        requests_log.setLevel(saved_level)
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


def run(api: Any, engine: Any, providers: Any, now: datetime) -> dict[str, Any]:
    """Build the estate, connect it with ``api`` (an HTTP client of the gateway), collect, analyse, score.

    ``api`` must offer ``post``/``patch``/``get`` like httpx or Starlette's TestClient; ``providers`` is the
    ``ProviderRegistry`` the gateway uses; ``now`` pins the collection and the analysis.
    """
    with moto_server() as endpoint:
        estate = build_estate(endpoint, now)
        org, account = connect(
            api,
            "aws",
            {"role_arn": ROLE_ARN, "external_id": "live-eval"},
            settings={"regions": [REGION]},
        )
        look = collect_and_analyse(engine, providers, org, account, now)
    return judged(estate, look)


def needs() -> None:
    """Raise ``RuntimeError`` when what this eval needs is not installed (moto: the dev dependencies)."""
    try:
        import moto  # noqa: F401
    except ImportError as exc:
        raise RuntimeError(
            "the live AWS eval needs moto: install the dev dependencies (make install-dev)"
        ) from exc
