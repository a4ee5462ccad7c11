"""Owned commitments of Azure and GCP (#22) end to end: the collection step reads a connected subscription's
reservations and savings plan from the strict fake ARM and a project's committed-use discounts from the strict
fake Compute API, stores them, announces the one expiring, and ``GET /v1/commitments`` lists them; a denied
read shows as ``unavailable: <permission>`` (not a failed collection) and keeps what was stored; the
purchase-rule inputs come out of the stored rows."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from cloudoptima.clouds.azure import AzureProvider
from cloudoptima.clouds.gcp import GcpProvider, GcpSettings
from cloudoptima.services.collection.context import CollectionContext
from cloudoptima.services.collection.owned_commitments import collect_owned_commitments
from cloudoptima.services.collection.results import AccountRef
from cloudoptima.services.owned_commitments import owned_compute_hourly, owned_cud, owned_instance_units
from cloudoptima.settings import Settings
from cloudoptima.storage.models import Notification
from cloudoptima_evals.fakes.azure.server import FakeAzureServer
from cloudoptima_evals.fakes.azure.state import Client, FakeTenant
from cloudoptima_evals.fakes.gcp.rest import FakeGcpServer
from cloudoptima_evals.fakes.gcp.state import FakeGcp
from tests.clouds.azure.test_azure_commitments import reservation, savings_plan
from tests.clouds.gcp.conftest import StaticTokenCredentials
from tests.gateway.conftest import make_org

NOW = datetime(2026, 8, 22, 12, tzinfo=UTC)  # the fake reservations end on 2026-09-01: 9 days later
TENANT = "11111111-2222-3333-4444-555555555555"
SUB = "aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee"


@pytest.fixture
def azure(tmp_path: Path) -> Iterator[AzureProvider]:
    tenant = FakeTenant(TENANT, SUB)
    tenant.clients["app"] = Client("app", "app-secret-value-77", "obj-app", ["*/read"])
    tenant.reservations = [reservation("r-d4", "Standard_D4s_v5", 2, "Shared")]
    tenant.savings_plans = [savings_plan("sp-azure", "0.5")]
    server = FakeAzureServer(tenant, tmp_path).start()
    provider = AzureProvider(
        {"tenant_id": TENANT, "client_id": "app", "client_secret": "app-secret-value-77"},
        {
            "subscription_id": SUB,
            "base_url": server.base_url,
            "authority": server.base_url,
            "graph_url": server.base_url,
            "connection_verify": str(server.ca_path),
            "retry_total": 1,
            "retry_backoff_factor": 0.01,
        },
    )
    yield provider
    provider.close()
    server.stop()


@pytest.fixture
def gcp() -> Iterator[tuple[FakeGcp, GcpProvider]]:
    state = FakeGcp()
    start, end = datetime(2026, 1, 1, tzinfo=UTC), datetime(2027, 1, 1, tzinfo=UTC)
    state.add_commitment("cud-e2", "us-central1", "GENERAL_PURPOSE_E2", 8, 32768, start, end)
    with FakeGcpServer(state) as rest:
        settings = GcpSettings(
            project_id=state.project,
            endpoints={"compute": rest.url},
            retry_initial_delay=0.01,
            retry_max_delay=0.05,
            retry_deadline=0.6,
        )
        yield state, GcpProvider({"credentials_object": StaticTokenCredentials()}, settings)


def test_connected_azure_and_gcp_commitments_appear_in_the_api(
    client: TestClient,
    engine: Engine,
    gateway_settings: Settings,
    azure: AzureProvider,
    gcp: tuple[FakeGcp, GcpProvider],
) -> None:
    org = make_org(engine, gateway_settings)
    context = CollectionContext(
        engine=engine,
        now=lambda: NOW,
        publish=None,
        utilisation_window_days=14,
        utilisation_retention_days=90,
    )
    ref = AccountRef(organization_id=org.id, cloud_account_id=uuid.uuid4())
    state, project = gcp
    assert collect_owned_commitments(context, ref, azure, SUB) == (2, None)
    assert collect_owned_commitments(context, ref, project, "finops-demo") == (1, None)

    body = client.get("/v1/commitments", headers=org.headers("viewer")).json()
    owned = {o["commitment_id"]: o for o in body["owned"]}
    assert body["inventory"] == "billing_data+provider_api"
    assert set(owned) == {"r-d4", "sp-azure", state.commitments["us-central1/cud-e2"]["id"]}
    r_d4 = owned["r-d4"]
    assert (r_d4["provider"], r_d4["instance_type"], r_d4["instance_count"], r_d4["applied_scope"]) == (
        "azure",
        "Standard_D4s_v5",
        2,
        "Shared",
    )
    cud = owned[state.commitments["us-central1/cud-e2"]["id"]]
    assert (cud["kind"], cud["instance_family"], cud["vcpus"], cud["memory_mb"], cud["region"]) == (
        "committed_use",
        "e2",
        8,
        32768,
        "us-central1",
    )
    assert Decimal(owned["sp-azure"]["hourly_commitment"]) == Decimal("0.5")
    assert [(r["provider"], r["status"]) for r in body["inventory_reads"]] == [
        ("azure", "read"),
        ("gcp", "read"),
    ]

    with Session(engine) as session:  # what the purchase rule subtracts
        assert owned_instance_units(session, org.id, NOW) == {(SUB, "eastus", "D4s"): Decimal(2)}
        assert owned_cud(session, org.id, NOW) == {("finops-demo", "us-central1", "e2"): (8, 32768)}
        assert owned_compute_hourly(session, org.id, NOW) == {SUB: Decimal("0.5")}
        titles = session.scalars(
            select(Notification.title).where(
                Notification.organization_id == org.id, Notification.event_type == "commitment.expiring"
            )
        ).all()
    assert set(titles) == {
        "Reserved Instance r-d4 expires in 9 days"
    }  # the plan ends in 2028, the CUD in 2027

    # The project's credentials lose compute.commitments.list: the read is unavailable, the CUD is kept.
    state.permissions.discard("compute.commitments.list")
    stored, reason = collect_owned_commitments(context, ref, project, "finops-demo")
    assert stored is None and reason and "compute.commitments.list" in reason
    body = client.get("/v1/commitments", headers=org.headers("viewer")).json()
    assert [(r["provider"], r["status"]) for r in body["inventory_reads"]] == [
        ("azure", "read"),
        ("gcp", "unavailable: compute.commitments.list"),
    ]
    assert len(body["owned"]) == 3
    other = make_org(engine, gateway_settings)
    assert client.get("/v1/commitments", headers=other.headers("viewer")).json()["inventory_reads"] == []
