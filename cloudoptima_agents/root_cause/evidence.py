"""The evidence a root-cause explanation may use, and how it is gathered.

Contract:
- :class:`AnomalyEvidence` holds only computed facts: the incident's window, amounts and ranked
  contributors (with each one's share of the impact, computed here), the resources and SKUs that were
  billed in the top contributor's cell during the window (with their first billed day, so new resources
  stand out), inventory changes in or just before the window, audit events naming who created or changed
  what, similar past incidents from semantic memory and matching runbook entries. A narrative may state
  nothing that is not in it (see :mod:`cloudoptima_agents.grounding`).
- ``from_row(row)`` builds the incident part from a stored ``anomalies`` row; ``from_incident(incident)``
  from a detector result (the same fields the service persists), so evals need no database.
- ``KernelEvidence(session, org)`` gathers the rest from the organisation's data: ``cost_data`` (resources
  and SKUs behind the top cell), ``resources`` (launches, stops, deletions within ``LOOKBACK_DAYS`` before the
  window) and ``audit_logs``. Every query is filtered by organisation.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime, time, timedelta
from decimal import ROUND_HALF_EVEN, Decimal
from typing import Any

from pydantic import BaseModel, Field
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from cloudoptima.domain.analytics import CostAnomaly
from cloudoptima.services.anomaly_drivers import Window, resource_drivers
from cloudoptima.storage.models import Anomaly, AuditLog, CostRow, ResourceDocument

LOOKBACK_DAYS = 3
MAX_RESOURCES = 6
_LABELS = {"account": "account", "service": "service", "region": "region", "usage_type": "usage type"}
_HIDDEN = ("(none)", "(other)")
_CELL_COLUMNS = {
    "account": "sub_account_id",
    "service": "service_name",
    "region": "region_id",
    "usage_type": "sku_meter",
}


def cell_label(dimensions: dict[str, str]) -> str:
    parts = [f"{_LABELS.get(k, k)} {v}" for k, v in dimensions.items() if v not in _HIDDEN]
    return ", ".join(parts) if parts else "total spend"


def _money(value: Any) -> Decimal:
    return Decimal(str(value)).quantize(Decimal("0.01"), rounding=ROUND_HALF_EVEN)


class Contributor(BaseModel):
    dimensions: dict[str, str]
    label: str
    actual: Decimal
    expected: Decimal
    contribution: Decimal
    share_percent: Decimal | None = None
    """contribution / impact × 100, one decimal."""


class BilledItem(BaseModel):
    """A resource of the top contributor's cell whose cost changed in the window (ranked by change)."""

    resource_id: str
    resource_name: str | None = None
    sku_id: str | None = None
    cost_in_window: Decimal
    change: Decimal | None = None
    """Cost in the window minus its baseline (``services.anomaly_drivers``)."""
    share_percent: Decimal | None = None
    """change / impact × 100."""
    first_billed_day: date | None = None
    new_in_window: bool = False


class TagChange(BaseModel):
    """A ``key=value`` tag of the top cell whose cost changed in the window."""

    tag: str
    change: Decimal
    share_percent: Decimal | None = None


class InventoryChange(BaseModel):
    resource_id: str
    resource_name: str | None = None
    resource_type: str
    change: str
    day: date
    monthly_cost: Decimal | None = None
    tags: dict[str, str] = Field(default_factory=dict)


class AuditFact(BaseModel):
    day: date
    principal: str
    action: str
    resource_id: str | None = None
    result: str


class SimilarIncident(BaseModel):
    ref_id: str
    summary: str
    similarity: float


class RunbookRef(BaseModel):
    slug: str
    title: str


