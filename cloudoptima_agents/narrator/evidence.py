"""The evidence a recommendation narrative may use: the recommendation and its impact preview.

Contract: ``from_row`` (a stored ``recommendations`` row) and ``from_domain`` (an engine result, no database)
give the same :class:`RecommendationEvidence`; ``confidence_percent`` is computed here (one decimal) so the
narrative only copies values.
"""

from __future__ import annotations

from decimal import ROUND_HALF_EVEN, Decimal
from typing import Any

from pydantic import BaseModel, Field

from cloudoptima.domain.recommendations import Recommendation
from cloudoptima.storage.models import Recommendation as RecommendationRow


class Change(BaseModel):
    resource_id: str
    change_type: str
    before: dict[str, Any] = Field(default_factory=dict)
    after: dict[str, Any] = Field(default_factory=dict)


class RecommendationEvidence(BaseModel):
    recommendation_id: str
    title: str
    category: str
    rule_id: str | None = None
    provider: str | None = None
    account: str | None = None
    region: str | None = None
    risk_level: str
    confidence_percent: Decimal | None = None
    currency: str = "USD"
    savings_monthly: Decimal
    savings_annual: Decimal
    current_monthly: Decimal | None = None
    projected_monthly: Decimal | None = None
    resource_ids: list[str] = Field(default_factory=list)
    changes: list[Change] = Field(default_factory=list)
    risks: list[str] = Field(default_factory=list)
    rollback: str | None = None

    def summary(self) -> str:
        return (
            f"{self.category} recommendation {self.rule_id or ''} on {', '.join(self.resource_ids[:3])}: "
            f"saves {self.savings_monthly} {self.currency} a month, risk {self.risk_level}"
        )


def _percent(confidence: Any) -> Decimal | None:
    if confidence is None:
        return None
    return (Decimal(str(confidence)) * 100).quantize(Decimal("0.1"), rounding=ROUND_HALF_EVEN)


def _from(identifier: str, data: dict[str, Any]) -> RecommendationEvidence:
    preview = dict(data.get("impact_preview") or {})
    return RecommendationEvidence(
        recommendation_id=identifier,
        title=data["title"],
        category=str(data["category"]),
        rule_id=data.get("rule_id"),
        provider=data.get("provider"),
        account=data.get("account"),
        region=data.get("region"),
        risk_level=str(data["risk_level"]),
        confidence_percent=_percent(data.get("confidence")),
        savings_monthly=Decimal(str(data.get("savings_monthly") or 0)),
        savings_annual=Decimal(str(data.get("savings_annual") or 0)),
        current_monthly=preview.get("current_monthly"),
        projected_monthly=preview.get("projected_monthly"),
        resource_ids=list(data.get("resource_ids") or []),
        changes=[Change.model_validate(c) for c in preview.get("resource_changes") or []],
        risks=[str(r) for r in preview.get("risks") or []],
        rollback=preview.get("rollback"),
    )


def from_row(row: RecommendationRow) -> RecommendationEvidence:
    return _from(
        str(row.id),
        {
            "title": row.title,
            "category": row.category,
            "rule_id": row.rule_id,
            "provider": row.provider,
            "account": row.account_identifier,
            "region": row.region,
            "risk_level": row.risk_level,
            "confidence": row.confidence,
            "savings_monthly": row.estimated_savings_monthly,
            "savings_annual": row.estimated_savings_annual,
            "resource_ids": row.resource_ids,
            "impact_preview": row.impact_preview,
        },
    )


def from_domain(rec: Recommendation) -> RecommendationEvidence:
    data = rec.model_dump(mode="json")
    return _from(
        rec.fingerprint,
        {
            "title": rec.title,
            "category": rec.category.value,
            "rule_id": rec.rule_id,
            "provider": rec.provider.value,
            "account": rec.account_id,
            "region": rec.region,
            "risk_level": rec.risk_level.value,
            "confidence": rec.confidence,
            "savings_monthly": rec.estimated_savings_monthly,
            "savings_annual": rec.estimated_savings_annual,
            "resource_ids": list(rec.resource_ids),
            "impact_preview": data["impact_preview"],
        },
    )
