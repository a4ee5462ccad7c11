"""Inputs and results of the price refresh (pydantic messages, see ``cloudoptima_workflows.message``)."""

from __future__ import annotations

from pydantic import Field

from cloudoptima_workflows.message import Message


class RefreshPricesInput(Message):
    """Refresh ``providers`` (``aws``, ``azure``, ``gcp``; empty = all)."""

    providers: list[str] = Field(default_factory=list)


class RefreshProviderInput(Message):
    provider: str


class ProviderRefreshResult(Message):
    """One provider: ``status`` ``ok``, ``failed`` (``error`` says why; the last prices stay) or ``skipped``."""

    provider: str
    status: str
    prices: int = 0
    regions: int = 0
    error: str | None = None


class RefreshPricesResult(Message):
    providers: list[ProviderRefreshResult]

    @property
    def failed(self) -> list[str]:
        """Providers whose refresh failed."""
        return [p.provider for p in self.providers if p.status == "failed"]
