"""Event triggers' view of an organisation: its events read from what its tables say happened (anomalies,
recommendations, budget crossings, resources created or changed, refused collections), so a missed or
retried evaluation loses nothing."""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from cloudoptima.services.policy_triggers.model import Event, utc
from cloudoptima.storage.models import Anomaly, Budget, CloudAccount, Recommendation, ResourceDocument


def _text(value: Any) -> Any:
    return str(value) if isinstance(value, Decimal | uuid.UUID) else value


class EventReader:
    """The events of one organisation over one session."""

    def __init__(self, session: Session, organization_id: uuid.UUID) -> None:
        self._session = session
        self._org = organization_id

    def events(self, name: str, since: datetime) -> list[Event]:
        """The organisation's events of ``name`` at or after ``since`` (oldest first)."""
        reader = {
            "anomaly.detected": self._anomalies,
            "recommendation.created": self._recommendations,
            "budget.threshold_crossed": self._budget_crossings,
            "resource.created": self._resources_created,
            "resource.changed": self._resources_changed,
            "collection.failed": self._collection_failures,
        }.get(name)
        return sorted(reader(since), key=lambda e: (e.at, e.id)) if reader else []

    def _anomalies(self, since: datetime) -> Iterable[Event]:
        for row in self._session.scalars(
            select(Anomaly).where(Anomaly.organization_id == self._org, Anomaly.detected_at >= since)
        ):
            payload = {
                "id": str(row.id),
                "severity": row.severity,
                "kind": row.kind,
                "status": row.status,
                "service_name": row.service_name,
                "region": row.region,
                "cloud_account_id": _text(row.cloud_account_id),
                "impact_amount": _text(row.impact_amount),
                "deviation_percent": _text(row.deviation_percent),
            }
            yield Event("anomaly.detected", str(row.id), utc(row.detected_at), payload)

    def _recommendations(self, since: datetime) -> Iterable[Event]:
        for row in self._session.scalars(
            select(Recommendation).where(
                Recommendation.organization_id == self._org,
                Recommendation.created_at >= since,
                Recommendation.status == "active",
            )
        ):
            payload = {
                "id": str(row.id),
                "category": row.category,
                "rule_id": row.rule_id,
                "provider": row.provider,
                "region": row.region,
                "risk_level": row.risk_level,
                "estimated_savings_monthly": _text(row.estimated_savings_monthly),
                "resource_ids": list(row.resource_ids or []),
            }
            yield Event("recommendation.created", str(row.id), utc(row.created_at), payload)

    def _budget_crossings(self, since: datetime) -> Iterable[Event]:
        for row in self._session.scalars(select(Budget).where(Budget.organization_id == self._org)):
            state = dict(row.alert_state or {})
            period = str(state.get("period_start", ""))
            for key, at in dict(state.get("fired", {})).items():
                moment = utc(datetime.fromisoformat(str(at)))
                if moment < since:
                    continue
                kind, _, threshold = str(key).partition(":")
                payload = {
                    "budget_id": str(row.id),
                    "name": row.name,
                    "threshold": threshold,
                    "type": kind,
                    "period_start": period,
                }
                yield Event("budget.threshold_crossed", f"{row.id}:{period}:{key}", moment, payload)

    @staticmethod
    def _resource_payload(row: ResourceDocument) -> dict[str, Any]:
        return {
            "id": str(row.id),
            "resource_id": row.resource_id,
            "resource_type": row.resource_type,
            "provider": row.provider,
            "region": row.region,
            "status": row.status,
            "tags": dict(row.tags or {}),
        }

    def _resources_created(self, since: datetime) -> Iterable[Event]:
        for row in self._session.scalars(
            select(ResourceDocument).where(
                ResourceDocument.organization_id == self._org, ResourceDocument.first_seen >= since
            )
        ):
            yield Event("resource.created", str(row.id), utc(row.first_seen), self._resource_payload(row))

    def _resources_changed(self, since: datetime) -> Iterable[Event]:
        for row in self._session.scalars(
            select(ResourceDocument).where(
                ResourceDocument.organization_id == self._org,
                ResourceDocument.last_updated >= since,
                ResourceDocument.last_updated > ResourceDocument.first_seen,
            )
        ):
            at = utc(row.last_updated)
            yield Event("resource.changed", f"{row.id}:{at.isoformat()}", at, self._resource_payload(row))

    def _collection_failures(self, since: datetime) -> Iterable[Event]:
        for row in self._session.scalars(
            select(CloudAccount).where(
                CloudAccount.organization_id == self._org,
                CloudAccount.status == "error",
                CloudAccount.updated_at >= since,
            )
        ):
            at = utc(row.updated_at)
            payload = {
                "cloud_account_id": str(row.id),
                "provider": row.provider,
                "account": row.account_identifier,
                "reason": row.verification_error,
            }
            yield Event("collection.failed", f"{row.id}:{at.isoformat()}", at, payload)
