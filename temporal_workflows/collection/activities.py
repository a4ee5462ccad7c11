"""Collection activities: each one step of :class:`~cloudoptima.services.collection.CollectionService`.

Error contract (what the workflows rely on):

- :class:`CredentialsError` (and an account that no longer exists) → the account is marked ``error`` with the
  reason, then ``ApplicationError(type="CredentialsError", non_retryable=True)``.
- Retryable provider errors (throttling, outage, incomplete reads) → ``ApplicationError`` of their class name,
  retried by the activity's RetryPolicy.
- Other provider errors → ``ApplicationError`` of their class name, ``non_retryable``.
Sync activities run in the worker's thread pool; long steps heartbeat.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import date, timedelta
from decimal import Decimal

from temporalio import activity
from temporalio.exceptions import ApplicationError

from cloudoptima.clouds.protocol import CredentialsError, ProviderError
from cloudoptima.services.collection import (
    AccountNotFoundError,
    AccountRef,
    CollectionService,
    CostStep,
    InventoryStep,
)
from temporal_workflows.collection.inputs import (
    AccountKey,
    AccountList,
    CollectAccountInput,
    CostWindow,
    CostWindowInput,
    CostWindowResult,
    FinishInput,
    FinishResult,
    IamResult,
    InventoryResult,
    ListAccountsInput,
    PlanResult,
    UtilisationInput,
    UtilisationResult,
)

CREDENTIALS_ERROR = "CredentialsError"
ACCOUNT_MISSING = "AccountNotFound"


def _ref(organization_id: str, cloud_account_id: str) -> AccountRef:
    return AccountRef(uuid.UUID(organization_id), uuid.UUID(cloud_account_id))


def _heartbeat(detail: str) -> None:
    activity.heartbeat(detail)


class CollectionActivities:
    """Activities bound to one :class:`CollectionService` (wired in ``worker.main``)."""

    def __init__(self, service: CollectionService) -> None:
        self._service = service

    @contextmanager
    def _errors(self, ref: AccountRef) -> Iterator[None]:
        try:
            yield
        except CredentialsError as exc:
            reason = str(exc) + (f" (missing permission {exc.permission})" if exc.permission else "")
            self._service.mark_error(ref, reason)
            raise ApplicationError(reason, type=CREDENTIALS_ERROR, non_retryable=True) from None
        except AccountNotFoundError as exc:
            raise ApplicationError(str(exc), type=ACCOUNT_MISSING, non_retryable=True) from None
        except ProviderError as exc:
            raise ApplicationError(
                str(exc), type=type(exc).__name__, non_retryable=not exc.retryable
            ) from None

    @activity.defn(name="collection.list_accounts")
    def list_accounts(self, params: ListAccountsInput) -> AccountList:
        if params.kind not in ("sandbox", "live", "all"):
            raise ApplicationError(f"unknown account kind {params.kind!r}", non_retryable=True)
        org = uuid.UUID(params.organization_id) if params.organization_id else None
        refs = self._service.list_accounts(params.kind, org)  # type: ignore[arg-type]
        return AccountList(
            accounts=[AccountKey(str(r.organization_id), str(r.cloud_account_id)) for r in refs]
        )

    @activity.defn(name="collection.plan")
    def plan(self, params: CollectAccountInput) -> PlanResult:
        ref = _ref(params.organization_id, params.cloud_account_id)
        today = date.fromisoformat(params.today) if params.today else None
        with self._errors(ref):
            plan = self._service.plan(
                ref,
                initial_days=params.initial_days,
                restate_days=params.restate_days,
                window_days=params.window_days,
                today=today,
            )
        return PlanResult(
            start=plan.start.isoformat(),
            end=plan.end.isoformat(),
            windows=[CostWindow(a.isoformat(), b.isoformat()) for a, b in plan.windows],
            first_sync=plan.first_sync,
            utilisation_start=(plan.end - timedelta(days=params.utilisation_days)).isoformat(),
            utilisation_end=plan.end.isoformat(),
        )

    @activity.defn(name="collection.costs")
    def costs(self, params: CostWindowInput) -> CostWindowResult:
        ref = _ref(params.organization_id, params.cloud_account_id)
        _heartbeat(f"costs {params.start}..{params.end}")
        with self._errors(ref):
            step = self._service.collect_costs(
                ref, date.fromisoformat(params.start), date.fromisoformat(params.end)
            )
        return CostWindowResult(
            start=params.start,
            end=params.end,
            rows=step.rows,
            replaced=step.replaced,
            billed_total=str(step.billed_total),
        )

    @activity.defn(name="collection.inventory")
    def inventory(self, params: CollectAccountInput) -> InventoryResult:
        ref = _ref(params.organization_id, params.cloud_account_id)
        _heartbeat("inventory")
        with self._errors(ref):
            step = self._service.collect_inventory(ref)
        return InventoryResult(resources=step.resources, complete=step.complete, failures=step.failures)

    @activity.defn(name="collection.utilisation")
    def utilisation(self, params: UtilisationInput) -> UtilisationResult:
        ref = _ref(params.organization_id, params.cloud_account_id)
        _heartbeat("utilisation")
        with self._errors(ref):
            step = self._service.collect_utilisation(
                ref, date.fromisoformat(params.start), date.fromisoformat(params.end), _heartbeat
            )
        return UtilisationResult(resources=step.resources, series=step.series, failures=step.failures)

    @activity.defn(name="collection.iam")
    def iam(self, params: CollectAccountInput) -> IamResult:
        ref = _ref(params.organization_id, params.cloud_account_id)
        _heartbeat("iam")
        with self._errors(ref):
            step = self._service.collect_iam(ref)
        return IamResult(principals=step.principals, privileged=step.privileged, complete=step.complete)

    @activity.defn(name="collection.finish")
    def finish(self, params: FinishInput) -> FinishResult:
        ref = _ref(params.organization_id, params.cloud_account_id)
        with self._errors(ref):
            step = self._service.finish(
                ref,
                costs_complete=params.costs_complete,
                cost_steps=[
                    CostStep(
                        start=date.fromisoformat(w.start),
                        end=date.fromisoformat(w.end),
                        rows=w.rows,
                        replaced=w.replaced,
                        billed_total=Decimal(w.billed_total),
                    )
                    for w in params.cost_windows
                ],
                inventory=(
                    InventoryStep(
                        resources=params.inventory.resources,
                        complete=params.inventory.complete,
                        failures=params.inventory.failures,
                    )
                    if params.inventory is not None
                    else None
                ),
            )
        return FinishResult(
            last_sync_at=step.last_sync_at.isoformat() if step.last_sync_at else None,
            monthly_spend=str(step.monthly_spend) if step.monthly_spend is not None else None,
            events=step.events,
        )

    def all(self) -> list[Callable[..., object]]:
        """Every activity of this class, for ``Worker(activities=...)``."""
        return [
            self.list_accounts,
            self.plan,
            self.costs,
            self.inventory,
            self.utilisation,
            self.iam,
            self.finish,
        ]
