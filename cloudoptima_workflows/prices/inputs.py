"""Inputs and results of the price refresh (plain dataclasses: Temporal serialises them)."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class RefreshPricesInput:
    """Refresh ``providers`` (``aws``, ``azure``, ``gcp``; empty = all)."""

    providers: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class RefreshProviderInput:
    provider: str


@dataclass(frozen=True)
class ProviderRefreshResult:
    """One provider: ``status`` ``ok``, ``failed`` (``error`` says why; the last prices stay) or ``skipped``."""

    provider: str
    status: str
    prices: int = 0
    regions: int = 0
    error: str | None = None


@dataclass(frozen=True)
class RefreshPricesResult:
    providers: list[ProviderRefreshResult]

    @property
    def failed(self) -> list[str]:
        """Providers whose refresh failed."""
        return [p.provider for p in self.providers if p.status == "failed"]