class AnomalyEvidence(BaseModel):
    anomaly_id: str
    scope: dict[str, str] = Field(default_factory=dict)
    scope_label: str
    start_date: date
    end_date: date
    days: int
    severity: str
    currency: str = "USD"
    actual_spend: Decimal
    expected_spend: Decimal
    impact: Decimal
    deviation_percent: Decimal | None = None
    contributors: list[Contributor] = Field(default_factory=list)
    related_scopes: list[str] = Field(default_factory=list)
    billed_items: list[BilledItem] = Field(default_factory=list)
    tag_changes: list[TagChange] = Field(default_factory=list)
    inventory_changes: list[InventoryChange] = Field(default_factory=list)
    audit_events: list[AuditFact] = Field(default_factory=list)
    similar: list[SimilarIncident] = Field(default_factory=list)
    runbooks: list[RunbookRef] = Field(default_factory=list)

    def top_cell(self) -> dict[str, str]:
        for contributor in self.contributors:
            if contributor.contribution != 0 and not set(contributor.dimensions.values()) & set(_HIDDEN):
                return contributor.dimensions
        return dict(self.scope)

    def summary(self) -> str:
        """One line used to index and recall the incident in semantic memory."""
        top = self.contributors[0].label if self.contributors else self.scope_label
        return (
            f"{self.severity} cost anomaly in {self.scope_label} from {self.start_date} to {self.end_date}: "
            f"impact {self.impact} {self.currency}, largest contributor {top}"
        )


def _contributors(raw: list[dict[str, Any]], impact: Decimal) -> list[Contributor]:
    out = []
    for item in raw:
        contribution = _money(item["contribution"])
        share = (
            (contribution / impact * 100).quantize(Decimal("0.1"), rounding=ROUND_HALF_EVEN)
            if impact != 0
            else None
        )
        dims = {str(k): str(v) for k, v in dict(item["dimensions"]).items()}
        out.append(
            Contributor(
                dimensions=dims,
                label=cell_label(dims) if not set(dims.values()) & {"(other)"} else "all other costs",
                actual=_money(item["actual"]),
                expected=_money(item["expected"]),
                contribution=contribution,
                share_percent=share,
            )
        )
    return out


def _base(
    anomaly_id: str,
    scope: dict[str, str],
    related: list[dict[str, str]],
    start: date,
    end: date,
    severity: str,
    actual: Any,
    expected: Any,
    impact: Any,
    pct: Any,
    contributions: list[dict[str, Any]],
) -> AnomalyEvidence:
    impact_d = _money(impact)
    return AnomalyEvidence(
        anomaly_id=anomaly_id,
        scope=scope,
        scope_label=cell_label(scope),
        start_date=start,
        end_date=end,
        days=(end - start).days + 1,
        severity=severity,
        actual_spend=_money(actual),
        expected_spend=_money(expected),
        impact=impact_d,
        deviation_percent=None if pct is None else Decimal(str(pct)).quantize(Decimal("0.1")),
        contributors=_contributors(contributions, impact_d),
        related_scopes=[cell_label(s) for s in related[:4]],
    )


def from_row(row: Anomaly) -> AnomalyEvidence:
    """The incident part of the evidence from a stored anomaly (with its stored tag drivers)."""
    if row.start_date is None or row.end_date is None:
        raise ValueError(f"anomaly {row.id} has no window")
    evidence = _base(
        str(row.id),
        dict(row.scope or {}),
        list(row.related_scopes or []),
        row.start_date,
        row.end_date,
        row.severity,
        row.actual_spend or 0,
        row.expected_spend or 0,
        row.impact_amount or 0,
        row.deviation_percent,
        list(row.contributions or []),
    )
    evidence.tag_changes = [
        TagChange(
            tag=str(t["key"]),
            change=_money(t["change"]),
            share_percent=None if t.get("share_percent") is None else Decimal(str(t["share_percent"])),
        )
        for t in (row.drivers or {}).get("tags", [])
    ]
    return evidence


def from_incident(incident: CostAnomaly) -> AnomalyEvidence:
    """The incident part of the evidence from a detector result (no database)."""
    return _base(
        incident.anomaly_id,
        dict(incident.scope),
        [dict(s) for s in incident.related_scopes],
        incident.start_date,
        incident.end_date,
        incident.severity.value,
        incident.actual_spend,
        incident.expected_spend,
        incident.impact,
        None if incident.impact_pct is None else round(incident.impact_pct, 1),
        [
            {
                "dimensions": c.dimensions,
                "actual": c.actual,
                "expected": c.expected,
                "contribution": c.contribution,
            }
            for c in incident.root_causes
        ],
    )


def _midnight(day: date) -> datetime:
    from datetime import UTC

    return datetime.combine(day, time.min, tzinfo=UTC)


