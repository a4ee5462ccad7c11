"""Allocation dimensions ("virtual tags") and showback (``cloudoptima.services.allocation``).

- ``GET /v1/allocation/dimensions`` (``read:costs``): the organisation's dimensions by name.
- ``POST /v1/allocation/dimensions`` (``write:allocation``): add one (201); a bad or taken name is a 422
  naming ``name``. ``GET``/``PATCH``/``DELETE /v1/allocation/dimensions/{id}`` (404 when unknown).
- ``GET /v1/allocation/dimensions/{id}/rules[?version=n]`` (``read:costs``): a rule-set version (default the
  latest; 404 when there is none).
- ``PUT /v1/allocation/dimensions/{id}/rules`` (``write:allocation``): save the body as the next immutable
  version (422 naming the rule and field, e.g. ``rules[2].match.tags[0].key``) and start the
  ``ReallocateCosts`` workflow for it (one workflow id per version); readers keep the previous version until
  it finishes. ``POST …/reallocate`` starts it again for the latest version (e.g. after ``unavailable``).
- ``GET /v1/costs/by-allocation?dimension=team&start_date&end_date[&granularity][&currency]``
  (``read:costs``): cost per value with ``unallocated`` shown, per currency, summing to ``total_cost``; with
  ``reconcile=true`` the total is the overview's figure and ``values`` plus ``pending`` equal it exactly;
  ``cost_basis=billed|effective`` (default billed) picks the cost and the answer states it.
"""

from __future__ import annotations

import logging
import uuid
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Annotated

from fastapi import APIRouter, Query, status
from starlette.concurrency import run_in_threadpool
from temporalio.common import WorkflowIDReusePolicy
from temporalio.exceptions import WorkflowAlreadyStartedError
from temporalio.service import RPCError

from cloudoptima.domain.allocation import AllocationRuleError
from cloudoptima.domain.costs import CostQueryError
from cloudoptima.services.allocation.dimensions import AllocationDimensions, DimensionNotFound, DimensionView
from cloudoptima.services.allocation.queries import AllocationGranularity, CostBasis, cost_by_allocation
from cloudoptima.storage.tenancy import tenant_session
from cloudoptima_gateway.audit import AuditedRoute
from cloudoptima_gateway.deps import Permission, Principal, RuntimeDep, TenantDb
from cloudoptima_gateway.runtime import Runtime
from cloudoptima_gateway.schemas.allocation import (
    CostByAllocationOut,
    CurrencyAllocationOut,
    DimensionIn,
    DimensionList,
    DimensionOut,
    DimensionPatch,
    ReallocationOut,
    RuleSetIn,
    RuleSetOut,
    RulesSaved,
    SeriesPointOut,
    ValueCostOut,
)
from cloudoptima_gateway.schemas.common import invalid, not_found
from cloudoptima_workflows.allocation.inputs import (
    REALLOCATE_COSTS_WORKFLOW,
    ReallocateInput,
    reallocate_workflow_id,
)
from cloudoptima_workflows.queues import PROCESSING

router = APIRouter(prefix="/allocation", tags=["allocation"], route_class=AuditedRoute)
costs_router = APIRouter(prefix="/costs", tags=["costs"], route_class=AuditedRoute)
Reader = Annotated[Principal, Permission("read:costs")]
Writer = Annotated[Principal, Permission("write:allocation")]
_log = logging.getLogger(__name__)
_TEMPORAL_ERRORS = (RPCError, OSError, RuntimeError)


def _now() -> datetime:
    return datetime.now(UTC)


def _out(view: DimensionView) -> DimensionOut:
    return DimensionOut(
        id=view.id,
        name=view.name,
        description=view.description,
        active_version=view.active_version,
        latest_version=view.latest_version,
        allocated_at=view.allocated_at,
        created_at=view.created_at,
        updated_at=view.updated_at,
    )


@router.get("/dimensions", response_model=DimensionList)
def list_dimensions(principal: Reader, session: TenantDb) -> DimensionList:
    """The organisation's allocation dimensions by name."""
    return DimensionList(
        items=[_out(v) for v in AllocationDimensions(session, principal.organization_id).list()]
    )


@router.post("/dimensions", response_model=DimensionOut, status_code=status.HTTP_201_CREATED)
def create_dimension(body: DimensionIn, principal: Writer, session: TenantDb) -> DimensionOut:
    """Add a dimension (no rules yet: everything is ``unallocated`` until a rule set is saved)."""
    try:
        view = AllocationDimensions(session, principal.organization_id).create(
            body.name, body.description, _now()
        )
    except AllocationRuleError as exc:
        raise invalid(exc.field, exc.message, "body") from exc
    return _out(view)


@router.get("/dimensions/{dimension_id}", response_model=DimensionOut)
def get_dimension(dimension_id: uuid.UUID, principal: Reader, session: TenantDb) -> DimensionOut:
    try:
        return _out(AllocationDimensions(session, principal.organization_id).get(dimension_id))
    except DimensionNotFound:
        raise not_found("allocation dimension", dimension_id) from None


@router.patch("/dimensions/{dimension_id}", response_model=DimensionOut)
def update_dimension(
    dimension_id: uuid.UUID, body: DimensionPatch, principal: Writer, session: TenantDb
) -> DimensionOut:
    try:
        return _out(
            AllocationDimensions(session, principal.organization_id).update(
                dimension_id, body.description, _now()
            )
        )
    except DimensionNotFound:
        raise not_found("allocation dimension", dimension_id) from None


@router.delete("/dimensions/{dimension_id}", status_code=status.HTTP_204_NO_CONTENT)
def delete_dimension(dimension_id: uuid.UUID, principal: Writer, session: TenantDb) -> None:
    """Delete the dimension, its rule sets and its allocated rows."""
    try:
        AllocationDimensions(session, principal.organization_id).delete(dimension_id)
    except DimensionNotFound:
        raise not_found("allocation dimension", dimension_id) from None


