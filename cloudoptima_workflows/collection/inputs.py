"""Inputs and results of the collection workflows and activities (pydantic messages, see
``cloudoptima_workflows.message``); a denied read is the kernel's ``PermissionProblem``.

Ids are UUID strings; the collection's ``today`` is an ISO date (``YYYY-MM-DD``); windows are ``[start,
end)`` dates; money is ``Decimal`` (a decimal string on the wire); datetimes are UTC-aware."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from pydantic import AliasChoices, AwareDatetime, Field

from cloudoptima.domain.permission_problems import PermissionProblem
from cloudoptima_workflows.message import Message

_PROBLEMS = AliasChoices("permission_problems", "problems")
"""A step result's denied reads: ``permission_problems`` on the wire, ``problems`` on the service's step."""


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


class CostWindow(Message):
    start: date
    end: date


class PlanResult(Message):
    start: date
    end: date
    windows: list[CostWindow]
    first_sync: bool
    utilisation_start: date
    utilisation_end: date


class CostWindowInput(Message):
    organization_id: str
    cloud_account_id: str
    start: date
    end: date


class CostWindowResult(Message):
    start: date
    end: date
    rows: int
    replaced: int
    billed_total: Decimal
    kept_days: int = 0  # days whose resource-level rows were kept (the fetched rows were coarser)


class InventoryResult(Message):
    resources: int
    complete: bool
    failures: list[str] = Field(default_factory=list)
    permission_problems: list[PermissionProblem] = Field(default_factory=list, validation_alias=_PROBLEMS)


class UtilisationInput(Message):
    organization_id: str
    cloud_account_id: str
    start: date
    end: date


class UtilisationResult(Message):
    resources: int
    series: int
    failures: list[str] = Field(default_factory=list)
    permission_problems: list[PermissionProblem] = Field(default_factory=list, validation_alias=_PROBLEMS)


class IamResult(Message):
    principals: int
    privileged: int
    complete: bool
    permission_problems: list[PermissionProblem] = Field(default_factory=list, validation_alias=_PROBLEMS)


class FinishInput(Message):
    organization_id: str
    cloud_account_id: str
    costs_complete: bool
    cost_windows: list[CostWindowResult] = Field(default_factory=list)
    inventory: InventoryResult | None = None
    today: str | None = None  # the collection's "as of" day (None: the activity's clock)
    permission_problems: list[PermissionProblem] = Field(default_factory=list)
    """Everything this collection was denied: the account becomes ``degraded`` with them, else ``active``."""


class FinishResult(Message):
    last_sync_at: AwareDatetime | None
    monthly_spend: Decimal | None
    events: int


class PendingStep(Message):
    """A step that failed with a retryable error inside ``collection.account``; the workflow retries it as its
    own activity (``costs`` with its ``window``, ``inventory``, ``utilisation`` or ``iam``)."""

    step: str
    reason: str
    window: CostWindow | None = None


class AccountSteps(Message):
    """Result of ``collection.account`` (every step of one account in one activity), and its heartbeat detail:
    a retried attempt resumes from the last one (the same plan; committed steps are not repeated).

    ``failed_steps`` are final (non-retryable); ``finish`` is set when the sync was recorded, i.e. nothing
    was ``pending``. ``denied``: steps (or cost windows) refused for a permission; the denied parts of the
    inventory, utilisation and IAM reads are in their results."""

    plan: PlanResult
    cost_windows: list[CostWindowResult] = Field(default_factory=list)
    inventory: InventoryResult | None = None
    utilisation: UtilisationResult | None = None
    iam: IamResult | None = None
    failed_steps: list[str] = Field(default_factory=list)
    pending: list[PendingStep] = Field(default_factory=list)
    finish: FinishResult | None = None
    denied: list[PermissionProblem] = Field(default_factory=list)


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
    steps: AccountSteps | None = None
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
