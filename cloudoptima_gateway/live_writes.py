"""Publishing a write a person made through the API once it is committed, from any route.

- :func:`announce_committed`: for routes on the request's ``TenantDb`` session (which otherwise commits only
  after the route returns): commits the session now, then publishes with
  :func:`cloudoptima_gateway.live_events.announce` as a background task, i.e. after the answer is sent. A
  route that raises before calling it publishes nothing (the write is rolled back).
- Routes that store through their own ``tenant_session`` (committed when the block ends) ``await
  announce(...)`` directly after it.

What the writes publish (channel: ``data``), read by the console's screens as "something changed, refresh":

- ``budget_alerts``: ``{"budget_id", "change": "created" | "updated" | "deleted"}``;
- ``recommendations``: ``{"recommendation_id", "change": "dismissed" | "snoozed" | "apply_requested" |
  "accepted" | "false_positive" | "active", "status"?, "execution_id"?, "dry_run"?}`` (the lifecycle
  transitions of ``routes.recommendation_lifecycle`` publish the new status);
- ``policies``: ``{"policy_id", "change": "created" | "updated" | "deleted", "enabled"?}``.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from fastapi import BackgroundTasks
from sqlalchemy.orm import Session

from cloudoptima_gateway.live_events import announce
from cloudoptima_gateway.runtime import Runtime


def announce_committed(
    session: Session,
    background: BackgroundTasks,
    runtime: Runtime,
    organization_id: uuid.UUID,
    event_type: str,
    data: Mapping[str, Any],
) -> None:
    """Commit ``session`` (the route's write) and publish ``event_type`` with ``data`` to the organisation's
    channel once the response is sent (best effort, see ``announce``)."""
    session.commit()
    background.add_task(announce, runtime, organization_id, event_type, dict(data), now=datetime.now(UTC))
