"""What triggers exchange: an :class:`Event` (something that happened), a :class:`Firing` (a policy it fired,
with the execution to start) and :func:`pushed_event` (an event a caller hands in)."""

from __future__ import annotations

import hashlib
import json
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

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


def utc(value: datetime) -> datetime:
    """``value`` as an aware UTC datetime (a naive one is taken to be UTC)."""
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def pushed_event(name: str, payload: Mapping[str, Any], at: datetime) -> Event:
    """An event a caller pushes (``TriggerEvaluationInput``): its id is ``payload["id"]`` or a digest."""
    ident = payload.get("id")
    if ident is None:
        digest = hashlib.sha256(json.dumps(dict(payload), sort_keys=True, default=str).encode()).hexdigest()
        ident = digest[:32]
    return Event(name, str(ident), at, dict(payload))
