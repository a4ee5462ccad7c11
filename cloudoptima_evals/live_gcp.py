"""Live-path eval, GCP: a project built in the strict GCP fakes (``cloudoptima_evals.fakes.gcp``) — not by the sandbox
generator — with planted waste and look-alikes, connected through the REST API with a service-account key
(a real RSA key whose JWTs the fake verifies), collected by the real GCP connector (Compute, BigQuery over
REST; Cloud Monitoring over gRPC), analysed by the recommendation engine, and scored against the planted
truth (``cloudoptima_evals.live_scoring``).

The estate (``build_estate``) is written from the Compute Engine documentation's point of view:

- waste: idle e2-standard-4 instances (CPU ~1 %, almost no network, 30 days of hourly Cloud Monitoring
  data, created 60 days ago), oversized n2-standard-8 instances (no memory metric: no Ops Agent),
  unattached pd-balanced disks (created 40 days ago, detached 20 days ago), snapshots whose source disk was
  deleted (45 days old; one in the default ``us`` multi-region, one pinned to ``us-central1``), reserved
  static external addresses used by nothing; an idle and an oversized Cloud SQL instance
  (``cloudoptima_evals.live_gcp_databases``, with its look-alikes);
- look-alikes that must not be touched: busy production instances, an idle instance labelled
  ``do-not-optimize``, an idle instance created 5 days ago, a nightly-burst instance, a disk created 3 days
  ago and never attached, a snapshot of a live disk, an address in use by a busy instance.

Every instance has its boot disk, and the BigQuery billing export (detailed, with labels, ``resource.name``
and a ``resource.global_name`` that ends in the numeric id) carries a daily cost per instance and disk.
"""

from __future__ import annotations

import base64
import json
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

import numpy as np

from cloudoptima_evals.live_gcp_databases import plant_cloud_sql
from cloudoptima_evals.live_path import collect_and_analyse, connect, judged
from cloudoptima_evals.live_scoring import HOURS, LiveEstate, Planted, steady_production, workload

PROJECT = "live-eval-project"
ZONE = "us-central1-a"
REGION = "us-central1"
BILLING_TABLE = "billing-admin.billing.gcp_billing_export_resource_v1_X"
CLIENT_EMAIL = f"cloudoptima-reader@{PROJECT}.iam.gserviceaccount.com"
PAGE_SIZE = 8
"""Items per page of every fake list (instances, disks, time series of 10 instances, billing rows): paging
really runs."""
MAX_SAVINGS_ERROR_PERCENT = 1.0
"""CI bound on the worst saving error (measured 0 %: instances, disks, addresses and snapshots at the
catalogue's list prices, which equal the connector's table, snapshots on the bytes they store; the one in
the ``us`` multi-region, which the catalogue does not price, at the connector's own price; rounding only).
Before the connector sized snapshots on their stored bytes the regional one was priced on its source
disk's size: 300 %."""
_CPU = "compute.googleapis.com/instance/cpu/utilization"
_RECEIVED = "compute.googleapis.com/instance/network/received_bytes_count"
_SENT = "compute.googleapis.com/instance/network/sent_bytes_count"


