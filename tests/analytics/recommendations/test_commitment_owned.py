"""Purchase advice never suggests buying what is owned (#22): AWS Compute Savings Plans, Azure reservations and
savings plans, GCP committed-use discounts subtracted from the commitment rule's VMs. Savings are computed by
hand from the sandbox catalogue (AWS m5.xlarge and Azure Standard_D4s_v5 $0.192/h, GCP e2-standard-4
$0.134012/h; 730 h a month; commitment rates AWS 0.63, Azure 0.60, GCP 0.63)."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from typing import Any

from cloudoptima.domain.inventory import (
    CloudProvider,
    InstanceAttributes,
    Resource,
    ResourceKind,
    ResourceState,
)
from cloudoptima.domain.recommendations import Recommendation
from tests.analytics.recommendations.test_rules import NOW, metrics, run, vm

SUB = "aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee"
STEADY = metrics((45, 80), memory=(65, 85))


def _vm(provider: CloudProvider, account: str, region: str, itype: str, family: str, rid: str) -> Resource:
    vcpu, memory = {"Standard_D4s_v5": (4, "16"), "e2-standard-4": (4, "16")}[itype]
    return Resource(
        resource_id=rid,
        name=rid,
        kind=ResourceKind.COMPUTE_INSTANCE,
        provider=provider,
        account_id=account,
        region=region,
        service_name="Virtual Machines" if provider is CloudProvider.AZURE else "Compute Engine",
        sku_id=itype,
        attributes=InstanceAttributes(
            instance_type=itype, family=family, vcpu=vcpu, memory_gib=Decimal(memory)
        ),
        monthly_cost=Decimal("1"),
        state=ResourceState.RUNNING,
        created_at=NOW - timedelta(days=200),
        launched_at=NOW - timedelta(days=200),
    )


def _advice(vms: list[Resource], **owned: Any) -> list[Recommendation]:
    util = {v.resource_id: STEADY for v in vms}
    return [r for r in run(vms, util, **owned) if r.rule_id == "commitment_coverage"]


AWS = [vm(f"i-app-{n}") for n in range(3)]  # account 111111111111, us-east-1, m5
AZURE = [_vm(CloudProvider.AZURE, SUB, "eastus", "Standard_D4s_v5", "D4s", f"vm-{n}") for n in range(3)]
GCP = [
    _vm(CloudProvider.GCP, "finops-demo", "us-central1", "e2-standard-4", "e2", f"gce-{n}") for n in range(3)
]


def test_nothing_owned_suggests_every_steady_vm() -> None:
    [aws] = _advice(AWS)
    assert aws.estimated_savings_monthly == Decimal("155.58")  # 3 × 140.16 × 0.37 = 155.5776
    [azure] = _advice(AZURE)
    assert azure.estimated_savings_monthly == Decimal("168.19")  # 3 × 140.16 × 0.40 = 168.192
    [gcp] = _advice(GCP)
    assert gcp.estimated_savings_monthly == Decimal("108.59")  # 3 × 97.82876 × 0.37 = 108.5899236


def test_aws_compute_savings_plan_pays_for_what_its_dollars_cover_in_any_family_or_region() -> None:
    # One m5.xlarge at the 0.63 rate costs 140.16 × 0.63 / 730 = $0.120960/h of plan: $0.121 pays one.
    [left] = _advice(AWS, owned_compute_hourly={"111111111111": Decimal("0.121")})
    assert list(left.resource_ids) == ["i-app-1", "i-app-2"]
    assert left.estimated_savings_monthly == Decimal("103.72")  # 155.58 shrinks by one VM's 51.86
    assert _advice(AWS, owned_compute_hourly={"111111111111": Decimal("0.36288")}) == []  # 3 × 0.12096
    # $0.36287 pays two, not three; another account's plan pays nothing here.
    assert len(_advice(AWS, owned_compute_hourly={"111111111111": Decimal("0.36287")})[0].resource_ids) == 1
    assert len(_advice(AWS, owned_compute_hourly={"222222222222": Decimal("9")})[0].resource_ids) == 3


def test_azure_reservations_and_savings_plans_are_subtracted() -> None:
    [left] = _advice(AZURE, owned_units={(SUB, "eastus", "D4s"): Decimal(2)})
    assert list(left.resource_ids) == ["vm-2"]
    assert left.estimated_savings_monthly == Decimal("56.06")  # 140.16 × 0.40 = 56.064
    assert _advice(AZURE, owned_units={(SUB, "eastus", "D4s"): Decimal(3)}) == []
    assert len(_advice(AZURE, owned_units={(SUB, "westus2", "D4s"): Decimal(3)})[0].resource_ids) == 3
    # An Azure savings plan ($/h, any size or region): 140.16 × 0.60 / 730 = $0.1152/h pays exactly one VM.
    [rest] = _advice(AZURE, owned_compute_hourly={SUB: Decimal("0.1152")})
    assert rest.estimated_savings_monthly == Decimal("112.13")  # 2 × 56.064 = 112.128
    # Reservation first, then the plan: together they cover all three.
    assert (
        _advice(
            AZURE,
            owned_units={(SUB, "eastus", "D4s"): Decimal(2)},
            owned_compute_hourly={SUB: Decimal("0.1152")},
        )
        == []
    )


def test_gcp_committed_use_discounts_cover_vcpus_and_memory() -> None:
    cell = ("finops-demo", "us-central1", "e2")
    [left] = _advice(GCP, owned_cud={cell: (8, 32768)})  # two VMs of 4 vCPU / 16 GiB
    assert list(left.resource_ids) == ["gce-2"]
    assert left.estimated_savings_monthly == Decimal("36.20")  # 97.82876 × 0.37 = 36.1966412
    [memory_bound] = _advice(GCP, owned_cud={cell: (8, 16384)})  # vCPUs for two, memory for one
    assert memory_bound.estimated_savings_monthly == Decimal("72.39")  # 2 × 36.1966412 = 72.3932824
    assert _advice(GCP, owned_cud={cell: (12, 49152)}) == []
    assert (
        len(_advice(GCP, owned_cud={("finops-demo", "us-central1", "n2"): (12, 49152)})[0].resource_ids) == 3
    )
