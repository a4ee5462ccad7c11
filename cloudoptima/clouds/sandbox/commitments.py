"""Missing-commitment ground truth: steady 24x7 on-demand compute that a 1-year commitment would discount.

A VM counts when it is running, on the ``always`` schedule, has billed without a gap for at least the last
30 days of the window, is not itself planted waste (fix that first), a look-alike or an anomaly fleet member,
and does not carry an ignore tag. Eligible VMs are grouped per (region, family); each group is one waste item whose
monthly saving is ``Σ monthly on-demand × (1 − commitment rate)`` (rates in ``catalog.COMMITMENT_RATE``).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from datetime import timedelta
from decimal import ROUND_HALF_EVEN, Decimal

from cloudoptima.clouds.sandbox import catalog
from cloudoptima.clouds.sandbox.builder import AccountBuilder
from cloudoptima.clouds.sandbox.manifest import WasteItem, WasteKind
from cloudoptima.clouds.sandbox.waste import IGNORE_TAGS
from cloudoptima.domain.inventory import InstanceAttributes, Resource, ResourceState

STEADY_DAYS = 30
_IGNORE_KEYS = {key for tags in IGNORE_TAGS for key in tags}


def _steady(builder: AccountBuilder, resource: Resource) -> bool:
    attributes = resource.attributes
    if not isinstance(attributes, InstanceAttributes) or attributes.schedule != "always":
        return False
    if resource.state is not ResourceState.RUNNING or _IGNORE_KEYS & resource.tags.keys():
        return False
    segments = builder.segments.get(resource.resource_id, ())
    since = builder.window_end - timedelta(days=STEADY_DAYS)
    return len(segments) == 1 and segments[0].end is None and segments[0].start <= since


def commitment_items(builder: AccountBuilder, excluded_ids: Iterable[str], prefix: str) -> list[WasteItem]:
    """One ``missing_commitment`` item per (region, family) of steady, uncommitted VMs."""
    excluded = set(excluded_ids)
    groups: dict[tuple[str, str], list[Resource]] = defaultdict(list)
    for resource in builder.resources:
        if resource.resource_id not in excluded and _steady(builder, resource):
            assert isinstance(resource.attributes, InstanceAttributes)
            groups[(resource.region, resource.attributes.family)].append(resource)
    provider = builder.account.provider
    rate = catalog.COMMITMENT_RATE[provider]
    items = []
    for index, ((region, family), members) in enumerate(sorted(groups.items())):
        on_demand = sum((m.monthly_cost for m in members), Decimal(0))
        hourly = sum((builder.segments[m.resource_id][0].unit_price for m in members), Decimal(0))
        items.append(
            WasteItem(
                id=f"{prefix}-c{index + 1:02d}",
                kind=WasteKind.MISSING_COMMITMENT,
                provider=provider,
                account_id=builder.account.account_id,
                region=region,
                resource_ids=tuple(m.resource_id for m in members),
                action="purchase_commitment",
                action_resource_ids=tuple(m.resource_id for m in members),
                action_params={
                    "term": "1y",
                    "payment": "no_upfront",
                    "family": family,
                    "region": region,
                    "hourly_commitment_usd": str((hourly * rate).quantize(Decimal("0.000001"))),
                },
                monthly_savings=(on_demand * (1 - rate)).quantize(
                    Decimal("0.000001"), rounding=ROUND_HALF_EVEN
                ),
                detail=f"{len(members)} VM(s) of {family} ran 24x7 on demand for {STEADY_DAYS}+ days",
            )
        )
    return items
