"""Azure reservations and savings plans that apply to one subscription, as :class:`OwnedCommitment` (#22).

Contract:

- :func:`reservations` reads ``GET /providers/Microsoft.Capacity/reservations`` (Reservation - List All,
  api-version :data:`RESERVATIONS_API`); :func:`savings_plans` reads
  ``GET /providers/Microsoft.BillingBenefits/savingsPlans`` (Savings Plan - List All,
  :data:`SAVINGS_PLANS_API`). Both go through the session's ARM pipeline (bearer token, azure-core's
  ``RetryPolicy`` honouring ``Retry-After`` on 429), follow ``nextLink`` verbatim, and translate errors with
  :mod:`.errors` (a 403 names the missing action, e.g. ``Microsoft.Capacity/reservations/read``).
- Both lists span every subscription the caller can see; only what applies to this subscription is kept:
  ``appliedScopeType`` ``Shared`` / ``ManagementGroup`` (the scope cannot be narrowed further from here),
  or ``Single`` with an applied scope that is this subscription or one of its resource groups.
- A VM reservation (``reservedResourceType = VirtualMachines``) is a ``reserved_instance`` of ``quantity``
  VMs of size ``sku.name`` in ``location`` (``instance_family`` as the inventory derives it from the size:
  :func:`size_family`); other reserved types keep ``instance_type`` as their SKU and no family. A savings
  plan is a ``savings_plan`` of ``plan_type`` ``Compute`` whose ``hourly_commitment`` is its
  ``commitment.amount`` (grain ``Hourly``) in ``commitment.currencyCode``.
- ``term`` ``P1Y`` / ``P3Y`` / ``P5Y`` → seconds (365-day years); ``start`` = ``benefitStartTime`` (else
  ``effectiveDateTime``, else ``purchaseDate``), ``end`` = ``expiryDateTime`` (else ``expiryDate`` 00:00 UTC).
  ``state`` is ``displayProvisioningState`` (else ``provisioningState``) lower-cased, ``succeeded`` read as
  ``active``. ``commitment_id`` is the reservation's / plan's own id (last path segment), ``arn`` its ARM id.
- A list item missing a field this contract needs raises :class:`ProviderError` naming the item and field.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from cloudoptima.clouds.azure.errors import azure_errors
from cloudoptima.clouds.azure.session import AzureSession
from cloudoptima.clouds.protocol import ProviderError
from cloudoptima.domain.owned_commitments import OwnedCommitment, OwnedKind

PROVIDER = "azure"
RESERVATIONS_API = "2022-11-01"
SAVINGS_PLANS_API = "2022-11-01"
RESERVATIONS_PATH = "/providers/Microsoft.Capacity/reservations"
SAVINGS_PLANS_PATH = "/providers/Microsoft.BillingBenefits/savingsPlans"
_YEAR = 365 * 24 * 3600
_TERMS = {"P1Y": _YEAR, "P3Y": 3 * _YEAR, "P5Y": 5 * _YEAR}


def size_family(size: str) -> str:
    """The family the Azure inventory gives a VM of ``size`` (``Standard_D4s_v5`` → ``D4s``)."""
    return size.removeprefix("Standard_").split("_")[0].rstrip("0123456789") or size


def _field(item: dict[str, Any], *path: str) -> Any:
    value: Any = item
    for key in path:
        value = value.get(key) if isinstance(value, dict) else None
    if value is None or value == "":
        raise ProviderError(f"Azure commitment {item.get('id', '?')}: field {'.'.join(path)} is missing")
    return value


def _time(value: str) -> datetime:
    moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def _start(item: dict[str, Any]) -> datetime:
    props = item.get("properties") or {}
    for key in ("benefitStartTime", "effectiveDateTime", "purchaseDateTime", "purchaseDate"):
        if props.get(key):
            return _time(str(props[key]))
    raise ProviderError(
        f"Azure commitment {item.get('id', '?')}: field properties.benefitStartTime is missing"
    )


def _end(item: dict[str, Any]) -> datetime:
    props = item.get("properties") or {}
    if props.get("expiryDateTime"):
        return _time(str(props["expiryDateTime"]))
    day = date.fromisoformat(str(_field(item, "properties", "expiryDate")))
    return datetime(day.year, day.month, day.day, tzinfo=UTC)


def _term(item: dict[str, Any]) -> int:
    term = str(_field(item, "properties", "term"))
    if term not in _TERMS:
        raise ProviderError(f"Azure commitment {item.get('id', '?')}: unknown term {term!r}")
    return _TERMS[term]


def _state(item: dict[str, Any]) -> str:
    props = item.get("properties") or {}
    state = str(props.get("displayProvisioningState") or _field(item, "properties", "provisioningState"))
    return "active" if state.lower() == "succeeded" else state.lower()


def _scope(item: dict[str, Any], subscription_scope: str) -> str | None:
    """The applied scope to store, or None when the commitment does not apply to this subscription."""
    props = item.get("properties") or {}
    kind = str(props.get("appliedScopeType") or "Shared")
    if kind != "Single":
        return kind
    scopes = [str(s) for s in props.get("appliedScopes") or []]
    extra = props.get("appliedScopeProperties") or {}
    scopes += [str(extra[k]) for k in ("subscriptionId", "resourceGroupId") if extra.get(k)]
    mine = subscription_scope.lower()
    for scope in scopes:
        if scope.lower() == mine or scope.lower().startswith(mine + "/"):
            return scope
    return None


def _id(item: dict[str, Any]) -> tuple[str, str]:
    arm_id = str(_field(item, "id"))
    return arm_id.rstrip("/").rsplit("/", 1)[-1], arm_id


def reservations(session: AzureSession) -> list[OwnedCommitment]:
    """The reservations applying to the session's subscription (module contract), ordered by id."""
    items = []
    with azure_errors("list the reservations (Microsoft.Capacity/reservations/read)"):
        listed = list(session.arm_pages(RESERVATIONS_PATH, RESERVATIONS_API))
    for item in listed:
        scope = _scope(item, session.scope)
        if scope is None:
            continue
        props = item.get("properties") or {}
        sku = str(_field(item, "sku", "name"))
        vms = str(props.get("reservedResourceType") or "VirtualMachines") == "VirtualMachines"
        commitment_id, arm_id = _id(item)
        items.append(
            OwnedCommitment(
                provider=PROVIDER,
                account_id=session.subscription_id,
                commitment_id=commitment_id,
                arn=arm_id,
                kind=OwnedKind.RESERVED_INSTANCE,
                plan_type=str(props.get("reservedResourceType") or "VirtualMachines"),
                region=str(item["location"]).lower() if item.get("location") else None,
                instance_type=sku,
                instance_family=size_family(sku) if vms else None,
                instance_count=int(_field(item, "properties", "quantity")),
                applied_scope=scope,
                payment_option=props.get("billingPlan"),
                term_seconds=_term(item),
                start=_start(item),
                end=_end(item),
                state=_state(item),
            )
        )
    return sorted(items, key=lambda c: c.commitment_id)


