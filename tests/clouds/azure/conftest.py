"""Fixtures: a seeded strict fake Azure over https and AzureProviders pointed at it."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from cloudoptima.clouds.azure import AzureProvider
from cloudoptima_evals.fakes.azure.server import FakeAzureServer
from cloudoptima_evals.fakes.azure.state import OWNER_ROLE_ID, READER_ROLE_ID, Client, CostRow, FakeTenant

TENANT = "11111111-2222-3333-4444-555555555555"
SUBSCRIPTION = "aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee"
OWNER_ID, OWNER_SECRET = "owner-app", "owner-secret-value-9f8e7d"
READER_ID, READER_SECRET = "reader-app", "reader-secret-value-1a2b3c"


@dataclass
class Estate:
    """Ids of what the fake was seeded with."""

    running_vm: str
    stopped_vm: str
    west_vm: str
    unattached_disk: str
    attached_disks: list[str]
    snapshot: str
    free_ip: str
    used_ip: str
    nic: str
    load_balancer: str
    cost_start: date
    cost_end: date
    cost_total: Decimal


def seed(t: FakeTenant) -> Estate:
    t.clients[OWNER_ID] = Client(OWNER_ID, OWNER_SECRET, "obj-owner", ["*"])
    t.clients[READER_ID] = Client(READER_ID, READER_SECRET, "obj-reader", ["*/read"], graph_allowed=False)
    rg = "rg-prod"
    used_ip = t.add_public_ip(rg, "pip-web", "eastus", "20.1.2.3")
    free_ip = t.add_public_ip(rg, "pip-free", "eastus", "20.1.2.4")
    nic = t.add_nic(rg, "nic-web", "eastus", used_ip)
    nic2 = t.add_nic(rg, "nic-batch", "eastus", None)
    nic3 = t.add_nic("rg-eu", "nic-eu", "westeurope", None)
    os1 = t.add_disk(rg, "web-os", "eastus", 30, "Premium_LRS")
    data1 = t.add_disk(rg, "web-data", "eastus", 128, "Premium_LRS")
    os2 = t.add_disk(rg, "batch-os", "eastus", 30, "StandardSSD_LRS")
    os3 = t.add_disk("rg-eu", "eu-os", "westeurope", 64, "Standard_LRS")
    unattached = t.add_disk(rg, "old-data", "eastus", 256, "Premium_LRS", age_days=120)
    t.add_disk(rg, "scratch", "eastus", 32, "Standard_LRS")
    running = t.add_vm(rg, "vm-web", "eastus", "Standard_D4s_v5", [os1, data1], nic, running=True)
    stopped = t.add_vm(rg, "vm-batch", "eastus", "Standard_E2bs_v5", [os2], nic2, running=False)
    west = t.add_vm("rg-eu", "vm-eu", "westeurope", "Standard_B2s", [os3], nic3, running=True)
    snapshot = t.add_snapshot(
        rg,
        "snap-old",
        "eastus",
        "/subscriptions/x/resourceGroups/rg/providers/Microsoft.Compute/disks/gone",
        64,
    )
    lb = t.add_load_balancer(rg, "lb-web", "eastus", [f"{nic}/ipConfigurations/ipconfig1"])
    now = t.now
    t.add_service_principal(
        "obj-deployer",
        "app-deployer",
        "deployer-sp",
        [
            ("key-1", now - timedelta(days=200), now + timedelta(days=165)),
            ("key-0", now - timedelta(days=800), now - timedelta(days=70)),
        ],
        OWNER_ROLE_ID,
    )
    t.add_user("obj-alice", "alice@contoso.example", READER_ROLE_ID)
    start = date(2024, 3, 1)
    total = Decimal(0)
    for i in range(5):
        day = start + timedelta(days=i)
        for service, loc, group, rid, amount in (
            ("Virtual Machines", "eastus", rg, running, Decimal("4.6081")),
            ("Storage", "eastus", rg, data1, Decimal("0.6570")),
            ("Virtual Machines", "westeurope", "rg-eu", west, Decimal("1.0013")),
        ):
            cost = amount + Decimal(i) / 100
            t.costs.append(CostRow(day, service, loc, group, rid, cost))
            total += cost
    # outside the queried window: must not be counted
    t.costs.append(CostRow(start + timedelta(days=5), "Storage", "eastus", rg, data1, Decimal("99")))
    return Estate(
        running,
        stopped,
        west,
        unattached,
        [os1, data1],
        snapshot,
        free_ip,
        used_ip,
        nic,
        lb,
        start,
        start + timedelta(days=5),
        total,
    )


@pytest.fixture
def fake(tmp_path: Path) -> Iterator[FakeAzureServer]:
    server = FakeAzureServer(FakeTenant(TENANT, SUBSCRIPTION), tmp_path).start()
    yield server
    server.stop()


@pytest.fixture
def estate(fake: FakeAzureServer) -> Estate:
    return seed(fake.tenant)


ProviderFactory = Callable[..., AzureProvider]


@pytest.fixture
def make_provider(fake: FakeAzureServer) -> Iterator[ProviderFactory]:
    made: list[AzureProvider] = []

    def make(
        client_id: str = OWNER_ID, secret: str = OWNER_SECRET, retry_total: int = 2, **settings: Any
    ) -> AzureProvider:
        provider = AzureProvider(
            {"tenant_id": TENANT, "client_id": client_id, "client_secret": secret},
            {
                "subscription_id": SUBSCRIPTION,
                "base_url": fake.base_url,
                "authority": fake.base_url,
                "graph_url": fake.base_url,
                "connection_verify": str(fake.ca_path),
                "retry_total": retry_total,
                "retry_backoff_factor": 0.01,
                "polling_interval": 0,
                **settings,
            },
        )
        made.append(provider)
        return provider

    yield make
    for provider in made:
        provider.close()


def utc_day(d: date) -> datetime:
    return datetime(d.year, d.month, d.day, tzinfo=UTC)
