"""Assemble a :class:`~cloudoptima.domain.recommendations.Recommendation` from what a rule decided.

Contract: ``assemble`` rounds savings to cents, sets annual = 12 × monthly, computes the fingerprint and the
priority, and builds the impact preview (current monthly = Σ affected resources' current cost, projected =
current − savings, never below 0).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from cloudoptima.analytics.recommendations.context import RuleContext
from cloudoptima.domain.inventory import Resource
from cloudoptima.domain.prices import PriceKind, PriceSources
from cloudoptima.domain.recommendations import (
    AffectedResource,
    Category,
    ImpactAnalysis,
    ImpactPreview,
    Recommendation,
    RecommendationAction,
    ResourceChange,
    RiskLevel,
    fingerprint,
    money,
    priority,
)


@dataclass
class Finding:
    """Everything a rule decided about one opportunity (see ``assemble``)."""

    rule_id: str
    profile: str
    title: str
    description: str
    category: Category
    risk: RiskLevel
    confidence: float
    savings_monthly: Decimal
    resources: list[tuple[Resource, Decimal]]
    """Affected resources with their current monthly cost (from the price catalogue when it knows it)."""
    actions: list[RecommendationAction]
    impact: ImpactAnalysis
    changes: list[ResourceChange]
    risks: list[str]
    rollback: str
    manual_steps: list[str] = field(default_factory=list)
    evidence: dict[str, Any] = field(default_factory=dict)
    price_known: bool = True
    """False when no price of the resource is known: listed with a saving of 0 and "price unknown"."""


PRICE_CATALOGUE = "list price of the price catalogue (on-demand, 730 h/month)"
PRICE_INVENTORY = "the resource's own monthly cost as the cloud reported it"
PRICE_UNKNOWN = "price unknown"
PRICE_BILLED = "billed cost (last 30 days)"


def list_source(ctx: RuleContext, resource: Resource, kind: PriceKind, sku: str) -> str:
    """Who answers the list price of ``sku`` for ``resource``: the catalogue's own label when it can say
    (``"AWS Price List, fetched 2031-03-01"``, a built-in table), else :data:`PRICE_CATALOGUE`."""
    if isinstance(ctx.prices, PriceSources):
        label = ctx.prices.price_source(resource.provider, kind.value, resource.region, sku)
        if label:
            return label
    return PRICE_CATALOGUE


def whole_saving(
    ctx: RuleContext,
    resource: Resource,
    list_monthly: Decimal | None,
    kind: PriceKind,
    sku: str,
    share: Decimal = Decimal(1),
) -> tuple[Decimal, str]:
    """The monthly saving of stopping or removing all of ``resource`` and where it comes from: what the
    resource was billed over the last 30 days (:data:`PRICE_BILLED`), else ``list_monthly × share`` with its
    list source, else its own reported cost × share, else 0 with :data:`PRICE_UNKNOWN`."""
    billed = ctx.billed_monthly.get(resource.resource_id)
    if billed is not None and billed > 0:
        return billed, PRICE_BILLED
    if list_monthly is not None:
        return list_monthly * share, list_source(ctx, resource, kind, sku)
    if resource.monthly_cost > 0:
        return resource.monthly_cost * share, PRICE_INVENTORY
    return Decimal(0), PRICE_UNKNOWN


def action(kind: str, resource: Resource, description: str, **parameters: Any) -> RecommendationAction:
    """A provider action on ``resource``."""
    return RecommendationAction(
        type=kind, resource_id=resource.resource_id, description=description, parameters=parameters
    )


def assemble(finding: Finding) -> Recommendation:
    """The recommendation of a finding (see module contract)."""
    savings = money(finding.savings_monthly)
    current = money(sum((cost for _, cost in finding.resources), Decimal(0)))
    projected = max(Decimal("0.00"), current - savings)
    first = finding.resources[0][0]
    ids = [r.resource_id for r, _ in finding.resources]
    return Recommendation(
        fingerprint=fingerprint(finding.rule_id, ids, finding.actions),
        rule_id=finding.rule_id,
        profile=finding.profile,
        title=finding.title,
        description=finding.description,
        category=finding.category,
        risk_level=finding.risk,
        confidence=finding.confidence,
        estimated_savings_monthly=savings,
        estimated_savings_annual=savings * 12,
        priority=priority(savings, finding.confidence, finding.risk),
        provider=first.provider,
        account_id=first.account_id,
        region=first.region,
        affected_resources=[
            AffectedResource(id=r.resource_id, name=r.name, current_cost=money(cost))
            for r, cost in finding.resources
        ],
        actions=finding.actions,
        manual_steps=finding.manual_steps,
        impact_analysis=finding.impact,
        impact_preview=ImpactPreview(
            current_monthly=current,
            projected_monthly=projected,
            savings=savings,
            resource_changes=finding.changes,
            risks=finding.risks,
            rollback=finding.rollback,
        ),
        evidence=finding.evidence,
    )
