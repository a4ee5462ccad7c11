"""The allocation activities as workflows call them: each one's registered name, argument and result.

``AllocationActivities`` (``cloudoptima_workflows.allocation.activities``) implements them under the same
names (``tests/workflows/test_activity_interfaces.py`` keeps the two in step).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from datetime import date

from temporalio import activity

from cloudoptima_workflows.allocation.inputs import (
    ActivateResult,
    MonthInput,
    MonthResult,
    ReallocateInput,
)

__all__ = ["AllocationActivityInterface"]


class AllocationActivityInterface(ABC):
    """The allocation activities (implemented by ``AllocationActivities``)."""

    @activity.defn(name="allocation.months")
    @abstractmethod
    def months(self, params: ReallocateInput) -> list[date]:
        """The months (first days) of the organisation's cost history, oldest first."""

    @activity.defn(name="allocation.allocate_month")
    @abstractmethod
    def allocate_month(self, params: MonthInput) -> MonthResult:
        """Rebuild one month of the version's allocated rows (one transaction; a rerun writes the same rows)."""

    @activity.defn(name="allocation.activate")
    @abstractmethod
    def activate(self, params: ReallocateInput) -> ActivateResult:
        """Switch the dimension to the version (unless a newer one is active) and drop the other versions."""
