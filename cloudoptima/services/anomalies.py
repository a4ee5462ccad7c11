"""Cost anomaly incidents of an organisation: detect over ``cost_daily``, persist, and manage their lifecycle.

Contract:
- ``detect_incidents(frame)`` is the pure path the product and the evals share: a daily cost table with
  ``date, cost, account, service, region`` (and ``usage_type`` when the source has it) goes through
  ``detect_cost_anomalies`` on the levels total / account / service / region (+ usage type when any row
  has one).
- ``AnomalyService.run`` reads one currency of the organisation's ``cost_daily`` rollup, detects, and
  writes one ``anomalies`` row per incident. An incident found again (same fingerprint — scope and first
  day — or the same first day with an overlapping scope) updates its row: amounts, window, contributions,
  text; never the status or feedback a user set. New incidents start ``active``; an active incident whose
  last anomalous day is before the last day of data is ``resolved`` by the system (cost back to expected).
- Statuses: ``active``, ``resolved``, ``ignored``; feedback: ``yes``, ``no``, ``planned_activity`` (AWS
  Cost Anomaly Detection's labels). ``set_status``/``set_feedback`` are user actions and are kept.
- ``root_cause_text`` is one deterministic paragraph built only from the incident's numbers: the cells
  that explain the impact and, inside the top cell, the resources, usage types and tag values whose cost
  changed (``services.anomaly_drivers``: ranked by change, not by size, each with its share of the
  change). The same drivers are stored on the row (``drivers``; resource ids in ``affected_resources``).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from enum import StrEnum
from typing import Any

import pandas as pd
from sqlalchemy import select, text
from sqlalchemy.orm import Session

from cloudoptima.analytics.anomalies import AnomalyConfig, detect_cost_anomalies
from cloudoptima.domain.analytics import CostAnomaly
from cloudoptima.observability.metrics import ANOMALIES, record_outcomes
from cloudoptima.services.anomaly_drivers import (
    HIDDEN,
    Driver,
    Window,
    resource_drivers,
    tag_drivers,
    usage_type_drivers,
)
from cloudoptima.services.ingestion import rollup_tag_keys
from cloudoptima.storage.models import Anomaly, CloudAccount, Organization
from cloudoptima.storage.tenancy import TenantRepository

BASE_LEVELS: tuple[tuple[str, ...], ...] = ((), ("account",), ("service",), ("region",))
_NONE = "(none)"
_LABELS = {"account": "account", "service": "service", "region": "region", "usage_type": "usage type"}


class AnomalyStatus(StrEnum):
    ACTIVE = "active"
    RESOLVED = "resolved"
    IGNORED = "ignored"


class AnomalyFeedback(StrEnum):
    YES = "yes"
    NO = "no"
    PLANNED_ACTIVITY = "planned_activity"


def detect_incidents(frame: pd.DataFrame, *, config: AnomalyConfig | None = None) -> list[CostAnomaly]:
    """Incidents in a daily cost table (see module contract)."""
    data = frame if "usage_type" in frame.columns else frame.assign(usage_type=None)
    has_usage = bool(data["usage_type"].notna().any())
    levels = (*BASE_LEVELS, ("usage_type",)) if has_usage else BASE_LEVELS
    return detect_cost_anomalies(data, levels=levels, config=config)


def _cell(dimensions: dict[str, str]) -> str:
    parts = [f"{_LABELS.get(k, k)} {v}" for k, v in dimensions.items() if v not in (_NONE, "(other)")]
    return ", ".join(parts) if parts else "all other costs"


@dataclass(frozen=True)
class Drivers:
    """What changed inside an incident's top cell (see ``services.anomaly_drivers``)."""

    resources: list[Driver] = field(default_factory=list)
    usage_types: list[Driver] = field(default_factory=list)
    tags: list[Driver] = field(default_factory=list)

    def as_json(self) -> dict[str, Any]:
        def rows(items: list[Driver]) -> list[dict[str, Any]]:
            return [
                {
                    "key": d.key,
                    "label": d.label,
                    "actual": str(d.actual),
                    "expected": str(d.expected),
                    "change": str(d.change),
                    "share_percent": None if d.share_percent is None else str(d.share_percent),
                    "new": d.new,
                }
                for d in items
            ]

        return {
            "resources": rows(self.resources),
            "usage_types": rows(self.usage_types),
            "tags": rows(self.tags),
        }


