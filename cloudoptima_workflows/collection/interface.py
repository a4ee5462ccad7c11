"""The collection activities as workflows call them: each one's registered name, argument and result.

Workflows reference these methods (``workflow.execute_activity_method(CollectionActivityInterface.<method>,
…)``), so they import no I/O library. ``CollectionActivities``
(``cloudoptima_workflows.collection.activities``) implements them under the same names
(``tests/workflows/test_activity_interfaces.py`` keeps the two in step).
"""

from __future__ import annotations

from abc import ABC, abstractmethod

from temporalio import activity

from cloudoptima.domain.collection_steps import (
    AccountCollection,
    CostStep,
    FinishStep,
    IamStep,
    InventoryStep,
    UtilisationStep,
)
from cloudoptima_workflows.collection.inputs import (
    AccountList,
    CollectAccountInput,
    CollectBatchInput,
    CollectBatchResult,
    CostWindowInput,
    FinishInput,
    ListAccountsInput,
    UtilisationInput,
)

__all__ = ["CollectionActivityInterface"]


class CollectionActivityInterface(ABC):
    """The collection activities (implemented by ``CollectionActivities``)."""

    @activity.defn(name="collection.list_accounts")
    @abstractmethod
    def list_accounts(self, params: ListAccountsInput) -> AccountList:
        """The ``collection.list_accounts`` activity."""

    @activity.defn(name="collection.account")
    @abstractmethod
    def account(self, params: CollectAccountInput) -> AccountCollection:
        """Every step of one account (``CollectionService.collect_account``); heartbeats its progress between
        steps, and a retried attempt resumes from the last heartbeat (same plan, no committed step repeated;
        an attempt that never heartbeated re-plans, and every step is idempotent). Steps that failed
        retryably are returned ``pending`` for the workflow to retry singly."""

    @activity.defn(name="collection.accounts")
    @abstractmethod
    def accounts(self, params: CollectBatchInput) -> CollectBatchResult:
        """Collect each account of the batch in turn, as ``collection.account`` would, and report each one's
        outcome instead of failing the batch (see :class:`AccountOutcome`): bad credentials mark that account
        ``error`` and the others go on. Heartbeats the finished outcomes plus the current account's progress;
        a retried attempt skips the finished accounts and resumes the current one from its progress."""

    @activity.defn(name="collection.costs")
    @abstractmethod
    def costs(self, params: CostWindowInput) -> CostStep:
        """The ``collection.costs`` activity."""

    @activity.defn(name="collection.inventory")
    @abstractmethod
    def inventory(self, params: CollectAccountInput) -> InventoryStep:
        """The ``collection.inventory`` activity."""

    @activity.defn(name="collection.utilisation")
    @abstractmethod
    def utilisation(self, params: UtilisationInput) -> UtilisationStep:
        """The ``collection.utilisation`` activity."""

    @activity.defn(name="collection.iam")
    @abstractmethod
    def iam(self, params: CollectAccountInput) -> IamStep:
        """The ``collection.iam`` activity."""

    @activity.defn(name="collection.finish")
    @abstractmethod
    def finish(self, params: FinishInput) -> FinishStep:
        """The ``collection.finish`` activity."""
