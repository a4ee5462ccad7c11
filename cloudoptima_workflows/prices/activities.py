"""Price refresh activities: fetch and store through the kernel's ``PriceRefresher``."""

from __future__ import annotations

from temporalio import activity

from cloudoptima.domain.inventory import CloudProvider
from cloudoptima.services.prices import PriceRefresher
from cloudoptima_workflows.prices.inputs import ProviderRefreshResult, RefreshProviderInput
from cloudoptima_workflows.prices.interface import PriceActivityInterface


class PriceActivities(PriceActivityInterface):
    """Activities bound to a refresher (wired in ``worker.main`` with the providers' real price lists)."""

    def __init__(self, refresher: PriceRefresher) -> None:
        self._refresher = refresher

    @activity.defn(name="prices.refresh_provider")
    def refresh_provider(self, params: RefreshProviderInput) -> ProviderRefreshResult:
        """Refresh one provider; a fetch failure is recorded and returned (status ``failed``), not raised."""
        provider = CloudProvider(params.provider)
        outcome = self._refresher.refresh_provider(provider, self._refresher.scopes().get(provider))
        return ProviderRefreshResult(
            provider=outcome.provider,
            status=outcome.status,
            prices=outcome.prices,
            regions=outcome.regions,
            error=outcome.error,
        )
