"""What "month to date" means on every screen, in the API and in the offline chat (one definition).

Contract:
- Month to date on UTC day ``today`` = the complete UTC days of the month containing yesterday, through
  yesterday: ``[first of yesterday's month, today)``, end-exclusive. Today's unfinished day never counts (its
  data arrive during the day, so a partial day would be compared with full days).
- On the 1st of a month no day of the new month is complete yet, so month to date is the whole previous
  month (``complete_month`` is True and the console says so: "Nov 1 – Nov 30 (complete)").
- It is compared with the same day numbers of the month before, clamped to that month's length: on 7 December,
  1-6 December vs 1-6 November; on 31 March (1-30 March) vs 1-28 February (all of it; 1-29 in a leap year).
- Every function takes ``today`` from its caller (pinnable clocks); nothing here reads the system clock.
"""

from __future__ import annotations

from datetime import date, timedelta

from cloudoptima.domain.costs import TrendBasis

RULE = "complete_days_of_month_to_date_vs_same_days_of_previous_month"


def previous_month_start(first: date) -> date:
    """The first day of the month before the month starting on ``first``."""
    return (first - timedelta(days=1)).replace(day=1)


def same_days_of_previous_month(start: date, end: date) -> tuple[date, date]:
    """The same day numbers of the month before for ``[start, end)``, a period starting on the 1st of a month
    and ending no later than the next month's 1st: ``[previous first, previous first + days)``, the day count
    clamped to the previous month's length. ``ValueError`` naming ``start`` otherwise."""
    if start.day != 1:
        raise ValueError(f"start must be the first of a month (got {start.isoformat()})")
    days = (end - start).days
    previous = previous_month_start(start)
    previous_length = (start - previous).days
    return previous, previous + timedelta(days=min(days, previous_length))


def month_to_date(today: date) -> TrendBasis:
    """Month to date on ``today`` and its comparison period (see the module contract)."""
    yesterday = today - timedelta(days=1)
    start = yesterday.replace(day=1)
    previous_start, previous_end = same_days_of_previous_month(start, today)
    return TrendBasis(
        current_start=start,
        current_end=today,
        previous_start=previous_start,
        previous_end=previous_end,
        rule=RULE,
        complete_month=today.day == 1,
    )
