""":class:`PolicyTriggerService`: evaluate an organisation's event and threshold triggers and keep the ledger of
their firings (``policy_firings``), each recorded once."""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from cloudoptima.services.policies import event_fires
from cloudoptima.services.policy_triggers.events import EventReader
from cloudoptima.services.policy_triggers.model import EVENT_LOOKBACK, Event, Firing, utc
from cloudoptima.services.policy_triggers.thresholds import ThresholdTriggers
from cloudoptima.storage.models import Policy, PolicyFiring
from cloudoptima.storage.tenancy import TenantRepository


class _Policies(TenantRepository[Policy]):
    model = Policy


class PolicyTriggerService:
    """Event and threshold triggers of one organisation over one session (see the package contract)."""

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
        self._events = EventReader(session, organization_id)
        self._thresholds = ThresholdTriggers(session, organization_id, self._insert)

    # -- evaluation --------------------------------------------------------------------------------------

    def evaluate(self, *, today: date | None = None, pushed: Event | None = None) -> list[Firing]:
        """Record and return the firings that are new now (see the package contract)."""
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
                since = max(utc(row.created_at), floor)
                candidates = [e for e in cache[name] if e.at >= since]
                if pushed is not None and pushed.name == name:
                    candidates.append(pushed)
                for event in candidates:
                    if event_fires(config, event.name, event.payload):
                        fired += self._record_event(row.id, event)
            elif trigger.get("type") == "threshold" and config.get("metric"):
                fired += self._thresholds.fired(row.id, config, day)
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
        return self._events.events(name, since)

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
