"""Recommendations applied by hand (#22): a change seen in the stored inventory that does what an open
recommendation asked marks it applied, so the savings ledger measures it like one the product applied.

Contract (:func:`detect_applied_by_hand`):

- Candidates: the organisation's ``active``, ``accepted`` and ``snoozed`` recommendations with at least one
  action, every action on a resource stored in ``resources`` (the latest collected inventory).
- An action is *done* when the stored resource shows it: ``stop`` → status ``stopped`` or ``deleted``;
  ``resize`` → ``configuration.instance_type`` (or ``instance_class``) equals ``parameters.size``;
  ``snapshot_and_delete_disk``, ``delete_snapshot``, ``release_ip`` → status ``deleted``. Any other action
  (``start``, ``tag``, ``untag``, ``restore_disk``) is never detected. A recommendation is applied by hand when
  every one of its actions is done.
- Change time of an action: the cloud's own time when the inventory carries it (``configuration.stopped_at``
  for a stop, ``configuration.deleted_at`` for a deletion), else the moment a collection stored the change
  (``last_updated``); never after ``now``. The recommendation's ``applied_at`` is the latest of its actions'
  change times, ``status`` becomes ``completed``.
- A collection's time is not when the change happened: that was after the last collection that saw the old
  state (the resource's ``previous_seen``, stored with the change). The recommendation's ``changed_after``
  records that bound (the latest of its actions' lower bounds; an exact action's is its change time), so the
  change happened in ``(changed_after, applied_at]``; None when ``applied_at`` is exact (a cloud time, or the
  earlier sighting is unknown). The savings measurement keeps both of its windows outside that interval
  (:mod:`cloudoptima.services.realised_savings`) rather than guessing a day inside it from the bill: the
  bill's last full-cost day is blurred by partial days and late rows, the interval is what was observed.
- Each one writes a ``recommendation_transitions`` row (actor ``system``, reason ``applied by hand (detected
  from inventory)``, details ``{"transition": "applied_by_hand", "detected_at", "changed_at", "changed_after", "evidence"}``)
  and an audit row ``recommendation.applied_by_hand`` with the same facts, in the caller's session (the caller
  commits). ``now`` is the detection time, from the caller.
- Every query is scoped to the organisation.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from cloudoptima.domain.recommendations import RecommendationStatus as S
from cloudoptima.services.audit import SYSTEM_ACTOR, AuditActor, acting_as, stage
from cloudoptima.storage.models import Recommendation, ResourceDocument
from cloudoptima.storage.models.recommendation_transitions import RecommendationTransitionRow
from cloudoptima.storage.tenancy import TenantRepository

CANDIDATE_STATUSES: tuple[str, ...] = (S.ACTIVE.value, S.ACCEPTED.value, S.SNOOZED.value)
REASON = "applied by hand (detected from inventory)"
_SYSTEM = AuditActor(channel="workflow", actor=SYSTEM_ACTOR)
_DELETIONS = {"snapshot_and_delete_disk", "delete_snapshot", "release_ip"}


class _Transitions(TenantRepository[RecommendationTransitionRow]):
    model = RecommendationTransitionRow


@dataclass(frozen=True)
class HandChange:
    """One recommendation found applied by hand."""

    recommendation_id: uuid.UUID
    from_status: str
    changed_at: datetime
    evidence: list[dict[str, Any]]
    changed_after: datetime | None = None
    """The last collection that saw the old state when ``changed_at`` is a collection's time (None: exact)."""


def _when(value: Any) -> datetime | None:
    if not isinstance(value, str) or not value:
        return None
    moment = datetime.fromisoformat(value)
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


@dataclass(frozen=True)
class _Done:
    at: datetime
    """The cloud's change time, else the first collection that saw the change."""
    after: datetime
    """The last collection that saw the old state (``at`` itself when ``at`` is exact or that is unknown)."""
    evidence: dict[str, Any]


