"""Network rules: unassociated public IPs and idle load balancers.

Contract (thresholds in ``profiles``):
- ``unassociated_ips``: an address associated with nothing, ≥ ``min_days`` old (default 0: on first sight,
  as Trusted Advisor; the Custodian profile waits 7 days) → ``release_ip``. Saving = the provider's price
  of an idle address (GCP charges more for an unused one). An address of unknown age is judged on first
  sight only when ``min_days`` is 0.
- ``idle_load_balancers``: ≥ ``min_days`` old and either no target that exists and runs, or — with at least
  ``min_days`` of request metrics — fewer than 100 requests a day → ``tag`` it as marked for deletion (the
  Custodian mark-for-op pattern); deleting a load balancer is not a provider action yet, so the deletion
  after the grace period is a manual step. Saving = the load balancer's monthly price, realised on deletion.
"""

from __future__ import annotations

from datetime import timedelta

from cloudoptima.analytics.recommendations.build import Finding, action, whole_saving
from cloudoptima.analytics.recommendations.context import RuleContext
from cloudoptima.analytics.recommendations.profiles import LB_DELETE_AFTER_DAYS, LB_MAX_REQUESTS_PER_DAY
from cloudoptima.domain.inventory import LoadBalancerAttributes, PublicIpAttributes, ResourceState
from cloudoptima.domain.prices import PriceKind
from cloudoptima.domain.recommendations import Category, ImpactAnalysis, ResourceChange, RiskLevel

MARK_TAG = "cloudoptima:marked-for-deletion"
LOAD_BALANCER_SKU = {"aws": "application", "azure": "standard", "gcp": "forwarding-rule"}
"""The load-balancer product whose fixed price ``PriceCatalog.load_balancer_monthly`` answers."""
_LIVE = (ResourceState.RUNNING, ResourceState.IN_USE)


def unassociated_ips(ctx: RuleContext) -> list[Finding]:
    """Public IPs associated with nothing → release (see module contract)."""
    profile = ctx.settings.unassociated_ip
    findings = []
    for ip in ctx.resources.values():
        attributes = ip.attributes
        if not isinstance(attributes, PublicIpAttributes) or attributes.associated_with is not None:
            continue
        days = ctx.age_days(ip.created_at)
        young = profile.min_days > 0 and days < profile.min_days
        if ip.state is ResourceState.DELETED or young or ctx.excluded(ip):
            continue
        if ip.resource_id in ctx.claimed:
            continue
        price = ctx.prices.public_ip_monthly(ip.provider, ip.region, associated=False)
        cost, price_source = whole_saving(ctx, ip, price, PriceKind.PUBLIC_IP, "idle")
        findings.append(
            Finding(
                rule_id="unassociated_ip",
                profile=profile.name,
                title=f"Release unassociated IP {attributes.address}",
                description=(
                    f"{ip.name} ({attributes.address}) is associated with nothing"
                    + (f" and is {days:.0f} days old. " if days >= 0 else ". ")
                    + f"{profile.source}."
                ),
                category=Category.NETWORK,
                risk=RiskLevel.MEDIUM,
                confidence=0.95,
                savings_monthly=cost,
                resources=[(ip, cost)],
                actions=[action("release_ip", ip, f"Release {attributes.address}")],
                impact=ImpactAnalysis(
                    performance_impact="none",
                    availability_impact="DNS records or allow-lists naming this address stop matching",
                    security_impact="removes an unused public entry point",
                ),
                changes=[
                    ResourceChange(
                        resource_id=ip.resource_id,
                        change_type="release",
                        before={"address": attributes.address},
                        after={"address": None},
                    )
                ],
                risks=["the same address cannot be reserved again once released"],
                rollback="none for the address itself; reserve a new one if needed",
                evidence={"age_days": round(days, 1), "price_source": price_source},
            )
        )
    return findings


def idle_load_balancers(ctx: RuleContext) -> list[Finding]:
    """Load balancers with no live target or almost no requests → mark for deletion (see module contract)."""
    profile = ctx.settings.idle_load_balancer
    findings = []
    for lb in ctx.resources.values():
        attributes = lb.attributes
        if not isinstance(attributes, LoadBalancerAttributes) or lb.state is ResourceState.DELETED:
            continue
        days = ctx.age_days(lb.created_at)
        if days < profile.min_days or ctx.excluded(lb) or lb.resource_id in ctx.claimed:
            continue
        live = [
            t for t in attributes.target_ids if (r := ctx.resources.get(t)) is not None and r.state in _LIVE
        ]
        requests = ctx.metric(lb.resource_id, "requests")
        per_day = requests["avg"] * 24 if requests is not None else None
        few_requests = (
            per_day is not None
            and ctx.enough(lb.resource_id, ("requests",), profile.min_days)
            and per_day < LB_MAX_REQUESTS_PER_DAY
        )
        if live and not few_requests:
            continue
        reason = "no running target" if not live else f"{per_day:.0f} requests/day"
        price = ctx.prices.load_balancer_monthly(lb.provider, lb.region)
        cost, price_source = whole_saving(
            ctx, lb, price, PriceKind.LOAD_BALANCER, LOAD_BALANCER_SKU.get(lb.provider.value, "")
        )
        delete_on = (ctx.as_of + timedelta(days=LB_DELETE_AFTER_DAYS)).date().isoformat()
        findings.append(
            Finding(
                rule_id="idle_load_balancer",
                profile=profile.name,
                title=f"Retire idle load balancer {lb.name}",
                description=f"{lb.name} has {reason} ({days:.0f} days old). {profile.source}.",
                category=Category.NETWORK,
                risk=RiskLevel.LOW,
                confidence=0.9 if not live else 0.8,
                savings_monthly=cost,
                resources=[(lb, cost)],
                actions=[
                    action(
                        "tag", lb, f"Mark {lb.name} for deletion on {delete_on}", tags={MARK_TAG: delete_on}
                    )
                ],
                manual_steps=[f"delete {lb.name} on or after {delete_on} unless its owner objects"],
                impact=ImpactAnalysis(
                    performance_impact="none",
                    availability_impact="clients still resolving its DNS name fail after deletion",
                    security_impact="removes an unused public endpoint",
                ),
                changes=[
                    ResourceChange(
                        resource_id=lb.resource_id, change_type="tag", before={}, after={MARK_TAG: delete_on}
                    )
                ],
                risks=["a standby or disaster-recovery endpoint may be idle by design"],
                rollback=f"remove the {MARK_TAG} tag (untag) before the deletion date",
                evidence={
                    "live_targets": len(live),
                    "requests_per_day": per_day,
                    "age_days": round(days, 1),
                    "price_source": price_source,
                },
            )
        )
    return findings
