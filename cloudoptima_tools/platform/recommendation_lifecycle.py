"""``recommendation_decide``: move a recommendation through its lifecycle (#22) as the calling user.

Decisions: ``accept`` (``owner_user_id`` of the organisation + ``due_date``), ``snooze`` (``until``),
``dismiss`` (``reason``, ``permanent``), ``false_positive`` (``reason``; the rule does not suggest the same
finding on the same resources again), ``reopen``. The lifecycle graph is checked
(``cloudoptima.domain.recommendation_lifecycle``): a refused decision names the current status. The change,
its history row and its audit row (channel ``mcp``) commit together.

``recommendation_history`` (read-only, opt-in toolset ``lifecycle``; the chat uses it for "what happened to
recommendation X"): the recommendation's title, lifecycle state, owner (e-mail) and due date, and its
transitions oldest first (who, when, from → to, why), the latest :data:`HISTORY_SHOWN`.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Any, Literal

from pydantic import BaseModel, Field

from cloudoptima.domain.recommendation_lifecycle import LIFECYCLE_NAME, TransitionRefused
from cloudoptima.services.audit import SYSTEM_ACTOR, AuditActor
from cloudoptima.services.recommendation_lifecycle import LifecycleInputError, RecommendationLifecycle
from cloudoptima.storage.models import Recommendation, User
from cloudoptima_tools.context import ToolContext
from cloudoptima_tools.platform.ids import parse_id
from cloudoptima_tools.spec import ToolInput, ToolInputError, ToolNotFoundError, ToolSpec

Decision = Literal["accept", "snooze", "dismiss", "false_positive", "reopen"]


class DecideInput(ToolInput):
    recommendation_id: str = Field(description="Id returned by recommendations_list.")
    decision: Decision
    owner_user_id: str | None = Field(default=None, description="accept: the owner (a user id).")
    due_date: date | None = Field(default=None, description="accept: due date (today or later).")
    until: datetime | None = Field(default=None, description="snooze: open again from (with timezone).")
    reason: str | None = Field(
        default=None, max_length=2000, description="Required for dismiss, false_positive."
    )
    permanent: bool = Field(default=False, description="dismiss: for good.")


class Transition(BaseModel):
    from_status: str
    to_status: str
    actor: str
    reason: str | None
    at: datetime


HISTORY_SHOWN = 20


class HistoryInput(ToolInput):
    recommendation_id: str = Field(description="Id returned by recommendations_list.")


class HistoryOutput(BaseModel):
    id: str
    title: str
    lifecycle: str
    owner: str | None = Field(description="The owner's e-mail (accepted ones).")
    due_date: date | None
    history: list[Transition] = Field(description="Latest 20 lifecycle transitions, oldest first.")
    transitions: int


class DecideOutput(BaseModel):
    id: str
    status: str
    lifecycle: str = Field(
        description="open, accepted, snoozed, dismissed, false_positive, applying, applied, expired"
    )
    owner_user_id: str | None
    due_date: date | None
    snoozed_until: datetime | None
    history: list[Transition] = Field(description="Latest 20 lifecycle transitions, oldest first.")


def _actor(ctx: ToolContext) -> AuditActor:
    user_id: uuid.UUID | None = None
    if ctx.principal.startswith("user:"):
        try:
            user_id = uuid.UUID(ctx.principal.removeprefix("user:"))
        except ValueError:
            user_id = None
    who = ctx.principal if user_id is not None else SYSTEM_ACTOR
    return AuditActor(channel="mcp", actor=who, user_id=user_id)


def _required(value: Any, name: str, decision: str) -> Any:
    if value is None or value == "":
        raise ToolInputError(f"{name} is required to {decision}")
    return value


def _apply(
    lc: RecommendationLifecycle, rec_id: uuid.UUID, params: DecideInput, actor: AuditActor
) -> Recommendation:
    decision = params.decision
    if decision == "accept":
        owner = _required(params.owner_user_id, "owner_user_id", decision)
        try:
            owner_id = uuid.UUID(owner)
        except ValueError as exc:
            raise ToolInputError(f"owner_user_id: {owner!r} is not a user id") from exc
        due = _required(params.due_date, "due_date", decision)
        return lc.accept(rec_id, owner_user_id=owner_id, due_date=due, actor=actor, note=params.reason)
    if decision == "snooze":
        return lc.snooze(
            rec_id, until=_required(params.until, "until", decision), actor=actor, reason=params.reason
        )
    if decision == "dismiss":
        reason = _required(params.reason, "reason", decision)
        return lc.dismiss(rec_id, reason, permanent=params.permanent, actor=actor)
    if decision == "false_positive":
        return lc.false_positive(rec_id, _required(params.reason, "reason", decision), actor=actor)
    return lc.reopen(rec_id, actor=actor, reason=params.reason)


def recommendation_decide(ctx: ToolContext, params: DecideInput) -> DecideOutput:
    """See module contract."""
    rec_id = parse_id(params.recommendation_id, "recommendation")
    with ctx.session() as session:
        lc = RecommendationLifecycle(session, ctx.organization_id, now=ctx.now)
        try:
            row = _apply(lc, rec_id, params, _actor(ctx))
        except LookupError as exc:
            raise ToolNotFoundError(str(exc)) from exc
        except (TransitionRefused, LifecycleInputError) as exc:
            raise ToolInputError(str(exc)) from exc
        history = [
            Transition(
                from_status=t.from_status, to_status=t.to_status, actor=t.actor, reason=t.reason, at=t.at
            )
            for t in lc.history(rec_id)
        ][-20:]
        return DecideOutput(
            id=str(row.id),
            status=row.status,
            lifecycle=LIFECYCLE_NAME.get(row.status, row.status),
            owner_user_id=str(row.owner_user_id) if row.owner_user_id else None,
            due_date=row.due_date,
            snoozed_until=row.snoozed_until,
            history=history,
        )


def recommendation_history(ctx: ToolContext, params: HistoryInput) -> HistoryOutput:
    """See module contract."""
    rec_id = parse_id(params.recommendation_id, "recommendation")
    with ctx.read_session() as session:
        lc = RecommendationLifecycle(session, ctx.organization_id, now=ctx.now)
        try:
            row = lc.get(rec_id)
        except LookupError as exc:
            raise ToolNotFoundError(str(exc)) from exc
        owner = session.get(User, row.owner_user_id) if row.owner_user_id else None
        steps = [
            Transition(
                from_status=t.from_status, to_status=t.to_status, actor=t.actor, reason=t.reason, at=t.at
            )
            for t in lc.history(rec_id)
        ]
        return HistoryOutput(
            id=str(row.id),
            title=row.title,
            lifecycle=LIFECYCLE_NAME.get(row.status, row.status),
            owner=owner.email if owner is not None else None,
            due_date=row.due_date,
            history=steps[-HISTORY_SHOWN:],
            transitions=len(steps),
        )


TOOLS: list[ToolSpec[Any, Any]] = [
    ToolSpec(
        name="recommendation_decide",
        domain="platform",
        title="Decide on a recommendation",
        description=(
            "Move a recommendation through its lifecycle as your user: accept (owner_user_id, due_date), "
            "snooze (until), dismiss (reason, permanent), false_positive (reason: not suggested again), "
            "reopen. Refused when its current status does not allow it. Returns the status and history.\n"
            'Example: {"recommendation_id": "9a1b…", "decision": "snooze", "until": "2026-07-01T00:00:00Z"}'
        ),
        input_model=DecideInput,
        output_model=DecideOutput,
        handler=recommendation_decide,
        permission="dismiss:recommendations",
        read_only=False,
        destructive=False,
        idempotent=False,
        max_output_tokens=4_000,
    ),
    ToolSpec(
        name="recommendation_history",
        domain="platform",
        title="What happened to a recommendation",
        description=(
            "A recommendation's lifecycle: its state, owner and due date, and every transition (accepted, "
            "snoozed, dismissed, marked false positive, applied, returned after a failed execution) with who, "
            "when and why, oldest first.\n"
            'Example: {"recommendation_id": "9a1b…"}'
        ),
        input_model=HistoryInput,
        output_model=HistoryOutput,
        handler=recommendation_history,
        permission="read:recommendations",
        max_output_tokens=4_000,
    ),
]
