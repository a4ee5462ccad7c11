"""Where a cost load writes and what it reports: :class:`LoadTarget`, :class:`LoadResult`, :class:`CostLoadError`."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date

from cloudoptima.domain.organisation_settings import DEFAULT_ROLLUP_TAG_KEYS as DEFAULT_ROLLUP_TAG_KEYS


class CostLoadError(RuntimeError):
    """A batch does not have the shape ``cost_data`` needs (names the column)."""


@dataclass(frozen=True)
class LoadTarget:
    """Where rows go: organisation, optional connected account, the invocation's batch id, rollup tag keys."""

    organization_id: uuid.UUID
    batch_id: uuid.UUID
    cloud_account_id: uuid.UUID | None = None
    tag_keys: tuple[str, ...] = DEFAULT_ROLLUP_TAG_KEYS
    replace_days: tuple[date, date] | None = None
    """Day-window replacement ``[start, end)`` instead of billing-period keys (see the package docstring)."""


@dataclass
class LoadResult:
    rows_copied: int = 0
    rows_replaced: int = 0
    first_day: date | None = None
    last_day: date | None = None
    rollup_rows: int = 0
