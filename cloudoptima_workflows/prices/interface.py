"""The price activities as workflows call them: each one's registered name, argument and result.

Workflows reference these methods (``workflow.execute_activity_method(PriceActivityInterface.<method>, …)``),
so they import no I/O library. ``PriceActivities`` (``cloudoptima_workflows.prices.activities``) implements
them under the same names (``tests/workflows/test_activity_interfaces.py`` keeps the two in step).
"""

from __future__ import annotations

from abc import ABC, abstractmethod

from temporalio import activity

from cloudoptima_workflows.prices.inputs import ProviderRefreshResult, RefreshProviderInput

__all__ = ["PriceActivityInterface"]


class PriceActivityInterface(ABC):
    """The price activities (implemented by ``PriceActivities``)."""

    @activity.defn(name="prices.refresh_provider")
    @abstractmethod
    def refresh_provider(self, params: RefreshProviderInput) -> ProviderRefreshResult:
        """Refresh one provider; a fetch failure is recorded and returned (status ``failed``), not raised."""
