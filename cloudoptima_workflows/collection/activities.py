"""Collection activities over :class:`~cloudoptima.services.collection.CollectionService`.

``collection.accounts`` runs every step of several accounts, one after the other, in one activity (the fan-out's
path: a batch per activity task keeps the Temporal server light — see ``benchmarks/collect_accounts.py``);
``collection.account`` runs every step of one account (``CollectAccount``); ``collection.costs`` / ``inventory`` /
``utilisation`` / ``iam`` / ``finish`` are single steps, used to retry what ``collection.account`` left
pending (a retryable provider error) under the workflow's retry policy.

Error contract (what the workflows rely on):

- :class:`CredentialsError` (and an account that no longer exists) → the account is marked ``error`` with the
  reason, then ``ApplicationError(type="CredentialsError", non_retryable=True)`` — except in a single step
  (``collection.costs`` / ``inventory`` / ``iam``) denied a named permission: that is
  ``ApplicationError(type="PermissionDenied", non_retryable=True)`` whose one detail is the
  :class:`PermissionProblem`; the account is not marked (the workflow records the problem at
  ``finish``). Inside ``collection.account`` denied steps are returned in ``denied`` and the others run.
- Another collection of the account is running → ``ApplicationError(type="CollectionInProgress")``,
  retryable: ``CollectAccount`` waits for it under the retry policy (about a minute); nothing was read or
  written. In a batch that account is ``skipped``.
- Retryable provider errors (throttling, outage, incomplete reads) → ``ApplicationError`` of their class name,
  retried by the activity's RetryPolicy.
- Other provider errors → ``ApplicationError`` of their class name, ``non_retryable``.
  Inside ``collection.account`` provider errors of a step are returned (``failed_steps`` / ``pending``);
  credentials errors still fail it as above.
- ``collection.accounts`` (a batch) never fails for one account: each account's outcome is returned
  (:class:`~cloudoptima_workflows.collection.inputs.AccountOutcome`).
Sync activities run in the worker's thread pool; long steps heartbeat.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import date, timedelta

from temporalio import activity
from temporalio.exceptions import ApplicationError, CancelledError

from cloudoptima.clouds.protocol import CredentialsError, ProviderError
from cloudoptima.domain.collection_steps import (
    AccountCollection,
    CostStep,
    FinishStep,
    IamStep,
    InventoryStep,
    UtilisationStep,
)
from cloudoptima.domain.permission_problems import Step
from cloudoptima.services.collection import (
    AccountNotFoundError,
    AccountRef,
    CollectionInProgressError,
    CollectionService,
)
from cloudoptima.services.collection_problems import denied
from cloudoptima_workflows.collection.failures import (
    ACCOUNT_MISSING,
    CREDENTIALS_ERROR,
    IN_PROGRESS,
    PERMISSION_DENIED,
)
from cloudoptima_workflows.collection.inputs import (
    AccountKey,
    AccountList,
    AccountOutcome,
    CollectAccountInput,
    CollectBatchInput,
    CollectBatchResult,
    CostWindowInput,
    FinishInput,
    ListAccountsInput,
    UtilisationInput,
)
from cloudoptima_workflows.collection.interface import CollectionActivityInterface
from cloudoptima_workflows.message import Message


def _ref(organization_id: str, cloud_account_id: str) -> AccountRef:
    return AccountRef(uuid.UUID(organization_id), uuid.UUID(cloud_account_id))


def _heartbeat(detail: str) -> None:
    activity.heartbeat(detail)


class _BatchProgress(Message):
    """Heartbeat detail of ``collection.accounts``: the accounts finished and the current one's steps."""

    done: list[AccountOutcome]
    current: AccountCollection | None = None


class _Throttled:
    """Heartbeats at most once a quarter of the heartbeat timeout (a heartbeat is a server round trip and its
    detail a JSON conversion; the server needs one within the timeout). ``detail`` is only built when a
    heartbeat is sent. An attempt shorter than that never beats, and a crash is still caught by the
    timeout."""

    def __init__(self, heartbeat_seconds: int) -> None:
        timeout = activity.info().heartbeat_timeout or timedelta(seconds=heartbeat_seconds)
        self._interval = timeout.total_seconds() / 4
        self._last = time.monotonic()

    def __call__(self, detail: Callable[[], object]) -> None:
        now = time.monotonic()
        if now - self._last >= self._interval:
            self._last = now
            activity.heartbeat(detail())