def build_estate(state: Any, now: datetime, seed: int = 17) -> LiveEstate:
    """Seed the fake project ``state`` (a ``FakeGcp``) with the estate (module docstring); returns the truth."""
    from cloudoptima.clouds.gcp import pricing

    rng = np.random.default_rng(seed)
    estate = LiveEstate(now=now)
    hour0 = now.replace(minute=0, second=0, microsecond=0)

    def ago(days: float) -> datetime:
        return now - timedelta(days=days)

    def daily_cost(rid: str, service: str, sku: str, monthly: Decimal, age_days: int,
                   labels: dict[str, str]) -> None:  # fmt: skip
        # the export names Compute resources by their numeric id in resource.global_name, by name in resource.name
        kind, name = rid.rsplit("/", 2)[1:]
        numeric = (state.instances if kind == "instances" else state.disks)[f"{ZONE}/{name}"]["id"]
        global_name = f"//compute.googleapis.com/{rid.rsplit('/', 1)[0]}/{numeric}"
        for back in range(1, min(age_days, 30) + 1):
            state.add_cost(ago(back).date(), service, sku, str((monthly / 730 * 24).quantize(Decimal("0.000001"))),
                           resource=global_name, labels=labels or None, resource_name=name)  # fmt: skip

    def instance(label: str, machine_type: str, kind: str, *, age_days: int, labels: dict[str, str],
                 metric_hours: int = HOURS) -> str:  # fmt: skip
        boot = f"{label}-boot"
        boot_id = state.add_disk(boot, ZONE, 20, "pd-balanced", created=ago(age_days), never_attached=True)
        made: str = state.add_instance(
            label, ZONE, machine_type, disks=(boot,), created=ago(age_days), labels=labels
        )
        cpu, net = workload(rng, kind, metric_hours)
        start = hour0 - timedelta(hours=metric_hours)
        state.add_hourly_series(ZONE, label, _CPU, start, list(cpu / 100))
        state.add_hourly_series(ZONE, label, _RECEIVED, start, list(np.round(net)), integer=True)
        state.add_hourly_series(ZONE, label, _SENT, start, list(np.round(net * 0.7)), integer=True)
        daily_cost(
            made, "Compute Engine", f"{machine_type} running", instance_price(machine_type), age_days, labels
        )
        daily_cost(boot_id, "Compute Engine", "Balanced PD Capacity", pricing.disk_monthly("pd-balanced", 20),
                   age_days, labels)  # fmt: skip
        return made

    def instance_price(machine_type: str) -> Decimal:
        shape = pricing.machine_shape(machine_type)
        assert shape is not None
        return pricing.instance_monthly(machine_type, *shape)

    for n in range(3):
        rid = instance(f"live-idle-{n}", "e2-standard-4", "idle", age_days=60, labels={"team": "analytics"})
        estate.planted.append(
            Planted(rid, f"live-idle-{n}", "idle_vm", list_price_usd=instance_price("e2-standard-4"))
        )
    for n in range(2):
        rid = instance(
            f"live-oversized-{n}", "n2-standard-8", "oversized", age_days=60, labels={"team": "web"}
        )
        saving = instance_price("n2-standard-8") - instance_price("n2-standard-4")
        estate.planted.append(Planted(rid, f"live-oversized-{n}", "rightsize_vm", list_price_usd=saving))
    busy = [
        instance(f"live-busy-{n}", "e2-standard-4", "busy", age_days=90, labels={"env": "prod"})
        for n in range(2)
    ]
    estate.planted += [steady_production(rid, f"live-busy-{n}") for n, rid in enumerate(busy)]
    used = state.add_address(
        "live-busy-0-ip", REGION, "34.10.0.1", user=f"zones/{ZONE}/instances/live-busy-0", created=ago(90)
    )
    estate.planted.append(Planted(used, "live-address-in-use", None))
    tagged = instance(
        "live-tagged-idle", "e2-standard-2", "idle", age_days=60, labels={"do-not-optimize": "true"}
    )
    estate.planted.append(Planted(tagged, "live-tagged-idle", None, protected=True))
    fresh = instance("live-new-idle", "e2-standard-2", "idle", age_days=5, labels={}, metric_hours=5 * 24)
    estate.planted.append(Planted(fresh, "live-new-idle", None, protected=True))
    burst = instance("live-nightly-burst", "e2-standard-4", "burst", age_days=60, labels={"team": "etl"})
    estate.planted.append(Planted(burst, "live-nightly-burst", None, protected=True))

    for n in range(2):
        disk = state.add_disk(
            f"live-unattached-{n}", ZONE, 200, "pd-balanced", created=ago(40), last_detach=ago(20)
        )
        daily_cost(
            disk, "Compute Engine", "Balanced PD Capacity", pricing.disk_monthly("pd-balanced", 200), 40, {}
        )
        estate.planted.append(
            Planted(disk, f"live-unattached-{n}", "unattached_disk",
                    list_price_usd=pricing.disk_monthly("pd-balanced", 200))
        )  # fmt: skip
    young = state.add_disk("live-young-disk", ZONE, 100, "pd-balanced", created=ago(3), never_attached=True)
    estate.planted.append(Planted(young, "live-young-disk", None))
    for n, location in enumerate(("us", REGION)):  # the default multi-region, and one pinned to a region
        snap = state.add_snapshot(f"live-orphaned-snapshot-{n}", f"zones/{ZONE}/disks/live-deleted-{n}", 100,
                                  created=ago(45), location=location)  # fmt: skip
        stored_gb = int(state.snapshots[f"live-orphaned-snapshot-{n}"]["storageBytes"]) // 1024**3
        estate.planted.append(
            Planted(snap, f"live-orphaned-snapshot-{n}", "orphaned_snapshot",
                    list_price_usd=pricing.snapshot_monthly(stored_gb, "STANDARD"))
        )  # fmt: skip
    kept = state.add_snapshot("live-snapshot-of-live-disk", f"zones/{ZONE}/disks/live-busy-1-boot", 20,
                              created=ago(45))  # fmt: skip
    estate.planted.append(Planted(kept, "live-snapshot-of-live-disk", None))
    for n in range(2):
        address = state.add_address(f"live-free-ip-{n}", REGION, f"34.10.1.{n + 1}", created=ago(30))
        estate.planted.append(
            Planted(address, f"live-free-ip-{n}", "unassociated_ip", list_price_usd=pricing.address_monthly(False))
        )  # fmt: skip
    plant_cloud_sql(state, estate, now, rng)
    return estate


