"""``collect_account``: every step of one account in one call (what the workflow's one activity per account
does).

The account row, its provider and the rollup tag keys are loaded once and every step's transaction runs on
one connection. Each step's provider error goes through one place, :meth:`_AccountRun.attempt`: a step
denied a permission is recorded as a permission problem (``denied``), another provider error as a
:class:`StepFailure` (retryable ones are left pending for the caller to retry singly, and ``finish`` then
waits for them), and the other steps still run; a :class:`CredentialsError` naming no permission (the
credentials themselves were refused) propagates. Only one ``collect_account`` of an account runs at a time
(a session advisory lock; a second one raises :class:`CollectionInProgressError`).
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from functools import partial
from typing import TypeVar

from sqlalchemy import Connection, text

from cloudoptima.clouds.protocol import CloudProviderClient, CredentialsError, ProviderError
from cloudoptima.domain.permission_problems import distinct
from cloudoptima.observability.metrics import record_collection
from cloudoptima.services import collection_problems
from cloudoptima.services.collection.account_status import finish
from cloudoptima.services.collection.context import CollectionContext, account_row
from cloudoptima.services.collection.costs import load_costs, tag_keys_of
from cloudoptima.services.collection.forecast import collect_provider_forecast
from cloudoptima.services.collection.iam import collect_iam
from cloudoptima.services.collection.inventory import collect_inventory
from cloudoptima.services.collection.month_totals import collect_month_totals
from cloudoptima.services.collection.owned_commitments import collect_owned_commitments
from cloudoptima.services.collection.plan import plan_windows
from cloudoptima.services.collection.results import (
    AccountCollection,
    AccountRef,
    CollectionInProgressError,
    CostWindow,
    Progress,
    StepFailure,
    StepName,
)
from cloudoptima.services.collection.utilisation import collect_utilisation
from cloudoptima.storage.models import CloudAccount

T = TypeVar("T")

ProviderFactory = Callable[[CloudAccount], CloudProviderClient]
"""Builds the provider of a ``cloud_accounts`` row (``ProviderRegistry.for_account`` in production)."""


def collection_lock_key(cloud_account_id: uuid.UUID) -> int:
    """The session advisory lock key ``collect_account`` holds for an account (64 bits of its id)."""
    return int.from_bytes(cloud_account_id.bytes[:8], "big", signed=True)


def collect_account(
    context: CollectionContext,
    providers: ProviderFactory,
    ref: AccountRef,
    *,
    initial_days: int,
    restate_days: int,
    window_days: int,
    utilisation_days: int,
    today: date | None,
    progress: Progress | None,
    resume: AccountCollection | None,
) -> AccountCollection:
    """Every step of one account under the account's session lock (see
    :meth:`CollectionService.collect_account` for the contract)."""
    key = {"key": collection_lock_key(ref.cloud_account_id)}
    with context.engine.connect() as connection:
        locked = connection.execute(text("SELECT pg_try_advisory_lock(:key)"), key).scalar()
        connection.commit()
        if not locked:
            raise CollectionInProgressError(
                f"another collection of cloud account {ref.cloud_account_id} is running"
            )
        try:
            return _collect_locked(
                context,
                providers,
                ref,
                connection,
                initial_days=initial_days,
                restate_days=restate_days,
                window_days=window_days,
                utilisation_days=utilisation_days,
                today=today,
                progress=progress,
                resume=resume,
            )
        finally:
            _unlock(connection, key)


def _unlock(connection: Connection, key: dict[str, int]) -> None:
    """Release the account's session lock; a connection that cannot is discarded (which releases it)."""
    try:
        if connection.in_transaction():
            connection.rollback()
        connection.execute(text("SELECT pg_advisory_unlock(:key)"), key)
        connection.commit()
    except Exception:
        connection.invalidate()


@dataclass
class _AccountRun:
    """The state of one run and the one way its steps' provider errors are recorded."""

    state: AccountCollection
    progress: Progress | None

    def report(self) -> None:
        if self.progress is not None:
            self.progress(self.state)

    def attempt(
        self,
        step: StepName,
        action: Callable[[], T],
        *,
        denied_purpose: str | None,
        window: tuple[date, date] | None = None,
        retryable: bool | None = None,
    ) -> tuple[T | None, StepFailure | None]:
        """Run one step and report the progress; returns its result, or the failure it recorded.

        A :class:`CredentialsError` becomes a permission problem for ``denied_purpose`` (re-raised when it
        names no permission); without ``denied_purpose`` (a step that records its own denials) it is
        recorded like any provider error: a :class:`StepFailure`, retryable as the error says unless
        ``retryable`` overrides it. Nothing is reported when the error propagates.
        """
        result: T | None = None
        failure: StepFailure | None = None
        try:
            result = action()
        except ProviderError as exc:
            if isinstance(exc, CredentialsError) and denied_purpose is not None:
                problem = collection_problems.denied(exc, step, denied_purpose)
                self.state.denied = distinct([*self.state.denied, problem])
            else:
                failure = StepFailure(
                    step=step,
                    reason=str(exc),
                    retryable=exc.retryable if retryable is None else retryable,
                    window=CostWindow(*window) if window is not None else None,
                )
                self.state.failures.append(failure)
        self.report()
        return result, failure