def _last_attempt() -> bool:
    """True in an activity attempt its retry policy will not retry (outside an activity: False)."""
    if not activity.in_activity():
        return False
    info = activity.info()
    limit = info.retry_policy.maximum_attempts if info.retry_policy is not None else 0
    return limit > 0 and info.attempt >= limit


class CollectionActivities(CollectionActivityInterface):
    """Activities bound to one :class:`CollectionService` (wired in ``worker.main``)."""

    def __init__(self, service: CollectionService) -> None:
        self._service = service

    @contextmanager
    def _errors(
        self, ref: AccountRef, step: tuple[Step, str] | None = None, *, name: str | None = None
    ) -> Iterator[None]:
        """Translate the service's errors (see the module contract); ``step`` = (step, what it reads) of a
        single-step activity, whose permission denial is reported instead of stopping the account. A provider
        error that fails the step ``name`` (default: ``step``'s) for good — not retryable, or on the retry
        policy's last attempt — is also recorded (``CollectionService.record_failed_steps``: notified once)."""
        try:
            yield
        except CredentialsError as exc:
            if step is not None and exc.permission:
                problem = denied(exc, *step)
                raise ApplicationError(
                    problem.message,
                    problem,
                    type=PERMISSION_DENIED,
                    non_retryable=True,
                ) from None
            reason = str(exc) + (f" (missing permission {exc.permission})" if exc.permission else "")
            self._service.mark_error(ref, reason)
            raise ApplicationError(reason, type=CREDENTIALS_ERROR, non_retryable=True) from None
        except AccountNotFoundError as exc:
            raise ApplicationError(str(exc), type=ACCOUNT_MISSING, non_retryable=True) from None
        except CollectionInProgressError as exc:
            raise ApplicationError(str(exc), type=IN_PROGRESS) from None
        except ProviderError as exc:
            label = name or (step[0] if step is not None else None)
            if label is not None and (not exc.retryable or _last_attempt()):
                self._service.record_failed_steps(ref, [(label, f"{type(exc).__name__}: {exc}")])
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
            accounts=[
                AccountKey(organization_id=str(r.organization_id), cloud_account_id=str(r.cloud_account_id))
                for r in refs
            ]
        )

    @activity.defn(name="collection.account")
    def account(self, params: CollectAccountInput) -> AccountCollection:
        """Every step of one account (``CollectionService.collect_account``); heartbeats its progress between
        steps, and a retried attempt resumes from the last heartbeat (same plan, no committed step repeated;
        an attempt that never heartbeated re-plans, and every step is idempotent). Steps that failed
        retryably are returned ``pending`` for the workflow to retry singly."""
        ref = _ref(params.organization_id, params.cloud_account_id)
        details = activity.info().heartbeat_details
        resume = AccountCollection.model_validate(details[0]) if details else None
        beat = _Throttled(params.heartbeat_seconds)
        with self._errors(ref):
            return self._collect(params, resume, beat, lambda steps: steps)

    @activity.defn(name="collection.accounts")
    def accounts(self, params: CollectBatchInput) -> CollectBatchResult:
        """Collect each account of the batch in turn, as ``collection.account`` would, and report each one's
        outcome instead of failing the batch (see :class:`AccountOutcome`): bad credentials mark that account
        ``error`` and the others go on. Heartbeats the finished outcomes plus the current account's progress;
        a retried attempt skips the finished accounts and resumes the current one from its progress."""
        details = activity.info().heartbeat_details
        done: list[AccountOutcome] = []
        current: AccountCollection | None = None
        if details:
            previous = _BatchProgress.model_validate(details[0])
            done, current = list(previous.done), previous.current
        finished = {outcome.cloud_account_id for outcome in done}
        beat = _Throttled(params.accounts[0].heartbeat_seconds if params.accounts else 60)
        for account in params.accounts:
            if account.cloud_account_id in finished:
                continue
            resume, current = current, None
            done.append(
                self._outcome(
                    account, resume, beat, lambda steps: _BatchProgress(done=list(done), current=steps)
                )
            )
            beat(lambda: _BatchProgress(done=list(done), current=None))
        order = {account.cloud_account_id: index for index, account in enumerate(params.accounts)}
        return CollectBatchResult(outcomes=sorted(done, key=lambda outcome: order[outcome.cloud_account_id]))

    def _outcome(
        self,
        params: CollectAccountInput,
        resume: AccountCollection | None,
        beat: _Throttled,
        detail: Callable[[AccountCollection], object],
    ) -> AccountOutcome:
        ref = _ref(params.organization_id, params.cloud_account_id)
        account = params.cloud_account_id
        try:
            with self._errors(ref):
                steps = self._collect(params, resume, beat, detail)
        except ApplicationError as exc:
            if exc.type == IN_PROGRESS:
                return AccountOutcome(cloud_account_id=account, status="skipped", reason=exc.message)
            if exc.non_retryable:
                return AccountOutcome(
                    cloud_account_id=account, status="failed", reason=f"{exc.type}: {exc.message}"
                )
            return AccountOutcome(
                cloud_account_id=account, status="retry", reason=f"{exc.type}: {exc.message}"
            )
        except CancelledError:
            raise
        except Exception as exc:  # reported; the workflow collects the account again on its own
            return AccountOutcome(
                cloud_account_id=account, status="retry", reason=f"{type(exc).__name__}: {exc}"
            )
        return AccountOutcome(cloud_account_id=account, status="collected", steps=steps)

    def _collect(
        self,
        params: CollectAccountInput,
        resume: AccountCollection | None,
        beat: _Throttled,
        detail: Callable[[AccountCollection], object],
    ) -> AccountCollection:
        """``collect_account`` with ``resume``; heartbeats ``detail(progress so far)`` through ``beat``; records
        the steps that failed for good (``CollectionService.record_failed_steps``: notified once)."""
        ref = _ref(params.organization_id, params.cloud_account_id)
        collected = self._service.collect_account(
            ref,
            initial_days=params.initial_days,
            restate_days=params.restate_days,
            window_days=params.window_days,
            utilisation_days=params.utilisation_days,
            today=date.fromisoformat(params.today) if params.today else None,
            # A copy: the heartbeat is serialised later, while the run goes on changing its progress.
            progress=lambda state: beat(lambda: detail(state.model_copy(deep=True))),
            resume=resume,
        )
        self._service.record_failed_steps(
            ref, [(str(f.step), f.reason) for f in collected.failures if not f.retryable]
        )
        return collected

    @activity.defn(name="collection.costs")
    def costs(self, params: CostWindowInput) -> CostStep:
        ref = _ref(params.organization_id, params.cloud_account_id)
        _heartbeat(f"costs {params.start}..{params.end}")
        with self._errors(ref, ("costs", "costs")):
            return self._service.collect_costs(ref, params.start, params.end)

    @activity.defn(name="collection.inventory")
    def inventory(self, params: CollectAccountInput) -> InventoryStep:
        ref = _ref(params.organization_id, params.cloud_account_id)
        _heartbeat("inventory")
        with self._errors(ref, ("inventory", "inventory")):
            return self._service.collect_inventory(ref)

    @activity.defn(name="collection.utilisation")
    def utilisation(self, params: UtilisationInput) -> UtilisationStep:
        ref = _ref(params.organization_id, params.cloud_account_id)
        _heartbeat("utilisation")
        with self._errors(ref, name="utilisation"):
            return self._service.collect_utilisation(ref, params.start, params.end, _heartbeat)

    @activity.defn(name="collection.iam")
    def iam(self, params: CollectAccountInput) -> IamStep:
        ref = _ref(params.organization_id, params.cloud_account_id)
        _heartbeat("iam")
        with self._errors(ref, ("iam", "IAM principals")):
            return self._service.collect_iam(ref)

    @activity.defn(name="collection.finish")
    def finish(self, params: FinishInput) -> FinishStep:
        ref = _ref(params.organization_id, params.cloud_account_id)
        with self._errors(ref):
            return self._service.finish(
                ref,
                costs_complete=params.costs_complete,
                cost_steps=params.cost_windows,
                inventory=params.inventory,
                today=date.fromisoformat(params.today) if params.today else None,
                permission_problems=list(params.permission_problems),
            )

    def all(self) -> list[Callable[..., object]]:
        """Every activity of this class, for ``Worker(activities=...)``."""
        return [
            self.list_accounts,
            self.account,
            self.accounts,
            self.costs,
            self.inventory,
            self.utilisation,
            self.iam,
            self.finish,
        ]