def service_account_key(token_uri: str) -> tuple[str, str]:
    """A fresh service-account key file (base64 of its JSON, as the connect route takes it) and its PEM
    public key (what the fake verifies the key's JWTs with)."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    key_file = {
        "type": "service_account",
        "project_id": PROJECT,
        "private_key_id": "live-eval-key-1",
        "private_key": private.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        ).decode(),
        "client_email": CLIENT_EMAIL,
        "client_id": "100000000000000000001",
        "token_uri": token_uri,
    }
    public = private.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return base64.b64encode(json.dumps(key_file).encode()).decode(), public.decode()


def run(api: Any, engine: Any, providers: Any, now: datetime) -> dict[str, Any]:
    """Build the estate in fresh fakes, connect it over REST with ``api``, collect, analyse, score.

    ``providers`` must be the gateway's :class:`~cloudoptima_evals.live_path.LiveProviderRegistry`: it points the GCP
    connector's API endpoints at the fakes while the eval runs (the key file's ``token_uri`` names the
    fake's token endpoint, as a key file names Google's).
    """
    from cloudoptima_evals.fakes.gcp.grpc_server import FakeGrpcServer
    from cloudoptima_evals.fakes.gcp.rest import TOKEN_PATH, FakeGcpServer
    from cloudoptima_evals.fakes.gcp.state import READ_PERMISSIONS, FakeGcp

    state = FakeGcp(project=PROJECT, page_size=PAGE_SIZE, permissions=set(READ_PERMISSIONS))
    estate = build_estate(state, now)
    with FakeGcpServer(state) as rest, FakeGrpcServer(state) as grpc_server:
        key_file, public_key = service_account_key(f"{rest.url}{TOKEN_PATH}")
        state.service_account_keys[CLIENT_EMAIL] = public_key
        endpoints = {
            "endpoints": {
                api_name: rest.url
                for api_name in ("compute", "resourcemanager", "recommender", "bigquery", "asset", "sqladmin")
            }
            | {"monitoring": grpc_server.target, "iam": grpc_server.target},
            "retry_initial_delay": 0.01,
            "retry_max_delay": 0.05,
            "retry_deadline": 2.0,
        }
        with providers.pointed("gcp", endpoints):
            org, account = connect(
                api,
                "gcp",
                {
                    "project_id": PROJECT,
                    "service_account_json": key_file,
                    "billing_export_table": BILLING_TABLE,
                },
            )
            look = collect_and_analyse(engine, providers, org, account, now)
    return judged(estate, look)


def needs() -> None:
    """Raise ``RuntimeError`` when what this eval needs is not installed (grpc and the Google clients)."""
    try:
        import grpc  # noqa: F401
        from google.cloud import monitoring_v3  # noqa: F401
    except ImportError as exc:
        raise RuntimeError("the live GCP eval needs grpcio and google-cloud-monitoring") from exc
