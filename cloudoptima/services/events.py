"""Product events on Redis pub/sub: what the gateway WebSocket forwards to the browsers of an organisation.

Contract:

- Channel: ``cloudoptima:events:{organization_id}`` (one per organisation, so a subscriber only ever sees its
  own tenant's events).
- Message: JSON ``{"type", "organization_id", "data", "ts"}``; ``type`` is one of :data:`EVENT_TYPES`
  (the seed's WebSocket channels: ``cost_updates``, ``resource_changes``, ``anomalies``,
  ``recommendations``, ``budget_alerts``, ``policy_executions`` — each stage of a policy run: ``fired``,
  ``started``, ``skipped``, ``finished`` —, ``collection_failed``, ``forecasts``, ``notifications`` — one
  in-app inbox notice, ``data.user_id`` names its only reader (``cloudoptima.services.inbox``) —, ``policies`` —
  a policy created, changed or deleted through the API (``cloudoptima_gateway.live_writes``) —; the gateway WebSocket
  lets a client subscribe to every one of them); ``ts`` is an
  ISO-8601 UTC timestamp; ``data`` is JSON (Decimal and dates are written as strings).
- Delivery is at most once per subscriber and only to subscribers connected at the time (pub/sub). Callers
  running in retried activities may publish an event more than once; consumers treat events as "something
  changed, refresh", never as a ledger.
- A ``cost_updates`` event also bumps the organisation's cost version (``services.cache``), so cached cost
  answers are invalidated whenever new cost data lands, whoever landed it.
- :class:`EventPublisher` is synchronous and thread-safe (redis-py's connection pool), so activities running
  in a thread pool share one instance.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable, Mapping
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any, Protocol

import redis

from cloudoptima.services.cache import bump_cost_version

CHANNEL_PREFIX = "cloudoptima:events:"
EVENT_TYPES = frozenset(
    {
        "cost_updates",
        "resource_changes",
        "anomalies",
        "recommendations",
        "budget_alerts",
        "policy_executions",
        "collection_failed",
        "forecasts",
        "notifications",
        "policies",
    }
)


class Publish(Protocol):
    """Anything that publishes one event (an :class:`EventPublisher`, or a recorder in tests)."""

    def __call__(self, organization_id: uuid.UUID, event_type: str, data: Mapping[str, Any]) -> int: ...


def channel(organization_id: uuid.UUID | str) -> str:
    """The pub/sub channel of one organisation."""
    return f"{CHANNEL_PREFIX}{organization_id}"


def _default(value: Any) -> Any:
    if isinstance(value, Decimal | uuid.UUID):
        return str(value)
    if isinstance(value, datetime | date):
        return value.isoformat()
    raise TypeError(f"{type(value).__name__} is not JSON serialisable")


def encode_event(organization_id: uuid.UUID, event_type: str, data: Mapping[str, Any], ts: datetime) -> str:
    """The JSON text of one event; ``ValueError`` for an unknown type."""
    if event_type not in EVENT_TYPES:
        raise ValueError(f"unknown event type {event_type!r}; known: {', '.join(sorted(EVENT_TYPES))}")
    payload = {
        "type": event_type,
        "organization_id": str(organization_id),
        "data": dict(data),
        "ts": ts.astimezone(UTC).isoformat(),
    }
    return json.dumps(payload, default=_default, sort_keys=True)


class EventPublisher:
    """Publishes events to Redis (see the module contract)."""

    def __init__(
        self, client: redis.Redis, *, now: Callable[[], datetime] = lambda: datetime.now(UTC)
    ) -> None:
        self._client = client
        self._now = now

    @classmethod
    def from_url(cls, url: str) -> EventPublisher:
        return cls(redis.Redis.from_url(url))

    def __call__(self, organization_id: uuid.UUID, event_type: str, data: Mapping[str, Any]) -> int:
        return self.publish(organization_id, event_type, data)

    def publish(self, organization_id: uuid.UUID, event_type: str, data: Mapping[str, Any]) -> int:
        """Publish one event; returns how many subscribers received it."""
        message = encode_event(organization_id, event_type, data, self._now())
        if event_type == "cost_updates":
            # New cost data landed: cached cost answers of this organisation become unreachable first.
            bump_cost_version(self._client, organization_id)
        receivers: Any = self._client.publish(channel(organization_id), message)
        return int(receivers)

    def close(self) -> None:
        self._client.close()
