"""Inputs and results of the collection workflows and activities (plain dataclasses: Temporal serialises
them as JSON). Ids are UUID strings and days ISO dates (``YYYY-MM-DD``); windows are ``[start, end)``;
money is a decimal string."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class AccountKey:
    organization_id: str
    cloud_account_id: str


@dataclass(frozen=True)
class CollectAccountInput:
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


@dataclass(frozen=True)
class CostWindow:
    start: str
    end: str


@dataclass(frozen=True)
class PlanResult:
    start: str
    end: str
    windows: list[CostWindow]
    first_sync: bool
    utilisation_start: str
    utilisation_end: str


@dataclass(frozen=True)
class PermissionProblemResult:
    """A read the account's credentials were denied (``PermissionProblem``): the step, the cloud's name of
    the permission, and what the read was for."""

    step: str
    permission: str
    purpose: str


@dataclass(frozen=True)
class CostWindowInput:
    organization_id: str
    cloud_account_id: str
    start: str
    end: str


@dataclass(frozen=True)
class CostWindowResult:
    start: str
    end: str
    rows: int
    replaced: int
    billed_total: str
    kept_days: int = 0  # days whose resource-level rows were kept (the fetched rows were coarser)


@dataclass(frozen=True)
class InventoryResult:
    resources: int
    complete: bool
    failures: list[str] = field(default_factory=list)
    permission_problems: list[PermissionProblemResult] = field(default_factory=list)


@dataclass(frozen=True)
class UtilisationInput:
    organization_id: str
    cloud_account_id: str
    start: str
    end: str


@dataclass(frozen=True)
class UtilisationResult:
    resources: int
    series: int
    failures: list[str] = field(default_factory=list)
    permission_problems: list[PermissionProblemResult] = field(default_factory=list)


@dataclass(frozen=True)
class IamResult:
    principals: int
    privileged: int
    complete: bool
    permission_problems: list[PermissionProblemResult] = field(default_factory=list)


@dataclass(frozen=True)
class FinishInput:
    organization_id: str
    cloud_account_id: str
    costs_complete: bool
    cost_windows: list[CostWindowResult] = field(default_factory=list)
    inventory: InventoryResult | None = None
    today: str | None = None  # the collection's "as of" day (None: the activity's clock)
    permission_problems: list[PermissionProblemResult] = field(default_factory=list)
    """Everything this collection was denied: the account becomes ``degraded`` with them, else ``active``."""


@dataclass(frozen=True)
class FinishResult:
    last_sync_at: str | None
    monthly_spend: str | None
    events: int


@dataclass(frozen=True)
class PendingStep:
    """A step that failed with a retryable error inside ``collection.account``; the workflow retries it as its
    own activity (``costs`` with its ``window``, ``inventory``, ``utilisation`` or ``iam``)."""

    step: str
    reason: str
    window: CostWindow | None = None


@dataclass(frozen=True)
class AccountSteps:
    """Result of ``collection.account`` (every step of one account in one activity), and its heartbeat detail:
    a retried attempt resumes from the last one (the same plan; committed steps are not repeated).

    ``failed_steps`` are final (non-retryable); ``finish`` is set when the sync was recorded, i.e. nothing
    was ``pending``. ``denied``: steps (or cost windows) refused for a permission; the denied parts of the
    inventory, utilisation and IAM reads are in their results."""

    plan: PlanResult
    cost_windows: list[CostWindowResult] = field(default_factory=list)
    inventory: InventoryResult | None = None
    utilisation: UtilisationResult | None = None
    iam: IamResult | None = None
    failed_steps: list[str] = field(default_factory=list)
    pending: list[PendingStep] = field(default_factory=list)
    finish: FinishResult | None = None
    denied: list[PermissionProblemResult] = field(default_factory=list)


@dataclass(frozen=True)
class CollectBatchInput:
    """Collect several accounts, one after the other, in one ``collection.accounts`` activity."""

    accounts: list[CollectAccountInput]


@dataclass(frozen=True)
class AccountOutcome:
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


@dataclass(frozen=True)
class CollectBatchResult:
    """The batch's outcomes, in input order; also its heartbeat detail (a retry skips the accounts done)."""

    outcomes: list[AccountOutcome]


@dataclass(frozen=True)
class CollectAccountResult:
    organization_id: str
    cloud_account_id: str
    cost_rows: int
    cost_windows: int
    resources: int
    utilisation_resources: int
    principals: int
    failed_steps: list[str]
    last_sync_at: str | None
    permission_problems: list[str] = field(default_factory=list)  # "missing permission X for Y"


@dataclass(frozen=True)
class ListAccountsInput:
    """``kind``: ``sandbox`` | ``live`` | ``all``; ``organization_id`` None = every organisation."""

    kind: str = "all"
    organization_id: str | None = None


@dataclass(frozen=True)
class AccountList:
    accounts: list[AccountKey]


@dataclass(frozen=True)
class CollectAllInput:
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


@dataclass(frozen=True)
class CollectAllResult:
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
    incomplete: list[str] = field(default_factory=list)