def _collect_locked(
    context: CollectionContext,
    providers: ProviderFactory,
    ref: AccountRef,
    connection: Connection,
    *,
    initial_days: int,
    restate_days: int,
    window_days: int,
    utilisation_days: int,
    today: date | None,
    progress: Progress | None,
    resume: AccountCollection | None,
) -> AccountCollection:
    with context.tenant(ref, connection) as session:
        row = account_row(session, ref)
        session.expunge(row)
        tag_keys = tag_keys_of(session.connection(), ref)
    provider = providers(row)
    as_of = today or context.now().date()
    if resume is not None:
        state = resume.resumed()
    else:
        state = AccountCollection(
            plan=plan_windows(
                as_of,
                row.last_sync_at,
                initial_days=initial_days,
                restate_days=restate_days,
                window_days=window_days,
                utilisation_days=utilisation_days,
            )
        )
    if state.finish is not None:
        return state
    started = time.perf_counter()
    already = (len(state.costs), len(state.failures), len(state.denied))
    state = _run_steps(context, ref, row, provider, connection, state, progress, as_of, tag_keys)
    record_collection(
        row.provider,
        seconds=time.perf_counter() - started,
        rows=sum(cost.rows for cost in state.costs[already[0] :]),
        failed_steps=len(state.failures) - already[1] + len(state.denied) - already[2],
    )
    return state


def _run_steps(
    context: CollectionContext,
    ref: AccountRef,
    row: CloudAccount,
    provider: CloudProviderClient,
    connection: Connection,
    state: AccountCollection,
    progress: Progress | None,
    as_of: date,
    tag_keys: tuple[str, ...],
) -> AccountCollection:
    """Every step still to do of ``state``, in order (costs, inventory, utilisation, IAM, forecast, finish)."""
    run = _AccountRun(state, progress)
    loaded = {(c.start, c.end) for c in state.costs}
    for start, end in state.plan.windows:
        if (start, end) in loaded:
            continue
        if any(problem.step == "costs" for problem in state.denied):
            break
        cost, _ = run.attempt(
            "costs",
            partial(load_costs, context, ref, row, provider, start, end, tag_keys, connection),
            denied_purpose="costs",
            window=(start, end),
        )
        if cost is not None:
            state.costs.append(cost)
    inventory = None
    inventory_pending = False
    if state.inventory is None:
        read, failed = run.attempt(
            "inventory",
            lambda: collect_inventory(context, ref, provider, connection),
            denied_purpose="inventory",
        )
        if read is not None:
            state.inventory, items = read
            inventory = items if state.inventory.complete else None
        inventory_pending = failed is not None and failed.retryable
    if state.utilisation is None:
        if inventory_pending:
            state.failures.append(
                StepFailure(step="utilisation", reason="waits for the inventory retry", retryable=True)
            )
        else:
            # The step records its own denied reads (its problems); a refusal naming no permission is
            # recorded here as a failure, never retried.
            state.utilisation, _ = run.attempt(
                "utilisation",
                lambda: collect_utilisation(
                    context,
                    ref,
                    provider,
                    state.plan.utilisation_start,
                    state.plan.utilisation_end,
                    lambda _detail: run.report(),
                    inventory,
                    connection,
                ),
                denied_purpose=None,
            )
    if state.iam is None:
        state.iam, _ = run.attempt(
            "iam", lambda: collect_iam(context, ref, provider, connection), denied_purpose="IAM principals"
        )
    if state.forecast is None and not any(f.step == "forecast" for f in state.failures):
        # The provider's own monthly totals (for reconciliation): best effort, records why when unavailable.
        collect_month_totals(
            context,
            ref,
            row,
            provider,
            state.plan.start,
            state.plan.end,
            as_of,
            connection,
            first_sync=state.plan.first_sync,
        )
        if (row.settings or {}).get("commitment_inventory", True):
            # Owned RIs / reservations / Savings Plans / CUDs and their expiry notices (on unless the
            # account's settings say ``commitment_inventory: false``): best effort, never a failed collection.
            collect_owned_commitments(context, ref, provider, row.account_identifier, connection)
        state.forecast, _ = run.attempt(
            "forecast",
            lambda: collect_provider_forecast(context, ref, provider, as_of, connection),
            denied_purpose="the cloud's own cost forecast",
            retryable=False,
        )
    if not state.pending:
        state.finish = finish(
            context,
            ref,
            costs_complete=state.costs_complete,
            cost_steps=state.costs,
            inventory=state.inventory,
            connection=connection,
            today=as_of,
            permission_problems=state.permission_problems,
        )
    return state
