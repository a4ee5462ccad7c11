"""The user lifecycle of an organisation's recommendations (#22): accept, snooze, dismiss, false positive, reopen.

Contract:
- Every transition is checked against ``cloudoptima.domain.recommendation_lifecycle.ALLOWED_FROM``
  (:class:`~cloudoptima.domain.recommendation_lifecycle.TransitionRefused` names the current status), then
  writes one ``recommendation_transitions`` row (who, when, from → to, reason, details) and one audit row
  (``recommendation.<transition>``, same facts) in the caller's session; the caller commits.
- ``accept``: the owner must be an active user of the organisation (field ``owner_user_id``), the due date
  today or later by the caller's clock (field ``due_date``); ``accept`` on an accepted one re-assigns.
- ``snooze``: ``until`` must be timezone-aware, after now and at most ``MAX_SNOOZE_DAYS`` ahead (field
  ``until``). :meth:`RecommendationLifecycle.wake_snoozed` makes every snooze that has run out (``until <=
  now``) ``active`` again, as the ``system`` actor; runs, lists and reads call it first.
- ``false_positive``: the row is kept as ``false_positive`` by runs, and a run does not create a new finding of
  the same rule on the same set of resources (:meth:`false_positive_keys`); :meth:`false_positive_counts`
  counts them per rule; :mod:`cloudoptima.services.rule_feedback` judges each rule profile by its rate over
  decided findings and lowers the confidence of one marked wrong too often.
- ``reopen`` makes it ``active`` (open), clearing owner, due date, snooze and dismissal.
- :meth:`RecommendationLifecycle.execution_undone`: an execution that moved the recommendation ended without
  its change (failed, rejected, cancelled, rolled back …): it goes back to ``accepted`` when it has an owner
  (owner and due date kept), else to ``active``; one transition row and one ``recommendation.returned`` audit
  row as the ``system`` actor (channel ``workflow``) naming the execution and its state.
- Hook (not built here): "applied by hand, detected from inventory" and "realised" belong to the savings
  measurement; an ``accepted`` recommendation a run no longer finds is left ``accepted`` for it to decide.
- ``now`` comes from the caller; every query is scoped to the organisation.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from cloudoptima.domain.recommendation_lifecycle import Transition, check
from cloudoptima.domain.recommendations import RecommendationStatus
from cloudoptima.services.audit import SYSTEM_ACTOR, AuditActor, acting_as, stage
from cloudoptima.storage.models import Recommendation as RecommendationRow
from cloudoptima.storage.models import User
from cloudoptima.storage.models.recommendation_transitions import RecommendationTransitionRow
from cloudoptima.storage.tenancy import TenantRepository

MAX_SNOOZE_DAYS = 365
SYSTEM = AuditActor(channel="workflow", actor=SYSTEM_ACTOR)


class LifecycleInputError(ValueError):
    """A transition's input is invalid; ``field`` names it."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message


class _Recommendations(TenantRepository[RecommendationRow]):
    model = RecommendationRow


class _Transitions(TenantRepository[RecommendationTransitionRow]):
    model = RecommendationTransitionRow


class _Users(TenantRepository[User]):
    model = User


