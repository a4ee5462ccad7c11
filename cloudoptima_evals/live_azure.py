"""Live-path eval, Azure: a subscription built in the strict Azure fake (``cloudoptima_evals.fakes.azure``) — not by
the sandbox generator — with planted waste and look-alikes, connected through the REST API with a service
principal, collected by the real Azure connector (azure-mgmt-* clients → the fake over https), analysed by
the recommendation engine, and scored against the planted truth (``cloudoptima_evals.live_scoring``).

The estate (``build_estate``) is written from the Azure documentation's point of view:

- waste: idle Standard_D4s_v5 VMs (CPU ~1 %, almost no network, 30 days of hourly Azure Monitor data,
  created 60 days ago), oversized Standard_D8s_v5 VMs (no memory metric: no guest agent), unattached
  Premium_LRS managed disks (created 40 days ago, detached 20 days ago), snapshots whose source disk was
  deleted (45 days old), unassociated Standard public IPs, an idle Azure SQL database
  (``cloudoptima_evals.live_azure_databases``, with its look-alikes);
- look-alikes that must not be touched: busy production VMs, an idle VM tagged ``do-not-optimize``, an idle
  VM created 5 days ago, a nightly-burst VM (idle but for one hour a day at 95 %), a disk created 3 days ago
  and never attached, a snapshot of a live disk whose source id spells the resource group in another case
  (ARM ids are case-insensitive and keep the casing the caller typed), a public IP attached to a busy VM.

Every VM has its OS disk and NIC, and Cost Management carries a daily cost per VM and disk (with the
lower-cased resource ids Cost Management reports).
"""

from __future__ import annotations

import tempfile
from datetime import datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import numpy as np

from cloudoptima_evals.live_azure_databases import plant_sql
from cloudoptima_evals.live_path import collect_and_analyse, connect, judged
from cloudoptima_evals.live_scoring import HOURS, LiveEstate, Planted, steady_production, workload

TENANT = "7d1f4c2e-5a3b-4c8d-9e0f-1a2b3c4d5e6f"
SUBSCRIPTION = "0b9e8d7c-6f5a-4b3c-8d2e-1f0a9b8c7d6e"
CLIENT_ID = "c0ffee00-1234-4abc-8def-0123456789ab"
CLIENT_SECRET = "live-eval-secret-not-a-secret"
GROUP = "rg-live"
LOCATION = "eastus"
MAX_SAVINGS_ERROR_PERCENT = 1.0
"""CI bound on the worst saving error (measured 0 %: the catalogue prices the Dsv5 sizes, Premium_LRS at
its tier sizes, Standard snapshots and Standard IPs as the connector's table does; rounding only)."""


