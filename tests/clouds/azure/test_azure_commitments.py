"""Azure reservations and savings plans (#22) read from the strict fake ARM: tenant-level lists followed through
``nextLink``, only what applies to the subscription kept, 429 + Retry-After retried, 401/403 translated."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest

from cloudoptima.clouds.protocol import CredentialsError, ThrottledError
from cloudoptima.domain.owned_commitments import OwnedKind
from cloudoptima_evals.fakes.azure.server import FakeAzureServer, Fault
from cloudoptima_evals.fakes.azure.state import Client
from tests.clouds.azure.conftest import OWNER_ID, SUBSCRIPTION, ProviderFactory

OTHER_SUBSCRIPTION = "99999999-0000-0000-0000-000000000000"
ORDER = "/providers/Microsoft.Capacity/reservationOrders/order-1"


def reservation(
    rid: str, sku: str, quantity: int, scope: str, scopes: list[str] | None = None, state: str = "Succeeded"
) -> dict[str, Any]:
    """A reservation as ``Reservation - List All`` returns it (api-version 2022-11-01)."""
    return {
        "id": f"{ORDER}/reservations/{rid}",
        "name": f"order-1/{rid}",
        "type": "Microsoft.Capacity/reservationOrders/reservations",
        "location": "eastus",
        "sku": {"name": sku},
        "properties": {
            "reservedResourceType": "VirtualMachines",
            "quantity": quantity,
            "term": "P1Y",
            "billingPlan": "Monthly",
            "appliedScopeType": scope,
            **({"appliedScopes": scopes} if scopes else {}),
            "provisioningState": "Succeeded",
            "displayProvisioningState": state,
            "benefitStartTime": "2025-09-01T00:00:00Z",
            "expiryDateTime": "2026-09-01T00:00:00Z",
            "instanceFlexibility": "On",
        },
    }


def savings_plan(pid: str, amount: str) -> dict[str, Any]:
    """A savings plan as ``Savings Plan - List All`` returns it (api-version 2022-11-01)."""
    return {
        "id": f"/providers/Microsoft.BillingBenefits/savingsPlanOrders/spo-1/savingsPlans/{pid}",
        "name": pid,
        "type": "Microsoft.BillingBenefits/savingsPlanOrders/savingsPlans",
        "sku": {"name": "Compute_Savings_Plan"},
        "properties": {
            "displayName": pid,
            "provisioningState": "Succeeded",
            "billingPlan": "P1M",
            "appliedScopeType": "Shared",
            "term": "P3Y",
            "commitment": {"grain": "Hourly", "currencyCode": "USD", "amount": float(amount)},
            "effectiveDateTime": "2025-03-01T00:00:00Z",
            "benefitStartTime": "2025-03-01T00:00:00Z",
            "expiryDateTime": "2028-03-01T00:00:00Z",
        },
    }


@pytest.fixture
def seeded(fake: FakeAzureServer) -> FakeAzureServer:
    fake.tenant.clients[OWNER_ID] = Client(OWNER_ID, "owner-secret-value-9f8e7d", "obj-owner", ["*"])
    fake.tenant.reservations = [
        reservation("r-shared", "Standard_D4s_v5", 2, "Shared"),
        reservation(
            "r-mine", "Standard_E2s_v5", 1, "Single", [f"/subscriptions/{SUBSCRIPTION}/resourceGroups/rg"]
        ),
        reservation("r-other", "Standard_D4s_v5", 5, "Single", [f"/subscriptions/{OTHER_SUBSCRIPTION}"]),
        reservation("r-gone", "Standard_B2s", 1, "Shared", state="Expired"),
    ]
    fake.tenant.savings_plans = [
        savings_plan("sp-1", "1.5"),
        savings_plan("sp-2", "0.25"),
        savings_plan("sp-3", "2"),
    ]
    return fake


def test_reservations_and_savings_plans_of_the_subscription_are_read_through_every_page(
    seeded: FakeAzureServer, make_provider: ProviderFactory
) -> None:
    owned = {c.commitment_id: c for c in make_provider().owned_commitments()}
    assert sorted(owned) == [
        "r-gone",
        "r-mine",
        "r-shared",
        "sp-1",
        "sp-2",
        "sp-3",
    ]  # r-other applies elsewhere
    # 4 reservations and 3 plans at 2 per page: the second page of each was asked through its nextLink.
    assert seeded.count("GET", r"/providers/Microsoft\.Capacity/reservations\?.*skiptoken=2") == 1
    assert seeded.count("GET", r"/providers/Microsoft\.BillingBenefits/savingsPlans\?.*skiptoken=2") == 1
    shared = owned["r-shared"]
    assert (shared.kind, shared.instance_type, shared.instance_family, shared.instance_count) == (
        OwnedKind.RESERVED_INSTANCE,
        "Standard_D4s_v5",
        "D4s",  # the family the Azure inventory gives a Standard_D4s_v5 VM
        2,
    )
    assert (shared.region, shared.applied_scope, shared.term_seconds, shared.state) == (
        "eastus",
        "Shared",
        31536000,
        "active",
    )
    assert (shared.start, shared.end) == (datetime(2025, 9, 1, tzinfo=UTC), datetime(2026, 9, 1, tzinfo=UTC))
    assert shared.arn == f"{ORDER}/reservations/r-shared" and shared.account_id == SUBSCRIPTION
    assert owned["r-mine"].applied_scope == f"/subscriptions/{SUBSCRIPTION}/resourceGroups/rg"
    assert owned["r-gone"].state == "expired"
    plan = owned["sp-1"]
    assert (plan.kind, plan.plan_type, plan.hourly_commitment, plan.currency, plan.term_seconds) == (
        OwnedKind.SAVINGS_PLAN,
        "Compute",
        Decimal("1.5"),
        "USD",
        3 * 31536000,
    )


def test_throttling_is_retried_after_retry_after_then_reported(
    seeded: FakeAzureServer, make_provider: ProviderFactory
) -> None:
    seeded.add_fault(
        Fault(
            r"GET /providers/Microsoft\.Capacity/reservations",
            429,
            "TooManyRequests",
            1,
            {"Retry-After": "0"},
        )
    )
    assert len(make_provider().owned_commitments()) == 6
    assert (
        seeded.count("GET", r"^/providers/Microsoft\.Capacity/reservations\?api-version=[^&]+$") == 2
    )  # retried once
    seeded.add_fault(
        Fault(
            r"GET /providers/Microsoft\.BillingBenefits/savingsPlans",
            429,
            "TooManyRequests",
            None,
            {"Retry-After": "0"},
        )
    )
    with pytest.raises(ThrottledError, match="savings plans"):
        make_provider(retry_total=1).owned_commitments()


def test_a_role_without_the_reservation_read_names_it_and_a_bad_secret_is_rejected(
    seeded: FakeAzureServer, make_provider: ProviderFactory
) -> None:
    seeded.tenant.clients["vm-reader"] = Client(
        "vm-reader", "vm-reader-secret", "obj-vm", ["Microsoft.Compute/*/read"]
    )
    with pytest.raises(CredentialsError) as denied:
        make_provider("vm-reader", "vm-reader-secret").owned_commitments()
    assert denied.value.permission == "Microsoft.Capacity/reservations/read"
    with pytest.raises(CredentialsError, match="AADSTS7000215"):
        make_provider(secret="wrong-secret").owned_commitments()
