"""Collection activities over :class:`~cloudoptima.services.collection.CollectionService`.

``collection.account`` runs every step of one account in one activity (the common path: one activity task
per account keeps the Temporal server and the database light); ``collection.costs`` / ``inventory`` /
``utilisation`` / ``iam`` / ``finish`` are single steps, used to retry what ``collection.account`` left
pending (a retryable provider error) under the workflow's retry policy.

Error contract (what the workflows rely on):

- :class:`CredentialsError` (and an account that no longer exists) → the account is marked ``error`` with the
  reason, then ``ApplicationError(type="CredentialsError", non_retryable=True)``.
- Retryable provider errors (throttling, outage, incomplete reads) → ``ApplicationError`` of their class name,
  retried by the activity's RetryPolicy.
- Other provider errors → ``ApplicationError`` of their class name, ``non_retryable``.
  Inside ``collection.account`` provider errors of a step are returned (``failed_steps`` / ``pending``);
  credentials errors still fail it as above.
Sync activities run in the worker's thread pool; long steps heartbeat.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import date, timedelta

from temporalio import activity
from temporalio.converter import value_to_type
from temporalio.exceptions import ApplicationError

from cloudoptima.clouds.protocol import CredentialsError, ProviderError
from cloudoptima.services.collection import (
    AccountCollection,
    AccountNotFoundError,
    AccountRef,
    CollectionService,
)
from temporal_workflows.collection import wire
from temporal_workflows.collection.inputs import (
    AccountKey,
    AccountList,
    AccountSteps,
    CollectAccountInput,
    CostWindowInput,
    CostWindowResult,
    FinishInput,
    FinishResult,
    IamResult,
    InventoryResult,
    ListAccountsInput,
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

    @activity.defn(name="collection.account")
    def account(self, params: CollectAccountInput) -> AccountSteps:
        """Every step of one account (``CollectionService.collect_account``); heartbeats its progress between
        steps, and a retried attempt resumes from the last heartbeat (same plan, no committed step repeated;
        an attempt that never heartbeated re-plans, and every step is idempotent). Steps that failed
        retryably are returned ``pending`` for the workflow to retry singly."""
        ref = _ref(params.organization_id, params.cloud_account_id)
        details = activity.info().heartbeat_details
        resume = wire.account_collection(value_to_type(AccountSteps, details[0])) if details else None
        days = params.utilisation_days
        timeout = activity.info().heartbeat_timeout or timedelta(seconds=params.heartbeat_seconds)
        # A heartbeat is a server round trip: beat once a quarter of the timeout has passed since the last
        # one (the server only needs one within the timeout); an attempt shorter than that never beats and a
        # crash is still caught by the timeout. Its detail is what a retry resumes from.
        interval = timeout.total_seconds() / 4
        last = [time.monotonic()]

        def progress(state: AccountCollection) -> None:
            now = time.monotonic()
            if now - last[0] >= interval:
                last[0] = now
                activity.heartbeat(wire.account_steps(state, days))

        with self._errors(ref):
            state = self._service.collect_account(
                ref,
                initial_days=params.initial_days,
                restate_days=params.restate_days,
                window_days=params.window_days,
                utilisation_days=days,
                today=date.fromisoformat(params.today) if params.today else None,
                progress=progress,
                resume=resume,
            )
        return wire.account_steps(state, days)

    @activity.defn(name="collection.costs")
    def costs(self, params: CostWindowInput) -> CostWindowResult:
        ref = _ref(params.organization_id, params.cloud_account_id)
        _heartbeat(f"costs {params.start}..{params.end}")
        with self._errors(ref):
            step = self._service.collect_costs(
                ref, date.fromisoformat(params.start), date.fromisoformat(params.end)
            )
        return wire.cost_result(step)

    @activity.defn(name="collection.inventory")
    def inventory(self, params: CollectAccountInput) -> InventoryResult:
        ref = _ref(params.organization_id, params.cloud_account_id)
        _heartbeat("inventory")
        with self._errors(ref):
            step = self._service.collect_inventory(ref)
        return wire.inventory_result(step)

    @activity.defn(name="collection.utilisation")
    def utilisation(self, params: UtilisationInput) -> UtilisationResult:
        ref = _ref(params.organization_id, params.cloud_account_id)
        _heartbeat("utilisation")
        with self._errors(ref):
            step = self._service.collect_utilisation(
                ref, date.fromisoformat(params.start), date.fromisoformat(params.end), _heartbeat
            )
        return wire.utilisation_result(step)

    @activity.defn(name="collection.iam")
    def iam(self, params: CollectAccountInput) -> IamResult:
        ref = _ref(params.organization_id, params.cloud_account_id)
        _heartbeat("iam")
        with self._errors(ref):
            step = self._service.collect_iam(ref)
        return wire.iam_result(step)

    @activity.defn(name="collection.finish")
    def finish(self, params: FinishInput) -> FinishResult:
        ref = _ref(params.organization_id, params.cloud_account_id)
        with self._errors(ref):
            step = self._service.finish(
                ref,
                costs_complete=params.costs_complete,
                cost_steps=[wire.cost_step(w) for w in params.cost_windows],
                inventory=wire.inventory_step(params.inventory) if params.inventory else None,
            )
        return wire.finish_result(step)

    def all(self) -> list[Callable[..., object]]:
        """Every activity of this class, for ``Worker(activities=...)``."""
        return [
            self.list_accounts,
            self.account,
            self.costs,
            self.inventory,
            self.utilisation,
            self.iam,
            self.finish,
        ]