def _signed(value: Decimal) -> str:
    return f"{'+' if value >= 0 else '-'}${abs(value):,}"


def _driver_text(items: list[Driver], new_word: bool) -> str:
    parts = []
    for d in items[:3]:
        share = f", {d.share_percent} % of the change" if d.share_percent is not None else ""
        new = "new, " if new_word and d.new else ""
        name = d.key.rstrip("/").rsplit("/", 1)[-1] or d.key  # the full id stays in the stored drivers
        parts.append(f"{name} ({new}{_signed(d.change)}{share})")
    return "; ".join(parts)


def root_cause_text(anomaly: CostAnomaly, drivers: Drivers | None = None) -> str:
    """One paragraph explaining the incident from its contributions and drivers (deterministic)."""
    scope = _cell(anomaly.scope) if anomaly.scope else "total spend"
    days = (
        f"on {anomaly.start_date}"
        if anomaly.start_date == anomaly.end_date
        else f"from {anomaly.start_date} to {anomaly.end_date}"
    )
    pct = f" ({anomaly.impact_pct:+.1f} %)" if anomaly.impact_pct is not None else " (no spend was expected)"
    sentences = [
        f"Spend for {scope} was ${anomaly.actual_spend:,} {days} against ${anomaly.expected_spend:,} expected: "
        f"{'+' if anomaly.impact >= 0 else '-'}${abs(anomaly.impact):,}{pct}."
    ]
    causes = [
        c for c in anomaly.root_causes if c.contribution != 0 and "(other)" not in c.dimensions.values()
    ]
    if causes and anomaly.impact != 0:
        ranked = [
            f"{_cell(c.dimensions)} ({'+' if c.contribution >= 0 else '-'}${abs(c.contribution):,}, "
            f"{float(c.contribution / anomaly.impact * 100):.0f} % of the change)"
            for c in causes[:3]
        ]
        sentences.append(f"The largest contributor was {ranked[0]}.")
        if len(ranked) > 1:
            sentences.append(f"Next came {' and '.join(ranked[1:])}.")
    if drivers is not None and drivers.resources:
        sentences.append(f"Resources whose cost changed: {_driver_text(drivers.resources, True)}.")
    if drivers is not None and drivers.usage_types:
        sentences.append(f"Usage types: {_driver_text(drivers.usage_types, False)}.")
    if drivers is not None and drivers.tags:
        sentences.append(f"Tags: {_driver_text(drivers.tags, False)}.")
    if anomaly.related_scopes:
        seen = "; ".join(_cell(s) if s else "total spend" for s in anomaly.related_scopes[:4])
        sentences.append(f"The same change shows in: {seen}.")
    return " ".join(sentences)


def top_cell(anomaly: CostAnomaly) -> dict[str, str]:
    """The incident's scope narrowed by its largest root cause (hidden values left out)."""
    cell = {k: v for k, v in anomaly.scope.items() if v not in HIDDEN}
    for cause in anomaly.root_causes:
        if cause.contribution != 0 and not set(cause.dimensions.values()) & set(HIDDEN):
            cell |= {k: v for k, v in cause.dimensions.items() if v not in HIDDEN}
            break
    return cell


def _money(value: Any) -> str:
    return str(value)


def _root_causes_json(anomaly: CostAnomaly) -> list[dict[str, Any]]:
    return [
        {
            "rank": rank,
            "dimensions": c.dimensions,
            "actual": _money(c.actual),
            "expected": _money(c.expected),
            "contribution": _money(c.contribution),
        }
        for rank, c in enumerate(anomaly.root_causes, start=1)
    ]


class _AnomalyRepository(TenantRepository[Anomaly]):
    model = Anomaly


