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

``score`` gives recall and precision over the planted waste, critical false positives (a stop or resize of
a look-alike instance: anything that would stop or shrink a busy or protected resource), whether every
planted resource was found in the *first* analysis after connecting, and the saving of each finding next
to the AWS connector's own list price (``savings_vs_aws_price``; the engine prices from the product's
price catalogue, so this shows how far those apart are).
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import numpy as np

ACCOUNT = "123456789012"  # moto's default account: the assumed role reads the state the estate wrote
REGION = "us-east-1"
ROLE_ARN = f"arn:aws:iam::{ACCOUNT}:role/CloudOptimaReadOnly"
KEYS = {"AWS_ACCESS_KEY_ID": "AKIALIVEEVAL00000001", "AWS_SECRET_ACCESS_KEY": "live-eval-not-a-secret"}
HOURS = 30 * 24
STOP_OR_SHRINK = {"stop", "resize", "terminate"}


@dataclass(frozen=True)
class Planted:
    """One resource of the estate and what the engine should say about it (``rule`` None: nothing)."""

    resource_id: str
    label: str
    rule: str | None
    protected: bool = False  # a stop or resize of it is a critical false positive
    expected_monthly_usd: Decimal | None = None


@dataclass
class LiveEstate:
    endpoint: str
    now: datetime
    planted: list[Planted] = field(default_factory=list)


def _client(endpoint: str, service: str) -> Any:
    import boto3

    return boto3.client(
        service,
        region_name=REGION,
        endpoint_url=endpoint,
        aws_access_key_id=KEYS["AWS_ACCESS_KEY_ID"],
        aws_secret_access_key=KEYS["AWS_SECRET_ACCESS_KEY"],
    )


def _series(rng: np.random.Generator, kind: str, hours: int) -> tuple[np.ndarray, np.ndarray]:  # type: ignore[type-arg]
    """CPU percent and network bytes per hour (each direction) for ``hours`` hours of one workload."""
    hour_of_day = np.arange(hours) % 24
    if kind == "idle":
        cpu = rng.uniform(0.4, 1.8, hours)
        net = rng.uniform(2e3, 2e4, hours)
    elif kind == "oversized":
        cpu = np.clip(17 + 6 * np.sin(hour_of_day / 24 * 2 * np.pi) + rng.normal(0, 2.5, hours), 5, 36)
        net = rng.uniform(3e8, 6e8, hours)
    elif kind == "busy":
        cpu = np.clip(62 + 12 * np.sin(hour_of_day / 24 * 2 * np.pi) + rng.normal(0, 4, hours), 30, 97)
        net = rng.uniform(2e9, 4e9, hours)
    elif kind == "burst":
        cpu = np.where(hour_of_day == 2, rng.uniform(90, 98, hours), rng.uniform(0.5, 2.0, hours))
        net = np.where(hour_of_day == 2, 5e9, 1e4) * rng.uniform(0.8, 1.2, hours)
    else:
        raise ValueError(kind)
    return cpu, net


def _put_metrics(endpoint: str, instance_id: str, start: datetime, cpu: np.ndarray, net: np.ndarray) -> None:  # type: ignore[type-arg]
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


