"""The recommendation engine: run every rule over an inventory and return prioritised, deduplicated findings.

Contract (``generate_recommendations``):
- Pure: the result depends only on the arguments (no clock, no I/O); ``as_of`` is the inventory's moment.
- Rules run in a fixed order — idle VMs, stopped VMs, rightsizing, idle databases, database rightsizing,
  unattached disks, orphaned snapshots, unassociated IPs, idle load balancers, storage tiering, commitment
  coverage — and a resource covered by one finding is not judged by later rules (an idle VM is stopped, not
  resized, and never committed to; an idle database is not resized).
- Findings with no saving are dropped; findings with the same fingerprint are reported once.
- Sorted by priority (savings × confidence / risk weight), highest first, then by fingerprint.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import datetime
from decimal import Decimal

from cloudoptima.analytics.recommendations.build import Finding, assemble
from cloudoptima.analytics.recommendations.commitments import commitment_coverage
from cloudoptima.analytics.recommendations.compute import idle_vms, rightsizing, stopped_vms
from cloudoptima.analytics.recommendations.context import AnomalyScope, ResourceSummary, RuleContext
from cloudoptima.analytics.recommendations.database import idle_databases, rightsize_databases
from cloudoptima.analytics.recommendations.network import idle_load_balancers, unassociated_ips
from cloudoptima.analytics.recommendations.profiles import RuleSettings
from cloudoptima.analytics.recommendations.storage import (
    orphaned_snapshots,
    storage_tiering,
    unattached_disks,
)
from cloudoptima.domain.inventory import Resource
from cloudoptima.domain.recommendations import PriceCatalog, Recommendation

Rule = Callable[[RuleContext], list[Finding]]

RULES: tuple[Rule, ...] = (
    idle_vms,
    stopped_vms,
    rightsizing,
    idle_databases,
    rightsize_databases,
    unattached_disks,
    orphaned_snapshots,
    unassociated_ips,
    idle_load_balancers,
    storage_tiering,
    commitment_coverage,
)


def generate_recommendations(
    resources: Iterable[Resource],
    utilisation: Mapping[str, ResourceSummary],
    prices: PriceCatalog,
    *,
    as_of: datetime,
    settings: RuleSettings | None = None,
    anomaly_scopes: Sequence[AnomalyScope] = (),
    billed_monthly: Mapping[str, Decimal] | None = None,
    owned_units: Mapping[tuple[str, str, str], Decimal] | None = None,
    owned_plan_hourly: Mapping[tuple[str, str, str], Decimal] | None = None,
    owned_cud: Mapping[tuple[str, str, str], tuple[int, int]] | None = None,
    owned_compute_hourly: Mapping[str, Decimal] | None = None,
) -> list[Recommendation]:
    """Recommendations for ``resources`` (see module contract)."""
    if as_of.tzinfo is None:
        raise ValueError("as_of must be timezone-aware (UTC)")
    context = RuleContext(
        as_of=as_of,
        resources={r.resource_id: r for r in resources},
        utilisation=utilisation,
        prices=prices,
        settings=settings or RuleSettings(),
        anomaly_scopes=anomaly_scopes,
        billed_monthly=billed_monthly or {},
        owned_units=owned_units or {},
        owned_plan_hourly=owned_plan_hourly or {},
        owned_cud=owned_cud or {},
        owned_compute_hourly=owned_compute_hourly or {},
    )
    found: dict[str, Recommendation] = {}
    for rule in RULES:
        for finding in rule(context):
            if finding.savings_monthly <= 0 and finding.price_known:
                continue
            recommendation = assemble(finding)
            context.claim(recommendation.resource_ids)
            found.setdefault(recommendation.fingerprint, recommendation)
    return sorted(found.values(), key=lambda r: (-r.priority, r.fingerprint))
