"""What an explorer question narrows its costs to: cloud accounts, services, regions and one tag value.

Every given part must hold (AND); within a part any listed value matches (OR). An empty filter keeps
everything. Pydantic only: the SQL lives in ``cloudoptima.services.cost_analytics.filters``.
"""

from __future__ import annotations

import uuid

from pydantic import BaseModel, ConfigDict

from cloudoptima.domain.costs import CostQueryError


class CostFilterError(CostQueryError):
    """A filter that cannot be applied; ``field`` names the query parameter at fault."""

    def __init__(self, field: str, message: str):
        super().__init__(message)
        self.field = field


class CostFilters(BaseModel):
    """``accounts`` are ``cloud_accounts.id`` of the organisation; ``tag`` is ``(key, value)``."""

    model_config = ConfigDict(frozen=True)

    accounts: tuple[uuid.UUID, ...] = ()
    services: tuple[str, ...] = ()
    regions: tuple[str, ...] = ()
    tag: tuple[str, str] | None = None

    def describe(self) -> dict[str, object]:
        """A stable, JSON-friendly description (cache keys, logs)."""
        return {
            "accounts": sorted(str(a) for a in self.accounts),
            "services": sorted(self.services),
            "regions": sorted(self.regions),
            "tag": list(self.tag) if self.tag else None,
        }

    def empty(self) -> bool:
        return not (self.accounts or self.services or self.regions or self.tag)
