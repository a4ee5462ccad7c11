"""Event and threshold triggers of an organisation's policies: find what fired, record each firing once.

Contract (:meth:`PolicyTriggerService.evaluate`, run after each collection and analysis):

- Only enabled policies with an ``event`` or ``threshold`` trigger are looked at.
- **Events** are read from what the organisation's tables say happened (so a missed or retried run loses
  nothing): ``anomaly.detected`` (anomalies by ``detected_at``), ``recommendation.created`` (active
  recommendations by ``created_at``), ``budget.threshold_crossed`` (each threshold in a budget's
  ``alert_state``, by the time it fired), ``resource.created`` (resources by ``first_seen``),
  ``resource.changed`` (resources whose name, status, region, tags or configuration changed, by
  ``last_updated``; a deletion is a change to ``deleted``), ``collection.failed`` (accounts whose credentials
  were refused, status ``error``, by ``updated_at``). An event counts for a policy when it happened at or
  after the later of the policy's creation and ``now - EVENT_LOOKBACK`` and every ``config.filters`` entry
  equals the event's payload field (:data:`cloudoptima.domain.policy_fields.EVENTS`). An event pushed by
  the caller (``pushed``) is evaluated too; its id is ``payload["id"]`` or a digest of the payload.
- **Thresholds** compare a metric over the ``window_days`` whole UTC days before ``today``
  (``[today - window_days, today)``) with ``operator`` and ``value``: ``daily_cost`` is the billed cost
  of each day (``cost_daily``, filtered, per currency; a day without rows costs 0); a usage metric
  (``cpu_percent`` …) is each resource's daily mean from the utilisation history (a resource lacking
  samples on any day of the window is not judged: no finding from absent data). ``aggregation``
  ``every_day`` (default) needs every day to compare true, ``average`` the window's mean. A cost threshold
  fires per currency; a usage threshold fires once for all the resources that crossed, and its execution
  acts on those resources only. A subject (a currency, a resource) that fired does not fire again for the
  same policy while its earlier window overlaps the current one: a breach that lasts fires once per window.
- Each firing is one ``policy_firings`` row (``storage.models.policy_firings``) inserted with
  ``ON CONFLICT DO NOTHING`` on ``(policy_id, fire_key)``: evaluating twice, concurrently or after a crash,
  fires an event once. A firing about resources (a usage threshold; a ``resource.*`` event; a
  recommendation's resources) carries their ids, and its execution acts on those of the policy's matches
  only. :meth:`evaluate` returns only the firings it inserted; the caller starts one
  policy execution per firing (``execution_id`` is decided here) and records its workflow with
  :meth:`attach`; :meth:`unstarted` lists the firings whose start was never recorded (started again by the
  next evaluation, idempotent by workflow id). The caller commits.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import select, text, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from cloudoptima.domain.policy_fields import COST_METRICS
from cloudoptima.services.policies import event_fires
from cloudoptima.storage.models import (
    Anomaly,
    Budget,
    CloudAccount,
    Policy,
    PolicyFiring,
    Recommendation,
    ResourceDocument,
)
from cloudoptima.storage.tenancy import TenantRepository

EVENT_LOOKBACK = timedelta(days=7)
"""Events older than this are not looked at (a policy created or re-enabled later does not fire on them)."""


@dataclass(frozen=True)
class Event:
    """Something that happened in the organisation, as event triggers see it."""

    name: str
    id: str
    at: datetime
    payload: dict[str, Any]


@dataclass(frozen=True)
class Firing:
    """One new firing: which policy, what fired it, and the execution it is to start."""

    id: uuid.UUID
    policy_id: uuid.UUID
    trigger_type: str
    execution_id: uuid.UUID
    event: str | None = None
    event_id: str | None = None
    metric: str | None = None
    observed: Decimal | None = None
    threshold: Decimal | None = None
    window_start: date | None = None
    window_end: date | None = None
    resource_ids: list[str] = field(default_factory=list)
    details: dict[str, Any] = field(default_factory=dict)

    def summary(self) -> dict[str, Any]:
        """JSON-friendly description (the ``policy_executions`` event's data)."""
        return {
            "firing_id": str(self.id),
            "policy_id": str(self.policy_id),
            "trigger": self.trigger_type,
            "execution_id": str(self.execution_id),
            "event": self.event,
            "event_id": self.event_id,
            "metric": self.metric,
            "observed": None if self.observed is None else str(self.observed),
            "threshold": None if self.threshold is None else str(self.threshold),
            "window_start": self.window_start.isoformat() if self.window_start else None,
            "window_end": self.window_end.isoformat() if self.window_end else None,
            "resource_ids": list(self.resource_ids),
        }


def _utc(value: datetime) -> datetime:
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def _text(value: Any) -> Any:
    return str(value) if isinstance(value, Decimal | uuid.UUID) else value


def _compare(observed: Decimal, op: str, limit: Decimal) -> bool:
    return bool(
        {"gt": observed > limit, "gte": observed >= limit, "lt": observed < limit, "lte": observed <= limit}[
            op
        ]
    )


class _Policies(TenantRepository[Policy]):
    model = Policy


class PolicyTriggerService:
    """Event and threshold triggers of one organisation over one session (see the module contract)."""

    def __init__(
        self,
        session: Session,
        organization_id: uuid.UUID,
        *,
        now: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self._session = session
        self._org = organization_id
        self._now = now
        self._policies = _Policies(session, organization_id)

    # -- evaluation --------------------------------------------------------------------------------------

    def evaluate(self, *, today: date | None = None, pushed: Event | None = None) -> list[Firing]:
        """Record and return the firings that are new now (see the module contract)."""
        now = self._now()
        day = today or now.date()
        rows = self._session.scalars(
            self._policies.query().where(Policy.enabled.is_(True)).order_by(Policy.created_at, Policy.id)
        ).all()
        floor = now - EVENT_LOOKBACK
        cache: dict[str, list[Event]] = {}
        fired: list[Firing] = []
        for row in rows:
            trigger = dict(row.trigger_config or {})
            config = dict(trigger.get("config") or {})
            if trigger.get("type") == "event" and isinstance(config.get("event"), str):
                name = str(config["event"])
                if name not in cache:
                    cache[name] = self.events(name, floor)
                since = max(_utc(row.created_at), floor)
                candidates = [e for e in cache[name] if e.at >= since]
                if pushed is not None and pushed.name == name:
                    candidates.append(pushed)
                for event in candidates:
                    if event_fires(config, event.name, event.payload):
                        fired += self._record_event(row.id, event)
            elif trigger.get("type") == "threshold" and config.get("metric"):
                fired += self._threshold(row.id, config, day)
        return fired

    def _insert(self, values: dict[str, Any]) -> list[Firing]:
        execution_id = uuid.uuid4()
        row = {
            "id": uuid.uuid4(),
            "organization_id": self._org,
            "execution_id": execution_id,
            "fired_at": self._now(),
            "resource_ids": [],
            "details": {},
            **values,
        }
        inserted = self._session.execute(
            insert(PolicyFiring)
            .values(**row)
            .on_conflict_do_nothing(index_elements=["policy_id", "fire_key"])
            .returning(PolicyFiring.id)
        ).first()
        if inserted is None:
            return []
        keep = {k: v for k, v in row.items() if k in Firing.__dataclass_fields__}
        return [Firing(**keep)]

    def _record_event(self, policy_id: uuid.UUID, event: Event) -> list[Firing]:
        about = event.payload.get("resource_ids") or event.payload.get("resource_id") or []
        return self._insert(
            {
                "policy_id": policy_id,
                "trigger_type": "event",
                "fire_key": f"event:{event.name}:{event.id}",
                "event": event.name,
                "event_id": event.id,
                "resource_ids": [str(r) for r in (about if isinstance(about, list) else [about])],
                "details": {"payload": json.loads(json.dumps(event.payload, default=str))},
            }
        )

    # -- events ------------------------------------------------------------------------------------------

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
            yield Event("anomaly.detected", str(row.id), _utc(row.detected_at), payload)

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
            yield Event("recommendation.created", str(row.id), _utc(row.created_at), payload)

    def _budget_crossings(self, since: datetime) -> Iterable[Event]:
        for row in self._session.scalars(select(Budget).where(Budget.organization_id == self._org)):
            state = dict(row.alert_state or {})
            period = str(state.get("period_start", ""))
            for key, at in dict(state.get("fired", {})).items():
                moment = _utc(datetime.fromisoformat(str(at)))
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
            yield Event("resource.created", str(row.id), _utc(row.first_seen), self._resource_payload(row))

    def _resources_changed(self, since: datetime) -> Iterable[Event]:
        for row in self._session.scalars(
            select(ResourceDocument).where(
                ResourceDocument.organization_id == self._org,
                ResourceDocument.last_updated >= since,
                ResourceDocument.last_updated > ResourceDocument.first_seen,
            )
        ):
            at = _utc(row.last_updated)
            yield Event("resource.changed", f"{row.id}:{at.isoformat()}", at, self._resource_payload(row))

    def _collection_failures(self, since: datetime) -> Iterable[Event]:
        for row in self._session.scalars(
            select(CloudAccount).where(
                CloudAccount.organization_id == self._org,
                CloudAccount.status == "error",
                CloudAccount.updated_at >= since,
            )
        ):
            at = _utc(row.updated_at)
            payload = {
                "cloud_account_id": str(row.id),
                "provider": row.provider,
                "account": row.account_identifier,
                "reason": row.verification_error,
            }
            yield Event("collection.failed", f"{row.id}:{at.isoformat()}", at, payload)

    # -- thresholds --------------------------------------------------------------------------------------

    def _cooling(self, policy_id: uuid.UUID, window_start: date) -> set[str]:
        """Subjects (currencies, resource ids) of this policy's firings whose window overlaps this one."""
        rows = self._session.execute(
            select(PolicyFiring.event_id, PolicyFiring.resource_ids).where(
                PolicyFiring.organization_id == self._org,
                PolicyFiring.policy_id == policy_id,
                PolicyFiring.trigger_type == "threshold",
                PolicyFiring.window_end > window_start,
            )
        ).all()
        subjects: set[str] = set()
        for subject, resource_ids in rows:
            subjects.update(resource_ids or [])
            if subject:
                subjects.add(str(subject))
        return subjects

    def _threshold(self, policy_id: uuid.UUID, config: Mapping[str, Any], today: date) -> list[Firing]:
        metric = str(config["metric"])
        days = int(config.get("window_days", 1))
        start, end = today - timedelta(days=days), today
        op = str(config.get("operator", "gte"))
        limit = Decimal(str(config["value"]))
        average = config.get("aggregation", "every_day") == "average"
        filters = {str(k): v for k, v in dict(config.get("filters") or {}).items()}
        cooling = self._cooling(policy_id, start)
        base = {
            "policy_id": policy_id,
            "trigger_type": "threshold",
            "metric": metric,
            "threshold": limit,
            "window_start": start,
            "window_end": end,
        }

        def judged(values: list[Decimal]) -> Decimal | None:
            """The value that decides (the mean, or the day least past the limit), when it crosses."""
            if average:
                mean = sum(values, Decimal(0)) / len(values)
                return mean if _compare(mean, op, limit) else None
            if not all(_compare(v, op, limit) for v in values):
                return None
            return min(values) if op in ("gt", "gte") else max(values)

        if metric in COST_METRICS:
            fired: list[Firing] = []
            for currency, by_day in sorted(self._daily_costs(start, end, filters).items()):
                values = [by_day.get(start + timedelta(days=i), Decimal(0)) for i in range(days)]
                observed = judged(values)
                if observed is None or currency in cooling:
                    continue
                fired += self._insert(
                    {
                        **base,
                        "fire_key": f"threshold:{currency}:{start.isoformat()}..{end.isoformat()}",
                        "event_id": currency,
                        "observed": observed,
                        "details": {"daily": [str(v) for v in values], "currency": currency},
                    }
                )
            return fired
        crossed: dict[str, Decimal] = {}
        for resource_id, by_day in sorted(self._daily_usage(metric, start, end, filters).items()):
            if len(by_day) < days or resource_id in cooling:
                continue
            values = [by_day[start + timedelta(days=i)] for i in range(days)]
            observed = judged(values)
            if observed is not None:
                crossed[resource_id] = observed
        if not crossed:
            return []
        extreme = max(crossed.values()) if op in ("gt", "gte") else min(crossed.values())
        return self._insert(
            {
                **base,
                "fire_key": f"threshold:resources:{start.isoformat()}..{end.isoformat()}",
                "event_id": None,
                "observed": extreme,
                "resource_ids": sorted(crossed),
                "details": {"observed": {rid: str(v) for rid, v in crossed.items()}},
            }
        )

    def _daily_costs(
        self, start: date, end: date, filters: Mapping[str, Any]
    ) -> dict[str, dict[date, Decimal]]:
        columns = {
            "service_name": "service_name",
            "region": "region_id",
            "provider": "provider",
            "sub_account_id": "sub_account_id",
            "cloud_account_id": "CAST(cloud_account_id AS text)",
            "currency": "billing_currency",
        }
        where, params = [], {"org": self._org, "d0": start, "d1": end}
        for i, (key, value) in enumerate(sorted(filters.items())):
            where.append(f"AND {columns[key]} = :f{i} ")
            params[f"f{i}"] = str(value)
        rows = self._session.execute(
            text(
                "SELECT billing_currency, usage_date, sum(billed_cost) FROM cost_daily "
                "WHERE organization_id = :org AND usage_date >= :d0 AND usage_date < :d1 "
                f"{''.join(where)}GROUP BY 1, 2"
            ),
            params,
        ).all()
        found: dict[str, dict[date, Decimal]] = {}
        for currency, day, total in rows:
            found.setdefault(str(currency), {})[day] = Decimal(total)
        return found

    def _daily_usage(
        self, metric: str, start: date, end: date, filters: Mapping[str, Any]
    ) -> dict[str, dict[date, Decimal]]:
        columns = {
            "resource_id": "r.resource_id",
            "resource_type": "r.resource_type",
            "provider": "r.provider",
            "region": "r.region",
            "cloud_account_id": "CAST(r.cloud_account_id AS text)",
        }
        where, params = [], {"org": self._org, "metric": metric, "d0": start, "d1": end}
        for i, (key, value) in enumerate(sorted(filters.items())):
            where.append(f"AND {columns[key]} = :f{i} ")
            params[f"f{i}"] = str(value)
        rows = self._session.execute(
            text(
                "SELECT d.resource_id, d.day, avg(u.v) FROM utilisation_daily d "
                "JOIN resources r ON r.organization_id = d.organization_id "
                "AND r.cloud_account_id = d.cloud_account_id AND r.resource_id = d.resource_id "
                "CROSS JOIN LATERAL unnest(d.hours) AS u(v) "
                "WHERE d.organization_id = :org AND d.metric = :metric AND d.day >= :d0 AND d.day < :d1 "
                f"AND r.status <> 'deleted' AND u.v IS NOT NULL {''.join(where)}GROUP BY 1, 2"
            ),
            params,
        ).all()
        found: dict[str, dict[date, Decimal]] = {}
        for resource_id, day, mean in rows:
            found.setdefault(str(resource_id), {})[day] = Decimal(str(round(float(mean), 4)))
        return found

    # -- bookkeeping -------------------------------------------------------------------------------------

    def attach(self, firing_id: uuid.UUID, workflow_id: str) -> None:
        """Record the policy execution workflow a firing started."""
        self._session.execute(
            update(PolicyFiring)
            .where(PolicyFiring.organization_id == self._org, PolicyFiring.id == firing_id)
            .values(workflow_id=workflow_id)
        )

    def unstarted(self) -> list[Firing]:
        """Firings of the last ``EVENT_LOOKBACK`` whose execution was never recorded as started (a run that
        stopped between recording and starting), oldest first: the caller starts them again (idempotent
        by workflow id)."""
        rows = self._session.scalars(
            select(PolicyFiring)
            .where(
                PolicyFiring.organization_id == self._org,
                PolicyFiring.workflow_id.is_(None),
                PolicyFiring.fired_at >= self._now() - EVENT_LOOKBACK,
            )
            .order_by(PolicyFiring.fired_at, PolicyFiring.id)
        )
        return [Firing(**{name: getattr(row, name) for name in Firing.__dataclass_fields__}) for row in rows]

    def firings(self, policy_id: uuid.UUID | None = None, *, limit: int = 100) -> list[PolicyFiring]:
        """This organisation's firings, newest first (of one policy when given)."""
        query = select(PolicyFiring).where(PolicyFiring.organization_id == self._org)
        if policy_id is not None:
            query = query.where(PolicyFiring.policy_id == policy_id)
        return list(
            self._session.scalars(query.order_by(PolicyFiring.fired_at.desc(), PolicyFiring.id).limit(limit))
        )


def pushed_event(name: str, payload: Mapping[str, Any], at: datetime) -> Event:
    """An event a caller pushes (``TriggerEvaluationInput``): its id is ``payload["id"]`` or a digest."""
    ident = payload.get("id")
    if ident is None:
        digest = hashlib.sha256(json.dumps(dict(payload), sort_keys=True, default=str).encode()).hexdigest()
        ident = digest[:32]
    return Event(name, str(ident), at, dict(payload))
