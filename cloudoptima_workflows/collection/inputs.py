"""Inputs and results of the collection workflows and activities (pydantic messages, see
``cloudoptima_workflows.message``); a denied read is the kernel's ``PermissionProblem``. What each collection
step returns, and ``collection.account``'s result (:class:`AccountCollection`), are the kernel's own models
(``cloudoptima.domain.collection_steps``), the ones the collection service builds, sent as they are.

Ids are UUID strings; the collection's ``today`` is an ISO date (``YYYY-MM-DD``); windows are ``[start,
end)`` dates; money is ``Decimal`` (a decimal string on the wire); datetimes are UTC-aware."""

from __future__ import annotations

from datetime import date

from pydantic import Field

from cloudoptima.domain.collection_steps import AccountCollection, CostStep, InventoryStep
from cloudoptima.domain.permission_problems import PermissionProblem
from cloudoptima_workflows.message import Message


class AccountKey(Message):
    organization_id: str
    cloud_account_id: str


class CollectAccountInput(Message):
    """Collect one account. ``today`` pins the day collection runs "as of" (None: the activity's clock)."""

    organization_id: str
    cloud_account_id: str
    initial_days: int = 31  # settings.collection_initial_days
    restate_days: int = 3
    window_days: int = 7
    utilisation_days: int = 30  # backfill bound of a first collection (later ones append)
    heartbeat_seconds: int = 60
    today: str | None = None
    policy_task_queue: str = "remediation"
    """Where ``PolicyTriggers`` runs after a collection started on its own (not as ``CollectAll``'s child)."""


class CostWindowInput(Message):
    organization_id: str
    cloud_account_id: str
    start: date
    end: date


class UtilisationInput(Message):
    organization_id: str
    cloud_account_id: str
    start: date
    end: date


class FinishInput(Message):
    organization_id: str
    cloud_account_id: str
    costs_complete: bool
    cost_windows: list[CostStep] = Field(default_factory=list)
    inventory: InventoryStep | None = None
    today: str | None = None  # the collection's "as of" day (None: the activity's clock)
    permission_problems: list[PermissionProblem] = Field(default_factory=list)
    """Everything this collection was denied: the account becomes ``degraded`` with them, else ``active``."""


class CollectBatchInput(Message):
    """Collect several accounts, one after the other, in one ``collection.accounts`` activity."""

    accounts: list[CollectAccountInput]


class AccountOutcome(Message):
    """One account of a batch. ``status``:

    - ``collected``: ``steps`` holds what ran (``steps.finish`` is None when steps are left ``pending``);
    - ``failed``: final — ``reason`` says why (bad credentials, with the account marked ``error``; an account
      that no longer exists; a non-retryable provider error);
    - ``skipped``: another collection of this account was running;
    - ``retry``: an unexpected error (``reason``); the workflow collects it again on its own, under the retry
      policy."""

    cloud_account_id: str
    status: str
    steps: AccountCollection | None = None
    reason: str | None = None


class CollectBatchResult(Message):
    """The batch's outcomes, in input order; also its heartbeat detail (a retry skips the accounts done)."""

    outcomes: list[AccountOutcome]


class CollectAccountResult(Message):
    organization_id: str
    cloud_account_id: str
    cost_rows: int
    cost_windows: int
    resources: int
    utilisation_resources: int
    principals: int
    failed_steps: list[str]
    last_sync_at: str | None
    permission_problems: list[str] = Field(default_factory=list)  # "missing permission X for Y"


class ListAccountsInput(Message):
    """``kind``: ``sandbox`` | ``live`` | ``all``; ``organization_id`` None = every organisation."""

    kind: str = "all"
    organization_id: str | None = None


class AccountList(Message):
    accounts: list[AccountKey]


class CollectAllInput(Message):
    """Collect every collectable account of ``kind`` (and organisation), ``max_concurrency`` at a time,
    then start the analysis of each organisation that collected something (``analyse``)."""

    kind: str = "all"
    organization_id: str | None = None
    max_concurrency: int = 20
    analyse: bool = True
    initial_days: int = 31  # settings.collection_initial_days
    restate_days: int = 3
    utilisation_days: int = 30  # backfill bound of a first collection (later ones append)
    heartbeat_seconds: int = 60
    today: str | None = None
    analysis_task_queue: str = "processing"
    policy_task_queue: str = "remediation"
    """Where ``PolicyTriggers`` runs for the organisations no analysis was started for."""
    batch_size: int = 8
    """Accounts per ``collection.accounts`` activity (1: one activity per account)."""


class CollectAllResult(Message):
    """``succeeded``/``skipped``: account ids (skipped: another collection of it was running); ``failed``:
    ``"<account id>: <reason>"``; ``incomplete``: ``"<account id>: <step>: <reason>"`` for the steps that
    failed in accounts that otherwise succeeded; the totals sum the succeeded accounts."""

    accounts: int
    succeeded: list[str]
    failed: list[str]
    skipped: list[str]
    analyses_started: list[str]
    cost_rows: int = 0
    resources: int = 0
    principals: int = 0
    incomplete: list[str] = Field(default_factory=list)