@dataclass
class AnomalyRunReport:
    """What one detection run did."""

    incidents: list[CostAnomaly] = field(default_factory=list)
    created: int = 0
    created_ids: list[uuid.UUID] = field(default_factory=list)
    """The rows of the incidents first found by this run (what ``anomaly.detected`` notifies about)."""
    updated: int = 0
    resolved: int = 0


class AnomalyService:
    """Anomaly incidents of one organisation over one session (the caller commits)."""

    def __init__(
        self,
        session: Session,
        organization_id: uuid.UUID,
        *,
        now: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self._repo = _AnomalyRepository(session, organization_id)
        self._session = session
        self._org = organization_id
        self._now = now

    def daily_costs(self, start: date, end: date, currency: str = "USD") -> pd.DataFrame:
        """``cost_daily`` of ``[start, end)`` as the detection table (``date, cost, account, ...``)."""
        rows = self._session.execute(
            text(
                "SELECT usage_date, COALESCE(sub_account_id, billing_account_id, '(none)'), "
                "COALESCE(service_name, '(none)'), COALESCE(region_id, '(none)'), sum(billed_cost) "
                "FROM cost_daily WHERE organization_id = :org AND billing_currency = :currency "
                "AND usage_date >= :d0 AND usage_date < :d1 GROUP BY 1, 2, 3, 4 ORDER BY 1"
            ),
            {"org": self._org, "currency": currency.upper(), "d0": start, "d1": end},
        ).all()
        frame = pd.DataFrame(
            [(r[0], float(r[4]), r[1], r[2], r[3]) for r in rows],
            columns=["date", "cost", "account", "service", "region"],
        )
        return frame

    def run(
        self,
        start: date,
        end: date,
        *,
        currency: str = "USD",
        config: AnomalyConfig | None = None,
    ) -> AnomalyRunReport:
        """Detect incidents in ``[start, end)`` and persist them (see module contract)."""
        frame = self.daily_costs(start, end, currency)
        report = AnomalyRunReport()
        if frame.empty:
            return report
        last_day = max(frame["date"])
        report.incidents = detect_incidents(frame, config=config)
        existing = list(self._session.scalars(self._repo.query()))
        claimed: set[uuid.UUID] = set()
        accounts = self._account_ids()
        now = self._now()
        for incident in report.incidents:
            drivers = self.drivers(incident)
            row = self._match(incident, existing, claimed)
            if row is None:
                row = Anomaly(
                    status=AnomalyStatus.ACTIVE.value, detected_at=now, fingerprint=incident.anomaly_id
                )
                self._fill(row, incident, accounts, now, drivers)
                self._repo.add(row)
                existing.append(row)
                report.created += 1
                report.created_ids.append(row.id)
            else:
                self._fill(row, incident, accounts, now, drivers)
                report.updated += 1
            claimed.add(row.id)
            if (
                row.status == AnomalyStatus.ACTIVE
                and row.status_set_by != "user"
                and incident.end_date < last_day
            ):
                row.status = AnomalyStatus.RESOLVED.value
                row.resolved_at = now
                row.resolution_note = (
                    f"spend back within the expected range from {incident.end_date + timedelta(days=1)}"
                )
                report.resolved += 1
        self._session.flush()
        record_outcomes(
            ANOMALIES, {"created": report.created, "updated": report.updated, "resolved": report.resolved}
        )
        return report

    def drivers(self, incident: CostAnomaly) -> Drivers:
        """Resources, usage types and tag values whose cost changed in the incident's top cell."""
        window = Window(
            cell=top_cell(incident),
            start=incident.start_date,
            end=incident.end_date,
            impact=Decimal(str(incident.impact)),
        )
        connection = self._session.connection()
        settings = self._session.scalar(select(Organization.settings).where(Organization.id == self._org))
        return Drivers(
            resources=resource_drivers(connection, self._org, window, limit=10),
            usage_types=usage_type_drivers(connection, self._org, window),
            tags=tag_drivers(connection, self._org, window, rollup_tag_keys(settings or {})),
        )

    def _account_ids(self) -> dict[str, uuid.UUID]:
        rows = self._session.execute(
            select(CloudAccount.account_identifier, CloudAccount.id).where(
                CloudAccount.organization_id == self._org
            )
        ).all()
        return {str(identifier): account_id for identifier, account_id in rows}

    @staticmethod
    def _match(incident: CostAnomaly, existing: Sequence[Anomaly], claimed: set[uuid.UUID]) -> Anomaly | None:
        for row in existing:
            if row.fingerprint == incident.anomaly_id and row.id not in claimed:
                return row
        scopes = [incident.scope, *incident.related_scopes]
        for row in existing:
            if row.id in claimed or row.start_date != incident.start_date:
                continue
            known = [row.scope or {}, *(row.related_scopes or [])]
            if any(s in known for s in scopes):
                return row
        return None

    @staticmethod
    def _fill(
        row: Anomaly, incident: CostAnomaly, accounts: dict[str, uuid.UUID], now: datetime, drivers: Drivers
    ) -> None:
        unchanged = (
            row.root_cause is not None
            and row.end_date == incident.end_date
            and row.impact_amount is not None
            and _money(row.impact_amount) == _money(incident.impact)
        )
        top = incident.root_causes[0].dimensions if incident.root_causes else {}
        account = incident.scope.get("account") or top.get("account")
        row.scope = dict(incident.scope)
        row.related_scopes = [dict(s) for s in incident.related_scopes]
        row.start_date = incident.start_date
        row.end_date = incident.end_date
        row.service_name = incident.scope.get("service") or top.get("service")
        row.region = incident.scope.get("region") or top.get("region")
        row.cloud_account_id = accounts.get(account) if account else None
        row.severity = incident.severity.value
        row.kind = incident.kind
        row.actual_spend = incident.actual_spend
        row.expected_spend = incident.expected_spend
        row.impact_amount = incident.impact
        pct = incident.impact_pct
        row.deviation_percent = None if pct is None else Decimal(str(round(pct, 2)))
        row.score = incident.score
        if not (unchanged and (row.root_cause_source or "").startswith("agent")):
            # An agent's explanation stays while the incident's numbers are unchanged; otherwise the
            # deterministic text replaces it until the analysis step explains the incident again.
            row.root_cause = root_cause_text(incident, drivers)
            row.root_cause_source = "contributions"
        row.drivers = drivers.as_json()
        row.affected_resources = [d.key for d in drivers.resources]
        row.contributions = _root_causes_json(incident)
        row.dimension_contributions = [
            {"dimension": c.dimension, "value": c.value, "contribution": _money(c.contribution)}
            for c in incident.contributions
        ]
        row.last_seen_at = now

    def list(self, status: AnomalyStatus | None = None, *, limit: int = 100) -> Sequence[Anomaly]:
        """Incidents, newest first (optionally of one status)."""
        query = self._repo.query().order_by(Anomaly.start_date.desc(), Anomaly.impact_amount.desc())
        if status is not None:
            query = query.where(Anomaly.status == status.value)
        return self._session.scalars(query.limit(limit)).all()

    def get(self, anomaly_id: uuid.UUID) -> Anomaly:
        """One incident; ``LookupError`` when absent (or of another organisation)."""
        row = self._repo.get(anomaly_id)
        if row is None:
            raise LookupError(f"anomaly {anomaly_id} not found")
        return row

    def set_status(self, anomaly_id: uuid.UUID, status: AnomalyStatus, note: str | None = None) -> Anomaly:
        """A user sets the status; later runs keep it."""
        row = self.get(anomaly_id)
        row.status = AnomalyStatus(status).value
        row.status_set_by = "user"
        row.resolved_at = self._now() if status is AnomalyStatus.RESOLVED else None
        if note is not None:
            row.resolution_note = note
        self._session.flush()
        return row

    def set_feedback(self, anomaly_id: uuid.UUID, feedback: AnomalyFeedback) -> Anomaly:
        """A user labels the incident (yes / no / planned_activity); later runs keep it."""
        row = self.get(anomaly_id)
        row.feedback = AnomalyFeedback(feedback).value
        row.feedback_at = self._now()
        self._session.flush()
        return row