def _done(action: dict[str, Any], doc: ResourceDocument) -> _Done | None:
    """When the stored resource shows ``action`` done (see the contract) and the evidence, else None."""
    kind = str(action.get("type") or "")
    config = doc.configuration or {}
    seen = _aware(doc.last_updated)
    before = _aware(doc.previous_seen) if doc.previous_seen is not None and doc.previous_seen < seen else seen
    evidence: dict[str, Any] = {"action": kind, "resource_id": doc.resource_id, "status": doc.status}
    cloud: datetime | None = None
    if kind == "stop" and doc.status in ("stopped", "deleted"):
        cloud = _when(config.get("stopped_at")) or _when(config.get("deleted_at"))
    elif kind in _DELETIONS and doc.status == "deleted":
        cloud = _when(config.get("deleted_at"))
    elif kind == "resize":
        target = (action.get("parameters") or {}).get("size")
        size = config.get("instance_type") or config.get("instance_class")
        if not (target and size == target and doc.status != "deleted"):
            return None
        evidence |= {"size": size}
    else:
        return None
    return _Done(cloud, cloud, evidence) if cloud is not None else _Done(seen, before, evidence)


def _documents(session: Session, org: uuid.UUID, ids: set[str]) -> dict[str, ResourceDocument]:
    if not ids:
        return {}
    statement = select(ResourceDocument).where(
        ResourceDocument.organization_id == org, ResourceDocument.resource_id.in_(sorted(ids))
    )
    return {doc.resource_id: doc for doc in session.scalars(statement)}


def detect_applied_by_hand(session: Session, org: uuid.UUID, now: datetime) -> list[HandChange]:
    """Mark every open recommendation of ``org`` the inventory shows done as applied by hand (see the
    contract); the changes made, oldest change first. ``now`` (aware) is the detection time."""
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware (UTC)")
    rows: Sequence[Recommendation] = session.scalars(
        select(Recommendation).where(
            Recommendation.organization_id == org, Recommendation.status.in_(CANDIDATE_STATUSES)
        )
    ).all()
    wanted = {str(a.get("resource_id")) for r in rows for a in r.actions or [] if isinstance(a, dict)}
    docs = _documents(session, org, wanted)
    changes: list[tuple[Recommendation, HandChange]] = []
    for row in rows:
        actions = [a for a in row.actions or [] if isinstance(a, dict)]
        found = [
            _done(a, doc) if (doc := docs.get(str(a.get("resource_id")))) is not None else None
            for a in actions
        ]
        if not actions or any(f is None for f in found):
            continue
        done = [f for f in found if f is not None]
        changed_at = min(now, max(d.at for d in done))
        after = min(changed_at, max(d.after for d in done))
        change = HandChange(
            row.id, row.status, changed_at, [d.evidence for d in done], after if after < changed_at else None
        )
        changes.append((row, change))
    transitions = _Transitions(session, org)
    for row, change in sorted(changes, key=lambda c: (c[1].changed_at, str(c[0].id))):
        details = {
            "transition": "applied_by_hand",
            "detected_at": now.isoformat(),
            "changed_at": change.changed_at.isoformat(),
            "changed_after": change.changed_after.isoformat() if change.changed_after else None,
            "evidence": change.evidence,
        }
        row.status, row.applied_at, row.updated_at = S.COMPLETED.value, change.changed_at, now
        row.changed_after = change.changed_after
        transitions.add(
            RecommendationTransitionRow(
                recommendation_id=row.id, from_status=change.from_status, to_status=S.COMPLETED.value,
                actor=SYSTEM_ACTOR, reason=REASON, details=details, at=now,
            )
        )  # fmt: skip
        with acting_as(_SYSTEM):
            stage(
                session, org, "recommendation.applied_by_hand", resource_type="recommendation",
                resource_id=str(row.id),
                details={"from": change.from_status, "to": S.COMPLETED.value, "reason": REASON, **details},
            )  # fmt: skip
    session.flush()
    return [c for _r, c in sorted(changes, key=lambda c: (c[1].changed_at, str(c[0].id)))]
