"""What collection steps take and return: the account reference, each step's result, the errors they raise,
and :class:`AccountCollection`, the progress of one whole-account run (also what a retry resumes from).

These plain frozen dataclasses are the collection's vocabulary; every other module of the package and the
collection workflow exchange them.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Literal

from cloudoptima.clouds.protocol import Failure, ProviderError
from cloudoptima.domain.permission_problems import PermissionProblem, distinct

Heartbeat = Callable[[str], None]
StepName = Literal["costs", "inventory", "utilisation", "iam", "forecast"]


class AccountNotFoundError(LookupError):
    """The cloud account does not exist in this organisation."""


class CollectionInProgressError(RuntimeError):
    """Another ``collect_account`` of this account is running (in this or another worker process)."""


class IncompleteReadError(ProviderError):
    """Part of a read failed (listed); nothing was written. Retry later."""

    retryable = True

    def __init__(self, what: str, failures: Sequence[Failure]) -> None:
        scopes = ", ".join(f"{f.scope}: {f.error}" for f in failures[:5])
        super().__init__(f"{what} incomplete ({len(failures)} part(s) failed: {scopes})")
        self.failures = list(failures)


@dataclass(frozen=True)
class AccountRef:
    organization_id: uuid.UUID
    cloud_account_id: uuid.UUID


@dataclass(frozen=True)
class CollectionPlan:
    start: date
    end: date
    windows: list[tuple[date, date]]
    first_sync: bool


@dataclass(frozen=True)
class CostStep:
    start: date
    end: date
    rows: int
    replaced: int
    billed_total: Decimal
    kept_days: int = 0  # days whose resource-level rows were kept because the fetched rows were coarser


@dataclass(frozen=True)
class InventoryStep:
    resources: int
    complete: bool
    failures: list[str] = field(default_factory=list)
    problems: list[PermissionProblem] = field(default_factory=list)  # denied parts (also in failures)


@dataclass(frozen=True)
class UtilisationStep:
    resources: int  # resources whose summaries were refreshed from the history
    series: int
    failures: list[str] = field(default_factory=list)
    samples: int = 0  # hourly samples written to the history
    problems: list[PermissionProblem] = field(default_factory=list)  # resources whose read was denied


@dataclass(frozen=True)
class IamStep:
    principals: int
    privileged: int
    complete: bool
    problems: list[PermissionProblem] = field(default_factory=list)  # denied parts of the read


@dataclass(frozen=True)
class ForecastStep:
    """The cloud's own forecast of the account's next ``FORECAST_DAYS`` days, as stored (``source`` None:
    the cloud offers none, and any stored one was removed)."""

    source: str | None
    total: Decimal | None
    currency: str | None
    days: int


@dataclass(frozen=True)
class FinishStep:
    last_sync_at: datetime | None
    monthly_spend: Decimal | None
    events: int


@dataclass(frozen=True)
class StepFailure:
    """A step of :meth:`CollectionService.collect_account` that failed with a provider error.

    ``retryable`` failures are left for the caller to retry as single steps (``window`` names the cost
    window; for ``utilisation`` after a retryable inventory failure, the reason says so)."""

    step: StepName
    reason: str
    retryable: bool
    window: tuple[date, date] | None = None

    def label(self) -> str:
        if self.window is not None:
            return f"{self.step} {self.window[0].isoformat()}..{self.window[1].isoformat()}: {self.reason}"
        return f"{self.step}: {self.reason}"


@dataclass
class AccountCollection:
    """Progress and outcome of :meth:`CollectionService.collect_account`; also what a retry resumes from
    (steps already present are not collected again)."""

    plan: CollectionPlan
    costs: list[CostStep] = field(default_factory=list)
    inventory: InventoryStep | None = None
    utilisation: UtilisationStep | None = None
    iam: IamStep | None = None
    forecast: ForecastStep | None = None
    """Best effort: a failure is recorded (never retried) and the next collection fetches it again."""
    failures: list[StepFailure] = field(default_factory=list)
    finish: FinishStep | None = None
    """Set when the sync was recorded (no retryable failure was left)."""
    denied: list[PermissionProblem] = field(default_factory=list)
    """Steps (or cost windows) that raised a permission denial; carried by a resume."""

    @property
    def pending(self) -> list[StepFailure]:
        return [f for f in self.failures if f.retryable]

    @property
    def permission_problems(self) -> list[PermissionProblem]:
        """Every permission problem met so far: denied steps plus the denied parts of the reads."""
        parts = [step.problems for step in (self.inventory, self.utilisation, self.iam) if step is not None]
        return distinct([*self.denied, *(p for problems in parts for p in problems)])

    @property
    def costs_complete(self) -> bool:
        loaded = {(c.start, c.end) for c in self.costs}
        return all(window in loaded for window in self.plan.windows)


Progress = Callable[[AccountCollection], None]
"""Called after each step (and between utilisation chunks) with the progress so far: heartbeat it."""
