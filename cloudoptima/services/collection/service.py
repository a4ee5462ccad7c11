""":class:`CollectionService`: the collection steps of connected accounts, as one object the workflow
activities, the CLI and the tests hold (each step lives in its own module of this package)."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Literal

from sqlalchemy import Connection, Engine, select
from sqlalchemy.orm import Session

from cloudoptima.clouds.protocol import CloudProviderClient
from cloudoptima.domain.permission_problems import PermissionProblem
from cloudoptima.services.collection import account_run, account_status
from cloudoptima.services.collection.account_run import ProviderFactory
from cloudoptima.services.collection.context import CollectionContext, account_row
from cloudoptima.services.collection.costs import load_costs
from cloudoptima.services.collection.iam import collect_iam
from cloudoptima.services.collection.inventory import collect_inventory
from cloudoptima.services.collection.plan import plan_windows
from cloudoptima.services.collection.results import (
    AccountCollection,
    AccountRef,
    CollectionPlan,
    CostStep,
    FinishStep,
    Heartbeat,
    IamStep,
    InventoryStep,
    Progress,
    UtilisationStep,
)
from cloudoptima.services.collection.utilisation import (
    UTILISATION_BACKFILL_DAYS,
    UTILISATION_RETENTION_DAYS,
    UTILISATION_WINDOW_DAYS,
    collect_utilisation,
)
from cloudoptima.services.events import Publish
from cloudoptima.storage.models import CloudAccount

AccountKind = Literal["sandbox", "live", "all"]
COLLECTABLE_STATUSES = ("active", "pending", "degraded")


def _utc_now() -> datetime:
    return datetime.now(UTC)


class CollectionService:
    """The collection steps of one connected account (see the package contract)."""

    def __init__(
        self,
        engine: Engine,
        providers: ProviderFactory,
        *,
        publish: Publish | None = None,
        now: Callable[[], datetime] = _utc_now,
        utilisation_window_days: int = UTILISATION_WINDOW_DAYS,
        utilisation_retention_days: int = UTILISATION_RETENTION_DAYS,
        public_url: str | None = None,
        console_url: str | None = None,
    ) -> None:
        if not 1 <= utilisation_window_days <= utilisation_retention_days:
            raise ValueError(
                f"utilisation_window_days ({utilisation_window_days}) must be between 1 and the retention "
                f"({utilisation_retention_days})"
            )
        self._context = CollectionContext(
            engine=engine,
            now=now,
            publish=publish,
            utilisation_window_days=utilisation_window_days,
            utilisation_retention_days=utilisation_retention_days,
            public_url=public_url,
            console_url=console_url,
        )
        self._providers = providers

    # -- accounts ---------------------------------------------------------------------------------------

    def list_accounts(
        self, kind: AccountKind = "all", organization_id: uuid.UUID | None = None
    ) -> list[AccountRef]:
        """Collectable accounts (active or pending), sandbox / live / all, of one or every organisation.

        The one system-wide query of the package (the scheduler's fan-out)."""
        query = select(CloudAccount.organization_id, CloudAccount.id, CloudAccount.settings).where(
            CloudAccount.status.in_(COLLECTABLE_STATUSES)
        )
        if organization_id is not None:
            query = query.where(CloudAccount.organization_id == organization_id)
        with self._context.sessions() as session:
            rows = session.execute(query.order_by(CloudAccount.organization_id, CloudAccount.id)).all()
        refs = []
        for org, account, settings in rows:
            sandbox = isinstance((settings or {}).get("sandbox"), dict)
            if kind == "all" or (kind == "sandbox") == sandbox:
                refs.append(AccountRef(org, account))
        return refs

    def account(self, ref: AccountRef, connection: Connection | None = None) -> CloudAccount:
        """The account row (detached); :class:`AccountNotFoundError` outside its organisation."""
        with self._context.tenant(ref, connection) as session:
            row = account_row(session, ref)
            session.expunge(row)
            return row

    def provider(self, ref: AccountRef) -> CloudProviderClient:
        return self._providers(self.account(ref))

    def plan(
        self,
        ref: AccountRef,
        *,
        initial_days: int,
        restate_days: int,
        window_days: int = 7,
        today: date | None = None,
    ) -> CollectionPlan:
        row = self.account(ref)
        return plan_windows(
            today or self._context.now().date(),
            row.last_sync_at,
            initial_days=initial_days,
            restate_days=restate_days,
            window_days=window_days,
        )

    # -- single steps (each one transaction, idempotent) --------------------------------------------------

    def collect_costs(self, ref: AccountRef, start: date, end: date) -> CostStep:
        """Fetch ``[start, end)`` and replace those days of this account (one transaction)."""
        row = self.account(ref)
        return load_costs(self._context, ref, row, self._providers(row), start, end, None)

    def collect_inventory(self, ref: AccountRef) -> InventoryStep:
        """Upsert the account's resources, keeping their stored utilisation summaries."""
        step, _ = collect_inventory(self._context, ref, self._providers(self.account(ref)))
        return step

    def collect_utilisation(
        self, ref: AccountRef, start: date, end: date, heartbeat: Heartbeat | None = None
    ) -> UtilisationStep:
        """Summaries of ``[start, end)`` for the live instances and databases (chunked, with heartbeats)."""
        provider = self._providers(self.account(ref))
        return collect_utilisation(self._context, ref, provider, start, end, heartbeat, None)

    def collect_iam(self, ref: AccountRef) -> IamStep:
        """Upsert the account's principals; mark those missing from a complete read deleted."""
        return collect_iam(self._context, ref, self._providers(self.account(ref)))

    # -- the whole account in one call -----------------------------------------------------------------

    def collect_account(
        self,
        ref: AccountRef,
        *,
        initial_days: int,
        restate_days: int,
        window_days: int = 7,
        utilisation_days: int = UTILISATION_BACKFILL_DAYS,
        today: date | None = None,
        progress: Progress | None = None,
        resume: AccountCollection | None = None,
    ) -> AccountCollection:
        """Every step of one account: plan, cost windows, inventory, utilisation, IAM, then ``finish``.

        The account row and its provider are loaded once; each step keeps its own transaction and its
        idempotency, so a retry (``resume`` = the last reported progress) repeats no committed step and a
        repeated step replaces rather than duplicates. A provider error in one step is recorded in
        ``failures`` and the other steps still run; utilisation waits for a retryable inventory failure
        (it reads what inventory stores). A step denied a permission is recorded in ``denied`` (the cost
        windows after a denied one are not asked for) and the others still run. ``finish`` runs only when
        no retryable failure is left, with the permission problems; the caller retries those steps singly
        and then calls :meth:`finish`. A :class:`CredentialsError` naming no permission (refused
        credentials) and :class:`AccountNotFoundError` propagate (the caller marks the account).

        One run per account at a time, whatever started it: a session advisory lock keyed by the account is
        held for the call (and released by the server if the process dies); when another run holds it,
        :class:`CollectionInProgressError` is raised before anything is read or written.
        """
        return account_run.collect_account(
            self._context,
            self._providers,
            ref,
            initial_days=initial_days,
            restate_days=restate_days,
            window_days=window_days,
            utilisation_days=utilisation_days,
            today=today,
            progress=progress,
            resume=resume,
        )

    # -- bookkeeping ------------------------------------------------------------------------------------

    def finish(
        self,
        ref: AccountRef,
        *,
        costs_complete: bool,
        cost_steps: Sequence[CostStep] = (),
        inventory: InventoryStep | None = None,
        connection: Connection | None = None,
        today: date | None = None,
        permission_problems: Sequence[PermissionProblem] = (),
    ) -> FinishStep:
        """Record the sync on the account and publish the change events (see :func:`account_status.finish`).

        ``permission_problems`` (what this collection was denied) replace the account's: status
        ``degraded`` with them, ``active`` (and none stored) without.
        """
        return account_status.finish(
            self._context,
            ref,
            costs_complete=costs_complete,
            cost_steps=cost_steps,
            inventory=inventory,
            connection=connection,
            today=today,
            permission_problems=permission_problems,
        )

    @staticmethod
    def _monthly_spend(session: Session, ref: AccountRef, today: date) -> Decimal | None:
        """The account's spend of the 30 days up to ``today`` (see :func:`account_status.monthly_spend`)."""
        return account_status.monthly_spend(session, ref, today)

    def mark_error(self, ref: AccountRef, reason: str) -> None:
        """Mark the account ``error`` with ``reason`` (credentials rejected) and publish it."""
        account_status.mark_error(self._context, ref, reason)

    def record_failed_steps(self, ref: AccountRef, failures: Sequence[tuple[str, str]]) -> None:
        """Notify that steps of the account failed for good (see :func:`account_status.record_failed_steps`)."""
        account_status.record_failed_steps(self._context, ref, failures)
