"""Product events the gateway itself publishes after a write a person made through the API, so every other
browser of the organisation refreshes (``cloudoptima.services.events``: same channel, same message format).

Call :func:`announce` only after the write is committed: a subscriber reloads at once and must see it.
Publishing is best effort: a Redis failure is logged and the write's answer stands (delivery is at most once
anyway, and consumers treat events as "something changed, refresh").
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from redis.exceptions import RedisError

from cloudoptima.services.events import channel, encode_event
from cloudoptima_gateway.runtime import Runtime

_log = logging.getLogger(__name__)


async def announce(
    runtime: Runtime, organization_id: uuid.UUID, event_type: str, data: Mapping[str, Any], *, now: datetime
) -> int:
    """Publish one event to the organisation's channel; how many subscribers received it (0 on failure)."""
    message = encode_event(organization_id, event_type, data, now.astimezone(UTC))
    try:
        receivers: Any = await runtime.redis().publish(channel(organization_id), message)
    except (RedisError, OSError) as exc:
        _log.warning("could not publish %s for %s: %s", event_type, organization_id, exc)
        return 0
    return int(receivers)
