"""The cost explorer's filter query parameters as :class:`CostFilters`, with a 422 naming the parameter."""

from __future__ import annotations

import uuid
from collections.abc import Iterable

from cloudoptima.domain.cost_filters import CostFilters
from cloudoptima_gateway.schemas.common import invalid

MAX_VALUES = 50


def _values(field: str, given: Iterable[str] | None) -> tuple[str, ...]:
    found: list[str] = []
    for item in given or ():
        for part in item.split(","):
            value = part.strip()
            if not value:
                raise invalid(field, f"{field} has an empty value")
            if value not in found:
                found.append(value)
    if len(found) > MAX_VALUES:
        raise invalid(field, f"at most {MAX_VALUES} values of {field}")
    return tuple(found)


def parse_cost_filters(
    accounts: list[str] | None, services: list[str] | None, regions: list[str] | None, tag: str | None
) -> CostFilters:
    """Repeatable or comma-separated ``cloud_account_id`` (UUIDs), ``service``, ``region`` and one
    ``tag=key:value`` (split at the first colon; the value may be empty)."""
    account_ids: list[uuid.UUID] = []
    for value in _values("cloud_account_id", accounts):
        try:
            account_ids.append(uuid.UUID(value))
        except ValueError:
            raise invalid("cloud_account_id", f"not a cloud account id (UUID): {value!r}") from None
    pair: tuple[str, str] | None = None
    if tag is not None:
        key, colon, value = tag.partition(":")
        if not colon or not key.strip():
            raise invalid("tag", "tag must be key:value (e.g. team:web)")
        pair = (key.strip(), value.strip())
    return CostFilters(
        accounts=tuple(account_ids),
        services=_values("service", services),
        regions=_values("region", regions),
        tag=pair,
    )
