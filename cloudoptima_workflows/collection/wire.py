"""Conversions between the collection service's step results (``cloudoptima.services.collection``
dataclasses) and the workflows' messages (``inputs``).

The messages carry the same fields with the same types (dates, ``Decimal``, UTC datetimes, the kernel's
``PermissionProblem``), so a step result becomes a message by ``model_validate(step, from_attributes=True)``;
what remains here is the shape that differs: a plan's windows (tuples in the service, ``CostWindow`` on the
wire) and the progress of a whole account (``AccountSteps``), which a retried attempt resumes from.
"""

from __future__ import annotations

from datetime import timedelta

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
    """The plan, with the utilisation backfill window ``utilisation_days`` back from its end."""
    return PlanResult(
        start=plan.start,
        end=plan.end,
        windows=[CostWindow(start=a, end=b) for a, b in plan.windows],
        first_sync=plan.first_sync,
        utilisation_start=plan.end - timedelta(days=utilisation_days),
        utilisation_end=plan.end,
    )


def plan_from(result: PlanResult) -> CollectionPlan:
    return CollectionPlan(
        start=result.start,
        end=result.end,
        windows=[(w.start, w.end) for w in result.windows],
        first_sync=result.first_sync,
    )


def cost_step(result: CostWindowResult) -> CostStep:
    return CostStep(**dict(result))


def inventory_step(result: InventoryResult) -> InventoryStep:
    return InventoryStep(
        resources=result.resources,
        complete=result.complete,
        failures=list(result.failures),
        problems=list(result.permission_problems),
    )


def utilisation_step(result: UtilisationResult) -> UtilisationStep:
    return UtilisationStep(
        resources=result.resources,
        series=result.series,
        failures=list(result.failures),
        problems=list(result.permission_problems),
    )


def iam_step(result: IamResult) -> IamStep:
    return IamStep(
        principals=result.principals,
        privileged=result.privileged,
        complete=result.complete,
        problems=list(result.permission_problems),
    )


def finish_step(result: FinishResult) -> FinishStep:
    return FinishStep(**dict(result))


def account_steps(state: AccountCollection, utilisation_days: int) -> AccountSteps:
    """The activity's result (and heartbeat detail) for the service's progress."""

    return AccountSteps(
        plan=plan_result(state.plan, utilisation_days),
        cost_windows=[CostWindowResult.model_validate(c, from_attributes=True) for c in state.costs],
        inventory=InventoryResult.model_validate(state.inventory, from_attributes=True)
        if state.inventory
        else None,
        utilisation=UtilisationResult.model_validate(state.utilisation, from_attributes=True)
        if state.utilisation
        else None,
        iam=IamResult.model_validate(state.iam, from_attributes=True) if state.iam else None,
        failed_steps=[f.label() for f in state.failures if not f.retryable],
        pending=[
            PendingStep(
                step=f.step,
                reason=f.reason,
                window=CostWindow(start=f.window[0], end=f.window[1]) if f.window else None,
            )
            for f in state.pending
        ],
        finish=FinishResult.model_validate(state.finish, from_attributes=True) if state.finish else None,
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
