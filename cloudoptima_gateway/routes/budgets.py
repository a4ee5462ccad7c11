"""``/v1/budgets``: CRUD with scope and alert thresholds; every read evaluates the current period and stores
nothing (the alert step of the analysis workflow fires thresholds and notifies: a read that stored the alert
state would mark a newly crossed threshold fired, and nobody would be told). Budget
names are unique per organisation (case-insensitive): a taken name is a 409 naming ``name``. A created budget's
``notes`` say what it will count that may surprise (an allocation value with no cost allocated yet)."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, timedelta
from typing import Annotated

from fastapi import APIRouter, BackgroundTasks, HTTPException, Request, status
from pydantic import ValidationError
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from cloudoptima.domain.budgets import BudgetSpec, ScopeType
from cloudoptima.services.budget_allocation import unseen_values
from cloudoptima.services.budget_edits import delete_budget, update_budget
from cloudoptima.services.budget_scope_check import scope_problems
from cloudoptima.services.budgets import BudgetService
from cloudoptima.storage.models import Budget
from cloudoptima_gateway.audit import AuditedRoute
from cloudoptima_gateway.deps import Permission, Principal, RuntimeDep, TenantDb
from cloudoptima_gateway.live_writes import announce_committed
from cloudoptima_gateway.runtime import Runtime
from cloudoptima_gateway.schemas.budgets import (
    BudgetAlertOut,
    BudgetCreated,
    BudgetIn,
    BudgetList,
    BudgetOut,
    BudgetScopeOut,
)
from cloudoptima_gateway.schemas.common import Success, not_found

router = APIRouter(prefix="/budgets", tags=["budgets"], route_class=AuditedRoute)
Reader = Annotated[Principal, Permission("read:budgets")]
Writer = Annotated[Principal, Permission("write:budgets")]


def _service(session: Session, principal: Principal) -> BudgetService:
    return BudgetService(session, principal.organization_id, forecast_model="fast")


def _spec(body: BudgetIn) -> BudgetSpec:
    try:
        return BudgetSpec.model_validate(body.model_dump())
    except ValidationError as exc:
        raise HTTPException(
            status.HTTP_422_UNPROCESSABLE_CONTENT, detail=exc.errors(include_url=False)
        ) from exc


def _checked(session: Session, principal: Principal, body: BudgetIn) -> BudgetSpec:
    """The spec of ``body``; 422 naming each scope field that names nothing the organisation knows, with close
    matches (``cloudoptima.services.budget_scope_check``)."""
    spec = _spec(body)
    problems = scope_problems(session.connection(), principal.organization_id, spec.scope)
    if problems:
        raise HTTPException(
            status.HTTP_422_UNPROCESSABLE_CONTENT,
            detail=[
                {
                    "type": "value_error",
                    "loc": ["body", *p.loc],
                    "msg": p.message,
                    "input": p.value,
                    "ctx": {"suggestions": p.suggestions},
                }
                for p in problems
            ],
        )
    return spec


def _notes(session: Session, principal: Principal, spec: BudgetSpec) -> list[str]:
    """What the new budget will count that may surprise: allocation values with no cost allocated yet (legal:
    a new team, or one the next rule version introduces)."""
    if spec.scope.type is not ScopeType.ALLOCATION:
        return []
    unseen = unseen_values(session.connection(), principal.organization_id, spec.scope)
    return [
        f"no cost has been allocated to {value!r} by the {spec.scope.dimension!r} dimension's active rules yet; "
        "the budget counts it from when it is"
        for value in unseen
    ]


def _refuse_taken_name(
    session: Session, principal: Principal, name: str, keep: uuid.UUID | None = None
) -> None:
    """409 naming ``name`` when another budget of the organisation (not ``keep``) already has this name,
    compared case-insensitively after trimming."""
    wanted = name.strip().lower()
    query = select(Budget.id).where(
        Budget.organization_id == principal.organization_id,
        func.lower(func.trim(Budget.name)) == wanted,
    )
    if keep is not None:
        query = query.where(Budget.id != keep)
    if session.scalars(query.limit(1)).first() is not None:
        raise HTTPException(
            status.HTTP_409_CONFLICT,
            detail=[
                {
                    "type": "value_error",
                    "loc": ["body", "name"],
                    "msg": f"a budget named {name.strip()!r} already exists; budget names are unique",
                    "input": name,
                }
            ],
        )


def _today() -> date:
    """Today's UTC day (the budget's spend counts its complete days before it, as month to date does)."""
    return datetime.now(UTC).date()


def _out(service: BudgetService, row: Budget) -> BudgetOut:
    today = _today()
    as_of = min(max(today, row.start_date), row.end_date - timedelta(days=1))
    evaluation = service.assess(row, as_of, as_of)  # a read stores nothing: the alert step fires thresholds
    filters = dict(row.scope_filters or {})
    filters.pop("type", None)
    return BudgetOut(
        id=row.id,
        name=row.name,
        amount=row.amount,
        currency=row.currency,
        period=row.period,
        start_date=row.start_date,
        end_date=row.end_date,
        scope=BudgetScopeOut(type=row.scope_type or "account", filters=filters),
        period_start=evaluation.period_start,
        period_end=evaluation.period_end,
        current_spend=evaluation.current_spend,
        forecasted_spend=evaluation.forecasted_spend,
        forecast_available=evaluation.forecast_available,
        utilization_percent=float(evaluation.utilization_percent),
        status=evaluation.status.value,
        alerts=[
            BudgetAlertOut(
                threshold=float(a.threshold),
                type=a.type.value,
                triggered=a.triggered,
                last_triggered_at=a.last_triggered_at,
            )
            for a in evaluation.alerts
        ],
    )


def _announce(
    session: Session,
    background: BackgroundTasks,
    runtime: Runtime,
    principal: Principal,
    budget_id: uuid.UUID,
    change: str,
) -> None:
    """Commit, then tell the organisation's browsers on ``budget_alerts`` (``{"budget_id", "change"}``)."""
    data = {"budget_id": str(budget_id), "change": change}
    announce_committed(session, background, runtime, principal.organization_id, "budget_alerts", data)


