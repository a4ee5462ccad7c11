"""Conversions between the collection service's step types and the workflows' JSON dataclasses."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from decimal import Decimal

from cloudoptima.services.collection import (
    AccountCollection,
    CollectionPlan,
    CostStep,
    FinishStep,
    IamStep,
    InventoryStep,
    UtilisationStep,
)
from cloudoptima_workflows.collection.inputs import (
    AccountSteps,
    CostWindow,
    CostWindowResult,
    FinishResult,
    IamResult,
    InventoryResult,
    PendingStep,
    PlanResult,
    UtilisationResult,
)


def plan_result(plan: CollectionPlan, utilisation_days: int) -> PlanResult:
    return PlanResult(
        start=plan.start.isoformat(),
        end=plan.end.isoformat(),
        windows=[CostWindow(start=a.isoformat(), end=b.isoformat()) for a, b in plan.windows],
        first_sync=plan.first_sync,
        utilisation_start=(plan.end - timedelta(days=utilisation_days)).isoformat(),
        utilisation_end=plan.end.isoformat(),
    )


def plan_from(result: PlanResult) -> CollectionPlan:
    return CollectionPlan(
        start=date.fromisoformat(result.start),
        end=date.fromisoformat(result.end),
        windows=[(date.fromisoformat(w.start), date.fromisoformat(w.end)) for w in result.windows],
        first_sync=result.first_sync,
    )


def cost_result(step: CostStep) -> CostWindowResult:
    return CostWindowResult(
        start=step.start.isoformat(),
        end=step.end.isoformat(),
        rows=step.rows,
        replaced=step.replaced,
        billed_total=str(step.billed_total),
        kept_days=step.kept_days,
    )


def cost_step(result: CostWindowResult) -> CostStep:
    return CostStep(
        start=date.fromisoformat(result.start),
        end=date.fromisoformat(result.end),
        rows=result.rows,
        replaced=result.replaced,
        billed_total=Decimal(result.billed_total),
        kept_days=result.kept_days,
    )


def inventory_result(step: InventoryStep) -> InventoryResult:
    return InventoryResult(
        resources=step.resources,
        complete=step.complete,
        failures=list(step.failures),
        permission_problems=list(step.problems),
    )


def inventory_step(result: InventoryResult) -> InventoryStep:
    return InventoryStep(
        resources=result.resources,
        complete=result.complete,
        failures=list(result.failures),
        problems=list(result.permission_problems),
    )


def utilisation_result(step: UtilisationStep) -> UtilisationResult:
    return UtilisationResult(
        resources=step.resources,
        series=step.series,
        failures=list(step.failures),
        permission_problems=list(step.problems),
    )


def utilisation_step(result: UtilisationResult) -> UtilisationStep:
    return UtilisationStep(
        resources=result.resources,
        series=result.series,
        failures=list(result.failures),
        problems=list(result.permission_problems),
    )


def iam_result(step: IamStep) -> IamResult:
    return IamResult(
        principals=step.principals,
        privileged=step.privileged,
        complete=step.complete,
        permission_problems=list(step.problems),
    )


def iam_step(result: IamResult) -> IamStep:
    return IamStep(
        principals=result.principals,
        privileged=result.privileged,
        complete=result.complete,
        problems=list(result.permission_problems),
    )


def finish_result(step: FinishStep) -> FinishResult:
    return FinishResult(
        last_sync_at=step.last_sync_at.isoformat() if step.last_sync_at else None,
        monthly_spend=str(step.monthly_spend) if step.monthly_spend is not None else None,
        events=step.events,
    )


def finish_step(result: FinishResult) -> FinishStep:
    return FinishStep(
        last_sync_at=datetime.fromisoformat(result.last_sync_at) if result.last_sync_at else None,
        monthly_spend=Decimal(result.monthly_spend) if result.monthly_spend is not None else None,
        events=result.events,
    )


def account_steps(state: AccountCollection, utilisation_days: int) -> AccountSteps:
    """The activity's result (and heartbeat detail) for the service's progress."""
    return AccountSteps(
        plan=plan_result(state.plan, utilisation_days),
        cost_windows=[cost_result(c) for c in state.costs],
        inventory=inventory_result(state.inventory) if state.inventory else None,
        utilisation=utilisation_result(state.utilisation) if state.utilisation else None,
        iam=iam_result(state.iam) if state.iam else None,
        failed_steps=[f.label() for f in state.failures if not f.retryable],
        pending=[
            PendingStep(
                step=f.step,
                reason=f.reason,
                window=CostWindow(start=f.window[0].isoformat(), end=f.window[1].isoformat())
                if f.window
                else None,
            )
            for f in state.pending
        ],
        finish=finish_result(state.finish) if state.finish else None,
        denied=list(state.denied),
    )


def account_collection(steps: AccountSteps) -> AccountCollection:
    """What a retried attempt resumes from (failures are not carried: those steps run again)."""
    return AccountCollection(
        plan=plan_from(steps.plan),
        costs=[cost_step(c) for c in steps.cost_windows],
        inventory=inventory_step(steps.inventory) if steps.inventory else None,
        utilisation=utilisation_step(steps.utilisation) if steps.utilisation else None,
        iam=iam_step(steps.iam) if steps.iam else None,
        finish=finish_step(steps.finish) if steps.finish else None,
        denied=list(steps.denied),
    )