def build_estate(tenant: Any, now: datetime, seed: int = 13) -> LiveEstate:
    """Seed the fake ``tenant`` (a ``FakeTenant``) with the estate (module docstring); returns the truth."""
    from cloudoptima.clouds.azure import pricing
    from cloudoptima_evals.fakes.azure.state import Client, CostRow

    tenant.now = now
    tenant.clients[CLIENT_ID] = Client(
        CLIENT_ID, CLIENT_SECRET, "obj-live-eval", ["*/read", "Microsoft.CostManagement/*/action"]
    )
    rng = np.random.default_rng(seed)
    estate = LiveEstate(now=now)
    hour0 = now.replace(minute=0, second=0, microsecond=0)

    def daily_cost(resource_id: str, service: str, monthly: Decimal, age_days: int) -> None:
        for back in range(1, min(age_days, 30) + 1):
            tenant.costs.append(
                CostRow((now - timedelta(days=back)).date(), service, LOCATION, GROUP, resource_id.lower(),
                        (monthly / 730 * 24).quantize(Decimal("0.0001")))
            )  # fmt: skip

    def vm(label: str, size: str, kind: str, *, age_days: int, tags: dict[str, str],
           metric_hours: int = HOURS, public_ip: str | None = None) -> str:  # fmt: skip
        os_disk = tenant.add_disk(GROUP, f"{label}-os", LOCATION, 32, "Premium_LRS", age_days)
        nic = tenant.add_nic(GROUP, f"{label}-nic", LOCATION, public_ip)
        made: str = tenant.add_vm(
            GROUP, label, LOCATION, size, [os_disk], nic, running=True, tags=tags, age_days=age_days
        )
        cpu, net = workload(rng, kind, metric_hours)
        start = hour0 - timedelta(hours=metric_hours)
        tenant.add_metric(made, "Percentage CPU", start, list(cpu))
        tenant.add_metric(made, "Network In Total", start, list(net))
        tenant.add_metric(made, "Network Out Total", start, list(net * 0.7))
        vcpu = pricing.VM_SIZES[size][0]
        daily_cost(made, "Virtual Machines", pricing.vm_monthly(size, vcpu), age_days)
        daily_cost(os_disk, "Storage", pricing.disk_monthly("Premium_LRS", 32), age_days)
        return made

    def vm_price(size: str) -> Decimal:
        return pricing.vm_monthly(size, pricing.VM_SIZES[size][0])

    for n in range(3):
        rid = vm(f"live-idle-{n}", "Standard_D4s_v5", "idle", age_days=60, tags={"team": "analytics"})
        estate.planted.append(
            Planted(rid, f"live-idle-{n}", "idle_vm", list_price_usd=vm_price("Standard_D4s_v5"))
        )
    for n in range(2):
        rid = vm(f"live-oversized-{n}", "Standard_D8s_v5", "oversized", age_days=60, tags={"team": "web"})
        saving = vm_price("Standard_D8s_v5") - vm_price("Standard_D4s_v5")
        estate.planted.append(Planted(rid, f"live-oversized-{n}", "rightsize_vm", list_price_usd=saving))
    used_ip = tenant.add_public_ip(GROUP, "live-busy-0-ip", LOCATION, "20.10.0.1")
    busy = [
        vm(f"live-busy-{n}", "Standard_D4s_v5", "busy", age_days=90, tags={"env": "prod"},
           public_ip=used_ip if n == 0 else None)
        for n in range(2)
    ]  # fmt: skip
    estate.planted += [steady_production(rid, f"live-busy-{n}") for n, rid in enumerate(busy)]
    estate.planted.append(Planted(used_ip, "live-attached-ip", None))
    tagged = vm("live-tagged-idle", "Standard_D2s_v5", "idle", age_days=60, tags={"do-not-optimize": "true"})
    estate.planted.append(Planted(tagged, "live-tagged-idle", None, protected=True))
    fresh = vm("live-new-idle", "Standard_D2s_v5", "idle", age_days=5, tags={}, metric_hours=5 * 24)
    estate.planted.append(Planted(fresh, "live-new-idle", None, protected=True))
    burst = vm("live-nightly-burst", "Standard_D4s_v5", "burst", age_days=60, tags={"team": "etl"})
    estate.planted.append(Planted(burst, "live-nightly-burst", None, protected=True))

    for n in range(2):
        disk = tenant.add_disk(GROUP, f"live-unattached-{n}", LOCATION, 128, "Premium_LRS", 40)
        daily_cost(disk, "Storage", pricing.disk_monthly("Premium_LRS", 128), 40)
        estate.planted.append(
            Planted(disk, f"live-unattached-{n}", "unattached_disk",
                    list_price_usd=pricing.disk_monthly("Premium_LRS", 128))
        )  # fmt: skip
    young = tenant.add_disk(GROUP, "live-young-disk", LOCATION, 64, "Premium_LRS", 3, never_attached=True)
    estate.planted.append(Planted(young, "live-young-disk", None))
    for n in range(2):
        gone = tenant.rid(GROUP, "Microsoft.Compute", "disks", f"live-deleted-{n}")
        snap = tenant.add_snapshot(GROUP, f"live-orphaned-snapshot-{n}", LOCATION, gone, 128, age_days=45)
        estate.planted.append(
            Planted(snap, f"live-orphaned-snapshot-{n}", "orphaned_snapshot",
                    list_price_usd=pricing.snapshot_monthly("Standard_LRS", 128))
        )  # fmt: skip
    live_source = tenant.rid(GROUP.upper(), "Microsoft.Compute", "disks", "live-busy-1-os")
    kept = tenant.add_snapshot(GROUP, "live-snapshot-of-live-disk", LOCATION, live_source, 32, age_days=45)
    estate.planted.append(Planted(kept, "live-snapshot-of-live-disk", None))
    for n in range(2):
        ip = tenant.add_public_ip(GROUP, f"live-free-ip-{n}", LOCATION, f"20.10.1.{n + 1}")
        estate.planted.append(
            Planted(ip, f"live-free-ip-{n}", "unassociated_ip",
                    list_price_usd=pricing.PUBLIC_IP_MONTHLY["Standard"])
        )  # fmt: skip
    plant_sql(tenant, GROUP, LOCATION, estate, now, rng)
    return estate


def run(api: Any, engine: Any, providers: Any, now: datetime) -> dict[str, Any]:
    """Build the estate in a fresh fake, connect it over REST with ``api``, collect, analyse, score.

    ``providers`` must be the gateway's :class:`~cloudoptima_evals.live_path.LiveProviderRegistry`: it points the
    Azure connector at the fake (ARM, Entra ID and Graph hosts, the fake's CA) while the eval runs.
    """
    from cloudoptima_evals.fakes.azure.server import FakeAzureServer
    from cloudoptima_evals.fakes.azure.state import FakeTenant

    with tempfile.TemporaryDirectory(prefix="cloudoptima-live-azure-") as certs:
        tenant = FakeTenant(TENANT, SUBSCRIPTION)
        estate = build_estate(tenant, now)
        server = FakeAzureServer(tenant, Path(certs)).start()
        endpoints = {
            "base_url": server.base_url,
            "authority": server.base_url,
            "graph_url": server.base_url,
            "connection_verify": str(server.ca_path),
            "retry_total": 2,
            "retry_backoff_factor": 0.01,
            "polling_interval": 0,
        }
        try:
            with providers.pointed("azure", endpoints):
                org, account = connect(
                    api,
                    "azure",
                    {
                        "subscription_id": SUBSCRIPTION,
                        "tenant_id": TENANT,
                        "client_id": CLIENT_ID,
                        "client_secret": CLIENT_SECRET,
                    },
                )
                look = collect_and_analyse(engine, providers, org, account, now)
        finally:
            server.stop()
    return judged(estate, look)


def needs() -> None:
    """Raise ``RuntimeError`` when what this eval needs is not installed (trustme: the dev dependencies)."""
    try:
        import trustme  # noqa: F401
    except ImportError as exc:
        raise RuntimeError(
            "the live Azure eval needs trustme: install the dev dependencies (make install-dev)"
        ) from exc