class RecommendationLifecycle:
    """Lifecycle transitions of one organisation's recommendations over one session (the caller commits)."""

    def __init__(
        self,
        session: Session,
        organization_id: uuid.UUID,
        *,
        now: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self._session = session
        self._org = organization_id
        self._recs = _Recommendations(session, organization_id)
        self._transitions = _Transitions(session, organization_id)
        self._users = _Users(session, organization_id)
        self._now = now

    @property
    def organization_id(self) -> uuid.UUID:
        return self._org

    def get(self, recommendation_id: uuid.UUID) -> RecommendationRow:
        """One recommendation of the organisation; ``LookupError`` naming the id when there is none."""
        return self._get(recommendation_id)

    def _get(self, recommendation_id: uuid.UUID) -> RecommendationRow:
        row = self._recs.get(recommendation_id)
        if row is None:
            raise LookupError(f"recommendation {recommendation_id} not found")
        return row

    def _move(
        self,
        row: RecommendationRow,
        transition: Transition,
        actor: AuditActor,
        *,
        reason: str | None,
        details: dict[str, Any] | None = None,
    ) -> RecommendationStatus:
        target = check(transition, row.status)
        now = self._now()
        before = row.status
        row.status, row.updated_at = target.value, now
        facts = {"from": before, "to": target.value, "reason": reason, **(details or {})}
        self._transitions.add(
            RecommendationTransitionRow(
                recommendation_id=row.id,
                from_status=before,
                to_status=target.value,
                actor=actor.actor,
                reason=reason,
                details=details or {},
                at=now,
            )
        )
        with acting_as(actor):
            stage(
                self._session,
                self._org,
                f"recommendation.{transition.value}",
                resource_type="recommendation",
                resource_id=str(row.id),
                details=facts,
            )
        return target

    def accept(
        self,
        recommendation_id: uuid.UUID,
        *,
        owner_user_id: uuid.UUID,
        due_date: date,
        actor: AuditActor,
        note: str | None = None,
    ) -> RecommendationRow:
        """``accepted`` with an owner of the organisation and a due date (see module contract)."""
        row = self._get(recommendation_id)
        check(Transition.ACCEPT, row.status)  # the graph first: its refusal says more than the input's
        owner = self._users.get(owner_user_id)
        if owner is None or not owner.is_active:
            raise LifecycleInputError(
                "owner_user_id", f"{owner_user_id} is not an active user of the organisation"
            )
        today = self._now().astimezone(UTC).date()
        if due_date < today:
            raise LifecycleInputError(
                "due_date", f"{due_date.isoformat()} is before today ({today.isoformat()})"
            )
        details = {"owner_user_id": str(owner_user_id), "due_date": due_date.isoformat()}
        self._move(row, Transition.ACCEPT, actor, reason=note, details=details)
        row.owner_user_id, row.due_date = owner_user_id, due_date
        row.snoozed_until = None
        self._session.flush()
        return row

    def snooze(
        self, recommendation_id: uuid.UUID, *, until: datetime, actor: AuditActor, reason: str | None = None
    ) -> RecommendationRow:
        """``snoozed`` until ``until`` (see module contract)."""
        row = self._get(recommendation_id)
        check(Transition.SNOOZE, row.status)
        if until.tzinfo is None:
            raise LifecycleInputError("until", "must carry a timezone (e.g. 2026-12-31T00:00:00Z)")
        now = self._now()
        try:
            until = until.astimezone(UTC)
        except OverflowError as exc:
            raise LifecycleInputError("until", "out of range") from exc
        if until <= now:
            raise LifecycleInputError("until", f"{until.isoformat()} is not in the future")
        if until > now + timedelta(days=MAX_SNOOZE_DAYS):
            raise LifecycleInputError("until", f"at most {MAX_SNOOZE_DAYS} days ahead")
        self._move(row, Transition.SNOOZE, actor, reason=reason, details={"until": until.isoformat()})
        row.snoozed_until = until
        self._session.flush()
        return row

    def dismiss(
        self, recommendation_id: uuid.UUID, reason: str, *, permanent: bool, actor: AuditActor
    ) -> RecommendationRow:
        """``dismissed`` with its reason, for good when ``permanent`` (else until a run after ``SNOOZE_DAYS``)."""
        row = self._get(recommendation_id)
        self._move(row, Transition.DISMISS, actor, reason=reason, details={"permanent": permanent})
        row.dismissed_at, row.dismissal_reason = self._now(), reason
        row.dismissed_permanently = permanent
        row.snoozed_until = None
        self._session.flush()
        return row

    def false_positive(
        self, recommendation_id: uuid.UUID, reason: str, *, actor: AuditActor
    ) -> RecommendationRow:
        """``false_positive``: the rule was wrong here; fed back to runs (see module contract)."""
        row = self._get(recommendation_id)
        self._move(row, Transition.FALSE_POSITIVE, actor, reason=reason, details={"rule_id": row.rule_id})
        row.snoozed_until = None
        self._session.flush()
        return row

    def reopen(
        self, recommendation_id: uuid.UUID, *, actor: AuditActor, reason: str | None = None
    ) -> RecommendationRow:
        """``active`` (open) again, owner, due date, snooze and dismissal cleared."""
        row = self._get(recommendation_id)
        self._move(row, Transition.REOPEN, actor, reason=reason)
        _clear(row)
        self._session.flush()
        return row

    def wake_snoozed(self) -> int:
        """Every ``snoozed`` recommendation whose ``snoozed_until`` has passed becomes ``active``; how many."""
        now = self._now()
        rows = self._session.scalars(
            self._recs.query().where(
                RecommendationRow.status == RecommendationStatus.SNOOZED.value,
                RecommendationRow.snoozed_until <= now,
            )
        ).all()
        for row in rows:
            until = row.snoozed_until.isoformat() if row.snoozed_until else None
            self._move(row, Transition.WAKE, SYSTEM, reason="snooze ended", details={"until": until})
            _clear(row)
        if rows:
            self._session.flush()
        return len(rows)

    def next_wake(self) -> datetime | None:
        """When the next snooze ends (the earliest future ``snoozed_until``): until then a list of this
        organisation's recommendations cannot change by itself."""
        return self._session.scalar(
            select(func.min(RecommendationRow.snoozed_until)).where(
                RecommendationRow.organization_id == self._org,
                RecommendationRow.status == RecommendationStatus.SNOOZED.value,
                RecommendationRow.snoozed_until > self._now(),
            )
        )

    def execution_undone(self, row: RecommendationRow, *, execution_id: uuid.UUID, state: str) -> None:
        """Back to ``accepted`` (it has an owner) or ``active`` after execution ``execution_id`` ended in
        ``state`` without its change (see module contract); the caller checked it may move."""
        now = self._now()
        before = row.status
        target = (
            RecommendationStatus.ACCEPTED if row.owner_user_id is not None else RecommendationStatus.ACTIVE
        )
        row.status, row.updated_at = target.value, now
        details = {"execution_id": str(execution_id), "execution_state": state}
        if row.owner_user_id is not None:
            details |= {"owner_user_id": str(row.owner_user_id)}
            details |= {"due_date": row.due_date.isoformat() if row.due_date else ""}
        reason = f"execution {state}"
        self._transitions.add(
            RecommendationTransitionRow(
                recommendation_id=row.id, from_status=before, to_status=target.value, actor=SYSTEM.actor,
                reason=reason, details=details, at=now,
            )
        )  # fmt: skip
        with acting_as(SYSTEM):
            stage(
                self._session,
                self._org,
                "recommendation.returned",
                resource_type="recommendation",
                resource_id=str(row.id),
                details={"from": before, "to": target.value, "reason": reason, **details},
            )

    def history(self, recommendation_id: uuid.UUID) -> Sequence[RecommendationTransitionRow]:
        """The recommendation's transitions in the order they were made."""
        return self._session.scalars(
            self._transitions.query()
            .where(RecommendationTransitionRow.recommendation_id == recommendation_id)
            .order_by(RecommendationTransitionRow.seq)
        ).all()

    def false_positive_keys(self) -> set[tuple[str, tuple[str, ...]]]:
        """``(rule_id, sorted resource ids)`` of every recommendation marked false positive."""
        rows = self._session.execute(
            select(RecommendationRow.rule_id, RecommendationRow.resource_ids).where(
                RecommendationRow.organization_id == self._org,
                RecommendationRow.status == RecommendationStatus.FALSE_POSITIVE.value,
            )
        ).all()
        return {(rule or "", tuple(sorted(ids or []))) for rule, ids in rows}

    def false_positive_counts(self) -> dict[str, int]:
        """How many recommendations are marked false positive, per rule id."""
        rows = self._session.execute(
            select(RecommendationRow.rule_id, func.count())
            .where(
                RecommendationRow.organization_id == self._org,
                RecommendationRow.status == RecommendationStatus.FALSE_POSITIVE.value,
            )
            .group_by(RecommendationRow.rule_id)
        ).all()
        return {rule or "": int(count) for rule, count in rows}


def _clear(row: RecommendationRow) -> None:
    row.owner_user_id, row.due_date, row.snoozed_until = None, None, None
    row.dismissed_at, row.dismissal_reason, row.dismissed_permanently = None, None, False