def savings_plans(session: AzureSession) -> list[OwnedCommitment]:
    """The savings plans applying to the session's subscription (module contract), ordered by id."""
    items = []
    with azure_errors("list the savings plans (Microsoft.BillingBenefits/savingsPlans/read)"):
        listed = list(session.arm_pages(SAVINGS_PLANS_PATH, SAVINGS_PLANS_API))
    for item in listed:
        scope = _scope(item, session.scope)
        if scope is None:
            continue
        props = item.get("properties") or {}
        commitment = _field(item, "properties", "commitment")
        grain = str(commitment.get("grain") or "Hourly")
        if grain != "Hourly":
            raise ProviderError(f"Azure savings plan {item.get('id', '?')}: commitment grain {grain!r}")
        commitment_id, arm_id = _id(item)
        items.append(
            OwnedCommitment(
                provider=PROVIDER,
                account_id=session.subscription_id,
                commitment_id=commitment_id,
                arn=arm_id,
                kind=OwnedKind.SAVINGS_PLAN,
                plan_type="Compute",
                hourly_commitment=Decimal(str(_field(item, "properties", "commitment", "amount"))),
                currency=str(commitment.get("currencyCode") or "USD"),
                applied_scope=scope,
                payment_option=props.get("billingPlan"),
                term_seconds=_term(item),
                start=_start(item),
                end=_end(item),
                state=_state(item),
            )
        )
    return sorted(items, key=lambda c: c.commitment_id)


def read_owned(session: AzureSession) -> list[OwnedCommitment]:
    """The subscription's reservations, then its savings plans."""
    return reservations(session) + savings_plans(session)