def build_estate(endpoint: str, now: datetime, seed: int = 11) -> LiveEstate:
    """Create the estate in the moto server at ``endpoint`` (see module docstring); returns the truth."""
    from moto.ec2.models import ec2_backends

    from cloudoptima.clouds.aws import pricing

    rng = np.random.default_rng(seed)
    estate = LiveEstate(endpoint=endpoint, now=now)
    ec2 = _client(endpoint, "ec2")
    backend = ec2_backends[ACCOUNT][REGION]
    image = ec2.describe_images(Owners=["amazon"])["Images"]
    ami = (
        image[0]["ImageId"]
        if image
        else ec2.register_image(Name="base", RootDeviceName="/dev/sda1")["ImageId"]
    )
    metric_start = (now - timedelta(days=30)).replace(minute=0, second=0, microsecond=0)

    def instance(label: str, itype: str, kind: str, *, age_days: int, tags: dict[str, str] | None = None,
                 metric_hours: int = HOURS) -> str:  # fmt: skip
        all_tags = {"Name": label, **(tags or {})}
        made = ec2.run_instances(
            ImageId=ami, InstanceType=itype, MinCount=1, MaxCount=1,
            TagSpecifications=[{"ResourceType": "instance", "Tags": [{"Key": k, "Value": v} for k, v in all_tags.items()]}],
        )["Instances"][0]["InstanceId"]  # fmt: skip
        launched = (now - timedelta(days=age_days)).replace(tzinfo=None)
        backend.get_instance(made).launch_time = launched
        cpu, net = _series(rng, kind, metric_hours)
        start = (now - timedelta(hours=metric_hours)).replace(minute=0, second=0, microsecond=0)
        _put_metrics(endpoint, made, start, cpu, net)
        return made

    def instance_price(itype: str) -> Decimal:
        return pricing.monthly(pricing.table_instance_hourly(itype, REGION, 4, Decimal(16)))

    for n in range(3):
        rid = instance(f"live-idle-{n}", "m5.xlarge", "idle", age_days=60)
        estate.planted.append(
            Planted(rid, f"live-idle-{n}", "idle_vm", expected_monthly_usd=instance_price("m5.xlarge"))
        )
    for n in range(2):
        rid = instance(f"live-oversized-{n}", "m5.2xlarge", "oversized", age_days=60)
        saving = instance_price("m5.2xlarge") - instance_price("m5.xlarge")
        estate.planted.append(
            Planted(rid, f"live-oversized-{n}", "rightsize_vm", expected_monthly_usd=saving)
        )
    busy = [
        instance(f"live-busy-{n}", "m5.xlarge", "busy", age_days=90, tags={"env": "prod"}) for n in range(2)
    ]
    estate.planted += [Planted(rid, f"live-busy-{n}", None, protected=True) for n, rid in enumerate(busy)]
    tagged = instance("live-tagged-idle", "m5.large", "idle", age_days=60, tags={"do-not-optimize": "true"})
    estate.planted.append(Planted(tagged, "live-tagged-idle", None, protected=True))
    fresh = instance("live-new-idle", "m5.large", "idle", age_days=5, metric_hours=5 * 24)
    estate.planted.append(Planted(fresh, "live-new-idle", None, protected=True))
    burst = instance("live-nightly-batch", "m5.xlarge", "burst", age_days=60)
    estate.planted.append(Planted(burst, "live-nightly-batch", None, protected=True))
    del metric_start

    zone = f"{REGION}a"
    for n in range(2):
        vol = ec2.create_volume(AvailabilityZone=zone, Size=100, VolumeType="gp2")["VolumeId"]
        backend.volumes[vol].create_time = (now - timedelta(days=40)).replace(tzinfo=None)
        estate.planted.append(
            Planted(vol, f"live-unattached-{n}", "unattached_disk", expected_monthly_usd=pricing.volume_monthly("gp2", 100, None, REGION))
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
            Planted(snap, f"live-orphaned-snapshot-{n}", "orphaned_snapshot", expected_monthly_usd=pricing.snapshot_monthly(80, "standard", REGION))
        )  # fmt: skip
    kept = ec2.create_volume(AvailabilityZone=zone, Size=20, VolumeType="gp3")["VolumeId"]
    live_snap = ec2.create_snapshot(VolumeId=kept)["SnapshotId"]
    backend.snapshots[live_snap].start_time = (now - timedelta(days=45)).replace(tzinfo=None)
    estate.planted.append(Planted(live_snap, "live-snapshot-of-live-volume", None))
    for n in range(2):
        allocation = ec2.allocate_address(Domain="vpc")["AllocationId"]
        estate.planted.append(
            Planted(allocation, f"live-free-eip-{n}", "unassociated_ip", expected_monthly_usd=pricing.public_ip_monthly(REGION))
        )  # fmt: skip
    used = ec2.allocate_address(Domain="vpc")["AllocationId"]
    ec2.associate_address(AllocationId=used, InstanceId=busy[0])
    estate.planted.append(Planted(used, "live-associated-eip", None))
    return estate


