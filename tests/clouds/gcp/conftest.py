"""Fixtures: a seeded fake project, the REST and gRPC fakes, and a GcpProvider pointed at them."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

import pytest
from google.auth.credentials import Credentials

from cloudoptima.clouds.gcp import GcpProvider, GcpSettings
from cloudoptima_evals.fakes.gcp.grpc_server import FakeGrpcServer
from cloudoptima_evals.fakes.gcp.rest import FakeGcpServer
from cloudoptima_evals.fakes.gcp.state import TOKEN, FakeGcp
from tests.moved_clock import real_clock

BILLING_TABLE = "billing-admin.billing.gcp_billing_export_resource_v1_X"
METRIC_START = date(2024, 5, 1)
METRIC_END = date(2024, 5, 3)
COST_START = date(2024, 5, 1)
COST_END = date(2024, 5, 6)


class StaticTokenCredentials(Credentials):  # type: ignore[misc]
    """Sends a fixed bearer token (AnonymousCredentials sends none, which the strict fakes refuse)."""

    def __init__(self, token: str = TOKEN) -> None:
        super().__init__()  # type: ignore[no-untyped-call]  # google-auth's __init__ is unannotated
        self.token = token

    def refresh(self, request: Any) -> None:
        return None

    @property
    def expired(self) -> bool:
        return False

    @property
    def valid(self) -> bool:
        return True


def seed(state: FakeGcp) -> dict[str, str]:
    """Fill ``state`` with a small estate; returns the ids tests refer to."""
    ids: dict[str, str] = {}
    state.add_disk("web-1-boot", "us-central1-a", 20)
    state.add_disk("batch-2-boot", "us-central1-b", 50, "pd-ssd")
    state.add_disk("odd-3-boot", "europe-west1-b", 10, "pd-standard")
    ids["orphan_disk"] = state.add_disk("orphan-1", "us-central1-a", 200, "pd-standard")
    ids["web"] = state.add_instance("web-1", "us-central1-a", "e2-standard-4", disks=("web-1-boot",))
    ids["batch"] = state.add_instance(
        "batch-2", "us-central1-b", "n2-standard-8", "TERMINATED", ("batch-2-boot",)
    )
    ids["odd"] = state.add_instance("odd-3", "europe-west1-b", "m3-weird-7", disks=("odd-3-boot",))
    ids["snapshot"] = state.add_snapshot("old-snap", "zones/us-central1-a/disks/gone-disk", 80)
    ids["idle_ip"] = state.add_address("idle-ip", "us-central1", "35.1.1.1")
    ids["web_ip"] = state.add_address(
        "web-ip", "us-central1", "35.2.2.2", user="zones/us-central1-a/instances/web-1"
    )
    ids["lb"] = state.add_forwarding_rule("web-lb", "us-central1", "web-pool")
    sa = "deployer@finops-demo.iam.gserviceaccount.com"
    state.bindings = [
        {"role": "roles/owner", "members": ["user:alice@example.com"]},
        {"role": "roles/editor", "members": [f"serviceAccount:{sa}", "allUsers"]},
        {"role": "roles/viewer", "members": ["group:finops@example.com", "user:alice@example.com"]},
    ]
    for name in ("deployer", "reader", "ci"):
        email = f"{name}@finops-demo.iam.gserviceaccount.com"
        resource = f"projects/finops-demo/serviceAccounts/{email}"
        state.service_accounts.append(
            {
                "name": resource,
                "email": email,
                "unique_id": f"1{len(state.service_accounts)}0042",
                "project_id": "finops-demo",
            }
        )
        state.keys[resource] = []
    deployer = f"projects/finops-demo/serviceAccounts/{sa}"
    state.keys[deployer] = [
        {
            "name": f"{deployer}/keys/k-live",
            "key_type": 1,
            "valid_after_time": datetime(2023, 1, 1, tzinfo=UTC),
            "valid_before_time": datetime(9999, 12, 31, tzinfo=UTC),
        },
        {
            "name": f"{deployer}/keys/k-expired",
            "key_type": 1,
            "valid_after_time": datetime(2022, 1, 1, tzinfo=UTC),
            "valid_before_time": datetime(2022, 6, 1, tzinfo=UTC),
        },
        {
            "name": f"{deployer}/keys/k-google",
            "key_type": 2,
            "valid_after_time": datetime(2024, 1, 1, tzinfo=UTC),
            "valid_before_time": datetime(2024, 3, 1, tzinfo=UTC),
        },
    ]
    for day in range(1, 8):
        d = date(2024, 5, day)
        state.add_cost(
            d,
            "Compute Engine",
            "E2 Instance Core running in Americas",
            "1.234567891",
            "-0.100000001",
            f"//compute.googleapis.com/{ids['web']}",
            labels={"team": "web", "env": "prod"},
        )
        state.add_cost(d, "Cloud Storage", "Standard Storage US Multi-region", "0.333333333")
    start = datetime.combine(METRIC_START, datetime.min.time(), UTC)
    cpu: list[float | None] = [0.05 + (h % 24) / 100 for h in range(48)]
    cpu[10] = None  # one hour without a sample
    state.add_hourly_series(
        "us-central1-a", "web-1", "compute.googleapis.com/instance/cpu/utilization", start, cpu
    )
    state.add_hourly_series(
        "us-central1-a",
        "web-1",
        "compute.googleapis.com/instance/network/sent_bytes_count",
        start,
        [1000.0] * 48,
        integer=True,
    )
    state.add_hourly_series(
        "us-central1-a",
        "web-1",
        "compute.googleapis.com/instance/disk/read_ops_count",
        start,
        [7.0] * 48,
        integer=True,
    )
    state.add_hourly_series(
        "us-central1-a",
        "web-1",
        "compute.googleapis.com/instance/disk/write_ops_count",
        start,
        [3.0] * 48,
        integer=True,
    )
    state.add_hourly_series(
        "europe-west1-b", "odd-3", "compute.googleapis.com/instance/cpu/utilization", start, [0.9] * 48
    )
    state.recommendations[("us-central1-b", "google.compute.instance.IdleResourceRecommender")] = [
        {
            "name": f"projects/finops-demo/locations/us-central1-b/recommenders/google.compute.instance."
            f"IdleResourceRecommender/recommendations/r{i}",
            "description": "Stop idle VM batch-2",
            "recommenderSubtype": "STOP_VM",
            "priority": "P2",
            "stateInfo": {"state": "ACTIVE"},
            "primaryImpact": {
                "category": "COST",
                "costProjection": {
                    "cost": {"currencyCode": "USD", "units": "-65", "nanos": -500000000},
                    "duration": "2592000s",
                },
            },
            "content": {
                "operationGroups": [
                    {
                        "operations": [
                            {"action": "test", "resource": f"//compute.googleapis.com/{ids['batch']}"}
                        ]
                    }
                ]
            },
        }
        for i in range(3)
    ]
    return ids


@dataclass
class GcpWorld:
    state: FakeGcp
    rest: FakeGcpServer
    grpc: FakeGrpcServer
    ids: dict[str, str]

    def provider(self, **overrides: Any) -> GcpProvider:
        settings: dict[str, Any] = {
            "project_id": self.state.project,
            "billing_export_table": BILLING_TABLE,
            "endpoints": {
                api: self.rest.url
                for api in ("compute", "resourcemanager", "recommender", "bigquery", "asset", "sqladmin")
            }
            | {"monitoring": self.grpc.target, "iam": self.grpc.target},
            "retry_initial_delay": 0.01,
            "retry_max_delay": 0.05,
            "retry_deadline": 0.6,
            "operation_timeout": 10,
        } | overrides
        credentials = overrides.pop("credentials", None) or StaticTokenCredentials()
        settings.pop("credentials", None)
        return GcpProvider({"credentials_object": credentials}, GcpSettings(**settings))


@pytest.fixture
def world() -> Iterator[GcpWorld]:
    state = FakeGcp()
    ids = seed(state)
    with FakeGcpServer(state) as rest, FakeGrpcServer(state, real_clock) as grpc_server:
        yield GcpWorld(state=state, rest=rest, grpc=grpc_server, ids=ids)