class KernelEvidence:
    """Gathers billed items, inventory changes and audit events of one organisation (see module contract)."""

    def __init__(self, session: Session, organization_id: uuid.UUID) -> None:
        self._session = session
        self._org = organization_id

    def anomaly(self, anomaly_id: uuid.UUID) -> AnomalyEvidence:
        row = self._session.scalars(
            select(Anomaly).where(Anomaly.organization_id == self._org, Anomaly.id == anomaly_id)
        ).first()
        if row is None:
            raise LookupError(f"anomaly {anomaly_id} not found")
        return from_row(row)

    def billed_items(self, evidence: AnomalyEvidence) -> list[BilledItem]:
        """Resources of the top cell whose cost moved with the impact, largest change first (not the
        biggest spenders: a long-running resource billed the same every day explains nothing)."""
        window = Window(
            cell=evidence.top_cell(), start=evidence.start_date, end=evidence.end_date, impact=evidence.impact
        )
        drivers = resource_drivers(self._session.connection(), self._org, window, limit=MAX_RESOURCES)
        ids = [d.key for d in drivers]
        first = dict(
            self._session.execute(
                select(CostRow.resource_id, func.min(CostRow.charge_period_start))
                .where(CostRow.organization_id == self._org, CostRow.resource_id.in_(ids))
                .group_by(CostRow.resource_id)
            ).all()
        )
        skus = dict(
            self._session.execute(
                select(CostRow.resource_id, func.max(CostRow.sku_id))
                .where(CostRow.organization_id == self._org, CostRow.resource_id.in_(ids))
                .group_by(CostRow.resource_id)
            ).all()
        )
        items = []
        for driver in drivers:
            began = first.get(driver.key)
            day = began.date() if isinstance(began, datetime) else None
            items.append(
                BilledItem(
                    resource_id=driver.key,
                    resource_name=driver.label,
                    sku_id=skus.get(driver.key),
                    cost_in_window=driver.actual,
                    change=driver.change,
                    share_percent=driver.share_percent,
                    first_billed_day=day,
                    new_in_window=driver.new or (day is not None and day >= evidence.start_date),
                )
            )
        return items

    def inventory_changes(self, evidence: AnomalyEvidence, resource_ids: list[str]) -> list[InventoryChange]:
        since = evidence.start_date - timedelta(days=LOOKBACK_DAYS)
        until = evidence.end_date + timedelta(days=1)
        docs = self._session.scalars(
            select(ResourceDocument).where(
                ResourceDocument.organization_id == self._org,
                ResourceDocument.resource_id.in_(resource_ids),
            )
        ).all()
        changes = []
        for doc in docs:
            config = doc.configuration or {}
            for change, key in (
                ("launched", "launched_at"),
                ("stopped", "stopped_at"),
                ("deleted", "deleted_at"),
            ):
                raw = config.get(key)
                if not raw:
                    continue
                day = datetime.fromisoformat(str(raw)).date()
                if since <= day < until:
                    changes.append(
                        InventoryChange(
                            resource_id=doc.resource_id,
                            resource_name=doc.resource_name,
                            resource_type=doc.resource_type,
                            change=change,
                            day=day,
                            monthly_cost=None if doc.cost_monthly is None else _money(doc.cost_monthly),
                            tags={str(k): str(v) for k, v in (doc.tags or {}).items()},
                        )
                    )
        return sorted(changes, key=lambda c: (c.day, c.resource_id))

    def audit_events(self, evidence: AnomalyEvidence, resource_ids: list[str]) -> list[AuditFact]:
        since = _midnight(evidence.start_date - timedelta(days=LOOKBACK_DAYS))
        until = _midnight(evidence.end_date + timedelta(days=1))
        rows = self._session.scalars(
            select(AuditLog)
            .where(
                AuditLog.organization_id == self._org,
                AuditLog.timestamp >= since,
                AuditLog.timestamp < until,
                AuditLog.resource_id.in_(resource_ids),
            )
            .order_by(AuditLog.timestamp)
            .limit(20)
        ).all()
        return [
            AuditFact(
                day=row.timestamp.date(),
                principal=str((row.details or {}).get("principal") or row.user_id or "unknown"),
                action=row.action,
                resource_id=row.resource_id,
                result=row.result,
            )
            for row in rows
        ]
