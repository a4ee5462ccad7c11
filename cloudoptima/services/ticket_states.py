"""What a ticket's new state does to its recommendation (#22), whether read by a sync or told by a webhook.

Contract of :func:`apply_ticket_state` (the caller commits; ``now`` and the actor are the caller's):
- Same state as stored: nothing but ``synced_at``; answers None.
- ``open`` → ``completed``: the close is recorded (``closed_at``) and ``recommendation.ticket_closed`` staged with
  ``hint: applied_by_hand`` (the status stays for the savings measurement to confirm).
- ``open`` → ``not_planned``: the recommendation is dismissed for good through the lifecycle (reason
  :data:`NOT_PLANNED_REASON`, history and audit rows) when the lifecycle allows it, else only the close is
  recorded (``not_moved`` in the audit details).
- A closed ticket reopened (``completed``/``not_planned`` → ``open``): ``recommendation.ticket_reopened`` is staged;
  a recommendation this ticket dismissed (still ``dismissed`` with :data:`NOT_PLANNED_REASON`) is open again
  (lifecycle reopen); after a ``completed`` close the applied-by-hand hint is withdrawn (``hint_withdrawn``) unless
  the recommendation was applied meanwhile (status ``completed``: ``kept_applied``). A change from one close to the
  other is a reopen followed by the new close.
- ``gone`` (deleted or transferred in the tracker): stored as final (never read again) and
  ``recommendation.ticket_gone`` staged; the recommendation's status is not touched.
"""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from typing import Any, Final

from sqlalchemy.orm import Session

from cloudoptima.domain.recommendation_lifecycle import TransitionRefused
from cloudoptima.services.audit import AuditActor, acting_as, stage
from cloudoptima.services.recommendation_lifecycle import RecommendationLifecycle
from cloudoptima.storage.models import Recommendation
from cloudoptima.storage.models.tickets import RecommendationTicketRow, TicketTrackerRow
from cloudoptima.storage.tenancy import TenantRepository

NOT_PLANNED_REASON: Final = "ticket closed as not planned"
REOPENED_REASON: Final = "ticket reopened"
CLOSED: Final = frozenset({"completed", "not_planned"})
STATES: Final = frozenset({"open", "completed", "not_planned", "gone"})
REOPEN_WINDOW: Final = timedelta(days=30)
"""A closed ticket is read again by the sync for this long after its close (a webhook reopens it any time)."""


class _Recs(TenantRepository[Recommendation]):
    model = Recommendation


def _stage(
    session: Session, org: uuid.UUID, action: str, rec_id: uuid.UUID, facts: dict[str, Any], actor: AuditActor
) -> None:
    with acting_as(actor):
        stage(session, org, action, resource_type="recommendation", resource_id=str(rec_id), details=facts)


def apply_ticket_state(
    session: Session,
    organization_id: uuid.UUID,
    row: RecommendationTicketRow,
    tracker: TicketTrackerRow,
    state: str,
    *,
    now: datetime,
    actor: AuditActor,
    via: str,
) -> str | None:
    """Store ``state`` on the ticket and move its recommendation (see module contract); the outcome or None."""
    if state not in STATES:
        raise ValueError(f"unknown ticket state {state!r}")
    row.synced_at = now
    before = row.state
    if state == before or before == "gone":
        return None
    facts: dict[str, Any] = {"tracker": tracker.name, "key": row.external_key, "url": row.url, "via": via}
    lifecycle = RecommendationLifecycle(session, organization_id, now=lambda: now)
    if state == "gone":
        row.state = "gone"
        _stage(
            session,
            organization_id,
            "recommendation.ticket_gone",
            row.recommendation_id,
            {**facts, "was": before},
            actor,
        )
        return "gone"
    outcome = None
    if before in CLOSED:
        row.state, row.closed_at = "open", None
        reopened = {**facts, "was": before}
        rec = _Recs(session, organization_id).get(row.recommendation_id)
        if (
            before == "not_planned"
            and rec is not None
            and rec.status == "dismissed"
            and rec.dismissal_reason == NOT_PLANNED_REASON
        ):
            lifecycle.reopen(rec.id, actor=actor, reason=REOPENED_REASON)
            reopened["recommendation"] = "reopened"
        elif before == "completed":
            applied = rec is not None and rec.status == "completed"
            reopened["kept_applied" if applied else "hint_withdrawn"] = "applied_by_hand"
        _stage(
            session, organization_id, "recommendation.ticket_reopened", row.recommendation_id, reopened, actor
        )
        outcome = "reopened"
    if state == "open":
        return outcome
    row.state, row.closed_at = state, now
    closed = {**facts, "closed_as": state}
    if state == "not_planned":
        try:
            lifecycle.dismiss(row.recommendation_id, NOT_PLANNED_REASON, permanent=True, actor=actor)
        except TransitionRefused as exc:
            closed["not_moved"] = str(exc)
    else:
        closed["hint"] = "applied_by_hand"
    _stage(session, organization_id, "recommendation.ticket_closed", row.recommendation_id, closed, actor)
    return state
