"""Waste findings for MCP and chat: the recommendation engine's active findings, by rule.

No tool judges waste on its own. ``compute_idle_instances``, ``compute_rightsizing_options``,
``storage_unattached_disks`` and ``storage_snapshots`` (orphaned) list the very recommendation rows that
``GET /v1/recommendations`` lists — with the organisation's rule profiles, do-not-optimize tags, network
checks, prices and dismissals applied once, in ``cloudoptima.analytics.recommendations`` — scoped by cloud
and account like every cloud tool, most saving first, with the recommendation id to act on.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from pydantic import BaseModel, Field

from cloudoptima.services.recommendations import RecommendationService
from cloudoptima.storage.models import Recommendation
from cloudoptima_tools.context import ToolContext
from cloudoptima_tools.spec import CloudScope, PagedOutput, PageInput, decode_cursor, page_of

SOURCE = "active findings of the recommendation engine (the rows GET /v1/recommendations lists)"


class FindingsInput(CloudScope, PageInput):
    """Which cloud and account, and the page."""


class Finding(BaseModel):
    recommendation_id: str = Field(
        description="Act on it with recommendation_impact_preview / request_remediation."
    )
    rule_id: str | None
    profile: str | None = Field(description="The rule profile that judged it (thresholds and their source).")
    title: str
    reason: str | None = Field(description="Why: the measured numbers against the profile's thresholds.")
    resource_ids: list[str]
    provider: str | None
    account: str | None
    region: str | None
    risk_level: str
    confidence: Decimal | None
    monthly_savings_usd: Decimal | None
    actions: list[str] = Field(description="Provider action kinds a remediation would run.")
    evidence: dict[str, Any] = Field(description="The summaries and parameters the rule judged on.")


class FindingsOutput(PagedOutput):
    items: list[Finding]
    monthly_savings_total_usd: Decimal = Field(description="All matching findings, every page.")
    source: str = SOURCE


def _finding(row: Recommendation) -> Finding:
    return Finding(
        recommendation_id=str(row.id),
        rule_id=row.rule_id,
        profile=row.profile,
        title=row.title,
        reason=row.description,
        resource_ids=list(row.resource_ids or [])[:20],
        provider=row.provider,
        account=row.account_identifier,
        region=row.region,
        risk_level=row.risk_level,
        confidence=row.confidence,
        monthly_savings_usd=row.estimated_savings_monthly,
        actions=[str(a.get("type")) for a in row.actions or []],
        evidence=dict(row.evidence or {}),
    )


def findings(ctx: ToolContext, params: FindingsInput, rules: tuple[str, ...]) -> FindingsOutput:
    """The active findings of ``rules`` in the caller's scope, most saving first, paged."""
    offset = decode_cursor(params)
    with ctx.read_session() as session:
        rows = RecommendationService(
            session, ctx.organization_id, ctx.price_catalog(session), now=ctx.now
        ).list(rule_ids=rules, sort_by="savings", limit=100_000)
    rows = [
        r
        for r in rows
        if (params.provider is None or r.provider == params.provider)
        and (params.account is None or r.account_identifier == params.account)
    ]
    page, cursor = page_of(params, rows[offset : offset + params.limit + 1], len(rows), offset)
    items = [_finding(r) for r in page]
    return FindingsOutput(
        items=items,
        returned=len(items),
        total=len(rows),
        next_cursor=cursor,
        monthly_savings_total_usd=savings_total(rows),
    )


def savings_total(rows: list[Recommendation]) -> Decimal:
    """Monthly savings of every row (all pages), in cents."""
    return sum((r.estimated_savings_monthly or Decimal(0) for r in rows), Decimal("0.00"))
