"""``generate_estate``: a deterministic multi-cloud sandbox estate from a seed.

Contract: the result depends only on the arguments. Randomness comes from ``random.Random`` instances seeded
with strings derived from ``seed`` and the account index (and from per-resource numpy seeds drawn from them),
never from global state or the clock. Account ``k`` depends only on ``(seed, k, days, end)``, so a small estate
is a prefix of a large one with the same seed. Providers rotate AWS, Azure, GCP by account index.
The window is the ``days`` whole UTC days before ``end`` (exclusive).
"""

from __future__ import annotations

import random
from datetime import date, timedelta

from cloudoptima.clouds.sandbox import catalog, ids
from cloudoptima.clouds.sandbox.anomalies import plant_anomalies
from cloudoptima.clouds.sandbox.billing import day_start
from cloudoptima.clouds.sandbox.builder import AccountBuilder
from cloudoptima.clouds.sandbox.commitments import commitment_items
from cloudoptima.clouds.sandbox.database_waste import plant_databases
from cloudoptima.clouds.sandbox.estate import BillingSegment, Estate, EstateSpec, UsageProfile
from cloudoptima.clouds.sandbox.fleet import build_fleet
from cloudoptima.clouds.sandbox.iam import build_principals
from cloudoptima.clouds.sandbox.manifest import LookAlike, Manifest, PlantedAnomaly, WasteItem
from cloudoptima.clouds.sandbox.waste import plant
from cloudoptima.domain.inventory import CloudAccount, CloudProvider, Principal, Resource

DEFAULT_SEED = 42
DEFAULT_ACCOUNTS = 6
DEFAULT_DAYS = 120
DEFAULT_END = date(2026, 1, 1)
"""The demo window ends (exclusive) on this fixed date; callers pass their own for other windows."""

PROVIDER_ROTATION = (CloudProvider.AWS, CloudProvider.AZURE, CloudProvider.GCP)
_PURPOSES = ("core-prod", "data-platform", "web-prod", "ml-research", "shared-services", "internal-tools")
_BILLING_NAMES = {
    CloudProvider.AWS: "Example Corp AWS Organization",
    CloudProvider.AZURE: "Example Corp Billing Profile",
    CloudProvider.GCP: "Example Corp GCP Billing",
}


def _account(seed: int, index: int, billing: dict[CloudProvider, str], end: date) -> CloudAccount:
    provider = PROVIDER_ROTATION[index % len(PROVIDER_ROTATION)]
    rng = random.Random(f"{seed}/account-id/{index}")
    purpose = _PURPOSES[(index // len(PROVIDER_ROTATION)) % len(_PURPOSES)]
    slug = f"{purpose}-{index + 1:03d}"
    region_rng = random.Random(f"{seed}/regions/{index}")
    return CloudAccount(
        account_id=ids.account_id(provider, rng, slug),
        provider=provider,
        name=slug,
        billing_account_id=billing[provider],
        billing_account_name=_BILLING_NAMES[provider],
        regions=tuple(region_rng.sample(catalog.regions(provider), 2)),
        created_at=day_start(end) - timedelta(days=rng.randint(900, 2000)),
    )


def generate_estate(
    seed: int = DEFAULT_SEED,
    accounts: int = DEFAULT_ACCOUNTS,
    days: int = DEFAULT_DAYS,
    end: date = DEFAULT_END,
) -> Estate:
    """Generate ``accounts`` accounts over the ``days`` days before ``end`` with planted waste and anomalies."""
    spec = EstateSpec(seed=seed, accounts=accounts, days=days, end=end)
    billing_rng = random.Random(f"{seed}/billing")
    billing = {provider: ids.billing_account_id(provider, billing_rng) for provider in PROVIDER_ROTATION}
    window_start, window_end = day_start(spec.start), day_start(end)
    all_accounts: list[CloudAccount] = []
    resources: list[Resource] = []
    segments: dict[str, tuple[BillingSegment, ...]] = {}
    profiles: dict[str, UsageProfile] = {}
    principals: list[Principal] = []
    waste: list[WasteItem] = []
    look_alikes: list[LookAlike] = []
    anomalies: list[PlantedAnomaly] = []
    for index in range(accounts):
        account = _account(seed, index, billing, end)
        builder = AccountBuilder(account, random.Random(f"{seed}/estate/{index}"), window_start, window_end)
        regions = (account.regions[0], account.regions[1])
        prefix = f"acct{index + 1:03d}"
        fleet = build_fleet(builder, regions)
        plants = plant(builder, regions[0], prefix, fleet)
        planted_anomalies = plant_anomalies(builder, regions, fleet, prefix)
        excluded = [rid for item in plants.waste for rid in item.resource_ids]
        excluded += [rid for a in planted_anomalies for rid in a.root_cause.resource_ids]
        excluded += [rid for n in plants.look_alikes for rid in n.resource_ids]
        commitments = commitment_items(builder, excluded, prefix)
        databases = plant_databases(builder, regions[0], prefix, fleet, plants)
        waste += plants.waste + commitments + databases.waste
        look_alikes += plants.look_alikes + databases.look_alikes
        anomalies += planted_anomalies
        all_accounts.append(account)
        resources += builder.resources
        segments.update(builder.segments)
        profiles.update(builder.profiles)
        principals += build_principals(account, random.Random(f"{seed}/iam/{index}"), window_end)
    manifest = Manifest(
        seed=seed, waste=tuple(waste), should_not_flag=tuple(look_alikes), anomalies=tuple(anomalies)
    )
    return Estate(
        spec=spec,
        accounts=tuple(all_accounts),
        resources=tuple(resources),
        segments=segments,
        profiles=profiles,
        principals=tuple(principals),
        manifest=manifest,
    )
