"""Recommendations of an organisation: run the rule engine over the stored inventory and keep their lifecycle.

Contract (``RecommendationService.run``):
- Input: the organisation's ``resources`` rows that are not deleted, rebuilt as domain resources with their
  utilisation summaries (``resources.metrics``), a :class:`PriceCatalog`, and the scopes of anomalies no
  user has labelled ``no`` / ``planned_activity`` or ignored (commitments skip what those launched).
- Dedupe by fingerprint (rule + resource ids + actions): a finding seen before updates its row (savings,
  evidence, preview, ``last_seen_at``) instead of adding one.
- Active (or scheduled) recommendations not found again are ``expired``; expired or completed ones found
  again become ``active``; ``applied`` ones (an execution is changing the cloud) are left as they are.
  Dismissed ones stay dismissed: for good when ``permanent``, else until ``SNOOZE_DAYS`` after the
  dismissal. ``accepted`` and ``snoozed`` ones found again are left as they are; snoozes that ran out are woken
  first (``cloudoptima.services.recommendation_lifecycle``); ``snoozed`` ones not found again expire,
  ``accepted`` ones are left (the hook for "applied by hand"). ``false_positive`` ones stay so, and a new
  finding of the same rule on the same resources as one is not created (counted as ``suppressed``).
- Savings of findings that stop or remove a whole resource are what it was billed over the last 30 days
  where the collected costs say (``cloudoptima.services.billed_costs``), else list prices from ``prices``.
- ``expires_at`` of a live recommendation is ``TTL_DAYS`` after it was last seen (runs refresh it).
Rows that cannot be rebuilt as domain resources (unknown shapes) are skipped and counted.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

from pydantic import ValidationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from cloudoptima.analytics.recommendations import AnomalyScope, RuleSettings, generate_recommendations
from cloudoptima.analytics.recommendations.context import cause_scopes
from cloudoptima.domain.inventory import Resource
from cloudoptima.domain.recommendations import PriceCatalog, Recommendation, RecommendationStatus, RiskLevel
from cloudoptima.observability.metrics import RECOMMENDATIONS, record_outcomes
from cloudoptima.services.audit import current_actor
from cloudoptima.services.billed_costs import billed_last_30_days
from cloudoptima.services.owned_commitments import (
    owned_compute_hourly,
    owned_cud,
    owned_instance_units,
    owned_plan_hourly,
)
from cloudoptima.services.recommendation_lifecycle import RecommendationLifecycle
from cloudoptima.services.rule_feedback import apply_feedback, rule_feedback
from cloudoptima.storage.models import Anomaly, ResourceDocument
from cloudoptima.storage.models import Recommendation as RecommendationRow
from cloudoptima.storage.tenancy import TenantRepository

SNOOZE_DAYS = 30
TTL_DAYS = 7
_EXTRA_KEYS = ("account_id", "service_name", "sku_id", "launched_at", "stopped_at", "deleted_at")
_RISK_ORDER = {RiskLevel.LOW.value: 0, RiskLevel.MEDIUM.value: 1, RiskLevel.HIGH.value: 2}
_LIVE = frozenset(
    {
        RecommendationStatus.ACTIVE.value,
        RecommendationStatus.SCHEDULED.value,
        RecommendationStatus.APPLIED.value,
        RecommendationStatus.ACCEPTED.value,
        RecommendationStatus.SNOOZED.value,
    }
)
"""Statuses a run that finds the recommendation again leaves as they are."""
_EXPIRING = frozenset(
    {
        RecommendationStatus.ACTIVE.value,
        RecommendationStatus.SCHEDULED.value,
        RecommendationStatus.SNOOZED.value,
    }
)
"""Statuses a run that does not find the recommendation again makes ``expired``."""


class _Repository(TenantRepository[RecommendationRow]):
    model = RecommendationRow


@dataclass
class RecommendationRunReport:
    """What one run did."""

    recommendations: list[Recommendation] = field(default_factory=list)
    created: int = 0
    created_ids: list[uuid.UUID] = field(default_factory=list)
    """The rows first created by this run (what ``recommendation.created`` notifies about)."""
    updated: int = 0
    reactivated: int = 0
    expired: int = 0
    kept_dismissed: int = 0
    skipped_resources: int = 0
    woken: int = 0
    """Snoozed recommendations whose snooze ran out (made ``active`` before the run)."""
    kept_false_positive: int = 0
    suppressed: int = 0
    """New findings not created: the same rule on the same resources was marked false positive."""


def resource_from_document(doc: ResourceDocument) -> Resource:
    """The domain resource a ``resources`` row was written from (``ValidationError`` if it cannot be)."""
    configuration = dict(doc.configuration or {})
    extra = {key: configuration.pop(key, None) for key in _EXTRA_KEYS}
    return Resource.model_validate(
        {
            "resource_id": doc.resource_id,
            "name": doc.resource_name or doc.resource_id,
            "kind": doc.resource_type,
            "provider": doc.provider,
            "account_id": extra["account_id"] or "",
            "region": doc.region or "",
            "service_name": extra["service_name"] or "",
            "sku_id": extra["sku_id"] or "",
            "attributes": configuration,
            "tags": {str(k): str(v) for k, v in (doc.tags or {}).items()},
            "monthly_cost": doc.cost_monthly or Decimal(0),
            "state": doc.status or "running",
            "created_at": doc.created_at,
            "launched_at": extra["launched_at"],
            "stopped_at": extra["stopped_at"],
            "deleted_at": extra["deleted_at"],
        }
    )


def _anomaly_scopes(rows: Sequence[Anomaly]) -> list[AnomalyScope]:
    scopes = []
    for row in rows:
        impact = row.impact_amount
        if row.start_date is None or row.end_date is None or impact is None or impact <= 0:
            continue
        causes = [
            (c["dimensions"], float(Decimal(c["contribution"]) / impact)) for c in row.contributions or []
        ]
        scopes += cause_scopes(row.start_date, row.end_date, causes)
    return scopes


class RecommendationService:
    """Recommendations of one organisation over one session (the caller commits)."""

    def __init__(
        self,
        session: Session,
        organization_id: uuid.UUID,
        prices: PriceCatalog,
        *,
        settings: RuleSettings | None = None,
        now: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self._session = session
        self._org = organization_id
        self._repo = _Repository(session, organization_id)
        self._prices = prices
        self._settings = settings or RuleSettings()
        self._now = now

    def inventory(self) -> tuple[list[Resource], dict[str, Any], int]:
        """Live resources, their utilisation summaries and how many rows could not be rebuilt."""
        docs = self._session.scalars(
            select(ResourceDocument).where(
                ResourceDocument.organization_id == self._org, ResourceDocument.status != "deleted"
            )
        ).all()
        resources, metrics, skipped = [], {}, 0
        for doc in docs:
            try:
                resources.append(resource_from_document(doc))
            except ValidationError:
                skipped += 1
                continue
            metrics[doc.resource_id] = doc.metrics or {}
        return resources, metrics, skipped

    def anomaly_scopes(self) -> list[AnomalyScope]:
        """Scopes of anomalies nobody has confirmed as expected (see module contract)."""
        rows = self._session.scalars(
            select(Anomaly).where(
                Anomaly.organization_id == self._org,
                Anomaly.status != "ignored",
                Anomaly.feedback.is_(None) | Anomaly.feedback.not_in(("no", "planned_activity")),
            )
        ).all()
        return _anomaly_scopes(rows)

    def run(self, as_of: datetime | None = None) -> RecommendationRunReport:
        """Generate, dedupe, expire and persist (see module contract)."""
        now = self._now()
        lifecycle = RecommendationLifecycle(self._session, self._org, now=self._now)
        woken = lifecycle.wake_snoozed()
        false_positives = lifecycle.false_positive_keys()
        resources, metrics, skipped = self.inventory()
        found = generate_recommendations(
            resources,
            metrics,
            self._prices,
            as_of=as_of or now,
            settings=self._settings,
            anomaly_scopes=self.anomaly_scopes(),
            billed_monthly=billed_last_30_days(self._session, self._org, as_of or now, resources),
            owned_units=owned_instance_units(self._session, self._org, as_of or now),
            owned_plan_hourly=owned_plan_hourly(self._session, self._org, as_of or now),
            owned_cud=owned_cud(self._session, self._org, as_of or now),
            owned_compute_hourly=owned_compute_hourly(self._session, self._org, as_of or now),
        )
        found = apply_feedback(found, rule_feedback(self._session, self._org))
        report = RecommendationRunReport(recommendations=found, skipped_resources=skipped, woken=woken)
        existing = {row.fingerprint: row for row in self._session.scalars(self._repo.query())}
        for rec in found:
            row = existing.pop(rec.fingerprint, None)
            if row is None and (rec.rule_id, tuple(sorted(rec.resource_ids))) in false_positives:
                report.suppressed += 1
                continue
            if row is None:
                row = RecommendationRow(
                    fingerprint=rec.fingerprint, status=RecommendationStatus.ACTIVE.value, created_at=now
                )
                self._write(row, rec, now)
                self._repo.add(row)
                report.created += 1
                report.created_ids.append(row.id)
                continue
            self._write(row, rec, now)
            report.updated += 1
            if row.status == RecommendationStatus.FALSE_POSITIVE.value:
                report.kept_false_positive += 1
                continue
            if row.status == RecommendationStatus.DISMISSED.value:
                snoozed_until = (row.dismissed_at or now) + timedelta(days=SNOOZE_DAYS)
                if row.dismissed_permanently or now < snoozed_until:
                    report.kept_dismissed += 1
                    continue
                row.dismissed_at, row.dismissal_reason = None, None
            if row.status not in _LIVE:
                row.status = RecommendationStatus.ACTIVE.value
                report.reactivated += 1
        for row in existing.values():
            if row.status in _EXPIRING:
                row.status = RecommendationStatus.EXPIRED.value
                row.expires_at = now
                row.updated_at = now
                report.expired += 1
        self._session.flush()
        record_outcomes(
            RECOMMENDATIONS,
            {
                "created": report.created,
                "updated": report.updated,
                "reactivated": report.reactivated,
                "expired": report.expired,
                "suppressed": report.suppressed,
            },
        )
        return report

    @staticmethod
    def _write(row: RecommendationRow, rec: Recommendation, now: datetime) -> None:
        data = rec.model_dump(mode="json")
        row.rule_id, row.profile = rec.rule_id, rec.profile
        row.provider, row.account_identifier, row.region = rec.provider.value, rec.account_id, rec.region
        row.title, row.description = rec.title, rec.description
        row.category, row.risk_level = rec.category.value, rec.risk_level.value
        row.confidence = Decimal(str(rec.confidence))
        row.priority = rec.priority
        row.estimated_savings_monthly = rec.estimated_savings_monthly
        row.estimated_savings_annual = rec.estimated_savings_annual
        row.resource_ids = list(rec.resource_ids)
        row.affected_resources = data["affected_resources"]
        row.actions = data["actions"]
        row.manual_steps = data["manual_steps"]
        row.impact_analysis = data["impact_analysis"]
        row.impact_preview = data["impact_preview"]
        row.evidence = data["evidence"]
        row.last_seen_at = now
        row.updated_at = now
        row.expires_at = now + timedelta(days=TTL_DAYS)

    def list(
        self,
        *,
        status: RecommendationStatus | None = RecommendationStatus.ACTIVE,
        category: str | None = None,
        risk_level: str | None = None,
        min_savings: Decimal | None = None,
        rule_ids: Sequence[str] | None = None,
        sort_by: str = "priority",
        limit: int = 100,
        owner_user_id: uuid.UUID | None = None,
    ) -> list[RecommendationRow]:
        """Seed ``GET /recommendations`` filters (+ ``rule_ids``, ``owner_user_id`` of accepted ones);
        ``sort_by`` is priority, savings, age or risk."""
        query = self._repo.query()
        if owner_user_id is not None:
            query = query.where(RecommendationRow.owner_user_id == owner_user_id)
        if rule_ids is not None:
            query = query.where(RecommendationRow.rule_id.in_(list(rule_ids)))
        if status is not None:
            query = query.where(RecommendationRow.status == status.value)
        if category:
            query = query.where(RecommendationRow.category == category)
        if risk_level:
            query = query.where(RecommendationRow.risk_level == risk_level)
        if min_savings is not None:
            query = query.where(RecommendationRow.estimated_savings_monthly >= min_savings)
        rows = list(self._session.scalars(query))
        keys: dict[str, Callable[[RecommendationRow], Any]] = {
            "priority": lambda r: -(r.priority or 0),
            "savings": lambda r: -(r.estimated_savings_monthly or 0),
            "age": lambda r: r.created_at,
            "risk": lambda r: _RISK_ORDER.get(r.risk_level, 3),
        }
        if sort_by not in keys:
            raise ValueError(f"sort_by must be one of {', '.join(keys)}")
        rows.sort(key=lambda r: (keys[sort_by](r), r.fingerprint or ""))
        return rows[:limit]

    def get(self, recommendation_id: uuid.UUID) -> RecommendationRow:
        """One recommendation; ``LookupError`` when absent (or of another organisation)."""
        row = self._repo.get(recommendation_id)
        if row is None:
            raise LookupError(f"recommendation {recommendation_id} not found")
        return row

    def dismiss(self, recommendation_id: uuid.UUID, reason: str, *, permanent: bool) -> RecommendationRow:
        """Seed ``POST /recommendations/{id}/dismiss``: the lifecycle's ``dismiss`` as the current audit actor
        (``TransitionRefused`` from a status dismissing is not allowed from)."""
        lifecycle = RecommendationLifecycle(self._session, self._org, now=self._now)
        return lifecycle.dismiss(recommendation_id, reason, permanent=permanent, actor=current_actor())

    def impact_preview(self, recommendation_id: uuid.UUID) -> dict[str, Any]:
        """Seed ``GET /recommendations/{id}/impact-preview``."""
        row = self.get(recommendation_id)
        preview = dict(row.impact_preview or {})
        return {
            "cost_impact": {
                "current_monthly": preview.get("current_monthly"),
                "projected_monthly": preview.get("projected_monthly"),
                "savings": preview.get("savings"),
            },
            "resource_changes": preview.get("resource_changes", []),
            "risks": preview.get("risks", []),
            "rollback": preview.get("rollback"),
        }


def as_of_day(day: date) -> datetime:
    """Midnight UTC of ``day`` (the moment an inventory collected that day describes)."""
    return datetime(day.year, day.month, day.day, tzinfo=UTC)
