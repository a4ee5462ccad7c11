"""Which cost days a collection fetches: :func:`plan_windows` (pure)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from cloudoptima.services.collection.results import CollectionPlan, CostWindow
from cloudoptima.services.collection.utilisation import UTILISATION_BACKFILL_DAYS

MAX_CATCH_UP_DAYS = 93


def plan_windows(
    today: date,
    last_sync_at: datetime | None,
    *,
    initial_days: int,
    restate_days: int,
    window_days: int,
    utilisation_days: int = UTILISATION_BACKFILL_DAYS,
) -> CollectionPlan:
    """The cost days to fetch; pure.

    ``initial_days`` for a never-synced account, else from ``restate_days`` before the last successful sync
    (clouds restate recent days) up to ``today``, inclusive (``[start, end)``, end = tomorrow), capped at
    ``MAX_CATCH_UP_DAYS``; split into ``window_days`` windows. The utilisation window ends with the cost
    days and starts ``utilisation_days`` before (how far back a resource never read is backfilled).
    """
    end = today + timedelta(days=1)
    if last_sync_at is None:
        start = end - timedelta(days=initial_days)
    else:
        synced = min(last_sync_at.astimezone(UTC).date(), today)
        start = max(synced - timedelta(days=restate_days), end - timedelta(days=MAX_CATCH_UP_DAYS))
    windows, cursor = [], start
    while cursor < end:
        stop = min(end, cursor + timedelta(days=window_days))
        windows.append(CostWindow(cursor, stop))
        cursor = stop
    return CollectionPlan(
        start=start,
        end=end,
        windows=windows,
        first_sync=last_sync_at is None,
        utilisation_start=end - timedelta(days=utilisation_days),
        utilisation_end=end,
    )
