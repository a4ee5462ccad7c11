"""What collection steps take and return: the account reference, the errors they raise, and — from the
kernel's ``cloudoptima.domain.collection_steps``, re-exported here — each step's result and
:class:`AccountCollection`, the progress of one whole-account run (also what a retry resumes from).

The step results are pydantic models shared with the collection workflows, which send them as they are.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from cloudoptima.clouds.protocol import Failure, ProviderError
from cloudoptima.domain.collection_steps import (
    AccountCollection,
    CollectionPlan,
    CostStep,
    CostWindow,
    FinishStep,
    ForecastStep,
    IamStep,
    InventoryStep,
    StepFailure,
    StepName,
    UtilisationStep,
)

__all__ = [
    "AccountCollection",
    "AccountNotFoundError",
    "AccountRef",
    "CollectionInProgressError",
    "CollectionPlan",
    "CostStep",
    "CostWindow",
    "FinishStep",
    "ForecastStep",
    "Heartbeat",
    "IamStep",
    "IncompleteReadError",
    "InventoryStep",
    "Progress",
    "StepFailure",
    "StepName",
    "UtilisationStep",
]

Heartbeat = Callable[[str], None]


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


Progress = Callable[[AccountCollection], None]
"""Called after each step (and between utilisation chunks) with the progress so far: heartbeat it."""