@router.get("/dimensions/{dimension_id}/rules", response_model=RuleSetOut)
def get_rules(
    dimension_id: uuid.UUID,
    principal: Reader,
    session: TenantDb,
    version: Annotated[int | None, Query(ge=1)] = None,
) -> RuleSetOut:
    try:
        found = AllocationDimensions(session, principal.organization_id).rules(dimension_id, version)
    except DimensionNotFound:
        raise not_found("allocation dimension", dimension_id) from None
    if found is None:
        raise not_found("rule set of dimension", dimension_id)
    number, rule_set = found
    return RuleSetOut(dimension_id=dimension_id, version=number, rules=rule_set.model_dump(mode="json"))


async def _start(runtime: Runtime, org: uuid.UUID, dimension_id: uuid.UUID, version: int) -> ReallocationOut:
    workflow_id = reallocate_workflow_id(str(org), str(dimension_id), version)
    try:
        client = await runtime.temporal()
        await client.start_workflow(
            REALLOCATE_COSTS_WORKFLOW,
            ReallocateInput(organization_id=str(org), dimension_id=str(dimension_id), version=version),
            id=workflow_id,
            task_queue=PROCESSING,
            id_reuse_policy=WorkflowIDReusePolicy.ALLOW_DUPLICATE,
            execution_timeout=timedelta(hours=6),
        )
    except WorkflowAlreadyStartedError:
        return ReallocationOut(workflow_id=workflow_id, status="started")  # this version is being allocated
    except _TEMPORAL_ERRORS as exc:
        _log.warning("could not start %s: %s", workflow_id, exc)
        return ReallocationOut(workflow_id=workflow_id, status="unavailable")
    return ReallocationOut(workflow_id=workflow_id, status="started")


@router.put("/dimensions/{dimension_id}/rules", response_model=RulesSaved)
async def put_rules(
    dimension_id: uuid.UUID, body: RuleSetIn, principal: Writer, runtime: RuntimeDep
) -> RulesSaved:
    """Save the next rule-set version and start its re-allocation (module docstring)."""
    org = principal.organization_id

    def save() -> DimensionView:
        with tenant_session(runtime.sessions(), org) as session:
            view, _ = AllocationDimensions(session, org).save_rules(
                dimension_id, body.model_dump(), principal.user_id, _now()
            )
            return view

    try:
        view = await run_in_threadpool(save)
    except DimensionNotFound:
        raise not_found("allocation dimension", dimension_id) from None
    except AllocationRuleError as exc:
        raise invalid(exc.field, exc.message, "body") from exc
    started = await _start(runtime, org, dimension_id, view.latest_version)
    return RulesSaved(dimension=_out(view), version=view.latest_version, reallocation=started)


@router.post("/dimensions/{dimension_id}/reallocate", response_model=ReallocationOut)
async def reallocate(dimension_id: uuid.UUID, principal: Writer, runtime: RuntimeDep) -> ReallocationOut:
    """Start (again) the re-allocation of the latest version; 404 when there is no rule set yet."""
    org = principal.organization_id

    def latest() -> int:
        with tenant_session(runtime.sessions(), org) as session:
            return AllocationDimensions(session, org).get(dimension_id).latest_version

    try:
        version = await run_in_threadpool(latest)
    except DimensionNotFound:
        raise not_found("allocation dimension", dimension_id) from None
    if version == 0:
        raise not_found("rule set of dimension", dimension_id)
    return await _start(runtime, org, dimension_id, version)


def _percent(part: Decimal, total: Decimal) -> Decimal:
    return (part * 100 / total).quantize(Decimal("0.01")) if total else Decimal(0)


@costs_router.get("/by-allocation", response_model=CostByAllocationOut)
def costs_by_allocation(
    principal: Reader,
    session: TenantDb,
    dimension: Annotated[str, Query(min_length=1, max_length=63)],
    start_date: date,
    end_date: Annotated[date, Query(description="exclusive")],
    granularity: AllocationGranularity | None = None,
    currency: Annotated[str | None, Query(pattern="^[A-Za-z]{3}$")] = None,
    reconcile: Annotated[bool, Query(description="also read the overview's total and show pending")] = False,
    cost_basis: Annotated[
        CostBasis,
        Query(description="billed (FOCUS BilledCost) or effective (FOCUS EffectiveCost, amortised)"),
    ] = "billed",
) -> CostByAllocationOut:
    """Cost per allocation value, ``unallocated`` included (module docstring)."""
    try:
        view = cost_by_allocation(
            session.connection(),
            principal.organization_id,
            dimension,
            start_date,
            end_date,
            granularity=granularity,
            currency=currency.upper() if currency else None,
            reconcile=reconcile,
            cost_basis=cost_basis,
        )
    except LookupError:
        raise invalid("dimension", f"no allocation dimension named {dimension!r}") from None
    except CostQueryError as exc:
        raise invalid("end_date", str(exc)) from exc
    return CostByAllocationOut(
        dimension=view.dimension,
        version=view.version,
        start_date=view.start_date,
        end_date=view.end_date,
        cost_basis=view.cost_basis,
        currencies=[
            CurrencyAllocationOut(
                currency=c.currency,
                total_cost=c.total_cost,
                pending=c.pending,
                values=[
                    ValueCostOut(
                        value=v.value,
                        cost=v.cost,
                        shared_cost=v.shared_cost,
                        percentage=_percent(v.cost, c.total_cost),
                        series=[SeriesPointOut(period_start=p.period_start, cost=p.cost) for p in v.series],
                    )
                    for v in c.values
                ],
            )
            for c in view.currencies
        ],
    )
