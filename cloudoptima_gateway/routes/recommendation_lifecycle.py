"""``/v1/recommendations/{id}/accept|snooze|false-positive|reopen`` and ``/v1/recommendations/false-positives``.

Each transition needs ``dismiss:recommendations`` (as dismiss does), is refused with 409 naming the current
status when the lifecycle graph does not allow it (``cloudoptima.domain.recommendation_lifecycle``), 422 naming
the field for bad input, 404 for an unknown id; it is stored with its history row and audit row, then published
on the ``recommendations`` channel (``{"recommendation_id", "change": <new status>}``).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Annotated

from fastapi import APIRouter, BackgroundTasks, HTTPException, status
from sqlalchemy.orm import Session

from cloudoptima.domain.recommendation_lifecycle import LIFECYCLE_NAME, TransitionRefused
from cloudoptima.services.audit import AuditActor, api_key_actor, user_actor
from cloudoptima.services.recommendation_lifecycle import LifecycleInputError, RecommendationLifecycle
from cloudoptima.services.rule_feedback import THRESHOLD, rule_feedback
from cloudoptima.storage.models import Recommendation
from cloudoptima_gateway.audit import AuditedRoute
from cloudoptima_gateway.deps import Permission, Principal, RuntimeDep, TenantDb
from cloudoptima_gateway.live_writes import announce_committed
from cloudoptima_gateway.schemas.common import invalid, not_found
from cloudoptima_gateway.schemas.recommendation_lifecycle import (
    AcceptIn,
    FalsePositiveCountsOut,
    FalsePositiveIn,
    LifecycleOut,
    ProfileFeedbackOut,
    ReopenIn,
    SnoozeIn,
)

router = APIRouter(prefix="/recommendations", tags=["recommendations"], route_class=AuditedRoute)
Reader = Annotated[Principal, Permission("read:recommendations")]
Decider = Annotated[Principal, Permission("dismiss:recommendations")]


def principal_actor(principal: Principal) -> AuditActor:
    """The audit actor of a REST caller (its API key when it came with one)."""
    if principal.via == "api_key" and principal.key_id is not None:
        who = api_key_actor(principal.key_id)
    else:
        who = user_actor(principal.user_id)
    return AuditActor(channel="rest", actor=who, user_id=principal.user_id)


def lifecycle_out(row: Recommendation) -> LifecycleOut:
    return LifecycleOut(
        id=row.id,
        status=row.status,
        lifecycle=LIFECYCLE_NAME.get(row.status, row.status),
        owner_user_id=row.owner_user_id,
        due_date=row.due_date,
        snoozed_until=row.snoozed_until,
    )


def _transition(
    recommendation_id: uuid.UUID,
    principal: Principal,
    session: Session,
    runtime: RuntimeDep,
    background: BackgroundTasks,
    move: Callable[[RecommendationLifecycle, AuditActor], Recommendation],
) -> LifecycleOut:
    lifecycle = RecommendationLifecycle(session, principal.organization_id)
    try:
        row = move(lifecycle, principal_actor(principal))
    except LookupError as exc:
        raise not_found("recommendation", recommendation_id) from exc
    except TransitionRefused as exc:
        raise HTTPException(status.HTTP_409_CONFLICT, detail=str(exc)) from exc
    except LifecycleInputError as exc:
        raise invalid(exc.field, exc.message, "body") from exc
    data = {"recommendation_id": str(recommendation_id), "change": row.status}
    announce_committed(session, background, runtime, principal.organization_id, "recommendations", data)
    return lifecycle_out(row)


@router.get("/false-positives", response_model=FalsePositiveCountsOut)
def false_positive_counts(principal: Reader, session: TenantDb) -> FalsePositiveCountsOut:
    """How many recommendations are marked false positive, per rule id; per rule profile the rate over the
    decided findings and whether its findings' confidence is lowered (``cloudoptima.services.rule_feedback``)."""
    counts = RecommendationLifecycle(session, principal.organization_id).false_positive_counts()
    profiles = [
        ProfileFeedbackOut(
            rule_id=f.rule_id, profile=f.profile, false_positives=f.false_positives, decided=f.decided,
            rate_percent=f.rate_percent, lowered=f.lowered,
        )
        for f in rule_feedback(session, principal.organization_id)
    ]  # fmt: skip
    return FalsePositiveCountsOut(rules=counts, profiles=profiles, threshold=THRESHOLD)


@router.post("/{recommendation_id}/accept", response_model=LifecycleOut)
def accept(
    recommendation_id: uuid.UUID,
    body: AcceptIn,
    principal: Decider,
    session: TenantDb,
    runtime: RuntimeDep,
    background: BackgroundTasks,
) -> LifecycleOut:
    """``accepted`` by an owner of the organisation with a due date (today or later)."""
    return _transition(
        recommendation_id,
        principal,
        session,
        runtime,
        background,
        lambda lc, actor: lc.accept(
            recommendation_id,
            owner_user_id=body.owner_user_id,
            due_date=body.due_date,
            actor=actor,
            note=body.note,
        ),
    )


@router.post("/{recommendation_id}/snooze", response_model=LifecycleOut)
def snooze(
    recommendation_id: uuid.UUID,
    body: SnoozeIn,
    principal: Decider,
    session: TenantDb,
    runtime: RuntimeDep,
    background: BackgroundTasks,
) -> LifecycleOut:
    """``snoozed`` until ``until``; open again from then."""
    return _transition(
        recommendation_id,
        principal,
        session,
        runtime,
        background,
        lambda lc, actor: lc.snooze(recommendation_id, until=body.until, actor=actor, reason=body.reason),
    )


@router.post("/{recommendation_id}/false-positive", response_model=LifecycleOut)
def false_positive(
    recommendation_id: uuid.UUID,
    body: FalsePositiveIn,
    principal: Decider,
    session: TenantDb,
    runtime: RuntimeDep,
    background: BackgroundTasks,
) -> LifecycleOut:
    """``false_positive``: the same rule on the same resources is not suggested again."""
    return _transition(
        recommendation_id,
        principal,
        session,
        runtime,
        background,
        lambda lc, actor: lc.false_positive(recommendation_id, body.reason, actor=actor),
    )


@router.post("/{recommendation_id}/reopen", response_model=LifecycleOut)
def reopen(
    recommendation_id: uuid.UUID,
    body: ReopenIn,
    principal: Decider,
    session: TenantDb,
    runtime: RuntimeDep,
    background: BackgroundTasks,
) -> LifecycleOut:
    """``active`` (open) again; owner, due date, snooze and dismissal cleared."""
    return _transition(
        recommendation_id,
        principal,
        session,
        runtime,
        background,
        lambda lc, actor: lc.reopen(recommendation_id, actor=actor, reason=body.reason),
    )