def score(estate: LiveEstate, recommendations: list[dict[str, Any]]) -> dict[str, Any]:
    """Recall, precision, critical false positives and savings against the planted truth."""
    by_resource = {p.resource_id: p for p in estate.planted}
    waste = {(p.rule, p.resource_id) for p in estate.planted if p.rule}
    found: set[tuple[str | None, str]] = set()
    true_positive = false_positive = 0
    critical: list[str] = []
    spurious: list[str] = []
    savings: list[dict[str, Any]] = []
    for rec in recommendations:
        ids = [str(r) for r in rec["resource_ids"]]
        hits = [(rec["rule_id"], rid) for rid in ids if (rec["rule_id"], rid) in waste]
        if hits:
            true_positive += 1
            found.update(hits)
            planted = by_resource[hits[0][1]]
            if planted.expected_monthly_usd is not None:
                savings.append(
                    {
                        "resource": planted.label,
                        "engine_usd": str(rec["savings"]),
                        "aws_price_usd": str(planted.expected_monthly_usd.quantize(Decimal("0.01"))),
                    }
                )
        else:
            false_positive += 1
            spurious.append(
                f"{rec['rule_id']}:{','.join(by_resource[r].label if r in by_resource else r for r in ids)}"
            )
        for rid in ids:
            planted_or_none = by_resource.get(rid)
            if planted_or_none and planted_or_none.protected and set(rec["actions"]) & STOP_OR_SHRINK:
                critical.append(f"{rec['rule_id']}:{planted_or_none.label}")
    missed = sorted(by_resource[rid].label for rule, rid in waste - found)
    total = true_positive + false_positive
    return {
        "planted": len(waste),
        "found": len(found),
        "recall": round(len(found) / len(waste), 4) if waste else 1.0,
        "precision": round(true_positive / total, 4) if total else 1.0,
        "critical_false_positives": len(critical),
        "critical_details": critical,
        "missed": missed,
        "spurious": spurious,
        "savings_vs_aws_price": savings,
    }


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
    from cloudoptima.services.collection import AccountRef, CollectionService
    from cloudoptima.services.pricing import SandboxPriceCatalog
    from cloudoptima.services.recommendations import RecommendationService
    from cloudoptima.storage.engine import session_factory
    from cloudoptima.storage.tenancy import tenant_session

    with moto_server() as endpoint:
        estate = build_estate(endpoint, now)
        email = f"live-eval-{uuid.uuid4().hex[:8]}@example.com"
        registered = api.post(
            "/v1/auth/register",
            json={
                "email": email,
                "password": "live eval password",
                "company_name": "Live eval",
                "role": "devops",
            },
        )
        if registered.status_code != 201:
            raise RuntimeError(f"register failed: {registered.status_code} {registered.text}")
        headers = {"Authorization": f"Bearer {registered.json()['access_token']}"}
        org = uuid.UUID(registered.json()["organization_id"])
        connected = api.post(
            "/v1/cloud-accounts/aws", headers=headers, json={"role_arn": ROLE_ARN, "external_id": "live-eval"}
        )
        if connected.status_code != 201 or connected.json()["verification_status"] != "verified":
            raise RuntimeError(f"connect failed: {connected.status_code} {connected.text}")
        account = uuid.UUID(connected.json()["id"])
        scoped = api.patch(
            f"/v1/cloud-accounts/{account}", headers=headers, json={"settings": {"regions": [REGION]}}
        )
        if scoped.status_code != 200:
            raise RuntimeError(f"settings failed: {scoped.status_code} {scoped.text}")
        collection = CollectionService(engine, providers.for_account, now=lambda: now)
        state = collection.collect_account(
            AccountRef(org, account), initial_days=30, restate_days=3, today=now.date()
        )
        with tenant_session(session_factory(engine), org) as session:
            report = RecommendationService(session, org, SandboxPriceCatalog(), now=lambda: now).run(
                as_of=now
            )
        recommendations = [
            {
                "rule_id": r.rule_id,
                "resource_ids": list(r.resource_ids),
                "actions": [a.type for a in r.actions],
                "savings": r.estimated_savings_monthly,
            }
            for r in report.recommendations
        ]
    result = score(estate, recommendations)
    result["collection_failures"] = [f"{f.step}: {f.reason}" for f in state.failures]
    result["first_analysis_found_all"] = not result["missed"]
    return result


def run_standalone(now: datetime | None = None) -> dict[str, Any]:
    """``cloudoptima eval --live``: the eval on its own embedded Postgres and Redis in a temporary directory
    (the user's data is never touched), through an in-process gateway; needs moto (``make install-dev``)."""
    import shutil
    import signal
    import tempfile
    from pathlib import Path

    try:
        import moto  # noqa: F401
    except ImportError as exc:
        raise RuntimeError(
            "the live eval needs moto: install the dev dependencies (make install-dev)"
        ) from exc
    from fastapi.testclient import TestClient

    from cloudoptima.clouds.registry import ProviderRegistry
    from cloudoptima.embedded import postgres, redis
    from cloudoptima.embedded.ports import free_port
    from cloudoptima.embedded.process import stop
    from cloudoptima.security.encryption import CredentialCipher
    from cloudoptima.settings import Settings
    from cloudoptima.storage.engine import make_engine
    from cloudoptima.storage.migrate import upgrade
    from gateway.main import build_app

    when = now or datetime.now(UTC).replace(minute=30, second=0, microsecond=0)
    state = Path(tempfile.mkdtemp(prefix="cloudoptima-live-eval-"))
    pg_port, redis_port = free_port(), free_port()
    pg = postgres.start(postgres.PostgresLayout.in_state_dir(state), pg_port)
    cache = redis.start(state / "redis", redis_port, state / "redis.log")
    engine = None
    try:
        postgres.ensure_database(pg_port, "cloudoptima_eval")
        url = postgres.url_for(pg_port, "cloudoptima_eval")
        upgrade(url)
        engine = make_engine(url)
        settings = Settings(
            state_dir=state / "gateway",
            database_url=url,
            redis_url=redis.url_for(redis_port),
            log_level="WARNING",
        )
        providers = ProviderRegistry(CredentialCipher(settings.resolved_encryption_key))
        with TestClient(build_app(settings, providers=providers)) as api:
            return run(api, engine, providers, when)
    finally:
        if engine is not None:
            engine.dispose()
        stop(cache)
        stop(pg, sig=signal.SIGINT)
        shutil.rmtree(state, ignore_errors=True)


FLOORS = {"recall": 0.9, "precision": 0.9}


def failures(result: dict[str, Any]) -> list[str]:
    """The live floors that do not hold (CI: tests/evals/test_live_aws.py)."""
    problems = [f"{name} {result[name]} < {floor}" for name, floor in FLOORS.items() if result[name] < floor]
    if result["critical_false_positives"]:
        problems.append(f"critical false positives: {', '.join(result['critical_details'])}")
    if not result["first_analysis_found_all"]:
        problems.append(f"not found in the first analysis: {', '.join(result['missed'])}")
    if result["collection_failures"]:
        problems.append(f"collection failures: {'; '.join(result['collection_failures'])}")
    return problems