@router.get("", response_model=BudgetList)
def list_budgets(principal: Reader, session: TenantDb) -> BudgetList:
    """Every budget with its current-period spend, forecast, utilisation, status and alerts."""
    service = _service(session, principal)
    return BudgetList(budgets=[_out(service, row) for row in service.list()])


@router.post("", status_code=status.HTTP_201_CREATED, response_model=BudgetCreated)
def create_budget(
    body: BudgetIn,
    request: Request,
    principal: Writer,
    session: TenantDb,
    runtime: RuntimeDep,
    background: BackgroundTasks,
) -> BudgetCreated:
    """Create a budget; published on the ``budget_alerts`` channel once stored."""
    spec = _checked(session, principal, body)
    _refuse_taken_name(session, principal, spec.name)
    row = _service(session, principal).create(spec)
    request.state.audit_resource_id = str(row.id)
    request.state.audit_details = {"name": row.name, "amount": str(row.amount), "period": row.period}
    budget_id = row.id
    notes = _notes(session, principal, spec)
    _announce(session, background, runtime, principal, budget_id, "created")
    return BudgetCreated(budget_id=budget_id, notes=notes)


@router.get("/{budget_id}", response_model=BudgetOut)
def get_budget(budget_id: uuid.UUID, principal: Reader, session: TenantDb) -> BudgetOut:
    service = _service(session, principal)
    try:
        return _out(service, service.get(budget_id))
    except LookupError as exc:
        raise not_found("budget", budget_id) from exc


@router.put("/{budget_id}", response_model=Success)
def replace_budget(
    budget_id: uuid.UUID,
    body: BudgetIn,
    principal: Writer,
    session: TenantDb,
    runtime: RuntimeDep,
    background: BackgroundTasks,
) -> Success:
    """Replace a budget; published on the ``budget_alerts`` channel once stored."""
    spec = _checked(session, principal, body)
    exists = select(Budget.id).where(
        Budget.id == budget_id, Budget.organization_id == principal.organization_id
    )
    if session.scalar(exists) is None:
        raise not_found("budget", budget_id)  # before the name check: an unknown budget is a 404, not a 409
    _refuse_taken_name(session, principal, spec.name, keep=budget_id)
    try:
        update_budget(session, principal.organization_id, budget_id, spec)
    except LookupError as exc:
        raise not_found("budget", budget_id) from exc
    _announce(session, background, runtime, principal, budget_id, "updated")
    return Success()


@router.delete("/{budget_id}", response_model=Success)
def remove_budget(
    budget_id: uuid.UUID,
    principal: Writer,
    session: TenantDb,
    runtime: RuntimeDep,
    background: BackgroundTasks,
) -> Success:
    """Delete a budget; published on the ``budget_alerts`` channel once deleted."""
    try:
        delete_budget(session, principal.organization_id, budget_id)
    except LookupError as exc:
        raise not_found("budget", budget_id) from exc
    _announce(session, background, runtime, principal, budget_id, "deleted")
    return Success()
